"""The operator's whole flow in Chromium (Debian's), in English and in Chinese.

Screenshots of each step land in test-artifacts/<language>/.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from playwright.sync_api import expect

from django_veesing.models import Campaign, CampaignStatus, OptOut
from django_veesing.rules.schedule import CHINA
from django_veesing.sending.sender import Sender

from .helpers import ARTIFACTS, counter_for, log_in, needs_chromium

TOKEN = "test-callback-token-0123456789"

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "en": {
        "counter": "characters",
        "added": "Added 20, duplicates 1, invalid 1.",
        "sent": "sent",
        "delivered": "delivered",
    },
    "zh-hans": {
        "counter": "个字",
        "added": "已添加 20 个，重复 1 个，无效 1 个。",
        "sent": "已发送",
        "delivered": "已送达",
    },
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_operator_flow(browser, live_server, simulator, settings, language):
    settings.VEESING = {**settings.VEESING, "QUIET_HOURS": None, "BATCH_SIZE": 10}
    simulator.configure(
        callback_url=live_server.url + reverse("django_veesing:callback", args=[TOKEN]),
        push_delay=0.0,
        delivered_ratio=0.8,
        reply_ratio=0.3,
    )
    User.objects.create_superuser("boss", password="secret-pw")
    shots = ARTIFACTS / language
    shots.mkdir(parents=True, exist_ok=True)
    texts = TEXTS[language]
    page = log_in(browser, live_server, "boss", language)
    context = page.context

    # Write a campaign: the counter follows the typing.
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_add"))
    page.fill("#id_name", "会员日")
    page.select_option("#id_kind", "marketing")
    counter = counter_for(page, "【维信测试】会员日全场八折")
    assert texts["counter"] in counter.inner_text()
    assert counter.locator(".problem").count() == 1  # no opt-out phrase yet
    counter = counter_for(page, "【维信测试】会员日全场八折，回T退订")
    assert counter.locator(".problem").count() == 0
    page.screenshot(path=str(shots / "1-write.png"))
    page.click("input[name=_save]")
    campaign = Campaign.objects.get()

    # Load numbers by pasting.
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_load", args=[campaign.pk]))
    numbers = [str(13800000000 + i) for i in range(20)]
    page.fill("#id_pasted", "\n".join(numbers) + "\n+86 138 0000 0000\nnot-a-number")
    page.click("#veesing-load-submit")
    expect(page.locator("#veesing-import-result")).to_contain_text(texts["added"])
    page.screenshot(path=str(shots / "2-numbers.png"))

    # Send through the confirmation page.
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))
    page.click("#veesing-send")
    expect(page.locator("#summary-numbers")).to_have_text("20")
    expect(page.locator("#summary-billed")).to_have_text("20")
    expect(page.locator("#veesing-preview")).to_contain_text("回T退订")
    page.screenshot(path=str(shots / "3-confirm.png"))
    page.click("#veesing-confirm")
    expect(page.locator(".messagelist")).to_be_visible()  # back on the campaign's page
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED

    # The worker sends; the simulator pushes receipts and replies to the live server.
    Sender().send_due()
    assert simulator.wait_for_pushes(60)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert campaign.delivered_count + campaign.failed_count == 20

    page.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))
    funnel = page.locator("#veesing-funnel").inner_text()
    assert texts["delivered"] in funnel and str(campaign.delivered_count) in funnel
    assert page.locator("#veesing-timeline .col").count() >= 1
    page.screenshot(path=str(shots / "4-follow.png"), full_page=True)
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_changelist"))
    assert texts["sent"] in page.locator("#result_list").inner_text()
    page.screenshot(path=str(shots / "5-list.png"))

    # Export the recipients.
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))
    with page.expect_download() as download_info:
        page.click("#veesing-export")
    exported = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
    assert all(number in exported for number in numbers)

    # Opt a number out by hand.
    page.goto(live_server.url + reverse("admin:django_veesing_optout_add"))
    page.fill("#id_phone", "13800000005")
    page.click("input[name=_save]")
    expect(page.locator("#result_list")).to_contain_text("13800000005")
    assert OptOut.objects.filter(phone="13800000005", source="admin").exists()
    page.screenshot(path=str(shots / "6-opt-outs.png"))
    context.close()


def test_a_campaign_waiting_for_quiet_hours_says_so_in_chinese(browser, live_server, simulator, clock, make_campaign):
    """At 22:30 in China a scheduled marketing campaign waits; its page says until when."""
    clock.set(dt.datetime(2026, 11, 26, 22, 30, tzinfo=CHINA))
    campaign = make_campaign([str(13800000000 + i) for i in range(3)], kind="marketing")
    assert Sender().send(campaign).waiting == "quiet_hours"
    User.objects.create_superuser("boss", password="secret-pw")
    page = log_in(browser, live_server, "boss")
    context = page.context
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))
    notice = page.locator("#veesing-waiting").inner_text()
    assert "免打扰" in notice and "2026-11-27 08:00" in notice and 'VEESING["QUIET_HOURS"]' in notice
    shots = ARTIFACTS / "zh-hans"
    shots.mkdir(parents=True, exist_ok=True)
    page.locator("#veesing-waiting").scroll_into_view_if_needed()
    page.screenshot(path=str(shots / "7-quiet-hours.png"))
    context.close()
