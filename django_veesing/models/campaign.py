"""Campaigns: one text to many numbers, and what became of each.

State changes that concern many rows are set-based (one UPDATE per batch, never one per
number); the campaign's counts by recipient status are moved in the same transaction as
the change they count, in a few rows of their own (``CampaignCount``), so no page and no
push ever needs a COUNT over a million recipients and no push waits for another's lock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import clock
from ..conf import veesing_settings
from ..db import bulk
from ..exceptions import CampaignStateError, ContentError
from ..rules import content as content_rules
from ..rules.phones import InvalidPhone, normalise
from ..rules.schedule import MIN_SCHEDULE_AHEAD, in_quiet_hours
from ..rules.segments import cost, segments
from .choices import CampaignKind, CampaignStatus, RecipientStatus
from .counts import COUNTED, CampaignCount, CampaignManager, _Count, move_counts
from .recipient import Recipient

MAX_INVALID_KEPT = 10_000


class InvalidEntry(NamedTuple):
    entry: str
    reason: str
    #: The line the entry came from, when its reader knew it (``imports.readers.Entry``).
    line: int | None = None


@dataclass
class ImportResult:
    added: int = 0
    duplicates: int = 0
    invalid_count: int = 0
    #: The first ``MAX_INVALID_KEPT`` invalid entries, each with its reason and line.
    invalid: list[InvalidEntry] = field(default_factory=list)


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

    objects = CampaignManager()

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-created_at"]
        permissions = [("send_campaign", _("Can send, schedule, cancel and resend campaigns"))]
        indexes = [models.Index(fields=["status", "send_at"], name="veesing_campaign_due")]

    def __str__(self) -> str:
        return self.name

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
        """The text as the phone will show it (with the default signature if it had none)."""
        return content_rules.with_signature(self.content, veesing_settings.SIGNATURE)

    @property
    def segments(self) -> int:
        return segments(self.text)

    @property
    def billed_messages(self) -> int:
        """What sending the pending numbers costs: segments per text times numbers."""
        return cost(self.text, self.pending_count)

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

    def add_recipients(self, phones: Iterable[str]) -> ImportResult:
        """Add numbers in any pasted format; streams, and inserts in chunks.

        Each entry is normalised to 11 digits; numbers already in the campaign (or twice in
        ``phones``) count as duplicates, and invalid entries are returned with a reason (and
        their line, for entries that carry one: ``imports.readers.read_file`` and
        ``read_pasted`` yield such entries).
        """
        if self.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise CampaignStateError(
                gettext("Numbers can only be added to a draft or scheduled campaign; this one is %(status)s.")
                % {"status": self.get_status_display()}
            )
        result = ImportResult()
        for chunk in _chunks(phones, bulk.chunk_size(Recipient)):
            numbers = self._normalise_chunk(chunk, result)
            with transaction.atomic():
                # Hold the campaign row first, as a claim does: a claim moves the campaign's
                # cursor past the ids it sees, so no rows may commit behind it.
                list(Campaign.objects.select_for_update().filter(pk=self.pk).values_list("pk"))
                added = bulk.insert_new(Recipient, self.pk, numbers)
                move_counts(self.pk, total=added, pending=added)
            result.added += added
            result.duplicates += len(numbers) - added
        self.refresh_from_db(fields=[f"{name}_count" for name in COUNTED])
        return result

    @staticmethod
    def _normalise_chunk(chunk: list[str], result: ImportResult) -> list[str]:
        numbers: dict[str, None] = {}
        for entry in chunk:
            try:
                number = normalise(entry)
            except InvalidPhone as reason:
                result.invalid_count += 1
                if len(result.invalid) < MAX_INVALID_KEPT:
                    result.invalid.append(InvalidEntry(entry, str(reason), getattr(entry, "line", None)))
                continue
            if number in numbers:
                result.duplicates += 1
            numbers[number] = None
        return list(numbers)

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
        phones = Recipient.objects.filter(campaign=self).order_by("id").values_list("phone", flat=True)
        size = bulk.chunk_size(Recipient)
        for chunk in _chunks(phones.iterator(chunk_size=size), size):
            with transaction.atomic():
                added = bulk.insert_new(Recipient, copy.pk, chunk)
                move_counts(copy.pk, total=added, pending=added)
        copy.refresh_from_db()
        return copy

    def recount(self) -> None:
        """Rebuild the counts from the recipients (a repair tool; costs a scan). Meant for
        a campaign nothing is sending to: a change committed during the scan may be missed."""
        with transaction.atomic():
            rows = Recipient.objects.filter(campaign=self).values("status").annotate(n=models.Count("id"))
            found = {row["status"]: row["n"] for row in rows}
            CampaignCount.objects.filter(campaign=self).delete()
            CampaignCount.objects.create(campaign=self, slot=0, total=sum(found.values()), **found)
        self.refresh_from_db()


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
