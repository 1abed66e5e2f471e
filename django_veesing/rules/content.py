"""The content rules of Chinese SMS, in one place for the admin, the API and the pipeline.

A text carries one 【signature】 of 2–10 characters at its start or end (a default may come
from ``VEESING["SIGNATURE"]``), no other 【】, no emoji or refused symbols; a marketing text
also tells recipients how to opt out. ``check`` reports every problem at once, with the
length, segments and the text exactly as the phone will show it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from .segments import segments

SIGNATURE = re.compile(r"【[^【】]{2,10}】")
_LEADING = re.compile(r"^【([^【】]*)】")
_TRAILING = re.compile(r"【([^【】]*)】$")
MAX_LENGTH = 500
#: Refused although not in a symbol category: reference mark, zero-width joiner, variation selectors.
REFUSED_EXTRA = set("※\u200d") | {chr(c) for c in range(0xFE00, 0xFE10)}
REFUSED_CATEGORIES = {"So", "Cs", "Co"}  # other symbols (★ ☆ ♥ emoji), surrogates, private use


@dataclass(frozen=True)
class Problem:
    code: str
    message: str


@dataclass(frozen=True)
class ContentReport:
    text: str  # as the phone will show it
    length: int
    segments: int
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def messages(self) -> list[str]:
        return [problem.message for problem in self.problems]


def summary(report: ContentReport, recipients: int = 0, opted_out: int = 0) -> list[str]:
    """What the text costs, in lines for a person: its length and messages per number, and
    the messages billed for ``recipients`` numbers to send (when there are any), saying how
    many more were left out as opted out, so the figure matches the campaign's panel."""
    lines = [
        _("%(length)s characters, %(segments)s message(s) per number")
        % {"length": report.length, "segments": report.segments}
    ]
    figures = {"cost": report.segments * recipients, "recipients": recipients, "opted_out": opted_out}
    if recipients and opted_out:
        lines.append(
            _("%(cost)s messages billed for %(recipients)s numbers to send (%(opted_out)s opted out, skipped)")
            % figures
        )
    elif recipients:
        lines.append(_("%(cost)s messages billed for %(recipients)s numbers to send") % figures)
    return lines


def with_signature(content: str, default: str = "") -> str:
    """``content`` with ``default`` put in front when it carries no signature of its own."""
    content = content.strip()
    if default and content and not (_LEADING.search(content) or _TRAILING.search(content)):
        return default + content
    return content


def check(
    content: str,
    *,
    marketing: bool,
    default_signature: str = "",
    opt_out_phrases: list[str] | tuple[str, ...] = (),
) -> ContentReport:
    """Every rule ``content`` breaks, with its length and segments."""
    text = with_signature(content, default_signature)
    problems = list(_problems(text, marketing, opt_out_phrases))
    return ContentReport(text=text, length=len(text), segments=segments(text), problems=problems)


def _problems(text: str, marketing: bool, opt_out_phrases: list[str] | tuple[str, ...]) -> Iterator[Problem]:
    if not text:
        yield Problem("empty", _("The text is empty."))
        return
    signature = _LEADING.search(text) or _TRAILING.search(text)
    if not signature:
        yield Problem(
            "no_signature",
            _("The text needs a signature such as 【公司名】 at its start or end."),
        )
    elif not 2 <= len(signature.group(1)) <= 10:
        yield Problem(
            "signature_length",
            _("The signature 【%(signature)s】 must have 2 to 10 characters.") % {"signature": signature.group(1)},
        )
    body = text[: signature.start()] + text[signature.end() :] if signature else text
    if "【" in body or "】" in body:
        yield Problem("brackets", _("Only the signature may use 【】; remove the others from the text."))
    yield from _symbols(text)
    yield from _after_filling(text, marketing, opt_out_phrases)


def filled_problems(
    text: str, values: Iterable[str], *, marketing: bool, opt_out_phrases: list[str] | tuple[str, ...] = ()
) -> list[str]:
    """What a template that obeys every rule (its signature free of placeholders) can break
    once filled with ``values`` into ``text``: a value's refused symbols, the length, the
    opt-out phrase. The same judgement as ``check(text)``, without reading the template's
    own characters again for every number."""
    joined = "".join(values)
    # Letters and digits are never refused symbols: most values need no look at each character.
    plain = joined.isalnum()
    if plain and len(text) <= MAX_LENGTH and not (marketing and opt_out_phrases):
        return []  # nothing left to break (the same judgement, without building the generators)
    problems = [*([] if plain else _symbols(joined)), *_after_filling(text, marketing, opt_out_phrases)]
    return [problem.message for problem in problems]


def _symbols(text: str) -> Iterator[Problem]:
    refused = sorted({ch for ch in text if _refused(ch)})
    if refused:
        yield Problem(
            "symbols",
            _("Remove the emoji or symbols the provider refuses: %(symbols)s") % {"symbols": " ".join(refused)},
        )


def _after_filling(text: str, marketing: bool, opt_out_phrases: list[str] | tuple[str, ...]) -> Iterator[Problem]:
    if len(text) > MAX_LENGTH:
        yield Problem(
            "too_long",
            _("The text has %(length)d characters; at most %(max)d are allowed.")
            % {"length": len(text), "max": MAX_LENGTH},
        )
    if marketing and opt_out_phrases and not any(phrase in text for phrase in opt_out_phrases):
        yield Problem(
            "no_opt_out",
            _("A marketing text must tell recipients how to opt out, e.g. “%(phrase)s”.")
            % {"phrase": opt_out_phrases[0]},
        )


def signature_of(text: str) -> str | None:
    """The text's 【signature】 at its start or end, brackets included; None without one."""
    found = _LEADING.search(text) or _TRAILING.search(text)
    return found.group(0) if found else None


def _refused(ch: str) -> bool:
    return ch in REFUSED_EXTRA or unicodedata.category(ch) in REFUSED_CATEGORIES
