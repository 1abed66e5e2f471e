"""Reading numbers from pasted text and files."""

import io

import openpyxl
import pytest

from django_veesing.imports.readers import UnreadableFile, decode, read_file, read_pasted
from django_veesing.models import Campaign, ImportJob, InvalidEntry

from .conftest import MARKETING_TEXT


def entries(numbers) -> list[tuple[str, int]]:
    return [(str(entry), entry.line) for entry in numbers]


def test_one_line_is_one_entry_unless_it_holds_a_list_separator():
    text = (
        "13800000001, 13800000002;13800000003\t13800000004\n"
        "+86 10 6552 8888\n"
        "+1 415 555 0100\n"
        "13800000005，13800000006；13800000007、13800000008\n"
        "\n"
        "138 0000 0009"
    )
    assert entries(read_pasted(text)) == [
        ("13800000001", 1),
        ("13800000002", 1),
        ("13800000003", 1),
        ("13800000004", 1),
        ("+86 10 6552 8888", 2),
        ("+1 415 555 0100", 3),
        ("13800000005", 4),
        ("13800000006", 4),
        ("13800000007", 4),
        ("13800000008", 4),
        ("138 0000 0009", 6),
    ]


def test_whole_numbers_between_spaces_are_a_list():
    assert entries(read_pasted("13800000001 13800000002\n138 0000 0003 12")) == [
        ("13800000001", 1),
        ("13800000002", 1),
        ("138 0000 0003 12", 2),  # not every part a number: one entry, reported whole
    ]


@pytest.mark.django_db
def test_invalid_entries_are_reported_with_their_line_and_text():
    campaign = Campaign.objects.create(name="x", content=MARKETING_TEXT)
    result = campaign.add_recipients(read_pasted("13800000001\n+1 415 555 0100\n\n12345, 13800000002"))
    assert result.added == 2
    assert [(item.line, item.entry) for item in result.invalid] == [(2, "+1 415 555 0100"), (4, "12345")]
    assert "+86" in result.invalid[0].reason


def csv_of(header: str, rows: list[str], encoding: str = "utf-8") -> bytes:
    return "\n".join([header, *rows]).encode(encoding)


@pytest.mark.django_db
def test_a_csv_header_names_the_phone_column_and_the_others_are_values():
    rows = [f"{13800000000 + i},张三" for i in range(2000)]
    numbers = read_file("名单.csv", csv_of("手机号,姓名", rows))
    campaign = Campaign.objects.create(name="x", content=MARKETING_TEXT)
    result = campaign.add_recipients(numbers)
    assert (result.added, result.invalid_count) == (2000, 0)
    assert numbers.note == "Numbers read from column 1 (“手机号”), with their values: 姓名."
    assert campaign.recipients.order_by("id").first().values == {"姓名": "张三"}
    assert campaign.columns == ["姓名"]


@pytest.mark.parametrize("heading", ["手机", "手机号码", "电话", "联系电话", "号码", "Mobile", "phone number"])
def test_headings_that_name_the_phone_column(heading):
    numbers = read_file("a.csv", csv_of(f"姓名,{heading},备注", ["王五,13800000001,VIP", "李四,13800000002,"], "gbk"))
    assert entries(numbers) == [("13800000001", 2), ("13800000002", 3)]
    assert f"column 2 (“{heading}”)" in numbers.note


def test_without_a_heading_the_column_of_numbers_is_read():
    numbers = read_file("a.csv", "\n".join(["王五,13800000001", "李四,13800000002", "赵六,12345"]).encode())
    assert entries(numbers) == [("13800000001", 1), ("13800000002", 2), ("12345", 3)]
    assert numbers.note == "Numbers read from column 2; the other columns were ignored."


def test_a_list_of_numbers_with_bad_ones_reads_every_cell():
    numbers = read_file("a.txt", b"12345,13800000001\n13800000002,+86 186-0000-1234")
    assert entries(numbers) == [("12345", 1), ("13800000001", 1), ("13800000002", 2), ("+86 186-0000-1234", 2)]
    assert numbers.note == ""


def test_a_lone_heading_over_one_column_is_skipped_and_said():
    numbers = read_file("a.txt", "手机号\n13800000001\n13800000002".encode())
    assert entries(numbers) == [("13800000001", 2), ("13800000002", 3)]
    assert "“手机号”" in numbers.note
    assert entries(read_file("a.txt", b"hello\n13800000001")) == [("hello", 1), ("13800000001", 2)]


def test_quoted_cells_keep_their_commas():
    numbers = read_file("a.csv", '手机,地址\n13800000001,"北京市,朝阳区"\n'.encode())
    assert entries(numbers) == [("13800000001", 2)]


def test_the_paste_box_takes_a_table_under_a_heading():
    numbers = read_pasted("姓名\t手机\n王五\t13800000001")
    assert entries(numbers) == [("13800000001", 2)]
    assert "column 2 (“手机”)" in numbers.note


def test_encodings():
    assert decode("手机\n13800000001".encode("gbk")) == "手机\n13800000001"
    assert decode("\ufeff13800000001".encode("utf-8")) == "13800000001"


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("a.csv", b"  \n", "empty"),
        ("a.txt", b"\x00\x01\x02", "binary"),
        ("a.xls", b"\xd0\xcf\x11\xe0", "CSV, TXT and XLSX"),
        ("a.xlsx", b"PK\x03\x04garbage", "damaged"),
    ],
)
def test_unreadable(name, data, reason):
    with pytest.raises(UnreadableFile, match=reason):
        list(read_file(name, data))


@pytest.mark.django_db
def test_xlsx_with_numbers_text_and_formulas():
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["手机", "备注"])
    sheet.append([13800000001, "VIP"])
    sheet.append(["+86 138-0000-0002", None])
    sheet.append(["=A2+1", "formula"])
    sheet.append([13800000003.0, None])
    data = io.BytesIO()
    book.save(data)
    campaign = Campaign.objects.create(name="x", content=MARKETING_TEXT)
    result = campaign.add_recipients(read_file("名单.xlsx", data.getvalue()))
    assert result.added == 3
    assert sorted(campaign.recipients.values_list("phone", flat=True)) == ["13800000001", "13800000002", "13800000003"]
    assert [(item.line, item.entry) for item in result.invalid] == [(4, "=A2+1")]  # reported, never evaluated


@pytest.mark.django_db
def test_each_sheet_of_a_workbook_finds_its_own_phone_column():
    book = openpyxl.Workbook()
    book.active.append(["姓名", "手机"])
    book.active.append(["王五", 13800000001])
    other = book.create_sheet("老客户")
    other.append([13800000002, "=SUM(A1,A2)"])
    data = io.BytesIO()
    book.save(data)
    numbers = read_file("名单.xlsx", data.getvalue())
    assert entries(numbers) == [("13800000001", 2), ("13800000002", 1), ("=SUM(A1,A2)", 1)]
    assert numbers.note == "Sheet “Sheet”: Numbers read from column 2 (“手机”), with their values: 姓名."


def test_invalid_entries_are_stored_as_csv_rows_and_read_back():
    stored = ImportJob.invalid_text([InvalidEntry('+1 415, "555"', "not China", 3), InvalidEntry("abc", "digits")])
    assert list(ImportJob(invalid=stored).invalid_rows()) == [
        ("3", '+1 415, "555"', "not China"),
        ("", "abc", "digits"),
    ]
    assert list(ImportJob(invalid="12345,too short").invalid_rows()) == [("", "12345", "too short")]  # as 0.1 stored
