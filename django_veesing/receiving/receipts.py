"""Applying pushed receipts to the records, idempotently.

A receipt is stored once (its fingerprint is unique), matched to its recipient by
(task id, phone), and moves the recipient to delivered or failed unless a newer receipt
was applied already. On PostgreSQL a receipt for a known task takes one statement
(``statements``). A receipt that beats its batch's commit is stored unmatched and
linked when the task id is committed (``link_early_receipts``) or by
``sending.reconcile``. A receipt for a message from code (``Message``) is matched by its
message batch's task id and the phone, the same way.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.db import transaction

from .. import signals
from ..db import prepared
from ..models import (
    Batch,
    BatchState,
    Message,
    MessageBatch,
    MessageStatus,
    Reason,
    Receipt,
    Recipient,
    RecipientStatus,
    count_arrival,
    move_counts,
    move_failures,
    reason_of,
)
from . import statements
from .events import ReceiptEvent
from .storing import fingerprint, insert_once

#: Statuses a receipt may move a recipient from (expired: a late receipt still counts).
SETTLEABLE = statements.SETTLEABLE
#: The same for a message.
MESSAGE_SETTLEABLE = (MessageStatus.SUBMITTED, MessageStatus.DELIVERED, MessageStatus.FAILED, MessageStatus.EXPIRED)


# -- receipts -----------------------------------------------------------------------------


def take_receipt(event: ReceiptEvent) -> Receipt | None:
    """Store and apply one receipt; None when it was a duplicate."""
    status = "1" if event.delivered else "0"  # as the provider said it: fingerprints stored stay valid
    fields: dict[str, Any] = {
        "fingerprint": fingerprint(
            "receipt", event.task_id, event.phone, status, event.code, event.received_at.isoformat()
        ),
        "task_id": event.task_id,
        "phone": event.phone,
        "delivered": event.delivered,
        "code": event.code,
        "received_at": event.received_at,
        "raw": event.raw,
    }
    if prepared.usable(Receipt):
        outcome = statements.apply_receipt(**fields)
        if outcome.recipient_id is not None:
            if outcome.receipt_id is None:
                return None
            receipt = Receipt(pk=outcome.receipt_id, recipient_id=outcome.recipient_id, **fields)
            signals.send_on_commit(signals.receipt_received, Receipt, receipt=receipt)
            return receipt
    with transaction.atomic():
        recipient = _recipient_for_update(event.task_id, event.phone)
        message = None if recipient is not None else _message_for_update(event.task_id, event.phone)
        receipt = insert_once(Receipt, recipient=recipient, message=message, **fields)
        if receipt is None:
            return None
        if recipient is not None:
            count_arrival(recipient.campaign_id, receipt.created_at)
            _apply(recipient, receipt)
        if message is not None:
            _apply_to_message(message, receipt)
    signals.send_on_commit(signals.receipt_received, Receipt, receipt=receipt)
    return receipt


def _recipient_for_update(task_id: str, phone: str) -> Recipient | None:
    """The recipient a receipt is for, locked; None if its batch's task id is not known.

    The task id names the batch; the batch's campaign and the phone name the recipient,
    if the batch sent to it (the recipient's last batch is that one). A receipt can beat
    the commit of its batch's task id. Before calling it unmatched, lock the batches in
    flight: a batch being settled holds its lock until it commits, so this
    waits for it and the second look sees its task id. If this lock comes first, the
    batch's settlement waits for this transaction instead and then links the receipt
    stored here (``link_early_receipts``). Either way no receipt is left behind.
    """
    batch = batch_of(task_id)
    if batch is None:
        if message_batch_of(task_id) is not None:
            return None  # a message's task: no campaign batch to wait for
        in_flight = Batch.objects.select_for_update().filter(state=BatchState.CLAIMED).order_by("id")
        list(in_flight.values_list("id", flat=True))  # one order for every waiter: no deadlock
        batch = batch_of(task_id)
        if batch is None:
            return None
    recipient = (
        Recipient.objects.select_for_update()
        .only("id", "campaign_id", "status", "receipt_at", "batch_id", "receipt_code", "error")
        .filter(campaign_id=batch.campaign_id, phone=phone)
        .first()
    )
    if recipient is None or recipient.batch_id != batch.pk:
        return None
    return recipient


def batch_of(task_id: str) -> Batch | None:
    fields = ("id", "campaign_id", "state", "task_id")
    return Batch.objects.only(*fields).filter(task_id=task_id).order_by("id").first() if task_id else None


def _apply(recipient: Recipient, receipt: Receipt) -> bool:
    """Move ``recipient`` by ``receipt`` unless a newer receipt was applied already."""
    if recipient.status not in SETTLEABLE:
        return False
    if recipient.receipt_at is not None and receipt.received_at <= recipient.receipt_at:
        return False
    new = RecipientStatus.DELIVERED if receipt.delivered else RecipientStatus.FAILED
    Recipient.objects.filter(pk=recipient.pk).update(
        status=new, receipt_code=receipt.code, receipt_at=receipt.received_at, task_id=receipt.task_id
    )
    if new != recipient.status:
        move_counts(recipient.campaign_id, **{recipient.status: -1, new: 1})
    reasons: Counter[Reason] = Counter()
    if recipient.status == RecipientStatus.FAILED:
        reasons[reason_of(recipient.receipt_code, recipient.error)] -= 1
    if new == RecipientStatus.FAILED:
        reasons[reason_of(receipt.code, recipient.error)] += 1
    move_failures(recipient.campaign_id, reasons)
    return True


def message_batch_of(task_id: str) -> MessageBatch | None:
    return MessageBatch.objects.only("id", "task_id").filter(task_id=task_id).first() if task_id else None


def _message_for_update(task_id: str, phone: str) -> Message | None:
    """The message a receipt is for, locked; None if no message batch has that task id.
    A message batch being settled is waited for, as ``_recipient_for_update`` does."""
    batch = message_batch_of(task_id)
    if batch is None:
        in_flight = MessageBatch.objects.select_for_update().filter(state=BatchState.CLAIMED).order_by("id")
        list(in_flight.values_list("id", flat=True))
        batch = message_batch_of(task_id)
        if batch is None:
            return None
    fields = ("id", "status", "receipt_at", "batch_id")
    return Message.objects.select_for_update().only(*fields).filter(batch_id=batch.pk, phone=phone).first()


def _apply_to_message(message: Message, receipt: Receipt) -> bool:
    """Move ``message`` by ``receipt`` unless a newer receipt was applied already."""
    if message.status not in MESSAGE_SETTLEABLE:
        return False
    if message.receipt_at is not None and receipt.received_at <= message.receipt_at:
        return False
    new = MessageStatus.DELIVERED if receipt.delivered else MessageStatus.FAILED
    Message.objects.filter(pk=message.pk).update(status=new, receipt_code=receipt.code, receipt_at=receipt.received_at)
    return True


def link_early_message_receipts(task_id: str) -> int:
    """Apply the receipts that arrived before their message batch's task id was committed."""
    linked = 0
    early = Receipt.objects.filter(task_id=task_id, recipient__isnull=True, message__isnull=True)
    for receipt in early.order_by("received_at", "id"):
        message = _message_for_update(task_id, receipt.phone)
        if message is None:
            continue
        Receipt.objects.filter(pk=receipt.pk).update(message=message)
        _apply_to_message(message, receipt)
        linked += 1
    return linked


def link_early_receipts(task_id: str) -> int:
    """Apply the receipts that arrived before their batch's task id was committed."""
    linked = 0
    for receipt in Receipt.objects.filter(task_id=task_id, recipient__isnull=True).order_by("received_at", "id"):
        recipient = _recipient_for_update(task_id, receipt.phone)
        if recipient is None:
            continue
        Receipt.objects.filter(pk=receipt.pk).update(recipient=recipient)
        count_arrival(recipient.campaign_id, receipt.created_at)
        _apply(recipient, receipt)
        linked += 1
    return linked
