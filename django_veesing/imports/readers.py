"""Reading numbers from what operators paste or upload: text, CSV, TXT and XLSX files.

One line (or spreadsheet row) is one entry, spaces and all (``+1 415 555 0100`` is one
entry, not three), unless it holds a list separator (``,`` ``，`` ``;`` ``；`` ``、`` tab) or
is whole mobile numbers with spaces between them. Every entry keeps its line number, so an
invalid one can be found where the operator wrote it.

Rows with several cells are a table when a first row names its columns (a header: no cell
of it is a number) or when a column holds text such as names: then only the phone column
is read, the one whose header says so (手机号, 电话, 号码, mobile, phone …) or else the one
whose cells are numbers, and :attr:`Numbers.note` says which. Under a heading, the other
cells of each row are the number's values by their column's name (``Entry.values``: what a
personalised text's ``{field}`` takes). Without either, the cells are a list of numbers and
all are read.

Files are decoded as UTF-8 (with or without BOM) or, failing that, GB18030 (which covers
GBK), the encodings Chinese spreadsheets save in. XLSX needs the optional ``openpyxl``
(``pip install django-veesing[xlsx]``); a formula cell is an invalid entry, never run.
"""

from __future__ import annotations

import csv
import io
import itertools
import operator
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator

from django.utils.translation import gettext as _

from ..exceptions import VeesingError
from ..rules.phones import InvalidPhone, names_phones, normalise

LIST_SEPARATORS = re.compile(r"[,;\t，；、\r\n]")
DELIMITERS = (",", "\t", ";", "，", "；")
#: Rows read before the phone column is chosen.
SAMPLE_ROWS = 100
XLSX_MAGIC = b"PK\x03\x04"

Row = tuple[int, list[str]]  # (line number, cells)


class UnreadableFile(VeesingError, ValueError):
    """``str()`` says why the file cannot be read, for the operator."""


class Entry(str):
    """A candidate number as the operator wrote it, with the line it came from (``line``;
    ``add_recipients`` reports it beside an invalid entry) and, in a table under a heading,
    the row's other cells by their column's name (``values``)."""

    line: int | None
    values: dict[str, str] | None

    def __new__(cls, text: str, line: int | None = None, values: dict[str, str] | None = None) -> Entry:
        entry = super().__new__(cls, text)
        entry.line = line
        entry.values = values
        return entry


class Numbers:
    """The candidate numbers of a paste or a file, streamed as :class:`Entry` objects.

    ``note`` says which column they were read from, once iteration has passed the first rows
    (empty when every cell was read)."""

    def __init__(self, tables: Iterable[tuple[str, Iterator[Row]]]) -> None:
        self._tables = tables
        self.notes: list[str] = []

    @property
    def note(self) -> str:
        return " ".join(self.notes)

    def __iter__(self) -> Iterator[Entry]:
        for name, rows in self._tables:
            yield from self._read_table(name, rows)

    def _read_table(self, sheet: str, rows: Iterator[Row]) -> Iterator[Entry]:
        sample = list(itertools.islice(rows, SAMPLE_ROWS + 1))
        column, header = _phone_column(sample)
        if header is not None:
            sample = sample[1:]
        names = _value_names(header, column)
        if names:  # (and so a phone column)
            width = max([*names, column or 0]) + 1
            pick = _picker(list(names))
        note = _note(column, header, width=max((len(cells) for _line, cells in sample), default=0), values=names)
        if note:
            self.notes.append(_("Sheet “%(sheet)s”: %(note)s") % {"sheet": sheet, "note": note} if sheet else note)
        for line, cells in itertools.chain(sample, rows):
            if names:  # one number a row, with its values
                if len(cells) < width:
                    cells = cells + [""] * (width - len(cells))
                values = dict(zip(names.values(), map(str.strip, pick(cells)), strict=True))
                phone = cells[column]  # type: ignore[index]
                # A cell of digits alone is one entry as it stands (most are).
                for text in (phone,) if phone.isdigit() else split_cell(phone):
                    yield Entry(text, line, values)
                continue
            chosen = cells if column is None else cells[column : column + 1]
            for cell in chosen:
                for text in split_cell(cell):
                    yield Entry(text, line)


def split_cell(cell: str) -> Iterator[str]:
    """The entries in one cell or line: split on list separators; a piece with spaces is
    one entry unless every space-separated part of it is a number on its own. A formula
    (``=…``) is one entry, whatever it holds."""
    if cell.lstrip().startswith("="):
        yield cell.strip()
        return
    for piece in LIST_SEPARATORS.split(cell):
        piece = piece.strip()
        if not piece:
            continue
        parts = piece.split()
        if len(parts) > 1 and not _is_number(piece) and all(_is_number(part) for part in parts):
            yield from parts
        else:
            yield piece


def read_pasted(text: str) -> Numbers:
    """The candidate numbers of the paste box, one line an entry (or a table under a header)."""
    return Numbers([("", _text_rows(text))])


