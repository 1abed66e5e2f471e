"""Reading numbers from pasted text and files."""

import io

import openpyxl
import pytest

from django_veesing.imports.readers import UnreadableFile, decode, read_file, split_entries
from django_veesing.models import Campaign

from .conftest import MARKETING_TEXT


def test_split_pasted_text():
    text = (
        "13800000001, 13800000002;13800000003\t13800000004\n+86 138 0000 0005\n138 0000 0006 138 0000 0007，13800000008"
    )
    assert list(split_entries(text)) == [
        "13800000001",
        "13800000002",
        "13800000003",
        "13800000004",
        "+86 138 0000 0005",
        "138",
        "0000",
        "0006",
        "138",
        "0000",
        "0007",
        "13800000008",
    ]


def test_space_separated_numbers():
    assert list(split_entries("13800000001 13800000002")) == ["13800000001", "13800000002"]


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
    invalid = dict(result.invalid)
    assert "=A2+1" in invalid  # a formula is reported, never evaluated
    assert set(invalid) == {"手机", "备注", "VIP", "=A2+1", "formula"}
