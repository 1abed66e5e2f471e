"""Campaigns, their recipients and batches, and opt-outs.

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
from typing import Any

from django.db import connection, models, transaction
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import bulk, clock
from . import content as content_rules
from .client import MIN_SCHEDULE_AHEAD
from .conf import veesing_settings
from .exceptions import CampaignStateError, ContentError
from .phones import InvalidPhone, normalise
from .schedule import in_quiet_hours
from .segments import segments

MAX_INVALID_KEPT = 10_000
StrOrPromise = str | Promise


class CampaignKind(models.TextChoices):
    MARKETING = "marketing", _("marketing")
    NOTIFICATION = "notification", _("notification")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SCHEDULED = "scheduled", _("scheduled")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


class RecipientStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SUBMITTED = "submitted", _("submitted")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")
    SKIPPED = "skipped", _("skipped (opted out)")
    EXPIRED = "expired", _("expired (no receipt)")


class BatchState(models.TextChoices):
    QUEUED = "queued", _("waiting to be sent")
    CLAIMED = "claimed", _("claimed")
    SUBMITTED = "submitted", _("submitted")
    REFUSED = "refused", _("refused")
    UNCERTAIN = "uncertain", _("uncertain")
    RELEASED = "released", _("released (not sent)")
    RESENT = "resent", _("resent by an operator")


class OptOutSource(models.TextChoices):
    REPLY = "reply", _("reply")
    ADMIN = "admin", _("admin")
    IMPORT = "import", _("import")


@dataclass
class ImportResult:
    added: int = 0
    duplicates: int = 0
    invalid_count: int = 0
    #: (entry, reason) for the first ``MAX_INVALID_KEPT`` invalid entries.
    invalid: list[tuple[str, str]] = field(default_factory=list)


#: What a campaign counts: its recipients, and its recipients in each status.
COUNTED = ("total", *RecipientStatus.values)


class _Count:
    """One of a campaign's counts (``delivered_count`` …): the sum of its ``CampaignCount``
    rows. ``Campaign.objects`` reads every count with the campaign, in the same query; a
    campaign loaded otherwise (``recipient.campaign``, ``refresh_from_db``) reads them all
    with one query the first time one is used. Either way the value is what was committed
    when it was read, as a column's would be."""

    def __init__(self, label: StrOrPromise) -> None:
        self.short_description = label  # the admin's column and field label

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = self.admin_order_field = name  # the manager's annotation sorts the list

    def __get__(self, campaign: Campaign | None, owner: type | None = None) -> Any:
        if campaign is None:
            return self
        counted = campaign.__dict__.get("_counted")
        if counted is None or self.name not in counted:
            counted = campaign.__dict__["_counted"] = campaign.read_counts()
        return counted[self.name]

    def __set__(self, campaign: Campaign, value: int) -> None:
        campaign.__dict__.setdefault("_counted", {})[self.name] = value


def _summed(column: str) -> Coalesce:
    slots = CampaignCount.objects.filter(campaign=OuterRef("pk")).order_by().values("campaign")
    total = slots.annotate(n=Sum(column)).values("n")
    return Coalesce(Subquery(total, output_field=models.BigIntegerField()), 0)


