"""A number's status when its batch stands for it.

Sending a batch claimed from the campaign's cursor writes the batch row only, not its
thousand recipient rows: those stay ``pending`` with no batch until something happens to
the number itself (a receipt, expiry, a retry), which writes the row. So a pending,
batch-less recipient at or before its campaign's cursor is *submitted*, with the task id
of the batch whose id range holds it, unless that batch is still in flight (claimed, its
call not answered yet). Every other row's status is its own.

This module is where that reading lives: filters (``submitted`` and ``pending``), the
status and task id to show (``with_current``), and the rows a batch stands for.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, F, OuterRef, Q, QuerySet, Subquery, Value, When

from .models import Batch, BatchState, Recipient, RecipientStatus

PENDING, SUBMITTED = RecipientStatus.PENDING, RecipientStatus.SUBMITTED


def in_flight(campaign_ids: Iterable[int] | None = None) -> list[tuple[int, int, int]]:
    """(campaign, first id, last id) of the range batches whose call is not answered yet."""
    batches = Batch.objects.filter(state=BatchState.CLAIMED, first_id__isnull=False)
    if campaign_ids is not None:
        batches = batches.filter(campaign_id__in=list(campaign_ids))
    return [
        (campaign, first, last)
        for campaign, first, last in batches.values_list("campaign_id", "first_id", "last_id")
        if first is not None and last is not None
    ]


def stood_for(campaign_ids: Iterable[int] | None = None) -> Q:
    """Rows whose submitted batch stands for them: pending in the database, submitted in fact."""
    condition = Q(status=PENDING, batch__isnull=True, id__lte=F("campaign__claimed_through"))
    for campaign_id, first, last in in_flight(campaign_ids):
        condition &= ~Q(campaign_id=campaign_id, id__range=(first, last))
    return condition


def having_status(status: str, campaign_ids: Iterable[int] | None = None) -> Q:
    """Rows whose current status is ``status`` (a filter on the recipients)."""
    if status == SUBMITTED:
        return Q(status=SUBMITTED) | stood_for(campaign_ids)
    if status == PENDING:
        return Q(status=PENDING) & ~stood_for(campaign_ids)
    return Q(status=status)


def with_current(recipients: QuerySet[Recipient], campaign_ids: Iterable[int] | None = None) -> QuerySet[Recipient]:
    """Annotate ``current_status`` and ``current_task_id`` (to show, filter or export)."""
    holder = Batch.objects.filter(campaign_id=OuterRef("campaign_id"), first_id__lte=OuterRef("id")).order_by(
        "-first_id"
    )
    stood = stood_for(campaign_ids)
    return recipients.annotate(
        current_status=Case(When(stood, then=Value(str(SUBMITTED))), default=F("status")),
        current_task_id=Case(When(stood, then=Subquery(holder.values("task_id")[:1])), default=F("task_id")),
    )
