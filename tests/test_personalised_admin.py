"""A personalised campaign in the admin: its fields, its texts, its import and export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from django_veesing.models import Batch, BatchState, Campaign, CampaignStatus, ImportJob, ImportStatus, Recipient
from django_veesing.sending.estimate import BENCHMARK_SECONDS_PER_CALL, estimate
from django_veesing.sending.workers import beat

from .conftest import admin_url as url
from .conftest import logged_in

pytestmark = pytest.mark.django_db
TEXT = "【某某商城】{姓名}您好，您的积分{积分}将于月底清零，回T退订"
FILE = "手机号,姓名,积分\n13800000001,张三,1200\n13800000002,李四,80\n13800000003,会员,100\n13800000004,会员,100\n"


@pytest.fixture(autouse=True)
def noon(clock):
    return clock


@pytest.fixture
def campaign(simulator):
    return Campaign.objects.create(name="积分清零", content=TEXT, kind="marketing")


def load(client, campaign, text, name="list.csv"):
    upload = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post(url("campaign_load", campaign.pk), {"file": upload})


def test_a_file_with_a_heading_loads_values_and_the_confirmation_shows_real_texts(operator, campaign):
    client = logged_in(operator)
    page = load(client, campaign, FILE)
    assert page.status_code == 200 and "Added 4, duplicates 0, invalid 0." in page.content.decode()
    page = client.get(url("campaign_send", campaign.pk)).content.decode()
    assert 'id="summary-numbers">4<' in page
    assert 'id="summary-billed">4<' in page
    assert "3 different texts" in page
    assert "【某某商城】张三您好，您的积分1200将于月底清零，回T退订" in page  # the first numbers' texts
    assert "13800000002" in page and "李四" in page
    assert 'id="summary-time">about 1 second: 3 provider calls' in page


def test_the_bill_counts_each_text_by_its_own_length(operator, campaign):
    rows = FILE + "13800000005," + "长" * 60 + ",1\n"  # a text of two messages
    load(logged_in(operator), campaign, rows)
    page = logged_in(operator).get(url("campaign_send", campaign.pk)).content.decode()
    assert 'id="summary-billed">6<' in page  # four texts of one message, one of two
    assert "up to 2 (the longest text has 85 characters)" in page
    assert "长" * 60 in page.split('id="veesing-longest"')[1]


def test_rows_that_do_not_fit_are_listed_with_their_lines_and_nothing_is_loaded(operator, campaign):
    client = logged_in(operator)
    page = load(client, campaign, "手机号,姓名,积分\n13800000001,张三,1\n13800000002,,2\n13800000003,【王】,3\n")
    text = page.content.decode()
    assert page.status_code == 200
    assert "nothing was imported" in text
    assert "No value for {姓名}" in text and "【】" in text
    assert ">3<" in text and ">4<" in text  # their lines
    assert Recipient.objects.filter(campaign=campaign).count() == 0
    job = ImportJob.objects.get(campaign=campaign)
    assert (job.status, job.invalid_count) == (ImportStatus.FAILED, 2)
    rows = list(csv.reader(io.StringIO(read(logged_in(operator).get(url("import_invalid", job.pk))))))
    assert [row[0] for row in rows[1:]] == ["3", "4"]


def test_the_write_page_lists_the_fields_and_warns_of_unknown_ones(operator, campaign):
    load(logged_in(operator), campaign, FILE)
    campaign.refresh_from_db()
    answer = (
        logged_in(operator)
        .get(url("campaign_counter"), {"content": "【某某商城】{姓名}，{等级}会员，回T退订", "campaign": campaign.pk})
        .json()
    )
    assert any("{姓名}、{等级}" in line for line in answer["lines"])
    assert answer["warnings"] == ["No loaded number has a value for {等级}; the numbers' columns are 姓名、积分."]
    fresh = logged_in(operator).get(url("campaign_counter"), {"content": "【某某商城】{姓名}，回T退订"}).json()
    assert "load a file whose heading names 姓名" in fresh["warnings"][0]
    plain = logged_in(operator).get(url("campaign_counter"), {"content": "【某某商城】你好，回T退订"}).json()
    assert plain["warnings"] == []


def test_the_export_and_the_recipient_list_show_values_and_texts(operator, viewer, campaign):
    load(logged_in(operator), campaign, FILE)
    rows = list(csv.reader(io.StringIO(read(logged_in(viewer).get(url("campaign_export", campaign.pk))))))
    assert rows[0][-3:] == ["姓名", "积分", "text"]
    assert rows[1][0] == "13800000001" and rows[1][-3:] == [
        "张三",
        "1200",
        "【某某商城】张三您好，您的积分1200将于月底清零，回T退订",
    ]
    listing = logged_in(viewer).get(url("recipient_changelist"), {"campaign__id__exact": campaign.pk}).content.decode()
    assert "姓名=张三；积分=1200" in listing
    assert "【某某商城】李四您好，您的积分80将于月底清零，回T退订" in listing


def test_a_text_edited_after_loading_that_values_do_not_fit_cannot_be_sent(operator, campaign):
    load(logged_in(operator), campaign, FILE)
    Campaign.objects.filter(pk=campaign.pk).update(content="【某某商城】{姓名}，{等级}会员，回T退订")
    page = logged_in(operator).get(url("campaign_send", campaign.pk)).content.decode()
    assert 'id="veesing-refused-values"' in page and "No value for {等级}" in page
    assert 'id="veesing-confirm" value="Yes, send it" disabled' in page
    answer = logged_in(operator).post(url("campaign_send", campaign.pk), {})
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.DRAFT
    assert "No value for {等级}" in answer.content.decode()


def test_the_estimate_takes_this_sites_recent_calls_and_its_live_workers(campaign, clock):
    assert estimate(100).per_call == BENCHMARK_SECONDS_PER_CALL and not estimate(100).measured
    now = clock()
    Batch.objects.bulk_create(
        Batch(campaign=campaign, state=BatchState.SUBMITTED, claimed_at=now, sent_at=now + _seconds(0.5))
        for _ in range(30)
    )
    beat("host:1", now)
    beat("host:2", now)
    found = estimate(600)
    assert (found.per_call, found.workers, found.measured) == (0.5, 2, True)
    assert found.seconds == 150
    assert str(found).startswith("about 3 minutes: 600 provider calls at 0.50 s each (this site's recent calls)")


def _seconds(n):
    return dt.timedelta(seconds=n)


def read(response) -> str:
    """A streamed CSV download as text, without its BOM."""
    return b"".join(response.streaming_content).decode().lstrip("\ufeff")


def test_each_batch_on_the_campaign_page_shows_the_text_it_sent(operator, campaign, simulator, settings):
    from django_veesing.sending.sender import Sender

    load(logged_in(operator), campaign, FILE)
    campaign.schedule()
    Sender().send(campaign)
    page = logged_in(operator).get(url("campaign_change", campaign.pk)).content.decode()
    batches = page.split('id="batches-group"')[1]  # the batches' inline
    assert "【某某商城】会员您好，您的积分100将于月底清零，回T退订" in batches
    assert "【某某商城】张三您好，您的积分1200将于月底清零，回T退订" in batches