class CampaignManager(models.Manager["Campaign"]):
    """Campaigns with their counts (``total_count``, ``pending_count`` …): filter, order and
    read them as columns."""

    def get_queryset(self) -> models.QuerySet[Campaign]:
        return super().get_queryset().annotate(**{f"{name}_count": _summed(name) for name in COUNTED})


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
        return segments(self.text) * self.pending_count

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
        ``phones``) count as duplicates, and invalid entries are returned with a reason.
        """
        if self.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            raise CampaignStateError(
                gettext("Numbers can only be added to a draft or scheduled campaign; this one is %(status)s.")
                % {"status": self.get_status_display()}
            )
        result = ImportResult()
        for chunk in _chunks(phones, bulk.chunk_size()):
            numbers = self._normalise_chunk(chunk, result)
            with transaction.atomic():
                # Hold the campaign row first, as a claim does: a claim moves the campaign's
                # cursor past the ids it sees, so no rows may commit behind it.
                list(Campaign.objects.select_for_update().filter(pk=self.pk).values_list("pk"))
                added = bulk.insert_new(self.pk, numbers)
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
                    result.invalid.append((entry, str(reason)))
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
        size = bulk.chunk_size()
        for chunk in _chunks(phones.iterator(chunk_size=size), size):
            with transaction.atomic():
                added = bulk.insert_new(copy.pk, chunk)
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


class Batch(models.Model):
    """One call to the provider: claimed in the database before it, settled right after.

    Its numbers are the recipients linked to it (``recipients``), all with ids from
    ``first_id`` to ``last_id``: a batch claimed from the campaign's cursor took the pending
    numbers of that range, a ``queued`` batch (numbers to send again) spans the ids it was
    given. While its call is in flight they read ``pending`` with this batch, and once the
    provider accepts it ``submitted`` with its ``task_id``. No index holds the recipients'
    ``batch`` (see ``Recipient``): ``rows()`` finds them by that range.
    """

    # Indexed by (campaign, state) below.
    campaign = models.ForeignKey(
        Campaign, models.CASCADE, related_name="batches", verbose_name=_("campaign"), db_index=False
    )
    state = models.CharField(_("state"), max_length=16, choices=BatchState.choices, default=BatchState.CLAIMED)
    size = models.PositiveIntegerField(_("numbers"), default=0)
    task_id = models.CharField(_("task id"), max_length=64, blank=True, db_index=True)
    success_count = models.PositiveIntegerField(_("accepted by the provider"), null=True, blank=True)
    remain_point = models.BigIntegerField(_("balance after"), null=True, blank=True)
    message = models.TextField(_("provider's message"), blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), default=clock.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    first_id = models.BigIntegerField(_("first recipient id"), null=True, blank=True, editable=False)
    last_id = models.BigIntegerField(_("last recipient id"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["campaign", "state"], name="veesing_batch_state"),
            models.Index(fields=["campaign", "first_id"], name="veesing_batch_range"),
        ]

    def __str__(self) -> str:
        return gettext("batch %(id)s (%(state)s)") % {"id": self.pk, "state": self.get_state_display()}

    def rows(self) -> models.QuerySet[Recipient]:
        """The batch's numbers: the same as ``recipients``, found by the batch's id range
        (a batch made by hand without one is found by the link alone, by a scan)."""
        return Recipient.objects.filter(self.rows_q())

    def rows_q(self) -> models.Q:
        linked = models.Q(batch_id=self.pk)
        if self.first_id is None or self.last_id is None:
            return linked
        return linked & models.Q(campaign_id=self.campaign_id, id__range=(self.first_id, self.last_id))

    def pending_recipients(self) -> models.QuerySet[Recipient]:
        """The batch's numbers not settled yet."""
        return self.rows().filter(status=RecipientStatus.PENDING)


