"""Reading numbers from what operators paste or upload: text, CSV, TXT and XLSX files.

Entries are split on new lines, commas, semicolons and tabs; a piece with spaces inside
is first read as one number (``+86 138 0013 8000``), else split on the spaces. Files are
decoded as UTF-8 (with or without BOM) or, failing that, GB18030 (which covers GBK), the
encodings Chinese spreadsheets save in. XLSX needs the optional ``openpyxl``
(``pip install django-veesing[xlsx]``); a formula cell is an invalid entry, never run.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

from django.utils.translation import gettext as _

from ..exceptions import VeesingError
from ..rules.phones import InvalidPhone, normalise

SEPARATORS = re.compile(r"[\r\n,;\t，；、]+")
XLSX_MAGIC = b"PK\x03\x04"


class UnreadableFile(VeesingError, ValueError):
    """``str()`` says why the file cannot be read, for the operator."""


def split_entries(text: str) -> Iterator[str]:
    """The candidate numbers in pasted text or one line of a file."""
    for piece in SEPARATORS.split(text):
        piece = piece.strip()
        if not piece:
            continue
        if " " in piece:
            try:
                normalise(piece)
            except InvalidPhone:
                yield from piece.split()
                continue
        yield piece


def decode(data: bytes) -> str:
    """File bytes as text: UTF-8 (BOM or not), else GB18030; an error for binary data."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile(_("The file is neither UTF-8 nor GBK text."))


def precheck(name: str, data: bytes) -> None:
    """Refuse at once what can never be read: empty, another format, binary."""
    if not data.strip():
        raise UnreadableFile(_("The file is empty."))
    if is_xlsx(name, data):
        return
    if name.lower().endswith((".xls", ".doc", ".docx", ".pdf", ".zip")):
        raise UnreadableFile(_("Only CSV, TXT and XLSX files can be read; save the file as one of those."))
    if b"\x00" in data[:4096]:
        raise UnreadableFile(_("The file is binary, not text: save it as CSV, TXT or XLSX."))


def is_xlsx(name: str, data: bytes) -> bool:
    return name.lower().endswith(".xlsx") or data.startswith(XLSX_MAGIC)


def read_file(name: str, data: bytes) -> Iterator[str]:
    """The candidate numbers of an uploaded file, streamed."""
    precheck(name, data)
    if is_xlsx(name, data):
        return _xlsx_entries(data)
    text = decode(data)
    return (entry for line in io.StringIO(text) for entry in split_entries(line))


def _xlsx_entries(data: bytes) -> Iterator[str]:
    try:
        import openpyxl
    except ImportError:
        raise UnreadableFile(
            _("Reading XLSX files needs openpyxl (pip install django-veesing[xlsx]); or save the file as CSV.")
        ) from None
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged file
        raise UnreadableFile(_("The XLSX file cannot be opened; is it damaged?")) from None
    return _cells(book)


def _cells(book: object) -> Iterator[str]:
    for sheet in book.worksheets:  # type: ignore[attr-defined]
        for row in sheet.iter_rows(values_only=True):
            for value in row:
                if value is None:
                    continue
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                text = str(value).strip()
                if text:
                    yield from split_entries(text) if not text.startswith("=") else [text]
