"""The campaign list in Chromium, in Chinese: the counts as columns, sorted by a click on
their heading, as a sender and as a view-only user."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from django_veesing.models import Campaign, CampaignCount, move_counts

from ..conftest import another_slot
from .helpers import ARTIFACTS, log_in_as, needs_chromium

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]


def campaign_with(name: str, delivered: int, failed: int) -> Campaign:
    campaign = Campaign.objects.create(name=name, content="【维信测试】您的订单已发货", status="sent")
    # as receipts taken by two connections leave them: in two slots
    move_counts(campaign.pk, total=delivered + failed, delivered=delivered - 1, failed=failed)
    CampaignCount.objects.create(campaign=campaign, slot=another_slot(campaign), delivered=1)
    return campaign


def names_in_order(page):
    return page.locator("#result_list tbody th a")


@pytest.mark.parametrize("role", ["sender", "viewer"])
def test_the_list_shows_and_sorts_the_counts(browser, live_server, role):
    campaign_with("少量送达", delivered=3, failed=9)
    campaign_with("大量送达", delivered=40, failed=1)
    campaign_with("中等送达", delivered=12, failed=5)
    page = log_in_as(browser, live_server, role)
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_changelist"))
    headings = page.locator("#result_list thead th").all_inner_texts()
    assert {"接收人", "已送达", "失败"} <= {heading.strip() for heading in headings}
    row = page.locator("#result_list tbody tr", has_text="大量送达")
    assert row.locator("td.field-delivered_count").inner_text() == "40"
    assert row.locator("td.field-total_count").inner_text() == "41"

    page.locator("#result_list thead th.column-delivered_count a").first.click()
    expect(names_in_order(page)).to_have_text(["少量送达", "中等送达", "大量送达"])  # waits for the page
    page.locator("#result_list thead th.column-delivered_count a.toggle").click()  # the other way
    expect(names_in_order(page)).to_have_text(["大量送达", "中等送达", "少量送达"])
    folder = ARTIFACTS / "zh-hans"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"campaign-list-{role}.png"))
    page.context.close()
