"""A whole pushed body: every event validated, then each stored and applied."""

from __future__ import annotations

from .events import ReceiptEvent
from .parsing import parse_body, read_event
from .receipts import take_receipt
from .replies import take_reply


def take_body(raw: bytes, content_type: str, kind: str | None = None, query: str = "") -> int:
    """Validate every event of a push (its body, or ``query`` for an empty body), then
    store and apply them; the count taken.

    Raises ``PushRejected`` (naming each bad field) before anything is written.
    """
    events = [read_event(event, kind) for event in parse_body(raw, content_type, query)]
    for event in events:
        if isinstance(event, ReceiptEvent):
            take_receipt(event)
        else:
            take_reply(event)
    return len(events)
