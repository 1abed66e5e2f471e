"""Signals of the app. Each is sent after the change it reports is committed.

- ``campaign_started(sender=Campaign, campaign)``
- ``batch_submitted(sender=Batch, batch)``
- ``campaign_finished(sender=Campaign, campaign)``
- ``receipt_received(sender=Receipt, receipt)``: a new receipt was stored (not a duplicate)
- ``reply_received(sender=Reply, reply)``
- ``opted_out(sender=OptOut, opt_out, reply)``: a reply added a number to the opt-outs
"""

from typing import Any

from django.db import transaction
from django.dispatch import Signal

campaign_started = Signal()
batch_submitted = Signal()
campaign_finished = Signal()
receipt_received = Signal()
reply_received = Signal()
opted_out = Signal()


def send_on_commit(signal: Signal, sender: type, **kwargs: Any) -> None:
    """Send ``signal`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: signal.send(sender=sender, **kwargs))
