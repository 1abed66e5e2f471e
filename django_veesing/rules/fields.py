"""Personalised texts: ``{field}`` placeholders filled with each recipient's values.

A field name is letters, digits or underscores, Chinese or ASCII (``{姓名}``, ``{points}``).
A text is filled in one pass, so a value that itself holds ``{…}`` is shown as written. A
value may not hold a line break or 【】 (only the signature may), and every field the text
uses needs a value that is not blank.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _

from ..exceptions import VeesingError

PLACEHOLDER = re.compile(r"\{(\w{1,40})\}")
MAX_VALUE_LENGTH = 200
_UNFIT = re.compile("[\r\n【】]")  # what ``check_value`` refuses in a value (besides its length)


class FieldProblem(VeesingError, ValueError):
    """``str()`` says which field's value is wrong and why, for the operator."""


def names(content: str) -> list[str]:
    """The fields ``content`` uses, in order of first use."""
    return list(dict.fromkeys(PLACEHOLDER.findall(content)))


def render(content: str, values: Mapping[str, Any]) -> str:
    """``content`` with each ``{field}`` replaced by its value; ``FieldProblem`` when a
    value is missing, blank or unfit for a text message."""
    return template(content).fill(values)


@lru_cache(maxsize=64)
def template(content: str) -> Template:
    """``content`` cut once, to be filled many times (cached)."""
    return Template(content)


class Template:
    """A text cut once into its literal pieces and its fields, to be filled many times:
    ``fill(values)`` is ``join(values_of(values))``, for callers that look at the values too."""

    def __init__(self, content: str) -> None:
        pieces = PLACEHOLDER.split(content)  # literal, name, literal, name, …, literal
        self.names = pieces[1::2]
        # The literals with ``{}`` between them: ``str.format`` joins them with the values.
        self.pattern = "{}".join(piece.replace("{", "{{").replace("}", "}}") for piece in pieces[0::2])

    def fill(self, values: Mapping[str, Any]) -> str:
        return self.join(self.values_of(values))

    def join(self, texts: list[str]) -> str:
        """The text with ``texts`` (what ``values_of`` gave) in its fields."""
        return self.pattern.format(*texts)

    def values_of(self, values: Mapping[str, Any]) -> list[str]:
        """The value of each field, in order, stripped; ``FieldProblem`` for the first
        missing or unfit one. Most values are short and plain: one look at all of them."""
        found = [values.get(name) for name in self.names]
        texts = ["" if value is None else str(value).strip() for value in found]
        joined = "".join(texts)
        if all(texts) and len(joined) <= MAX_VALUE_LENGTH and not _UNFIT.search(joined):
            return texts
        for name, text in zip(self.names, texts, strict=True):
            if not text:
                raise FieldProblem(_("No value for {%(field)s}.") % {"field": name})
            check_value(name, text)
        return texts


def check_value(name: str, value: str) -> str:
    """``value`` if it may go into a text as field ``name``; else ``FieldProblem``."""
    if "\n" in value or "\r" in value:
        raise FieldProblem(_("The value of {%(field)s} holds a line break.") % {"field": name})
    if "【" in value or "】" in value:
        raise FieldProblem(
            _("The value of {%(field)s} holds 【】, which only the signature may use.") % {"field": name}
        )
    if len(value) > MAX_VALUE_LENGTH:
        raise FieldProblem(
            _("The value of {%(field)s} has %(length)d characters; at most %(max)d are allowed.")
            % {"field": name, "length": len(value), "max": MAX_VALUE_LENGTH}
        )
    return value


def missing(content: str, columns: Iterable[str]) -> list[str]:
    """The fields ``content`` uses that no column in ``columns`` provides."""
    known = set(columns)
    return [name for name in names(content) if name not in known]
