"""Applying pushed receipts and replies to the records, idempotently.

A receipt is stored once (its fingerprint is unique), matched to its recipient by
(task id, phone), and moves the recipient to delivered or failed unless a newer receipt
was applied already. On PostgreSQL a receipt for a known task takes one statement
(``receipt_sql``). A receipt that beats its batch's commit is stored unmatched and
linked when the task id is committed (``link_early_receipts``) or by ``reconcile``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import IntegrityError, transaction

from . import clock, prepared, receipt_sql, signals
from .conf import veesing_settings
from .models import (
    Batch,
    BatchState,
    OptOut,
    OptOutSource,
    Receipt,
    Recipient,
    RecipientStatus,
    Reply,
    move_counts,
)
from .serializers import RECEIPT, parse_body, validate

logger = logging.getLogger(__name__)

#: Statuses a receipt may move a recipient from (expired: a late receipt still counts).
SETTLEABLE = receipt_sql.SETTLEABLE
_NOT_WORD = re.compile(r"[\W_]+")
EARLY_RECEIPT_AGE = dt.timedelta(minutes=5)


def fingerprint(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8"), usedforsecurity=False).hexdigest()


def _fold(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).upper()


@lru_cache(maxsize=8)
def _folded_keywords(keywords: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_fold(word) for word in keywords)


def is_opt_out(text: str) -> bool:
    """Whether a reply means "stop": T, TD, R, 退订 … in any width or case, bare of punctuation."""
    return _fold(text) in _folded_keywords(tuple(veesing_settings.OPT_OUT_KEYWORDS))


# -- receipts -----------------------------------------------------------------------------


def take_receipt(data: dict[str, Any], raw: dict[str, Any]) -> Receipt | None:
    """Store and apply one validated receipt; None when it was a duplicate."""
    fields = {
        "fingerprint": fingerprint(
            "receipt", data["taskid"], data["mobile"], data["status"], data["code"], data["receivetime"].isoformat()
        ),
        "task_id": data["taskid"],
        "phone": data["mobile"],
        "delivered": data["status"] == "1",
        "code": data["code"],
        "received_at": data["receivetime"],
        "raw": raw,
    }
    if prepared.usable():
        outcome = receipt_sql.apply_receipt(**fields)
        if outcome.recipient_id is not None:
            if outcome.receipt_id is None:
                return None
            receipt = Receipt(pk=outcome.receipt_id, recipient_id=outcome.recipient_id, **fields)
            signals.send_on_commit(signals.receipt_received, Receipt, receipt=receipt)
            return receipt
    with transaction.atomic():
        recipient = _recipient_for_update(data["taskid"], data["mobile"])
        receipt = _insert(Receipt, recipient=recipient, **fields)
        if receipt is None:
            return None
        if recipient is not None:
            _apply(recipient, receipt)
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
    batch = _batch_of(task_id)
    if batch is None:
        in_flight = Batch.objects.select_for_update().filter(state=BatchState.CLAIMED).order_by("id")
        list(in_flight.values_list("id", flat=True))  # one order for every waiter: no deadlock
        batch = _batch_of(task_id)
        if batch is None:
            return None
    recipient = (
        Recipient.objects.select_for_update()
        .only("id", "campaign_id", "status", "receipt_at", "batch_id")
        .filter(campaign_id=batch.campaign_id, phone=phone)
        .first()
    )
    if recipient is None or recipient.batch_id != batch.pk:
        return None
    return recipient


def _batch_of(task_id: str) -> Batch | None:
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
    return True


def link_early_receipts(task_id: str) -> int:
    """Apply the receipts that arrived before their batch's task id was committed."""
    linked = 0
    for receipt in Receipt.objects.filter(task_id=task_id, recipient__isnull=True).order_by("received_at", "id"):
        recipient = _recipient_for_update(task_id, receipt.phone)
        if recipient is None:
            continue
        Receipt.objects.filter(pk=receipt.pk).update(recipient=recipient)
        _apply(recipient, receipt)
        linked += 1
    return linked


# -- replies ------------------------------------------------------------------------------


def take_reply(data: dict[str, Any], raw: dict[str, Any]) -> Reply | None:
    """Store one validated reply, link it, and record an opt-out; None when a duplicate."""
    opt_out = is_opt_out(data["content"])
    opted_out = None
    with transaction.atomic():
        recipient = _recipient_of_reply(data["taskid"], data["mobile"])
        reply = _insert(
            Reply,
            fingerprint=fingerprint(
                "reply", data["taskid"], data["mobile"], data["content"], data["receivetime"].isoformat()
            ),
            task_id=data["taskid"],
            phone=data["mobile"],
            content=data["content"],
            received_at=data["receivetime"],
            recipient=recipient,
            campaign_id=recipient.campaign_id if recipient else None,
            opt_out=opt_out,
            raw=raw,
        )
        if reply is None:
            return None
        if opt_out:
            opted_out, created = OptOut.objects.get_or_create(
                phone=data["mobile"], defaults={"source": OptOutSource.REPLY}
            )
            opted_out = opted_out if created else None
    signals.send_on_commit(signals.reply_received, Reply, reply=reply)
    if opted_out is not None:
        signals.send_on_commit(signals.opted_out, OptOut, opt_out=opted_out, reply=reply)
    return reply


def _recipient_of_reply(task_id: str, phone: str) -> Recipient | None:
    fields = ("id", "campaign_id", "status", "batch_id")
    batch = _batch_of(task_id)
    if batch is not None:
        recipient = Recipient.objects.only(*fields).filter(campaign_id=batch.campaign_id, phone=phone).first()
        if recipient is not None and recipient.batch_id == batch.pk:
            return recipient
    return Recipient.objects.only(*fields).filter(phone=phone).order_by("-id").first()


# -- a whole pushed body ---------------------------------------------------------------------


def take_body(raw: bytes, content_type: str, kind: str | None = None, query: str = "") -> int:
    """Validate every event of a push (its body, or ``query`` for an empty body), then
    store and apply them; the count taken.

    Raises ``PushRejected`` (naming each bad field) before anything is written.
    """
    events = [(*validate(event, kind), event) for event in parse_body(raw, content_type, query)]
    for event_kind, data, event in events:
        (take_receipt if event_kind == RECEIPT else take_reply)(data, event)
    return len(events)


# -- storing once -------------------------------------------------------------------------


def _insert(model: type[Receipt] | type[Reply], **fields: Any) -> Any:
    """Insert a row unless its fingerprint is stored already (then None)."""
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        if model.objects.filter(fingerprint=fields["fingerprint"]).exists():
            return None
        raise


# -- reconciling --------------------------------------------------------------------------


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
    from .settling import mark_submitted

    report = ReconcileReport()
    now = now or clock.now()
    task_ids = Receipt.objects.filter(recipient__isnull=True).values_list("task_id", flat=True).distinct()
    for task_id in list(task_ids):
        with transaction.atomic():
            linked = link_early_receipts(task_id)
        report.linked += linked
        if linked or Batch.objects.filter(task_id=task_id).exists():
            continue
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
