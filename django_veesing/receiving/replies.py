"""Pushed replies: stored once, linked to the recipient they answer, and an opt-out
recorded when a reply means "stop"."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from django.db import transaction

from .. import signals
from ..conf import veesing_settings
from ..models import Message, OptOut, OptOutSource, Recipient, Reply
from .events import ReplyEvent
from .receipts import batch_of, message_batch_of
from .storing import fingerprint, insert_once

_NOT_WORD = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text)).upper()


@lru_cache(maxsize=8)
def _folded_keywords(keywords: tuple[str, ...]) -> frozenset[str]:
    return frozenset(_fold(word) for word in keywords)


def is_opt_out(text: str) -> bool:
    """Whether a reply means "stop": T, TD, R, 退订 … in any width or case, bare of punctuation."""
    return _fold(text) in _folded_keywords(tuple(veesing_settings.OPT_OUT_KEYWORDS))


def take_reply(event: ReplyEvent) -> Reply | None:
    """Store one reply, link it, and record an opt-out; None when a duplicate."""
    opt_out = is_opt_out(event.content)
    opted_out = None
    with transaction.atomic():
        message = _message_of_reply(event.task_id, event.phone)
        recipient = None if message is not None else _recipient_of_reply(event.task_id, event.phone)
        reply = insert_once(
            Reply,
            fingerprint=fingerprint("reply", event.task_id, event.phone, event.content, event.received_at.isoformat()),
            task_id=event.task_id,
            phone=event.phone,
            content=event.content,
            received_at=event.received_at,
            recipient=recipient,
            message=message,
            campaign_id=recipient.campaign_id if recipient else None,
            opt_out=opt_out,
            raw=event.raw,
        )
        if reply is None:
            return None
        if opt_out:
            opted_out, created = OptOut.objects.get_or_create(
                phone=event.phone, defaults={"source": OptOutSource.REPLY}
            )
            opted_out = opted_out if created else None
    signals.send_on_commit(signals.reply_received, Reply, reply=reply)
    if opted_out is not None:
        signals.send_on_commit(signals.opted_out, OptOut, opt_out=opted_out, reply=reply)
    return reply


def _message_of_reply(task_id: str, phone: str) -> Message | None:
    """The message a reply answers, when its task id is a message batch's."""
    batch = message_batch_of(task_id)
    if batch is None:
        return None
    return Message.objects.only("id").filter(batch_id=batch.pk, phone=phone).first()


def _recipient_of_reply(task_id: str, phone: str) -> Recipient | None:
    fields = ("id", "campaign_id", "status", "batch_id")
    batch = batch_of(task_id)
    if batch is not None:
        recipient = Recipient.objects.only(*fields).filter(campaign_id=batch.campaign_id, phone=phone).first()
        if recipient is not None and recipient.batch_id == batch.pk:
            return recipient
    return Recipient.objects.only(*fields).filter(phone=phone).order_by("-id").first()
