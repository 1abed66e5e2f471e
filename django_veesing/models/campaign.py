"""Campaigns: one text to many numbers, and what became of each.

State changes that concern many rows are set-based (one UPDATE per batch, never one per
number); the campaign's counts by recipient status are moved in the same transaction as
the change they count, in a few rows of their own (``CampaignCount``), so no page and no
push ever needs a COUNT over a million recipients and no push waits for another's lock.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, router, transaction
from django.db.models import Max, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import clock
from ..conf import veesing_settings
from ..db import bulk
from ..db.cursors import AfterCursor
from ..exceptions import CampaignStateError, ContentError, ValuesError
from ..rules import content as content_rules
from ..rules import fields
from ..rules.phones import InvalidPhone, normalise
from ..rules.schedule import MIN_SCHEDULE_AHEAD, in_quiet_hours
from ..rules.segments import cost, segments
from . import personal, removal
from .choices import CampaignKind, CampaignStatus, RecipientStatus
from .counts import COUNTED, CampaignCount, CampaignManager, _Count, move_counts
from .failures import FailureCount, Reason, move_failures, reason_of
from .imported import MAX_INVALID_KEPT, ImportResult, InvalidEntry, split_entry, values_error
from .recipient import Recipient
from .texts import totals


class Campaign(models.Model):
    name = models.CharField(_("name"), max_length=200)
    content = models.TextField(
        _("content"),
        help_text=_(
            "Start or end with your signature in 【】; marketing texts need an opt-out phrase such as 回T退订."
        ),
    )
    kind = models.CharField(
        _("kind"),
        max_length=16,
        choices=CampaignKind.choices,
        default=CampaignKind.MARKETING,
        help_text=_("Marketing texts obey opt-outs and quiet hours; notifications do not."),
    )
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    schedule_at_provider = models.BooleanField(
        _("scheduled by the provider"),
        default=False,
        help_text=_(
            "Hand the campaign to the provider with its send time (30 minutes or more ahead) instead of waiting here."
        ),
    )
    status = models.CharField(
        _("status"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, db_index=True
    )
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    last_message = models.TextField(_("last message"), blank=True)

    total_count = _Count(_("recipients"))
    pending_count = _Count(_("pending"))
    submitted_count = _Count(_("submitted"))
    delivered_count = _Count(_("delivered"))
    failed_count = _Count(_("failed"))
    skipped_count = _Count(_("skipped"))
    expired_count = _Count(_("expired"))

    #: Every recipient up to this id has been claimed (see ``sending``); later ones wait.
    claimed_through = models.BigIntegerField(_("claimed through recipient"), default=0, editable=False)
    #: The names of the values that came with the numbers (a personalised text's fields).
    columns = models.JSONField(_("value columns"), default=list, blank=True, editable=False)
    #: The text the numbers' rendered texts were made from (``personal.prepare_texts``).
    texts_from = models.TextField(_("texts rendered from"), blank=True, editable=False)

    objects = CampaignManager.from_queryset(removal.CampaignQuerySet)()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        permissions = [("send_campaign", _("Can send, schedule, cancel and resend campaigns"))]
        indexes = [models.Index(fields=["status", "send_at"], name="veesing_campaign_due")]

    def __str__(self) -> str:
        return self.name

    def delete(self, using: Any = None, keep_parents: bool = False) -> tuple[int, dict[str, int]]:
        """Delete the campaign with its numbers, batches and texts, a statement a table
        (``removal``); receipts and replies stay, unlinked."""
        with transaction.atomic(using=using or router.db_for_write(Campaign, instance=self)):
            removed = removal.remove_rows(Campaign, [self.pk])
            return removal.merged(super().delete(using, keep_parents), removed)

    # -- content and cost ---------------------------------------------------------------

    @property
    def is_marketing(self) -> bool:
        return self.kind == CampaignKind.MARKETING

    def content_report(self) -> content_rules.ContentReport:
        return content_rules.check(
            self.content,
            marketing=self.is_marketing,
            default_signature=veesing_settings.SIGNATURE,
            opt_out_phrases=veesing_settings.OPT_OUT_PHRASES,
        )

    def clean(self) -> None:
        """Refuse a text that breaks the content rules (model forms, the admin's included)."""
        super().clean()
        report = self.content_report()
        if not report.ok:
            raise ValidationError({"content": report.messages()})

    @property
    def text(self) -> str:
        """The text as the phone will show it (with the default signature if it had none);
        a personalised campaign's, with its ``{field}`` placeholders."""
        return content_rules.with_signature(self.content, veesing_settings.SIGNATURE)

    @property
    def field_names(self) -> list[str]:
        """The ``{field}`` placeholders of the text, in order."""
        return fields.names(self.content)

    @property
    def is_personalised(self) -> bool:
        return bool(self.field_names)

    @property
    def segments(self) -> int:
        """Messages per number; a personalised campaign's longest text's."""
        if self.is_personalised and self.pk:
            return self.texts.aggregate(most=Coalesce(Max("segments"), 0))["most"]
        return segments(self.text)

    @property
    def billed_messages(self) -> int:
        """What sending the pending numbers costs: each number's text's segments, summed."""
        if self.is_personalised:
            pending = Recipient.objects.filter(campaign_id=self.pk, status=RecipientStatus.PENDING)
            return totals(pending, veesing_settings.BATCH_SIZE).billed
        return cost(self.text, self.pending_count)

    def sample_texts(self, count: int = 3) -> list[tuple[str, str]]:
        """A personalised campaign's first pending numbers, with their texts as the phones
        will show them (none for one text to all: that is ``text``). The confirmation page
        shows those it would send (``sending.backlog.sample_texts``)."""
        if not self.is_personalised or self.pk is None:
            return []
        rows = Recipient.objects.filter(campaign_id=self.pk, status=RecipientStatus.PENDING, text__isnull=False)
        # From the campaign's first number on the (campaign, id) index (see ``AfterCursor``):
        # by id alone PostgreSQL walked the primary key past every older campaign's rows
        # (152 ms past 2,000,000).
        first = rows.filter(AfterCursor(self.pk, 0)).order_by("id")
        return list(first.values_list("phone", "text__text")[:count])

    def prepare_texts(self) -> list[InvalidEntry]:
        """Render the numbers' texts again if the text changed since (see ``personal``);
        the numbers whose values do not fit it, in which case nothing changed."""
        return personal.prepare_texts(self)

    def counts(self) -> dict[str, int]:
        return {status: getattr(self, f"{status}_count") for status in RecipientStatus.values}

    def read_counts(self) -> dict[str, int]:
        """The counts as committed now, by ``<name>_count`` (one query)."""
        if self.pk is None:
            return {f"{name}_count": 0 for name in COUNTED}
        sums = {f"{name}_count": Coalesce(Sum(name), 0) for name in COUNTED}
        return CampaignCount.objects.filter(campaign_id=self.pk).aggregate(**sums)

    def refresh_from_db(self, using: str | None = None, fields: Any = None, from_queryset: Any = None) -> None:
        """Reload, counts included (they are read again when next used)."""
        counts = {f"{name}_count" for name in COUNTED}
        if fields is None or counts & set(fields):
            self.__dict__.pop("_counted", None)
        rest = None if fields is None else [name for name in fields if name not in counts]
        if rest is None or rest:
            super().refresh_from_db(using=using, fields=rest, from_queryset=from_queryset)

    # -- recipients ---------------------------------------------------------------------

    def add_recipients(self, entries: Iterable[Any]) -> ImportResult:
        """Add numbers in any pasted format, with their values; streams, and inserts in chunks.

        An entry is a number as written (a ``str``, or an ``imports.readers.Entry``, which
        carries its line and, under a heading, its values), a dict (the number under a key
        naming phones such as ``phone`` or ``手机号``, values under the others) or a
        ``(phone, values)`` pair. Each number is normalised to 11 digits; numbers already in
        the campaign (or twice in ``entries``) count as duplicates, and invalid ones are
        returned with a reason and their line.

        A personalised campaign (``{field}`` in its text) renders each number's text as it
        goes: a row whose values are missing or make a text that breaks a content rule
        refuses the whole import (``ValuesError``, listing the rows; nothing is stored).
        """
        if self.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise CampaignStateError(
                gettext("Numbers can only be added to a draft or scheduled campaign; this one is %(status)s.")
                % {"status": self.get_status_display()}
            )
        if not self.is_personalised:
            result = self._add(entries, None)
        else:
            refused = self.prepare_texts()
            if refused:
                raise values_error(refused, len(refused))
            with transaction.atomic():
                result = self._add(entries, personal.Renderer(self))
                if result.refused_count:
                    raise values_error(result.refused, result.refused_count)
        bulk.refresh_statistics(Recipient, result.added)
        self.refresh_from_db(fields=[f"{name}_count" for name in COUNTED] + ["columns", "texts_from"])
        return result

    def _add(self, entries: Iterable[Any], renderer: personal.Renderer | None) -> ImportResult:
        result = ImportResult()
        for rows in self._read_rows(entries, result, renderer, bulk.chunk_size(Recipient)):
            if renderer is not None and result.refused_count:
                continue  # the import is refused: read on only to report every refused row
            with transaction.atomic():
                # Hold the campaign row first, as a claim does: a claim moves the campaign's
                # cursor past the ids it sees, so no rows may commit behind it.
                locked = Campaign.objects.select_for_update().filter(pk=self.pk)
                known = locked.values_list("columns", flat=True).get()
                if renderer is not None:
                    ids = renderer.store(text for _values, text in rows.values() if text)
                    rows = {number: (values, ids[text]) for number, (values, text) in rows.items()}
                added = bulk.insert_new(Recipient, self.pk, rows)
                move_counts(self.pk, total=added, pending=added)
                columns = list(dict.fromkeys([*known, *result.columns]))
                changes: dict[str, Any] = {"columns": columns} if columns != known else {}
                if renderer is not None:
                    changes["texts_from"] = renderer.content
                if changes:
                    Campaign.objects.filter(pk=self.pk).update(**changes)
            result.added += added
            result.duplicates += len(rows) - added
        return result

    def _read_rows(
        self, entries: Iterable[Any], result: ImportResult, renderer: personal.Renderer | None, size: int
    ) -> Iterator[dict[str, tuple[dict[str, str] | None, Any]]]:
        """The valid numbers of ``entries``, in dicts of up to ``size``, each number once a
        dict: number → (values, its text or None). Entries are read one at a time and
        dropped at once: a chunk's list of them kept Python's cyclic garbage collector
        busy (its full passes: 1.1 s against 0.7 s of a 200,000-row import, measured)."""
        rows: dict[str, tuple[dict[str, str] | None, Any]] = {}
        first = True
        for entry in entries:
            phone, values, line = split_entry(entry)
            try:
                number = normalise(phone)
            except InvalidPhone as reason:
                result.invalid_count += 1
                if len(result.invalid) < MAX_INVALID_KEPT:
                    result.invalid.append(InvalidEntry(phone, str(reason), line))
                continue
            if values and not result.columns:
                result.columns = list(values)
            text = None
            if renderer is not None:
                if first:  # are the columns there?
                    first = False
                    missing = personal.missing_columns_message(self.content, values or {})
                    if missing:
                        raise ValuesError(missing, [InvalidEntry(phone, missing, line)], 1)
                try:
                    text = renderer.text_for(values)
                except fields.FieldProblem as problem:
                    result.refused_count += 1
                    if len(result.refused) < MAX_INVALID_KEPT:
                        result.refused.append(InvalidEntry(phone, str(problem), line))
                    continue
            if number in rows:
                result.duplicates += 1
            rows[number] = (values, text)
            if len(rows) >= size:
                yield rows
                rows = {}
        if rows:
            yield rows

    # -- state changes ------------------------------------------------------------------

    def schedule(self, at: dt.datetime | None = None, *, at_provider: bool | None = None) -> None:
        """Approve for sending now, or at ``at``. Raises ``ContentError`` or ``CampaignStateError``."""
        if at_provider is not None:
            self.schedule_at_provider = at_provider
        if self.status not in (CampaignStatus.DRAFT, CampaignStatus.FAILED, CampaignStatus.SCHEDULED):
            raise CampaignStateError(
                gettext("Only a draft, failed or scheduled campaign can be scheduled; this one is %(status)s.")
                % {"status": self.get_status_display()}
            )
        report = self.content_report()
        if not report.ok:
            raise ContentError(report.messages())
        if not self.total_count:
            raise CampaignStateError(gettext("The campaign has no recipients yet."))
        refused = self.prepare_texts()
        if refused:
            raise ContentError([values_error(refused, len(refused)).message])
        self._check_send_time(at)
        updated = Campaign.objects.filter(pk=self.pk, status=self.status).update(
            status=CampaignStatus.SCHEDULED,
            send_at=at,
            schedule_at_provider=self.schedule_at_provider,
            last_message="",
        )
        if not updated:
            raise CampaignStateError(gettext("The campaign changed meanwhile; reload it and try again."))
        self.refresh_from_db()

    def _check_send_time(self, at: dt.datetime | None) -> None:
        if at is None:
            if self.schedule_at_provider:
                raise CampaignStateError(gettext("Scheduling by the provider needs a send time."))
            return
        if timezone.is_naive(at):
            raise CampaignStateError(gettext("The send time must carry a time zone."))
        if self.schedule_at_provider and at - clock.now() < MIN_SCHEDULE_AHEAD:
            raise CampaignStateError(
                gettext(
                    "The provider schedules only 30 minutes or more ahead; "
                    "choose a later time or let the app schedule it."
                )
            )
        if self.schedule_at_provider and self.is_marketing and in_quiet_hours(at):
            raise CampaignStateError(
                gettext("The send time falls in the quiet hours, when marketing texts may not be sent.")
            )

    def cancel(self) -> bool:
        """Stop before or between batches. False when the campaign was already finished."""
        updated = Campaign.objects.filter(
            pk=self.pk,
            status__in=[CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.SENDING],
        ).update(status=CampaignStatus.CANCELLED, finished_at=clock.now())
        self.refresh_from_db()
        return bool(updated)

    def duplicate(self) -> Campaign:
        """A new draft with the same text and numbers (copied in chunks, not one by one)."""
        copy = Campaign.objects.create(
            name=(gettext("%(name)s (copy)") % {"name": self.name})[:200],
            content=self.content,
            kind=self.kind,
        )
        rows = Recipient.objects.filter(campaign=self).order_by("id").values_list("phone", "values")
        size = bulk.chunk_size(Recipient)
        for chunk in _chunks(rows.iterator(chunk_size=size), size):
            with transaction.atomic():
                added = bulk.insert_new(Recipient, copy.pk, {phone: (values, None) for phone, values in chunk})
                move_counts(copy.pk, total=added, pending=added)
        Campaign.objects.filter(pk=copy.pk).update(columns=self.columns)
        copy.refresh_from_db()
        copy.prepare_texts()  # the copy's own texts, rendered once
        return copy

    def recount(self) -> None:
        """Rebuild the counts from the recipients (a repair tool; costs a scan). Meant for
        a campaign nothing is sending to: a change committed during the scan may be missed."""
        with transaction.atomic():
            rows = Recipient.objects.filter(campaign=self).values("status").annotate(n=models.Count("id"))
            found = {row["status"]: row["n"] for row in rows}
            CampaignCount.objects.filter(campaign=self).delete()
            CampaignCount.objects.create(campaign=self, slot=0, total=sum(found.values()), **found)
            failed = Recipient.objects.filter(campaign=self, status=RecipientStatus.FAILED)
            reasons: Counter[Reason] = Counter()
            for code, error, n in failed.values_list("receipt_code", "error").annotate(n=models.Count("id")).order_by():
                reasons[reason_of(code, error)] += n
            FailureCount.objects.filter(campaign=self).delete()
            move_failures(self.pk, reasons)
        self.refresh_from_db()


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