class Recipient(models.Model):
    # Indexed by the (campaign, phone) unique constraint below.
    campaign = models.ForeignKey(
        Campaign, models.CASCADE, related_name="recipients", verbose_name=_("campaign"), db_index=False
    )
    phone = models.CharField(_("phone"), max_length=11)
    status = models.CharField(
        _("status"), max_length=16, choices=RecipientStatus.choices, default=RecipientStatus.PENDING
    )
    # A claim sets it on every row of a batch, so nothing may make that update costly
    # (measured per row, docs/performance.rst): no index (a batch finds its rows by its
    # id range, ``Batch.rows``) and no database constraint, whose deferred check ran one
    # look-up of the batch per row (5 of the 9.5 µs a claim and its settlement took a row). Django still applies
    # ``SET_NULL`` itself when a batch is deleted, and only the app writes this column.
    batch = models.ForeignKey(
        Batch,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="recipients",
        verbose_name=_("batch"),
        db_index=False,
        db_constraint=False,
    )
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    receipt_code = models.CharField(_("receipt code"), max_length=32, blank=True)
    receipt_at = models.DateTimeField(_("receipt time"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        constraints = [models.UniqueConstraint(fields=["campaign", "phone"], name="veesing_recipient_unique")]
        # No index holds (or is conditioned on) ``batch``, ``status`` or ``task_id``: a
        # claim, its settlement, receipts and expiry change them on every row, and with no
        # index to update (and room left on each page, see migration 0008) PostgreSQL
        # rewrites the row in place (a HOT update), at a fraction of the cost. A claim
        # takes the next rows after the campaign's cursor in (campaign, id) order.
        indexes = [
            models.Index(fields=["campaign", "id"], name="veesing_recipient_order"),
            models.Index(fields=["phone"], name="veesing_recipient_phone"),
        ]

    def __str__(self) -> str:
        return self.phone


class OptOut(models.Model):
    phone = models.CharField(_("phone"), max_length=11, unique=True)
    source = models.CharField(_("source"), max_length=16, choices=OptOutSource.choices, default=OptOutSource.ADMIN)
    created_at = models.DateTimeField(_("time"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.phone


def rows_of(batches: models.QuerySet[Batch]) -> models.QuerySet[Recipient]:
    """The numbers of ``batches`` (a few: the uncertain or queued ones of a campaign), each
    batch's found by its id range."""
    ranged = models.Q()
    for batch in batches.only("id", "campaign_id", "first_id", "last_id"):
        ranged |= batch.rows_q()
    return Recipient.objects.filter(ranged) if ranged else Recipient.objects.none()


#: How many rows a campaign's counts are spread over (see ``CampaignCount``).
COUNT_SLOTS = 16


class CampaignCount(models.Model):
    """A share of a campaign's counts; each count is the sum of the campaign's rows.

    Every receipt moves a count. Kept in one row per campaign, the counts would make each
    receipt for a campaign wait for the row lock of the one before it, held until its commit
    is flushed (bench_contention). So each database connection adds its changes to a slot of
    its own, its PostgreSQL backend's pid modulo ``COUNT_SLOTS`` (two connections share a
    slot only when their pids do; SQLite, with one writer at a time, uses slot 0), and a
    reader sums at most ``COUNT_SLOTS`` rows. A slot holds changes, not a count: one slot
    may hold ``pending = -300`` while another holds ``+1000``.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+", db_index=False)
    slot = models.PositiveSmallIntegerField()
    total = models.BigIntegerField(default=0, db_default=0)
    pending = models.BigIntegerField(default=0, db_default=0)
    submitted = models.BigIntegerField(default=0, db_default=0)
    delivered = models.BigIntegerField(default=0, db_default=0)
    failed = models.BigIntegerField(default=0, db_default=0)
    skipped = models.BigIntegerField(default=0, db_default=0)
    expired = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        verbose_name = _("campaign count")
        verbose_name_plural = _("campaign counts")
        constraints = [models.UniqueConstraint(fields=["campaign", "slot"], name="veesing_campaign_count_slot")]

    def __str__(self) -> str:
        return gettext("Counts, part %(slot)s") % {"slot": self.slot}


def count_slot() -> str:
    """SQL for this connection's slot of ``CampaignCount``."""
    return f"mod(pg_backend_pid(), {COUNT_SLOTS})" if connection.vendor == "postgresql" else "0"


def upsert_counts(columns: Iterable[str]) -> str:
    """SQL that adds to a campaign's counts in this connection's slot: ``INSERT … ON
    CONFLICT DO UPDATE`` taking (campaign id, one value per column) as its last
    ``SELECT``/``VALUES`` part, which the caller appends."""
    table = connection.ops.quote_name(CampaignCount._meta.db_table)
    names = [connection.ops.quote_name(column) for column in columns]
    added = ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in names)
    return (
        f"INSERT INTO {table} (campaign_id, slot, {', '.join(names)}) {{values}}"
        f" ON CONFLICT (campaign_id, slot) DO UPDATE SET {added}"
    )


def move_counts(campaign_id: int, **changes: int) -> None:
    """Add to the campaign's counts, e.g. ``move_counts(id, pending=-5, submitted=5)``."""
    changes = {name: n for name, n in changes.items() if n}
    if changes:
        values = f"VALUES (%s, {count_slot()}, {', '.join(['%s'] * len(changes))})"
        with connection.cursor() as cursor:
            cursor.execute(upsert_counts(changes).format(values=values), [campaign_id, *changes.values()])


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Receipt(models.Model):
    """A delivery receipt pushed by the provider, stored as it came and as parsed."""

    fingerprint = models.CharField(_("fingerprint"), max_length=40, unique=True, editable=False)
    task_id = models.CharField(_("task id"), max_length=64)
    phone = models.CharField(_("phone"), max_length=11)
    delivered = models.BooleanField(_("delivered"))
    code = models.CharField(_("code"), max_length=32, blank=True)
    received_at = models.DateTimeField(_("receipt time"))
    recipient = models.ForeignKey(
        Recipient, models.SET_NULL, null=True, blank=True, related_name="receipts", verbose_name=_("recipient")
    )
    raw = models.JSONField(_("as pushed"), default=dict)
    created_at = models.DateTimeField(_("stored"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["task_id", "phone"], name="veesing_receipt_task"),
            models.Index(
                fields=["task_id"],
                name="veesing_receipt_unmatched",
                condition=models.Q(recipient__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.code or ('1' if self.delivered else '0')}"


class Reply(models.Model):
    """A recipient's answer, pushed by the provider."""

    fingerprint = models.CharField(_("fingerprint"), max_length=40, unique=True, editable=False)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=11, db_index=True)
    content = models.TextField(_("content"))
    received_at = models.DateTimeField(_("reply time"))
    recipient = models.ForeignKey(
        Recipient, models.SET_NULL, null=True, blank=True, related_name="replies", verbose_name=_("recipient")
    )
    campaign = models.ForeignKey(
        Campaign, models.SET_NULL, null=True, blank=True, related_name="replies", verbose_name=_("campaign")
    )
    opt_out = models.BooleanField(_("opt-out"), default=False)
    raw = models.JSONField(_("as pushed"), default=dict)
    created_at = models.DateTimeField(_("stored"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.phone}: {self.content[:20]}"


class RejectedPush(models.Model):
    """A push the callback refused (malformed, too large): kept so nothing is silently lost."""

    reason = models.TextField(_("reason"))
    body = models.TextField(_("body"), blank=True)
    truncated = models.BooleanField(_("truncated"), default=False)
    content_type = models.CharField(_("content type"), max_length=200, blank=True)
    kind = models.CharField(_("address"), max_length=16, blank=True)
    remote_addr = models.GenericIPAddressField(_("remote address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=clock.now, editable=False)
    replayed_at = models.DateTimeField(_("replayed"), null=True, blank=True)

    class Meta:
        verbose_name = _("rejected push")
        verbose_name_plural = _("rejected pushes")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.reason[:60]}"


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("importing")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class ImportJob(models.Model):
    """A file of numbers too large for one web request, imported by the worker."""

    campaign = models.ForeignKey(Campaign, models.CASCADE, related_name="imports", verbose_name=_("campaign"))
    filename = models.CharField(_("file"), max_length=255)
    data = models.BinaryField(_("content"))
    status = models.CharField(_("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    processed = models.PositiveIntegerField(_("entries read"), default=0)
    added = models.PositiveIntegerField(_("added"), default=0)
    duplicates = models.PositiveIntegerField(_("duplicates"), default=0)
    invalid_count = models.PositiveIntegerField(_("invalid"), default=0)
    invalid = models.TextField(_("invalid entries"), blank=True, help_text=_("One “entry,reason” line each."))
    message = models.TextField(_("message"), blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.filename


class WorkerHeartbeat(models.Model):
    """Written by every sending worker on each pass, so the admin knows one is running."""

    name = models.CharField(_("worker"), max_length=200, unique=True)
    seen_at = models.DateTimeField(_("last seen"))

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.name
