"""What an import of numbers reads (``split_entry``) and reports (``ImportResult``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.utils.translation import gettext

from ..exceptions import ValuesError
from ..rules.phones import names_phones

MAX_INVALID_KEPT = 10_000


class InvalidEntry(NamedTuple):
    entry: str
    reason: str
    #: The line the entry came from, when its reader knew it (``imports.readers.Entry``).
    line: int | None = None


@dataclass
class ImportResult:
    added: int = 0
    duplicates: int = 0
    invalid_count: int = 0
    #: The first ``MAX_INVALID_KEPT`` invalid entries, each with its reason and line.
    invalid: list[InvalidEntry] = field(default_factory=list)
    #: The names of the values that came with the numbers.
    columns: list[str] = field(default_factory=list)
    #: Rows of a personalised campaign whose values did not fit its text (the first kept).
    refused_count: int = 0
    refused: list[InvalidEntry] = field(default_factory=list)


def split_entry(entry: Any) -> tuple[str, dict[str, str] | None, int | None]:
    """(the number as written, its values or None, its line or None) of an entry of
    ``add_recipients``."""
    if isinstance(entry, str):
        return entry, getattr(entry, "values", None), getattr(entry, "line", None)
    if isinstance(entry, dict):
        key = next((k for k in entry if names_phones(str(k))), None)
        if key is None:
            return "", None, None  # reported as an invalid (empty) number
        values = {str(k): "" if v is None else str(v) for k, v in entry.items() if k != key}
        return str(entry[key]), values, None
    phone, values = entry
    return str(phone), {str(k): "" if v is None else str(v) for k, v in dict(values).items()}, None


def values_error(rows: list[InvalidEntry], count: int) -> ValuesError:
    shown = "; ".join(
        (gettext("line %(line)s (%(entry)s): %(reason)s") if row.line else gettext("%(entry)s: %(reason)s"))
        % {"line": row.line, "entry": row.entry, "reason": row.reason}
        for row in rows[:3]
    )
    message = gettext(
        "%(count)s row(s) do not fit the text, so nothing was imported. "
        "Correct them and import the file again: %(rows)s"
    ) % {"count": count, "rows": shown}
    return ValuesError(message, rows, count)
