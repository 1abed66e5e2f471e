"""Signals of the app. Each is sent after the change it reports is committed.

A receiver that raises is logged (logger ``django_veesing.signals``, with its traceback)
and the others still run: a bug in a receiver never stops a worker or fails a push
already stored.

- ``campaign_started(sender=Campaign, campaign)``
- ``batch_submitted(sender=Batch, batch)``
- ``campaign_finished(sender=Campaign, campaign)``
- ``receipt_received(sender=Receipt, receipt)``: a new receipt was stored (not a duplicate)
- ``reply_received(sender=Reply, reply)``
- ``opted_out(sender=OptOut, opt_out, reply)``: a reply added a number to the opt-outs
- ``message_submitted(sender=Message, message)``: the provider accepted a message from code
- ``message_failed(sender=Message, message)``: the provider refused it (``message.error`` says why)

A receipt or a reply for a message from code has its ``message`` set (and
``message.metadata`` carries the caller's own ids).
"""

import logging
from typing import Any

from django.db import transaction
from django.dispatch import Signal

__all__ = [
    "Signal",
    "batch_submitted",
    "campaign_finished",
    "campaign_started",
    "message_failed",
    "message_submitted",
    "opted_out",
    "receipt_received",
    "reply_received",
    "send",
    "send_on_commit",
]

logger = logging.getLogger(__name__)

campaign_started = Signal()
batch_submitted = Signal()
campaign_finished = Signal()
receipt_received = Signal()
reply_received = Signal()
opted_out = Signal()
message_submitted = Signal()
message_failed = Signal()


def send_on_commit(signal: Signal, sender: type, **kwargs: Any) -> None:
    """Send ``signal`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: send(signal, sender, **kwargs))


def send(signal: Signal, sender: type, **kwargs: Any) -> None:
    """Call every receiver of ``signal``; log each one that raises and go on."""
    for receiver, outcome in signal.send_robust(sender=sender, **kwargs):
        if isinstance(outcome, Exception):
            name = getattr(receiver, "__qualname__", repr(receiver))
            logger.error("A receiver of a django-veesing signal raised: %s", name, exc_info=outcome)
