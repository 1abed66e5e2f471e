"""The campaign page follows a sent campaign in Chromium, in Chinese, as a sender and as a
view-only user: it says how many receipts it awaits, refreshes its figures by itself as
receipts arrive (without reloading the page), and says why numbers failed."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests
from django.urls import reverse
from playwright.sync_api import expect

from django_veesing import clock
from django_veesing.models import Batch, Campaign, CampaignStatus, Recipient
from django_veesing.sending.settling import mark_submitted

from ..test_callback import FORM, TOKEN, receipt
from .helpers import ARTIFACTS, log_in_as, needs_chromium

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

TASK = "B" * 32
PHONES = ["13800138000", "13900139000", "13700137000"]


def sent_campaign() -> Campaign:
    campaign = Campaign.objects.create(name="双十一通知", content="【维信测试】您的订单已发货")
    campaign.add_recipients(PHONES)
    batch = Batch.objects.create(campaign=campaign, size=len(PHONES))
    Recipient.objects.filter(campaign=campaign).update(batch=batch)
    mark_submitted(batch, TASK, len(PHONES), 100, "成功", clock.now())
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENT)
    return campaign


@pytest.mark.parametrize("role", ["sender", "viewer"])
def test_the_page_follows_receipts_as_they_arrive(browser, live_server, simulator, role):
    campaign = sent_campaign()
    page = log_in_as(browser, live_server, role)
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))
    expect(page.locator("#veesing-phase")).to_have_text("· 已发送 · 等待回执 3")

    callback = live_server.url + reverse("django_veesing:callback", args=[TOKEN])
    for data in (receipt(PHONES[0], task=TASK), receipt(PHONES[1], status="0", code="MK:0011", task=TASK)):
        assert requests.post(callback, data=urlencode(data), headers={"Content-Type": FORM}, timeout=5).text == "ok"

    # The panel asks again every few seconds while receipts are awaited; the page stays.
    expect(page.locator("#veesing-phase")).to_have_text("· 已发送 · 等待回执 1", timeout=15_000)
    assert int(page.locator("#veesing-delivery").get_attribute("data-refreshed")) >= 1
    reasons = page.locator("#veesing-reasons tbody tr")
    expect(reasons).to_have_count(1)
    assert reasons.locator("td").all_inner_texts() == [
        "MK:0011",
        "运营商短信中心无法投递到手机（常见原因：关机、空号或停机）",
        "1",
    ]
    expect(page.locator("#veesing-axis-note")).to_contain_text("北京时间，每格")
    folder = ARTIFACTS / "zh-hans"
    folder.mkdir(parents=True, exist_ok=True)
    page.locator("#veesing-funnel").scroll_into_view_if_needed()
    page.screenshot(path=str(folder / f"campaign-delivery-{role}.png"), full_page=True)
    page.context.close()


@pytest.mark.parametrize("role", ["sender", "viewer"])
def test_a_campaign_of_many_batches_shows_its_latest(browser, live_server, simulator, role):
    from django_veesing.admin.campaigns import SHOWN_BATCHES

    campaign = sent_campaign()
    Batch.objects.bulk_create(
        Batch(campaign=campaign, state="submitted", size=1, task_id=f"L{n:05d}") for n in range(SHOWN_BATCHES + 10)
    )
    page = log_in_as(browser, live_server, role)
    if role == "viewer":  # one who may view batches too
        from django.contrib.auth.models import Permission, User

        User.objects.get(username="viewer").user_permissions.add(Permission.objects.get(codename="view_batch"))
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))
    batches = page.locator("#batches-group")
    expect(batches.locator("h2")).to_have_text(f"批次（最近的 {SHOWN_BATCHES} 个）")
    expect(batches.locator("tbody tr.has_original")).to_have_count(SHOWN_BATCHES)
    expect(batches).to_contain_text(f"L{SHOWN_BATCHES + 9:05d}")  # the newest first
    assert TASK not in batches.inner_text()  # the oldest left out
    batches.locator("h2").evaluate("heading => heading.scrollIntoView()")
    page.screenshot(path=str(ARTIFACTS / f"campaign-latest-batches-{role}.png"))
