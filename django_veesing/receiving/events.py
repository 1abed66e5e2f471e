"""What a push says, in the app's own names: the provider's ``taskid``, ``mobile``,
``status`` and ``receivetime`` stop at ``parsing``; everything after it takes these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReceiptEvent:
    """A delivery receipt: whether the message reached ``phone``, and the operator's code."""

    task_id: str
    phone: str
    delivered: bool
    code: str
    received_at: dt.datetime
    #: the event as it was pushed (stored with the receipt)
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ReplyEvent:
    """A text a recipient sent back; ``task_id`` is empty when the provider gave none."""

    task_id: str
    phone: str
    content: str
    received_at: dt.datetime
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


PushEvent = ReceiptEvent | ReplyEvent
