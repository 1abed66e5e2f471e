"""What the campaign page shows of where a campaign stands: its phase, the funnel to
replies and opt-outs, why numbers failed, and a timeline whose columns fit its span."""

from __future__ import annotations

import datetime as dt
import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from django_veesing.admin.progress import delivery, failure_reasons, phase, timeline
from django_veesing.models import Batch, Campaign, CampaignStatus, FailureCount, ReceiptArrivals, Recipient
from django_veesing.rules.receipt_codes import reason
from django_veesing.sending.settling import mark_submitted

from .conftest import counted_reasons, reasons_of_rows
from .test_callback import FORM, arrivals, receipt, reply, url

pytestmark = pytest.mark.django_db

TASK = "A" * 32
PHONES = ["13800138000", "13900139000", "13700137000", "13600136000"]


@pytest.fixture
def sent(make_campaign, clock):
    """Four numbers handed to the provider in one batch (task TASK); the campaign is sent."""
    campaign = make_campaign(PHONES)
    batch = Batch.objects.create(campaign=campaign, size=len(PHONES))
    Recipient.objects.filter(campaign=campaign).update(batch=batch)
    mark_submitted(batch, TASK, len(PHONES), 100, "成功", clock())
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENT)
    return Campaign.objects.get(pk=campaign.pk)


def pushed(client, data) -> None:
    from urllib.parse import urlencode

    assert client.post(url(), urlencode(data), content_type=FORM).content == b"ok"


def test_a_sent_campaign_says_how_many_receipts_it_awaits(client, sent):
    assert phase(sent) == "sent · awaiting 4 receipts"
    pushed(client, receipt(PHONES[0], task=TASK))
    assert phase(Campaign.objects.get(pk=sent.pk)) == "sent · awaiting 3 receipts"
    for phone in PHONES[1:]:
        pushed(client, receipt(phone, task=TASK))
    found = Campaign.objects.get(pk=sent.pk)
    assert phase(found) == "sent · no number awaits a receipt" and not delivery(found)["in_flight"]


def test_the_funnel_counts_replies_and_opt_outs_once_a_number(client, sent):
    for phone in PHONES[:2]:
        pushed(client, receipt(phone, task=TASK))
    pushed(client, reply(PHONES[0], "谢谢", task=TASK))
    pushed(client, reply(PHONES[0], "好的", when="2026-11-26 12:02:00", task=TASK))
    pushed(client, reply(PHONES[1], "T", task=TASK))
    rows = {label: (n, rate) for label, n, _width, rate in delivery(Campaign.objects.get(pk=sent.pk))["funnel"]}
    assert rows["delivered"] == (2, "50.0% of handed over")
    assert rows["replied"] == (2, "100.0% of delivered")
    assert rows["opted out"] == (1, "50.0% of delivered")


def test_failed_numbers_are_grouped_by_reason(client, sent):
    pushed(client, receipt(PHONES[0], status="0", code="MK:0011", task=TASK))
    pushed(client, receipt(PHONES[1], status="0", code="MK:0011", task=TASK))
    pushed(client, receipt(PHONES[2], status="0", code="XYZ:9", task=TASK))
    reasons = delivery(Campaign.objects.get(pk=sent.pk))["reasons"]
    assert reasons == [("MK:0011", reason("MK:0011"), 2), ("XYZ:9", "", 1)]
    assert "phone" in reason("MK:0011") and reason("undeliv") and reason("XYZ:9") == ""


@pytest.mark.parametrize(
    "span,width,label",
    [
        (dt.timedelta(seconds=20), "1 second a column", "12:00:00"),
        (dt.timedelta(minutes=3), "5 seconds a column", "12:00:00"),
        (dt.timedelta(hours=2), "5 minutes a column", "12:00"),
        (dt.timedelta(days=3), "3 hours a column", "11-26 12:00"),
    ],
)
def test_the_timeline_columns_fit_the_span(client, sent, clock, span, width, label):
    pushed(client, receipt(PHONES[0], task=TASK))
    clock.advance(seconds=span.total_seconds())
    pushed(client, receipt(PHONES[1], task=TASK))
    drawn = timeline(sent)
    assert drawn["width"] == width and drawn["columns"][0]["axis"] == label
    assert 2 <= len(drawn["columns"]) <= 40
    assert sum(column["receipts"] for column in drawn["columns"]) == 2
    assert drawn["columns"][0]["receipts"] == 1 and drawn["columns"][-1]["receipts"] == 1


