"""Every button of the campaign page, in every state a campaign can be in, clicked in
Chromium (in Chinese) as a sender and as a view-only user, with what each one did."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from django_veesing.models import Campaign, CampaignStatus, Recipient, RecipientStatus, TrialSend

from .helpers import ARTIFACTS, counter_for, log_in_as, needs_chromium

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

PHONES = [str(13800000000 + i) for i in range(5)]

# What a sender sees in each state (the page's ids), besides the export link.
SENDER_BUTTONS = {
    "draft": {"veesing-send", "veesing-load", "veesing-cancel", "veesing-duplicate", "veesing-trial-send"},
    "scheduled": {"veesing-send", "veesing-load", "veesing-cancel", "veesing-duplicate", "veesing-trial-send"},
    "sending": {"veesing-cancel", "veesing-duplicate", "veesing-trial-send"},
    "sent": {"veesing-retry", "veesing-duplicate", "veesing-trial-send"},
    "failed": {"veesing-send", "veesing-retry", "veesing-duplicate", "veesing-trial-send"},
    "cancelled": {"veesing-duplicate"},
}
ALL_BUTTONS = {
    "veesing-send",
    "veesing-load",
    "veesing-cancel",
    "veesing-retry",
    "veesing-duplicate",
    "veesing-trial-send",
}


def campaign_in(state: str, phones: list[str] = PHONES) -> Campaign:
    """A campaign as the app leaves it in ``state``; sent and failed ones have two failed numbers."""
    campaign = Campaign.objects.create(name=f"{state} 活动", content="【维信测试】您的订单已发货", kind="notification")
    campaign.add_recipients(phones)
    if state in ("sent", "failed"):
        Recipient.objects.filter(campaign=campaign, phone__in=phones[:2]).update(status=RecipientStatus.FAILED)
        Recipient.objects.filter(campaign=campaign, phone__in=phones[2:]).update(status=RecipientStatus.DELIVERED)
        campaign.recount()
    Campaign.objects.filter(pk=campaign.pk).update(status=state)
    campaign.refresh_from_db()
    return campaign


def campaign_page(page, live_server, campaign: Campaign) -> None:
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))


def shot(page, name: str) -> None:
    folder = ARTIFACTS / "zh-hans"
    folder.mkdir(parents=True, exist_ok=True)
    page.locator("#veesing-refused, .veesing-actions").first.scroll_into_view_if_needed()
    page.screenshot(path=str(folder / f"{name}.png"))


def visible(page) -> set[str]:
    return {button for button in ALL_BUTTONS if page.locator(f"#{button}").count()}


@pytest.fixture
def sender_page(browser, live_server, simulator):
    page = log_in_as(browser, live_server, "sender")
    yield page
    page.context.close()


@pytest.fixture
def viewer_page(browser, live_server, simulator):
    page = log_in_as(browser, live_server, "viewer")
    yield page
    page.context.close()


@pytest.mark.parametrize("state", list(SENDER_BUTTONS))
def test_a_sender_sees_and_uses_each_button_of_the_state(sender_page, live_server, state):
    page = sender_page
    campaign = campaign_in(state)
    campaign_page(page, live_server, campaign)
    assert visible(page) == SENDER_BUTTONS[state]
    assert page.locator("#veesing-export").count() == 1
    assert "{#" not in page.locator(".veesing-actions").inner_text()
    shot(page, f"buttons-{state}")

    for button in sorted(SENDER_BUTTONS[state]):
        campaign = campaign_in(state)  # each button on a campaign of its own, in that state
        campaign_page(page, live_server, campaign)
        if button == "veesing-trial-send":
            page.fill("#veesing-trial-phones", "+86 139-0013-9000")
            page.click(f"#{button}")
            expect(page.locator("ul.messagelist")).to_contain_text("试发送")  # the call has returned
        else:
            page.click(f"#{button}")
        campaign.refresh_from_db()
        if button == "veesing-send":
            assert page.locator("#veesing-confirm").count() == 1
        elif button == "veesing-load":
            assert page.locator("#id_pasted").count() == 1
        elif button == "veesing-cancel":
            assert campaign.status == CampaignStatus.CANCELLED
            assert "已取消" in page.locator("ul.messagelist").inner_text()
        elif button == "veesing-retry":
            assert campaign.failed_count == 0 and campaign.pending_count == 2
            assert "2 个失败号码将重新发送" in page.locator("ul.messagelist").inner_text()
        elif button == "veesing-trial-send":
            trial = TrialSend.objects.get(campaign=campaign)
            assert (trial.state, trial.phones, trial.requested_by) == ("submitted", "13900139000", "boss")
            assert "已提交服务商" in page.locator("ul.messagelist").inner_text()
            assert page.locator("#veesing-trials tbody tr").count() == 1
            assert campaign.total_count == 5 and not campaign.recipients.filter(phone="13900139000").exists()
        elif button == "veesing-duplicate":
            copy = Campaign.objects.latest("pk")
            assert copy.pk != campaign.pk and copy.status == CampaignStatus.DRAFT and copy.total_count == 5
            assert page.url.endswith(reverse("admin:django_veesing_campaign_change", args=[copy.pk]))
        # neither the admin's refusal page nor Django's bare one (a bare "403" would match ids)
        assert page.locator("#veesing-refused").count() == 0
        assert "403 Forbidden" not in page.content()


def test_refreshing_the_balance_asks_the_provider(sender_page, live_server, simulator):
    page = sender_page
    campaign_page(page, live_server, campaign_in("draft"))
    page.click("#veesing-refresh-balance")
    assert "余额" in page.locator("ul.messagelist").inner_text()
    assert page.locator("#veesing-balance").count() == 1  # back on the campaign page


@pytest.mark.parametrize("state", list(SENDER_BUTTONS))
def test_a_view_only_user_sees_no_button_that_would_refuse_them(viewer_page, live_server, state):
    page = viewer_page
    campaign = campaign_in(state)
    campaign_page(page, live_server, campaign)
    assert visible(page) == set()
    with page.expect_download() as download:
        page.click("#veesing-export")
    assert download.value.suggested_filename.endswith(".csv")


def test_a_refusal_is_a_chinese_page_of_the_admin_with_a_way_back(viewer_page, live_server):
    page = viewer_page
    campaign = campaign_in("draft")
    campaign_page(page, live_server, campaign)
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    for change in ("cancel", "duplicate"):  # as a forged or stale form would post them
        url = reverse("admin:django_veesing_campaign_state", args=[campaign.pk, change])
        response = page.request.post(live_server.url + url, headers={"X-CSRFToken": token})
        assert response.status == 403
        assert "无权操作" in response.text() and "403 Forbidden" not in response.text()
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_send", args=[campaign.pk]))
    assert "只有有权发送群发任务的用户才能执行此操作" in page.locator("#veesing-refused").inner_text()
    shot(page, "refused")
    page.click("#veesing-back")
    assert page.url.endswith(reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT and Campaign.objects.count() == 1


def test_a_campaign_with_no_numbers_cannot_be_confirmed(sender_page, live_server):
    page = sender_page
    campaign = campaign_in("draft", phones=[])
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_send", args=[campaign.pk]))
    assert page.locator("#veesing-confirm").is_disabled()
    assert "没有可发送的号码" in page.locator("#veesing-no-numbers").inner_text()


def test_the_counter_names_emoji_whole(sender_page, live_server):
    page = sender_page
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_add"))
    short = counter_for(page, "【维】会员日快来").inner_text()
    assert "【维】" in short  # the server's own message, which names the signature
    problems = counter_for(page, "【维信测试】会员日🎉🎁★ 快来").inner_text()
    assert "🎉" in problems and "🎁" in problems and "★" in problems
    assert "\ufffd" not in problems and problems.count("🎉") == 1
