"""Where a campaign stands, as the campaign page shows it: the phase, the breakdown by
status, the funnel from numbers to replies, the failure reasons and the timeline.

``delivery(campaign)`` is everything the page's delivery panel shows; the panel refreshes
itself from ``CampaignAdmin.progress_view`` while numbers are in flight.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db.models import Aggregate, Count, Max, Min, QuerySet, Sum
from django.db.models.functions import Trunc
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import Campaign, CampaignStatus, FailureCount, ReceiptArrivals, Reply
from ..rules.receipt_codes import reason
from ..rules.schedule import CHINA

STATUS_COLOURS = {
    "delivered": "#2e7d32",
    "submitted": "#1976d2",
    "failed": "#c62828",
    "expired": "#8d6e63",
    "skipped": "#9e9e9e",
    "pending": "#e0e0e0",
}
#: Failure reasons listed on the page (the most frequent first).
SHOWN_REASONS = 8
#: The widths a timeline bucket may take, in seconds: the smallest that fits the span
#: into ``MAX_BUCKETS`` columns is used.
BUCKET_WIDTHS = (1, 5, 10, 30, 60, 300, 600, 1800, 3600, 3 * 3600, 6 * 3600, 86400)
MAX_BUCKETS = 40
#: The fewest columns between two labels of the axis.
LABEL_EVERY = 4
#: How often the page asks for fresh figures while numbers are in flight, in seconds.
REFRESH_SECONDS = 5


def status_labels() -> list[tuple[str, str]]:
    return [
        ("delivered", _("delivered")),
        ("submitted", _("submitted")),
        ("failed", _("failed")),
        ("expired", _("expired")),
        ("skipped", _("skipped")),
        ("pending", _("pending")),
    ]


def in_flight(campaign: Campaign) -> bool:
    """Whether figures still move: the campaign sends, or sent numbers await receipts."""
    return campaign.status == CampaignStatus.SENDING or (
        campaign.status == CampaignStatus.SENT and campaign.submitted_count > 0
    )


def phase(campaign: Campaign) -> str:
    """The campaign's status with what it is doing now, e.g. "sent · awaiting 2007 receipts"."""
    label = campaign.get_status_display()
    if campaign.status == CampaignStatus.SENDING:
        handed = campaign.total_count - campaign.pending_count - campaign.skipped_count
        return _("%(status)s · %(handed)s of %(total)s handed to the provider") % {
            "status": label,
            "handed": handed,
            "total": campaign.total_count - campaign.skipped_count,
        }
    if campaign.status == CampaignStatus.SENT and campaign.submitted_count:
        return ngettext(
            "%(status)s · awaiting %(n)s receipt", "%(status)s · awaiting %(n)s receipts", campaign.submitted_count
        ) % {"status": label, "n": campaign.submitted_count}
    if campaign.status == CampaignStatus.SENT:
        return _("%(status)s · no number awaits a receipt") % {"status": label}
    return label


def delivery(campaign: Campaign) -> dict[str, Any]:
    """What the delivery panel shows."""
    counts = campaign.counts()
    total = campaign.total_count or 1
    return {
        "phase": phase(campaign),
        "in_flight": in_flight(campaign),
        "refresh_seconds": REFRESH_SECONDS,
        "breakdown": [
            (label, counts[status], round(100 * counts[status] / total, 2), STATUS_COLOURS[status])
            for status, label in status_labels()
        ],
        "funnel": funnel(campaign, counts),
        "reasons": failure_reasons(campaign) if counts["failed"] else [],
        "timeline": timeline(campaign),
    }


def funnel(campaign: Campaign, counts: dict[str, int]) -> list[tuple[str, int, float, str]]:
    """(label, count, bar width %, rate) from numbers to opt-outs; replies and opt-outs are
    counted once a number, their rates taken of the delivered numbers."""
    handed = counts["submitted"] + counts["delivered"] + counts["failed"] + counts["expired"]
    replies = Reply.objects.filter(campaign=campaign)
    replied = replies.values("phone").distinct().count()
    opted_out = replies.filter(opt_out=True).values("phone").distinct().count()
    total = campaign.total_count or 1

    def rate(n: int, of: int, label: str) -> str:
        return _("%(rate)s%% of %(of)s") % {"rate": f"{100 * n / of:.1f}", "of": label} if of else ""

    rows = [
        (_("recipients"), campaign.total_count, ""),
        (_("handed to the provider"), handed, rate(handed, campaign.total_count, _("recipients"))),
        (_("delivered"), counts["delivered"], rate(counts["delivered"], handed, _("handed over"))),
        (_("replied"), replied, rate(replied, counts["delivered"], _("delivered"))),
        (_("opted out"), opted_out, rate(opted_out, counts["delivered"], _("delivered"))),
    ]
    return [(label, n, round(100 * n / total, 1), said) for label, n, said in rows]