def test_the_timeline_labels_its_axis_no_closer_than_four_columns_apart(client, sent, clock):
    pushed(client, receipt(PHONES[0], task=TASK))
    clock.advance(seconds=1)
    pushed(client, receipt(PHONES[1], task=TASK))
    labelled = [i for i, column in enumerate(timeline(sent)["columns"]) if column["axis"]]
    assert labelled == [0]  # two columns a second apart: their labels would overlap
    clock.advance(seconds=18)
    pushed(client, receipt(PHONES[2], task=TASK))
    labelled = [i for i, column in enumerate(timeline(sent)["columns"]) if column["axis"]]
    assert labelled == [0, 4, 8, 12, 16]


def test_the_timeline_counts_receipts_without_reading_them(client, sent, clock):
    for phone in PHONES:
        pushed(client, receipt(phone, task=TASK))
        clock.advance(seconds=2)
    with CaptureQueriesContext(connection) as queries:
        drawn = timeline(sent)
    assert sum(column["receipts"] for column in drawn["columns"]) == len(PHONES)
    assert not [q for q in queries if '"django_veesing_receipt"' in q["sql"]]


def test_the_migration_counts_the_receipts_stored_before_it(client, sent, clock):
    for phone in PHONES[:3]:
        pushed(client, receipt(phone, task=TASK))
        clock.advance(seconds=1.5)
    counted = arrivals(sent)
    ReceiptArrivals.objects.all().delete()
    migration = importlib.import_module("django_veesing.migrations.0018_receipt_arrivals")
    migration.count_stored_receipts(apps, SimpleNamespace(connection=connection))
    assert sum(counted.values()) == 3 and arrivals(sent) == counted


def test_the_panel_refreshes_from_its_own_address(client, sent):
    viewer = User.objects.create_superuser("boss", password="pw")
    browser = Client()
    browser.force_login(viewer)
    address = reverse("admin:django_veesing_campaign_delivery", args=[sent.pk])
    answer = browser.get(address).json()
    assert answer["in_flight"] and "awaiting 4 receipts" in answer["html"]
    pushed(client, receipt(PHONES[0], status="0", code="UNDELIV", task=TASK))
    answer = browser.get(address).json()
    assert "awaiting 3 receipts" in answer["html"] and "UNDELIV" in answer["html"]
    assert Client().get(address).status_code == 302  # to the log-in page


def test_failure_reasons_are_read_from_their_counts_not_from_the_numbers(client, sent):
    pushed(client, receipt(PHONES[0], status="0", code="MK:0011", task=TASK))
    pushed(client, receipt(PHONES[1], status="0", code="UNDELIV", task=TASK))
    with CaptureQueriesContext(connection) as queries:
        found = failure_reasons(Campaign.objects.get(pk=sent.pk))
    assert found == [("MK:0011", reason("MK:0011"), 1), ("UNDELIV", reason("UNDELIV"), 1)]
    assert not [q for q in queries if '"django_veesing_recipient"' in q["sql"]]
    pushed(client, receipt(PHONES[2], status="0", code="UNDELIV", task=TASK))
    assert failure_reasons(Campaign.objects.get(pk=sent.pk))[0] == ("UNDELIV", reason("UNDELIV"), 2)


def test_the_migration_counts_the_failed_numbers_stored_before_it(client, sent):
    pushed(client, receipt(PHONES[0], status="0", code="MK:0011", task=TASK))
    pushed(client, receipt(PHONES[1], status="0", code="MK:0011", task=TASK))
    Recipient.objects.filter(phone=PHONES[2]).update(status="failed", error="拒收")
    FailureCount.objects.all().delete()
    migration = importlib.import_module("django_veesing.migrations.0019_failure_counts")
    migration.count_failed_numbers(apps, SimpleNamespace(connection=connection))
    assert counted_reasons(sent) == reasons_of_rows(sent) == {("MK:0011", ""): 2, ("", "拒收"): 1}
