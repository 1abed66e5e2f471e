"""What sending a personalised campaign's numbers takes: their texts added up (the bill,
the calls by text, the longest text).

Adding up reads every number: 2.6 s at 1,000,000. While none of a campaign's numbers is
claimed, the sum over all its pending numbers is kept (``kept``) as long as they stay.
The numbers that opted out change at any time: they are taken off that sum from their
few texts alone (``less``), kept in turn while the same numbers are opted out. Only when
they held the longest text, and no other number has it, is the campaign added up again
without them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max, QuerySet

from ..models import Campaign, Recipient, TextTotals, totals
from .kept import kept


@dataclass(frozen=True)
class Added:
    """Some numbers' texts added up, and the longest of those texts (its id and text)."""

    totals: TextTotals
    longest_id: int | None
    longest_text: str

    def figures(self) -> dict[str, Any]:
        """What ``backlog.plan`` says of these numbers (but how many opted out)."""
        totals = self.totals
        return {
            "numbers": totals.numbers,
            "batches": totals.calls,
            "segments": totals.segments,
            "messages": totals.billed,
            "texts": totals.texts,
            "longest": totals.longest,
            "longest_text": self.longest_text,
        }


def add_up(rows: QuerySet[Recipient], batch_size: int) -> Added:
    """The totals of ``rows`` and their longest text (the first stored of those as long)."""
    longest = rows.filter(text__isnull=False).order_by("-text__length", "text_id").values_list("text_id", "text__text")
    text_id, text = longest.first() or (None, "")
    return Added(totals(rows, batch_size), text_id, text)


def kept_totals(
    campaign: Campaign,
    pending: QuerySet[Recipient],
    opted_out: QuerySet[Recipient],
    sendable: Callable[[], QuerySet[Recipient]],
    batch_size: int,
) -> tuple[int, Added]:
    """How many of a campaign's ``pending`` numbers (none claimed yet) opted out, and the
    totals of the others (``sendable()``): all of them kept, less the opted out."""

    def whole() -> Added:
        return kept(campaign, "totals", lambda: add_up(pending, batch_size))

    left_out = list(opted_out.order_by("id").values_list("id", "text_id"))
    if not left_out:
        return 0, whole()

    def without_them() -> Added:  # added up again only when their texts were the longest
        return less(whole(), left_out, pending, batch_size) or add_up(sendable(), batch_size)

    # One look-up when kept: the whole sum is looked up only to take them off it.
    return len(left_out), kept(campaign, "totals-less", without_them, tuple(pk for pk, _text in left_out))


def less(
    added: Added, left_out: Sequence[tuple[int, int | None]], rows: QuerySet[Recipient], batch_size: int
) -> Added | None:
    """``added`` (the totals of ``rows``) without the numbers ``left_out`` (id, text id),
    found from their texts' numbers among ``rows``; None when the longest text was theirs
    alone (or one of them has no text, or ``rows`` moved since): add up again."""
    out: Counter[int] = Counter()
    for _pk, text_id in left_out:
        if text_id is None:
            return None
        out[text_id] += 1
    having = {
        text_id: (numbers, segments)
        for text_id, numbers, segments in rows.filter(text_id__in=out)
        .order_by()
        .values("text_id")
        .annotate(numbers=Count("id"), segments=Max("text__segments"))
        .values_list("text_id", "numbers", "segments")
    }
    if any(having.get(text_id, (0, 0))[0] < numbers for text_id, numbers in out.items()):
        return None
    gone = {text_id for text_id, numbers in out.items() if having[text_id][0] == numbers}
    if added.longest_id in gone:
        return None
    was = added.totals
    fewer_calls = sum(
        _calls(having[text_id][0], batch_size) - _calls(having[text_id][0] - numbers, batch_size)
        for text_id, numbers in out.items()
    )
    figures = TextTotals(
        numbers=was.numbers - len(left_out),
        billed=was.billed - sum(numbers * having[text_id][1] for text_id, numbers in out.items()),
        calls=was.calls - fewer_calls,
        longest=was.longest,  # the longest text is still sent, and so are its segments
        segments=was.segments,
        texts=was.texts - len(gone),
    )
    return Added(figures, added.longest_id, added.longest_text)


def _calls(numbers: int, batch_size: int) -> int:
    return -(-numbers // batch_size)
