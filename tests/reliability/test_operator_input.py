"""Bad operator input: a clear message, nothing half-imported without saying so."""

from __future__ import annotations

import datetime as dt
import io
import time
import tracemalloc

import openpyxl
import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_veesing.exceptions import CampaignStateError, ContentError
from django_veesing.imports.readers import read_file
from django_veesing.models import Campaign, CampaignStatus, ImportJob

from ..conftest import MARKETING_TEXT, mobiles

pytestmark = pytest.mark.django_db


def xlsx_with_formulas() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(['=HYPERLINK("http://x","13800000001")'])
    book.active.append(["=1+1"])
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


FILES = {
    "GBK text with names": ("名单.csv", "张三,13800000001\n李四,13800000002\n".encode("gbk"), None),
    "empty file": ("empty.csv", b"", "empty"),
    "binary file": ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    "old Excel file": ("list.xls", b"\xd0\xcf\x11\xe0\xa1\xb1", "CSV, TXT and XLSX"),
    "damaged XLSX": ("list.xlsx", b"PK\x03\x04not really", "damaged"),
    "XLSX with formulas": ("f.xlsx", xlsx_with_formulas(), None),
}


@pytest.mark.parametrize("name", sorted(FILES))
def test_malformed_files_in_the_admin(name, figures):
    filename, data, message = FILES[name]
    User.objects.create_superuser("boss", password="pw")
    client = Client()
    client.force_login(User.objects.get())
    campaign = Campaign.objects.create(name="c", content=MARKETING_TEXT)
    page = client.post(
        reverse("admin:django_veesing_campaign_load", args=[campaign.pk]),
        {"file": SimpleUploadedFile(filename, data)},
    ).content.decode()
    campaign.refresh_from_db()
    if message:
        assert message in page
        assert campaign.total_count == 0 and not ImportJob.objects.exists()
        figures(name, f"refused: “…{message}…”, nothing imported")
    else:
        job = ImportJob.objects.get()
        assert f"Added {job.added}, duplicates {job.duplicates}, invalid {job.invalid_count}." in page
        assert job.added + job.invalid_count > 0
        figures(name, f"added {job.added}, invalid {job.invalid_count} (listed with reasons)")


def test_a_million_invalid_lines(figures):
    data = "\n".join(f"1{i:07d}" for i in range(1_000_000)).encode()  # 8 digits: never a mobile
    campaign = Campaign.objects.create(name="c", content=MARKETING_TEXT)
    tracemalloc.start()
    started = time.perf_counter()
    result = campaign.add_recipients(read_file("bad.txt", data))
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert (result.added, result.invalid_count) == (0, 1_000_000)
    assert len(result.invalid) == 10_000  # the first ones kept with reasons; the count is exact
    assert campaign.recipients.count() == 0
    figures(
        "a million invalid lines",
        f"0 added, 1,000,000 invalid reported in {seconds:.1f} s, peak {peak / 2**20:.0f} MiB traced",
    )


@pytest.mark.parametrize(
    "content,rule",
    [
        ("会员日八折", "signature"),
        ("【维信】会员日八折", "opt out"),
        ("【维信】会员日★八折，回T退订", "emoji or symbols"),
        ("【维信】会员日【重要】八折，回T退订", "Only the signature"),
        ("【维】会员日八折，回T退订", "2 to 10"),
    ],
)
def test_texts_that_break_the_rules(content, rule, figures):
    campaign = Campaign.objects.create(name="c", content=content, kind="marketing")
    campaign.add_recipients(mobiles(2))
    with pytest.raises(ContentError, match=rule):
        campaign.schedule()
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    figures(f"text “{content}”", f"refused: {rule}")


def test_impossible_schedules(figures):
    campaign = Campaign.objects.create(name="c", content=MARKETING_TEXT, kind="marketing")
    campaign.add_recipients(mobiles(2))
    soon = timezone.now() + dt.timedelta(minutes=5)
    night = (timezone.now() + dt.timedelta(days=1)).astimezone(dt.timezone(dt.timedelta(hours=8))).replace(hour=23)
    cases = [
        ("naive time", lambda: campaign.schedule(soon.replace(tzinfo=None) + dt.timedelta(days=1)), "time zone"),
        ("provider scheduling 5 minutes ahead", lambda: campaign.schedule(soon, at_provider=True), "30 minutes"),
        ("provider scheduling in quiet hours", lambda: campaign.schedule(night, at_provider=True), "quiet hours"),
    ]
    for name, attempt, message in cases:
        with pytest.raises(CampaignStateError, match=message):
            attempt()
        figures(name, f"refused: {message}")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
