"""A whole pushed body: every event validated, then each stored and applied."""

from __future__ import annotations

from .parsing import RECEIPT, parse_body, validate
from .receipts import take_receipt
from .replies import take_reply


def take_body(raw: bytes, content_type: str, kind: str | None = None, query: str = "") -> int:
    """Validate every event of a push (its body, or ``query`` for an empty body), then
    store and apply them; the count taken.

    Raises ``PushRejected`` (naming each bad field) before anything is written.
    """
    events = [(*validate(event, kind), event) for event in parse_body(raw, content_type, query)]
    for event_kind, data, event in events:
        (take_receipt if event_kind == RECEIPT else take_reply)(data, event)
    return len(events)
