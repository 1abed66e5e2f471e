"""Deleting a sent personalised campaign in Chromium, in Chinese: the sender's page asks
with counts (numbers, batches, texts) and says the receipts stay; a viewer has no way to
delete. Screenshots land in test-artifacts/deletion/."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from django_veesing.clock import now
from django_veesing.models import Campaign, CampaignText, Receipt, Recipient
from django_veesing.sending.sender import Sender

from .helpers import ARTIFACTS, log_in_as, needs_chromium

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

TEXT = "【某某商城】{姓名}您好，您的订单已发货"


@pytest.fixture
def sent(simulator, clock):
    campaign = Campaign.objects.create(name="发货通知", content=TEXT, kind="notification")
    campaign.add_recipients([(f"1380000000{i}", {"姓名": "张三" if i % 2 else "李四"}) for i in range(6)])
    campaign.schedule()
    Sender().send(campaign)
    number = Recipient.objects.filter(campaign=campaign).first()
    Receipt.objects.create(
        fingerprint="r1",
        task_id=number.task_id,
        phone=number.phone,
        delivered=True,
        received_at=now(),
        recipient=number,
    )
    return campaign


def test_a_sender_deletes_a_sent_campaign_after_reading_what_goes(browser, live_server, sent):
    shots = ARTIFACTS / "deletion"
    shots.mkdir(parents=True, exist_ok=True)
    page = log_in_as(browser, live_server, "sender")
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[sent.pk]))
    page.click("a.deletelink")
    content = page.locator("#content")
    expect(content).to_contain_text("接收人: 6")
    expect(content).to_contain_text("实际短信: 2")
    expect(content).to_contain_text("回执和回复会保留")
    assert "13800000001" not in content.inner_text()  # counts, not a line a number
    page.screenshot(path=str(shots / "1-confirm.png"), full_page=True)
    page.click("#content input[type=submit]")
    expect(page.locator(".messagelist")).to_contain_text("发货通知")
    page.screenshot(path=str(shots / "2-deleted.png"), full_page=True)
    assert not Campaign.objects.exists()
    assert not Recipient.objects.exists() and not CampaignText.objects.exists()
    assert Receipt.objects.get().recipient is None


def test_a_viewer_finds_no_way_to_delete(browser, live_server, sent):
    page = log_in_as(browser, live_server, "viewer")
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[sent.pk]))
    expect(page.locator("#content-main")).to_be_visible()
    assert page.locator("a.deletelink").count() == 0
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_delete", args=[sent.pk]))
    assert page.locator("#content input[type=submit]").count() == 0
    assert Recipient.objects.filter(campaign=sent).count() == 6
