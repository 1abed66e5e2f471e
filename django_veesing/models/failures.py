"""A campaign's failed numbers counted by reason: the campaign page's "why numbers
failed", read from a few rows instead of grouping every number.

Grouping the failed numbers took a scan of the campaign's rows (no index may hold
``status``: see ``Recipient``), 110–145 ms at 1,000,000 numbers, on every view after a
receipt moved the counts and on every refresh of the page while receipts came. A number's
reason is its receipt's code, or, when the provider refused its batch, the provider's
message (``reason_of``). Whatever moves a number into or out of failed, or gives a failed
number another reason, moves these counts in the same transaction: receipts, refused
batches, retrying the failed numbers; ``Campaign.recount`` rebuilds them. Like
``CampaignCount``, each database connection adds to a slot of its own.
"""

from __future__ import annotations

from collections import Counter

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..db.routing import connection_for
from .counts import count_slot

Reason = tuple[str, str]  # (receipt code, provider's message): one of the two is empty


def reason_of(code: str, error: str) -> Reason:
    """A failed number's reason: its receipt's code, else its error."""
    return (code, "") if code else ("", error)


class FailureCount(models.Model):
    """Failed numbers of a campaign for one reason, changed by one slot's connections
    (a slot holds changes, not a count: the campaign's count is the sum of its slots)."""

    # No database constraint: its check would take a share lock on the campaign's row for
    # each new row, so a receipt would wait for a claim holding that row (test_counts).
    # Django still deletes these rows with their campaign.
    campaign = models.ForeignKey(
        "django_veesing.Campaign", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    slot = models.PositiveSmallIntegerField()
    code = models.CharField(_("receipt code"), max_length=32, blank=True)
    error = models.TextField(_("error"), blank=True)
    numbers = models.BigIntegerField(_("numbers"), default=0)

    class Meta:
        verbose_name = _("failed numbers by reason")
        verbose_name_plural = _("failed numbers by reason")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "slot", "code", "error"], name="veesing_failure_count"),
        ]

    def __str__(self) -> str:
        return gettext("%(numbers)s failed: %(reason)s") % {"numbers": self.numbers, "reason": self.code or self.error}


def upsert_failures() -> str:
    """SQL adding to a campaign's failed numbers by reason in this connection's slot:
    ``INSERT … ON CONFLICT DO UPDATE`` taking (campaign id, slot, code, error, numbers)
    as its last ``SELECT``/``VALUES`` part, which the caller appends (``{values}``); one
    row a reason."""
    quote = connection_for(FailureCount).ops.quote_name
    table = quote(FailureCount._meta.db_table)
    return (
        f"INSERT INTO {table} (campaign_id, slot, code, error, numbers) {{values}}"
        f" ON CONFLICT (campaign_id, slot, code, error) DO UPDATE SET numbers = {table}.numbers + excluded.numbers"
    )


def move_failures(campaign_id: int, changes: Counter[Reason] | dict[Reason, int]) -> None:
    """Add to the campaign's failed numbers by reason, e.g. ``{("MK:0011", ""): 1}``."""
    changes = {reason: n for reason, n in changes.items() if n}
    if not changes:
        return
    rows = ", ".join([f"(%s, {count_slot()}, %s, %s, %s)"] * len(changes))
    params: list[int | str] = []
    for (code, error), n in changes.items():
        params += [campaign_id, code, error, n]
    with connection_for(FailureCount).cursor() as cursor:
        cursor.execute(upsert_failures().format(values=f"VALUES {rows}"), params)
