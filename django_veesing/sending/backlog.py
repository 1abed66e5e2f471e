"""A campaign's numbers still to send: which they are, what sending them would do, and
numbers put back among them on an operator's word (uncertain batches resent, failed
numbers retried) or taken out (opt-outs skipped).
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import QuerySet, Subquery

from ..conf import veesing_settings
from ..db.cursors import AfterCursor
from ..models import (
    Batch,
    BatchState,
    Campaign,
    CampaignStatus,
    OptOut,
    Reason,
    Recipient,
    RecipientStatus,
    move_counts,
    move_failures,
    reason_of,
    rows_of,
)
from ..rules.segments import cost
from .settling import requeue
from .text_totals import add_up, kept_totals


def unclaimed(campaign: Campaign) -> QuerySet[Recipient]:
    """The campaign's numbers that no batch has claimed yet (those after its cursor)."""
    cursor = Campaign.objects.filter(pk=campaign.pk).values("claimed_through")
    return Recipient.objects.filter(
        AfterCursor(campaign.pk, Subquery(cursor)),
        campaign_id=campaign.pk,
        status=RecipientStatus.PENDING,
        batch__isnull=True,
    )


def waiting(campaign: Campaign) -> QuerySet[Recipient]:
    """The campaign's numbers still to send: unclaimed, or in a queued batch."""
    queued = rows_of(Batch.objects.filter(campaign_id=campaign.pk, state=BatchState.QUEUED)).filter(
        status=RecipientStatus.PENDING
    )
    return unclaimed(campaign) | queued


def untouched(campaign: Campaign) -> QuerySet[Recipient] | None:
    """The campaign's numbers still to send while none has been claimed yet: all its
    pending numbers, a question its counts answer and one index can; None once sending
    began (then they are ``waiting``'s)."""
    if campaign.claimed_through or Batch.objects.filter(campaign_id=campaign.pk).exists():
        return None
    return Recipient.objects.filter(campaign_id=campaign.pk, status=RecipientStatus.PENDING)


def plan(campaign: Campaign) -> dict[str, Any]:
    """What sending ``campaign`` would do now, without doing it (for ``--dry-run``); a
    personalised campaign's also names its longest text (``longest_text``)."""
    fresh = untouched(campaign)
    rows = waiting(campaign) if fresh is None else fresh
    size = veesing_settings.BATCH_SIZE
    if campaign.is_personalised:  # each number's own text: its segments, one call per text
        if fresh is None:
            opted_out, added = _opted_out(campaign, rows).count(), add_up(_less_opted_out(campaign, rows), size)
        else:  # none claimed yet: kept while its numbers stay (``text_totals``)
            sendable = partial(_less_opted_out, campaign, rows)
            opted_out, added = kept_totals(campaign, rows, _opted_out(campaign, rows), sendable, size)
        return {**added.figures(), "opted_out": opted_out}
    opted_out = _opted_out(campaign, rows).count()
    numbers = (rows.count() if fresh is None else campaign.pending_count) - opted_out
    return {
        "numbers": numbers,
        "opted_out": opted_out,
        "batches": -(-numbers // size),
        "segments": campaign.segments,
        "messages": cost(campaign.text, numbers),
    }


def sample_texts(campaign: Campaign, count: int) -> list[tuple[str, str]]:
    """A personalised campaign's first numbers that sending it now would send, with their
    texts as the phones will show them (none for one text to all: that is its ``text``)."""
    if not campaign.is_personalised:
        return []
    fresh = untouched(campaign)
    rows = _less_opted_out(campaign, waiting(campaign) if fresh is None else fresh)
    first = rows.filter(AfterCursor(campaign.pk, 0), text__isnull=False).order_by("id")  # see Campaign.sample_texts
    return list(first.values_list("phone", "text__text")[:count])


def opted_out_waiting(campaign: Campaign) -> int:
    """How many of the numbers still to send a marketing campaign will skip as opted out
    (0 for other kinds: opt-outs stop marketing texts only)."""
    return _opted_out(campaign, waiting(campaign)).count()


def _opted_out(campaign: Campaign, rows: QuerySet[Recipient]) -> QuerySet[Recipient]:
    if not campaign.is_marketing:
        return rows.none()
    return rows.filter(phone__in=OptOut.objects.values("phone"))


def _less_opted_out(campaign: Campaign, rows: QuerySet[Recipient]) -> QuerySet[Recipient]:
    return rows.exclude(phone__in=OptOut.objects.values("phone")) if campaign.is_marketing else rows


def skip_opted_out(campaign: Campaign) -> int:
    """Mark the campaign's numbers still to send that opted out as skipped."""
    with transaction.atomic():
        skipped = (
            waiting(campaign).filter(phone__in=OptOut.objects.values("phone")).update(status=RecipientStatus.SKIPPED)
        )
        move_counts(campaign.pk, pending=-skipped, skipped=skipped)
    return skipped


def resend_uncertain(campaign: Campaign) -> int:
    """On an operator's word: put the numbers of uncertain batches back to be sent.

    Those numbers may receive the text twice. Returns how many numbers will be resent.
    """
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.DRAFT):
        return 0
    with transaction.atomic():
        batches = Batch.objects.select_for_update().filter(campaign_id=campaign.pk, state=BatchState.UNCERTAIN)
        numbers = sum(requeue(campaign.pk, batch.pending_recipients()) for batch in batches)
        Batch.objects.filter(campaign_id=campaign.pk, state=BatchState.UNCERTAIN).update(state=BatchState.RESENT)
        if numbers:
            _reopen(campaign)
    campaign.refresh_from_db()
    return numbers


def retry_failed(campaign: Campaign) -> int:
    """Put the campaign's failed numbers back to be sent again. Returns how many."""
    if campaign.status in (CampaignStatus.CANCELLED, CampaignStatus.DRAFT):
        return 0
    with transaction.atomic():
        failed = Recipient.objects.filter(campaign_id=campaign.pk, status=RecipientStatus.FAILED)
        # Locked first: a receipt for one of them waits, and finds it pending (not settleable).
        reasons: Counter[Reason] = Counter()
        for code, error in failed.select_for_update().values_list("receipt_code", "error").order_by():
            reasons[reason_of(code, error)] -= 1
        numbers = requeue(
            campaign.pk, failed, status=RecipientStatus.PENDING, task_id="", error="", receipt_code="", receipt_at=None
        )
        move_counts(campaign.pk, failed=-numbers, pending=numbers)
        move_failures(campaign.pk, reasons)
        if numbers:
            _reopen(campaign)
    campaign.refresh_from_db()
    return numbers


def _reopen(campaign: Campaign) -> None:
    """A finished campaign with numbers to send again is scheduled to send them now."""
    Campaign.objects.filter(pk=campaign.pk, status__in=[CampaignStatus.SENT, CampaignStatus.FAILED]).update(
        status=CampaignStatus.SCHEDULED, send_at=None, schedule_at_provider=False, finished_at=None
    )
