"""How many receipts reached a campaign's numbers in each second: the campaign page's
timeline, read from a few rows instead of from every receipt.

Drawn from the receipts themselves, the timeline read every one of them with its number
on each view of the campaign's page: 1.6–2.2 s for a campaign of 1,000,000 numbers with
a receipt each. A receipt counts here once, in the second it was stored, when it is
matched to one of the campaign's numbers (as it comes, or later if it came before its
batch's task id was committed). Like ``CampaignCount``, each database connection adds to
a slot of its own, so receipts for one campaign never wait for each other's row lock.
The rows record arrivals: a number removed later does not take its receipts back.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..db.routing import connection_for
from .counts import count_slot


class ReceiptArrivals(models.Model):
    """Receipts matched to the campaign's numbers in one second, by one slot's connections."""

    # No database constraint: its check would take a share lock on the campaign's row for
    # each new row, so a receipt would wait for a claim holding that row (test_counts).
    # Django still deletes these rows with their campaign.
    campaign = models.ForeignKey(
        "django_veesing.Campaign", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    second = models.DateTimeField(_("second"))
    slot = models.PositiveSmallIntegerField()
    receipts = models.BigIntegerField(_("receipts"), default=0)

    class Meta:
        verbose_name = _("receipts a second")
        verbose_name_plural = _("receipts a second")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "second", "slot"], name="veesing_receipt_arrivals"),
        ]

    def __str__(self) -> str:
        return gettext("%(receipts)s receipts at %(second)s") % {"receipts": self.receipts, "second": self.second}


def upsert_arrivals() -> str:
    """SQL adding receipts to a campaign's second in this connection's slot: ``INSERT … ON
    CONFLICT DO UPDATE`` taking (campaign id, second, slot, receipts) as its last
    ``SELECT``/``VALUES`` part, which the caller appends (``{values}``)."""
    quote = connection_for(ReceiptArrivals).ops.quote_name
    table = quote(ReceiptArrivals._meta.db_table)
    return (
        f"INSERT INTO {table} (campaign_id, second, slot, receipts) {{values}}"
        f" ON CONFLICT (campaign_id, second, slot) DO UPDATE SET receipts = {table}.receipts + excluded.receipts"
    )


def count_arrival(campaign_id: int, stored_at: dt.datetime) -> None:
    """One receipt stored at ``stored_at`` was matched to a number of the campaign."""
    connection = connection_for(ReceiptArrivals)
    second = connection.ops.adapt_datetimefield_value(stored_at.replace(microsecond=0))  # as the ORM stores it
    values = f"VALUES (%s, %s, {count_slot()}, 1)"
    with connection.cursor() as cursor:
        cursor.execute(upsert_arrivals().format(values=values), [campaign_id, second])
