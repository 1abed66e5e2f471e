"""A campaign's counts by recipient status, kept in a few rows of their own."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import models
from django.db.models import OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..db.routing import connection_for
from .choices import RecipientStatus

if TYPE_CHECKING:
    from .campaign import Campaign

StrOrPromise = str | Promise

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

    campaign = models.ForeignKey("django_veesing.Campaign", on_delete=models.CASCADE, related_name="+", db_index=False)
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
    vendor = connection_for(CampaignCount).vendor
    return f"mod(pg_backend_pid(), {COUNT_SLOTS})" if vendor == "postgresql" else "0"


def upsert_counts(columns: Iterable[str]) -> str:
    """SQL that adds to a campaign's counts in this connection's slot: ``INSERT … ON
    CONFLICT DO UPDATE`` taking (campaign id, one value per column) as its last
    ``SELECT``/``VALUES`` part, which the caller appends."""
    quote = connection_for(CampaignCount).ops.quote_name
    table = quote(CampaignCount._meta.db_table)
    names = [quote(column) for column in columns]
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
        with connection_for(CampaignCount).cursor() as cursor:
            cursor.execute(upsert_counts(changes).format(values=values), [campaign_id, *changes.values()])
