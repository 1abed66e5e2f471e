"""Length, segment and cost arithmetic for a text.

A text of up to 70 characters (signature and its 【】 included) is one message; a longer
one is billed per 67 characters. Every character, punctuation mark or space counts 1.
"""

from __future__ import annotations

SINGLE_LIMIT = 70
PART_LIMIT = 67


def segments(text: str) -> int:
    """How many messages one copy of ``text`` is billed as (0 for an empty text)."""
    length = len(text)
    if length == 0:
        return 0
    if length <= SINGLE_LIMIT:
        return 1
    return -(-length // PART_LIMIT)


def cost(text: str, recipients: int) -> int:
    """Billed messages for sending ``text`` to ``recipients`` numbers."""
    return segments(text) * recipients
