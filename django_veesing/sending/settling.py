"""How a claimed batch ends, and how submitted numbers lapse.

The provider accepted it → ``submitted``, and so are its numbers, with its task id
(``mark_submitted``); the answer was lost → ``uncertain``, its numbers pending with it,
never resent without an operator's word; nothing left → ``released``, its numbers queued
for a later run; the numbers were refused → they fail.
The sending loop, the admin, the commands and ``reconcile`` settle batches through these.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from itertools import groupby
from operator import itemgetter

from django.db import transaction
from django.db.models import Count, QuerySet

from .. import clock, signals
from ..conf import veesing_settings
from ..db import prepared
from ..models import (
    Batch,
    BatchState,
    Campaign,
    Message,
    MessageStatus,
    Recipient,
    RecipientStatus,
    move_counts,
    move_failures,
    reason_of,
)
from ..receiving.receipts import link_early_receipts
from . import statements

logger = logging.getLogger(__name__)


def mark_submitted(
    batch: Batch, task_id: str, success_count: int, remain_point: int | None, message: str, now: dt.datetime
) -> None:
    """The provider accepted ``batch`` (claimed or uncertain): it and its numbers are submitted."""
    settle_accepted(batch, statements.Settlement(batch.pk, task_id, success_count, remain_point, message, now))


def settle_accepted(batch: Batch, settlement: statements.Settlement) -> None:
    """Settle an accepted batch as ``settlement`` says, once: a batch settled already
    (by another path, or by ``reconcile``) is left as it is."""
    if batch.state == BatchState.CLAIMED and prepared.usable(Batch):
        _settle_claimed(batch, settlement)
        return
    task_id = settlement.task_id
    with transaction.atomic():
        settled = Batch.objects.filter(pk=batch.pk, state__in=[BatchState.CLAIMED, BatchState.UNCERTAIN]).update(
            state=BatchState.SUBMITTED,
            task_id=task_id,
            success_count=settlement.success_count,
            remain_point=settlement.remain_point,
            message=settlement.message,
            sent_at=settlement.now,
        )
        if not settled:
            return
        moved = batch.pending_recipients().update(status=RecipientStatus.SUBMITTED, task_id=task_id)
        move_counts(batch.campaign_id, pending=-moved, submitted=moved)
        link_early_receipts(task_id)
    _submitted(batch, settlement)


def _settle_claimed(batch: Batch, settlement: statements.Settlement) -> None:
    """PostgreSQL: the batch, its numbers and the campaign's counts in one statement
    (committed on its own outside a transaction); then, in a later statement that sees
    every receipt that waited for this batch, the early receipts of its task, if any."""
    if not statements.settle_submitted(settlement, by_text=batch.text_id is not None):
        return
    if statements.has_early_receipts(settlement.task_id):
        with transaction.atomic():
            link_early_receipts(settlement.task_id)
    _submitted(batch, settlement)


def _submitted(batch: Batch, settlement: statements.Settlement) -> None:
    batch.state, batch.task_id, batch.sent_at = BatchState.SUBMITTED, settlement.task_id, settlement.now
    batch.success_count, batch.remain_point = settlement.success_count, settlement.remain_point
    batch.message = settlement.message
    signals.send_on_commit(signals.batch_submitted, Batch, batch=batch)


def mark_uncertain(batch: Batch, message: str) -> None:
    Batch.objects.filter(pk=batch.pk, state=BatchState.CLAIMED).update(state=BatchState.UNCERTAIN, message=message)
    logger.warning("Batch %s is uncertain: %s", batch.pk, message)


def release(batch: Batch, message: str, state: str = BatchState.RELEASED) -> None:
    """Nothing was sent: the numbers wait in a queued batch for a later run."""
    with transaction.atomic():
        requeue(batch.campaign_id, batch.pending_recipients())
        _settle(batch, state, message)


def fail_numbers(batch: Batch, message: str) -> None:
    with transaction.atomic():
        numbers = batch.pending_recipients()
        # Their reason is the provider's message, unless one still has a receipt's code.
        codes = Counter(dict(numbers.values_list("receipt_code").annotate(n=Count("id")).order_by()))
        moved = numbers.update(status=RecipientStatus.FAILED, error=message)
        move_counts(batch.campaign_id, pending=-moved, failed=moved)
        move_failures(batch.campaign_id, {reason_of(code, message): n for code, n in codes.items()})
        _settle(batch, BatchState.REFUSED, message)


def _settle(batch: Batch, state: str, message: str) -> None:
    Batch.objects.filter(pk=batch.pk).update(state=state, message=message)


def requeue(campaign_id: int, recipients: QuerySet[Recipient], **changes: object) -> int:
    """Put ``recipients`` into queued batches, sent once the cursor has passed every number;
    returns how many.

    ``changes`` are further fields to set on them (e.g. ``status`` back to pending).
    """
    rows = list(recipients.order_by("text_id", "id").values_list("id", "text_id"))
    size = veesing_settings.BATCH_SIZE
    for text_id, same_text in groupby(rows, key=itemgetter(1)):  # a batch carries one text
        ids = [pk for pk, _text in same_text]
        for start in range(0, len(ids), size):
            chunk = ids[start : start + size]
            queued = Batch.objects.create(
                campaign_id=campaign_id,
                state=BatchState.QUEUED,
                size=len(chunk),
                first_id=chunk[0],
                last_id=chunk[-1],
                text_id=text_id,
            )
            Recipient.objects.filter(id__in=chunk).update(batch=queued, **changes)
    return len(rows)


def expire(after_hours: float | None = None, now: dt.datetime | None = None) -> int:
    """Mark submitted numbers (and messages from code) with no receipt after ``after_hours`` as expired."""
    hours = veesing_settings.EXPIRE_AFTER_HOURS if after_hours is None else after_hours
    cutoff = (now or clock.now()) - dt.timedelta(hours=hours)
    expired = 0
    waiting = Campaign.objects.filter(submitted_count__gt=0)
    for campaign_id in waiting.values_list("id", flat=True):
        batches = Batch.objects.filter(campaign_id=campaign_id, state=BatchState.SUBMITTED, sent_at__lt=cutoff)
        for batch in batches.only("id", "campaign_id", "first_id", "last_id", "text_id"):
            with transaction.atomic():
                n = batch.rows().filter(status=RecipientStatus.SUBMITTED).update(status=RecipientStatus.EXPIRED)
                move_counts(campaign_id, submitted=-n, expired=n)
            expired += n
    lapsed = Message.objects.filter(status=MessageStatus.SUBMITTED, submitted_at__lt=cutoff)
    return expired + lapsed.update(status=MessageStatus.EXPIRED)