def read_file(name: str, data: bytes) -> Numbers:
    """The candidate numbers of an uploaded file, streamed."""
    precheck(name, data)
    if is_xlsx(name, data):
        return Numbers(_xlsx_tables(data))
    return Numbers([("", _text_rows(decode(data)))])


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


# -- rows -------------------------------------------------------------------------------


def _text_rows(text: str) -> Iterator[Row]:
    """Numbered rows of CSV-like text; the first line with a separator sets the delimiter."""
    first = next((line for line in io.StringIO(text) if line.strip()), "")
    counts = Counter(char for char in first if char in DELIMITERS)
    if not counts:
        yield from ((n, [line.rstrip("\r\n")]) for n, line in enumerate(io.StringIO(text), 1) if line.strip())
        return
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=counts.most_common(1)[0][0])
    for cells in reader:
        if "".join(cells).strip():
            yield reader.line_num, cells


def _xlsx_tables(data: bytes) -> Iterator[tuple[str, Iterator[Row]]]:
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
    sheets = book.worksheets
    for sheet in sheets:
        yield (sheet.title if len(sheets) > 1 else ""), _sheet_rows(sheet)


def _sheet_rows(sheet: object) -> Iterator[Row]:
    for line, values in enumerate(sheet.iter_rows(values_only=True), 1):  # type: ignore[attr-defined]
        cells = [_cell_text(value) for value in values]
        if any(cells):
            yield line, cells


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()  # a formula stays its text: reported as invalid, never run


# -- choosing the phone column ----------------------------------------------------------


def _phone_column(sample: list[Row]) -> tuple[int | None, list[str] | None]:
    """(the column to read or None for every cell, the header row or None)."""
    if not sample:
        return None, None
    if max(len(cells) for _line, cells in sample) < 2:  # one column: a heading only if it names it
        return None, (sample[0][1] if names_phones(sample[0][1][0]) else None)
    header = sample[0][1] if _is_header(sample[0][1]) else None
    if header is not None:
        named = [i for i, cell in enumerate(header) if names_phones(cell)]
        if named:
            return named[0], header
    body = sample[1:] if header is not None else sample
    width = max((len(cells) for _line, cells in body), default=0)
    numbers = [sum(_is_number(_cell(cells, i)) for _line, cells in body) for i in range(width)]
    texts = [sum(_is_text(_cell(cells, i)) for _line, cells in body) for i in range(width)]
    if header is None and not any(texts):
        return None, None  # a list of numbers, some perhaps invalid: read them all
    if not any(numbers):
        return None, header
    return numbers.index(max(numbers)), header


def _value_names(header: list[str] | None, column: int | None) -> dict[int, str]:
    """The columns beside the phone column under a heading, by index: their names.

    ``UnreadableFile`` when a heading names no phone column and none holds numbers, or two
    columns share a name (which value would a ``{field}`` take?)."""
    if header is None or len(header) < 2:
        return {}
    if column is None:
        raise UnreadableFile(
            _(
                "The first line names the columns (%(line)s), but none of them is a phone column "
                "(手机号, 电话, mobile …) and no column holds numbers."
            )
            % {"line": ",".join(header)}
        )
    names: dict[int, str] = {}
    for i, cell in enumerate(header):
        name = cell.strip()
        if i == column or not name:
            continue
        if name in names.values():
            raise UnreadableFile(_("Two columns are named “%(name)s”; give each column its own name.") % {"name": name})
        names[i] = name
    return names


def _is_header(cells: list[str]) -> bool:
    """A first row that names columns: some cell of it is text, none a number."""
    return any(_is_text(cell) for cell in cells) and not any(_is_number(cell) for cell in cells)


def _picker(indexes: list[int]) -> Callable[[list[str]], tuple[str, ...]]:
    """A function taking the cells at ``indexes`` of a row, as a tuple (one or more)."""
    get = operator.itemgetter(*indexes)
    return (lambda cells: (get(cells),)) if len(indexes) == 1 else get


def _cell(cells: list[str], i: int) -> str:
    return cells[i] if i < len(cells) else ""


def _is_number(text: str) -> bool:
    try:
        normalise(text)
    except InvalidPhone:
        return False
    return True


def _is_text(cell: str) -> bool:
    """Words such as a name or a heading: something written, without a digit in it."""
    cell = cell.strip()
    return bool(cell) and not any(char.isdigit() for char in cell)


def _note(column: int | None, header: list[str] | None, width: int, values: dict[int, str]) -> str:
    """What the operator is told about the columns: which one was read, or the heading."""
    name = header[column].strip() if header is not None and column is not None and column < len(header) else ""
    if column is not None and values:
        return _("Numbers read from column %(number)d (“%(name)s”), with their values: %(values)s.") % {
            "number": column + 1,
            "name": name,
            "values": "、".join(values.values()),
        }
    if column is not None and width > 1:
        if name:
            note = _("Numbers read from column %(number)d (“%(name)s”); the other columns were ignored.")
        else:
            note = _("Numbers read from column %(number)d; the other columns were ignored.")
        return note % {"number": column + 1, "name": name}
    if header is not None:
        return _("The first line (“%(line)s”) was read as the columns' headings.") % {"line": ",".join(header)}
    return ""
