"""The messages from code in Chromium, in Chinese: the list with each account's balance,
its filters and search, resending uncertain messages, and a stopped account shown on
every page and resumed; a view-only user sees the same lists with no action."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from playwright.sync_api import expect

import django_veesing
from django_veesing.models import AccountHold, Message
from django_veesing.sending.sender import Sender

from .helpers import ARTIFACTS, log_in_as, needs_chromium

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

SHIPPED = "【维信测试】您的订单已发货"
MESSAGES = "/admin/django_veesing/message/"


def shot(page, name: str) -> None:
    folder = ARTIFACTS / "zh-hans"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.fixture
def sent(simulator):
    """Three messages submitted, one left uncertain (its answer lost)."""
    for n in range(3):
        django_veesing.send_message(f"1380013800{n}", SHIPPED, key=f"order-{n}", metadata={"order": n})
    Sender().messages.send_due()
    lost = django_veesing.send_message("13900139000", "【维信测试】您的预约在明天九点")
    Message.objects.filter(pk=lost.pk).update(status="uncertain", error="无应答")
    return lost


def test_a_sender_follows_messages_and_resends_an_uncertain_one(browser, live_server, simulator, sent):
    page = log_in_as(browser, live_server, "sender")
    page.goto(live_server.url + MESSAGES)
    expect(page.locator("#veesing-account-default .balance")).to_contain_text(f"{simulator.provider.balance} 条")
    expect(page.locator("#veesing-account-default .state")).to_have_text("正常")
    expect(page.locator("#result_list tbody tr")).to_have_count(4)
    shot(page, "messages-list")

    page.click("#changelist-filter >> text=结果不明（应答丢失）")  # the status filter
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.goto(live_server.url + MESSAGES + "?q=138-0013-8001")  # a phone in any format
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.goto(live_server.url + MESSAGES + "?q=order-2")  # part of a key
    expect(page.locator("#result_list tbody tr")).to_have_count(1)

    page.goto(live_server.url + MESSAGES)
    page.locator(f"#result_list input[value='{sent.pk}']").check()
    page.select_option("select[name=action]", "resend_uncertain")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("1 条短信将重新发送")
    assert Message.objects.get(pk=sent.pk).status == "pending"

    page.goto(live_server.url + MESSAGES + f"{sent.pk}/change/")
    expect(page.locator(".field-text")).to_contain_text("明天九点")
    assert page.locator("input[type=submit][name=_save]").count() == 0  # read-only
    page.context.close()


def test_a_stopped_account_shows_on_every_page_until_resumed(browser, live_server, simulator, sent):
    simulator.configure(locked=True)
    django_veesing.send_message("13700137000", SHIPPED)
    Sender().messages.send_due()
    assert AccountHold.objects.filter(account="default").exists()
    page = log_in_as(browser, live_server, "sender")
    for address in (MESSAGES, "/admin/django_veesing/campaign/", "/admin/django_veesing/receipt/"):
        page.goto(live_server.url + address)
        expect(page.locator(".messagelist .error")).to_contain_text("账户 default 已于")
    page.goto(live_server.url + MESSAGES)
    expect(page.locator("#veesing-account-default .state")).to_contain_text("已停止")
    shot(page, "messages-account-stopped")

    page.goto(live_server.url + "/admin/django_veesing/accounthold/")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    page.locator("#result_list input.action-select").check()
    page.select_option("select[name=action]", "resume")
    page.click("button[name=index]")
    expect(page.locator(".messagelist")).to_contain_text("已恢复发送的账户：default")
    assert not AccountHold.objects.exists()
    page.goto(live_server.url + MESSAGES)
    expect(page.locator(".messagelist .error")).to_have_count(0)
    page.context.close()


def test_a_viewer_sees_the_lists_and_can_change_nothing(browser, live_server, simulator, sent):
    page = log_in_as(browser, live_server, "viewer")
    from django.contrib.auth.models import User

    viewer = User.objects.get(username="viewer")
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_message", "view_accounthold", "view_receipt"])
    )
    AccountHold.objects.create(account="default", reason="余额不足")
    page.goto(live_server.url + MESSAGES)
    expect(page.locator("#result_list tbody tr")).to_have_count(4)
    expect(page.locator(".messagelist .error")).to_contain_text("余额不足")
    assert page.locator("select[name=action]").count() == 0  # no resend for a viewer
    page.goto(live_server.url + MESSAGES + f"{sent.pk}/change/")
    expect(page.locator(".field-status")).to_contain_text("结果不明（应答丢失）")
    page.goto(live_server.url + "/admin/django_veesing/accounthold/")
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    assert page.locator("select[name=action]").count() == 0  # no resume for a viewer
    shot(page, "messages-viewer")
    page.context.close()


def test_verification_codes_are_listed_without_the_code(browser, live_server, simulator, settings):
    from django_veesing import verification

    settings.VEESING = {**settings.VEESING, "VERIFY_TEMPLATE_ID": "36"}
    verification.start("13800138000", client_ip="10.0.0.1")
    code = simulator.record.last_text_to("13800138000")[6:12]
    for role in ("sender", "viewer"):
        page = log_in_as(browser, live_server, role)
        if role == "viewer":
            from django.contrib.auth.models import User

            User.objects.get(username="viewer").user_permissions.add(
                Permission.objects.get(codename="view_verificationcode")
            )
        page.goto(live_server.url + "/admin/django_veesing/verificationcode/")
        rows = page.locator("#result_list tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("已发送")
        assert code not in page.content().replace("13800138000", "")
        assert page.locator("select[name=action]").count() == 0  # nothing to do to a code
        page.locator("#result_list tbody tr a").first.click()
        expect(page.locator(".field-purpose")).to_contain_text("login")
        assert page.locator("input[name=_save]").count() == 0 and page.locator(".deletelink").count() == 0
        shot(page, f"codes-{role}")
        page.context.close()