def failure_reasons(campaign: Campaign) -> list[tuple[str, str, int]]:
    """(code, readable reason, numbers) for the campaign's failed numbers, most frequent
    first; a batch the provider refused counts under its message. Read from the
    campaign's failed numbers by reason (``FailureCount``), not from its numbers."""
    by_reason = (
        FailureCount.objects.filter(campaign=campaign)
        .values("code", "error")
        .annotate(n=Sum("numbers"))
        .filter(n__gt=0)
        .order_by("-n", "code", "error")
    )
    return [
        (row["code"], reason(row["code"]) if row["code"] else (row["error"] or _("refused by the provider")), row["n"])
        for row in by_reason[:SHOWN_REASONS]
    ]


def timeline(campaign: Campaign) -> dict[str, Any] | None:
    """Receipts and replies over time in columns of one width, chosen from the span they
    cover (seconds for a campaign delivered within a minute, hours for a day's), with
    labels for the axis; None before the first of them."""
    # Receipts from their count a second (a campaign of a million has a million receipts).
    receipts = ReceiptArrivals.objects.filter(campaign=campaign)
    replies = Reply.objects.filter(campaign=campaign)
    spans = [
        receipts.aggregate(first=Min("second"), last=Max("second")),
        replies.aggregate(first=Min("created_at"), last=Max("created_at")),
    ]
    firsts = [span["first"] for span in spans if span["first"]]
    if not firsts:
        return None
    first, last = min(firsts), max(span["last"] for span in spans if span["last"])
    width = next((w for w in BUCKET_WIDTHS if (last - first).total_seconds() / w < MAX_BUCKETS), BUCKET_WIDTHS[-1])
    start = _floor(first, width)
    received = _per_bucket(receipts, "second", Sum("receipts"), start, width)
    replied = _per_bucket(replies, "created_at", Count("id"), start, width)
    columns = int((last - start).total_seconds() // width) + 1
    peak = max([received[i] + replied[i] for i in range(columns)] or [1]) or 1
    # About eight labels along the axis, at least LABEL_EVERY columns apart: a column is
    # 18 pixels wide, a label up to about 70 (two a column apart overlapped).
    every = max(LABEL_EVERY, columns // 8)
    moments = [start + dt.timedelta(seconds=i * width) for i in range(columns)]
    return {
        "width": _width_label(width),
        "columns": [
            {
                "label": _moment_label(moment, width),
                "axis": _moment_label(moment, width) if i % every == 0 else "",
                "receipts": received[i],
                "replies": replied[i],
                "receipts_height": round(100 * received[i] / peak),
                "replies_height": round(100 * replied[i] / peak),
            }
            for i, moment in enumerate(moments)
        ],
    }


def _floor(moment: dt.datetime, width: int) -> dt.datetime:
    """The start of the ``width``-second bucket holding ``moment``, counted in China time."""
    local = moment.astimezone(CHINA)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    seconds = int((local - midnight).total_seconds()) // width * width
    return midnight + dt.timedelta(seconds=seconds)


def _per_bucket(
    queryset: QuerySet[Any], moment: str, counted: Aggregate, start: dt.datetime, width: int
) -> Counter[int]:
    """``counted`` per column by the time in ``moment``, grouped in the database by the
    largest unit within the width."""
    unit = "second" if width < 60 else "minute" if width < 3600 else "hour" if width < 86400 else "day"
    rows = queryset.annotate(at=Trunc(moment, unit, tzinfo=CHINA)).values("at").annotate(n=counted)
    found: Counter[int] = Counter()
    for row in rows.order_by():
        found[int((row["at"] - start).total_seconds() // width)] += row["n"]
    return found


def _moment_label(moment: dt.datetime, width: int) -> str:
    local = moment.astimezone(CHINA)
    if width >= 86400:
        return f"{local:%m-%d}"
    if width >= 3 * 3600:
        return f"{local:%m-%d %H:%M}"
    return f"{local:%H:%M:%S}" if width < 60 else f"{local:%H:%M}"


def _width_label(width: int) -> str:
    if width < 60:
        return ngettext("%(n)s second a column", "%(n)s seconds a column", width) % {"n": width}
    if width < 3600:
        return ngettext("%(n)s minute a column", "%(n)s minutes a column", width // 60) % {"n": width // 60}
    if width < 86400:
        return ngettext("%(n)s hour a column", "%(n)s hours a column", width // 3600) % {"n": width // 3600}
    return _("one day a column")
