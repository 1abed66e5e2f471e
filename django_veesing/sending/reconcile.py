"""Reconciling: receipts whose task id was not known when they came, and uncertain
batches that those receipts show did reach the provider."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction

from .. import clock
from ..models import Batch, BatchState, MessageBatch, Receipt, TrialSend, VerificationCode
from ..receiving.receipts import link_early_message_receipts, link_early_receipts

EARLY_RECEIPT_AGE = dt.timedelta(minutes=5)
#: Every record that keeps a task id: a receipt of one of these tasks is never taken as a
#: sign that an uncertain batch reached the provider.
KNOWN_TASKS = (Batch, MessageBatch, TrialSend, VerificationCode)


@dataclass
class ReconcileReport:
    linked: int = 0
    batches_found: int = 0


def reconcile(now: dt.datetime | None = None) -> ReconcileReport:
    """Link unmatched receipts whose task id is now known, and settle uncertain batches.

    A receipt older than a few minutes whose task id matches no batch, for numbers that
    wait in exactly one uncertain batch, shows that batch did reach the provider: the batch
    takes that task id and its numbers are settled like any submitted batch.
    """
    from ..sending.settling import mark_submitted

    report = ReconcileReport()
    now = now or clock.now()
    task_ids = (
        Receipt.objects.filter(recipient__isnull=True, message__isnull=True)
        .values_list("task_id", flat=True)
        .distinct()
    )
    for task_id in list(task_ids):
        with transaction.atomic():
            linked = link_early_receipts(task_id) + link_early_message_receipts(task_id)
        report.linked += linked
        if linked or any(model.objects.filter(task_id=task_id).exists() for model in KNOWN_TASKS):
            continue  # a task of ours: a trial send's or a code's receipts match no number
        unmatched = Receipt.objects.filter(task_id=task_id, recipient__isnull=True)
        if unmatched.filter(created_at__gt=now - EARLY_RECEIPT_AGE).exists():
            continue  # may simply be early
        phones = list(unmatched.values_list("phone", flat=True))
        batches = list(Batch.objects.filter(state=BatchState.UNCERTAIN, recipients__phone__in=phones).distinct())
        if len(batches) == 1:
            mark_submitted(batches[0], task_id, len(phones), None, "reconciled from receipts", now)
            report.batches_found += 1
            report.linked += Receipt.objects.filter(task_id=task_id, recipient__isnull=False).count()
    return report
