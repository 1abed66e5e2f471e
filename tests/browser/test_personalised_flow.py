"""A personalised campaign walked in Chromium, in Chinese: a sender writes it, loads a file
whose rows do not fit and then one that does, reads the real texts before sending, sends;
a viewer reads the numbers' values and texts. Screenshots land in test-artifacts/personalised/.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from django_veesing.models import Campaign, CampaignStatus, OptOut, Recipient
from django_veesing.sending.sender import Sender

from .helpers import ARTIFACTS, counter_for, log_in_as, needs_chromium

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]

TEXT = "【某某商城】{姓名}您好，您的积分{积分}将于月底清零，回T退订"
BAD = "手机号,姓名,积分\n13800000001,张三,1200\n13800000002,【李四】,80\n"
GOOD = "手机号,姓名,积分\n13800000001,张三,1200\n13800000002,李四,80\n13800000003,会员,100\n13800000004,会员,100\n"


def upload(page, tmp_path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    page.set_input_files("#id_file", str(path))
    page.click("#veesing-load-submit")


def test_a_sender_writes_loads_checks_and_sends_a_personalised_campaign(
    browser, live_server, simulator, settings, clock, tmp_path
):
    settings.VEESING = {**settings.VEESING, "QUIET_HOURS": None}
    shots = ARTIFACTS / "personalised"
    shots.mkdir(parents=True, exist_ok=True)
    page = log_in_as(browser, live_server, "sender")

    page.goto(live_server.url + reverse("admin:django_veesing_campaign_add"))
    page.fill("#id_name", "积分清零")
    page.select_option("#id_kind", "marketing")
    counter = counter_for(page, TEXT)
    expect(counter).to_contain_text("字段：{姓名}、{积分}")
    expect(counter.locator(".warning")).to_contain_text("姓名、积分")  # no numbers loaded yet
    assert counter.locator(".problem").count() == 0
    page.screenshot(path=str(shots / "1-write.png"))
    page.click("input[name=_save]")
    campaign = Campaign.objects.get()

    load = live_server.url + reverse("admin:django_veesing_campaign_load", args=[campaign.pk])
    page.goto(load)
    upload(page, tmp_path, "bad.csv", BAD)
    refused = page.locator("#veesing-import-note.errornote")
    expect(refused).to_contain_text("没有导入任何号码")
    expect(page.locator("#veesing-invalid")).to_contain_text("【】")
    expect(page.locator("#veesing-invalid td").first).to_have_text("3")  # the row's line
    page.screenshot(path=str(shots / "2-refused.png"))
    assert not Recipient.objects.filter(campaign=campaign).exists()

    page.goto(load)
    upload(page, tmp_path, "good.csv", GOOD)
    expect(page.locator("#veesing-import-result")).to_contain_text("已添加 4 个")
    expect(page.locator("#veesing-import-note")).to_contain_text("姓名、积分")

    page.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))
    counter = counter_for(page, TEXT.replace("{积分}", "{等级}"))
    expect(counter.locator(".warning")).to_contain_text("{等级}")  # no loaded number has it
    counter = counter_for(page, TEXT)
    assert counter.locator(".warning").count() == 0
    expect(page.locator("#veesing-plan")).to_contain_text("3 种不同短信")
    page.screenshot(path=str(shots / "3-campaign.png"), full_page=True)

    page.goto(live_server.url + reverse("admin:django_veesing_campaign_send", args=[campaign.pk]))
    expect(page.locator("#summary-texts")).to_contain_text("3 种不同短信")
    expect(page.locator("#summary-billed")).to_have_text("4")
    expect(page.locator("#summary-time")).to_contain_text("次接口调用")
    samples = page.locator(".veesing-sample")
    expect(samples.first).to_have_text("【某某商城】张三您好，您的积分1200将于月底清零，回T退订")
    expect(samples.nth(1)).to_have_text("【某某商城】李四您好，您的积分80将于月底清零，回T退订")
    page.screenshot(path=str(shots / "4-confirm.png"), full_page=True)
    page.click("#veesing-confirm")
    expect(page.locator(".messagelist")).to_be_visible()

    Sender().send(Campaign.objects.get(pk=campaign.pk))
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT
    assert sorted(r.numbers for r in simulator.record.group_requests()) == [1, 1, 2]

    page.goto(
        live_server.url + reverse("admin:django_veesing_recipient_changelist") + f"?campaign__id__exact={campaign.pk}"
    )
    expect(page.locator("#result_list")).to_contain_text("姓名=张三；积分=1200")
    expect(page.locator("#result_list")).to_contain_text("【某某商城】李四您好，您的积分80将于月底清零，回T退订")
    page.screenshot(path=str(shots / "5-recipients.png"), full_page=True)


def test_a_viewer_reads_values_and_texts_but_cannot_load_or_send(browser, live_server, simulator, clock):
    campaign = Campaign.objects.create(name="积分清零", content=TEXT, kind="marketing")
    campaign.add_recipients([("13800000001", {"姓名": "张三", "积分": "1200"})])
    page = log_in_as(browser, live_server, "viewer")
    from django.contrib.auth.models import Permission, User

    User.objects.get(username="viewer").user_permissions.add(Permission.objects.get(codename="view_recipient"))
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))
    expect(page.locator("#content-main")).to_be_visible()
    assert page.locator("#veesing-load-link, a[href$='/load/']").count() == 0
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_send", args=[campaign.pk]))
    expect(page.locator("#content")).to_contain_text("只有有权发送群发任务的用户")  # refused, with a way back
    page.goto(live_server.url + reverse("admin:django_veesing_recipient_changelist"))
    expect(page.locator("#result_list")).to_contain_text("姓名=张三；积分=1200")
    expect(page.locator("#result_list")).to_contain_text("【某某商城】张三您好，您的积分1200将于月底清零，回T退订")
    page.screenshot(path=str(ARTIFACTS / "personalised-viewer.png"), full_page=True)


def test_the_confirmation_page_follows_the_opt_outs_a_sender_adds_and_corrects(browser, live_server, clock):
    long_name = "长" * 50  # this number's text takes two messages
    campaign = Campaign.objects.create(name="积分清零", content=TEXT, kind="marketing")
    campaign.add_recipients(
        [
            ("13800000001", {"姓名": "张三", "积分": "1"}),
            ("13800000002", {"姓名": long_name, "积分": "1"}),
            ("13800000003", {"姓名": "会员", "积分": "1"}),
            ("13800000004", {"姓名": "会员", "积分": "1"}),
        ]
    )
    shots = ARTIFACTS / "personalised"
    shots.mkdir(parents=True, exist_ok=True)
    page = log_in_as(browser, live_server, "sender")
    confirm = live_server.url + reverse("admin:django_veesing_campaign_send", args=[campaign.pk])

    def summary(numbers: str, opted_out: str, billed: str, segments: str) -> None:
        page.goto(confirm)
        expect(page.locator("#summary-numbers")).to_have_text(numbers)
        expect(page.locator("#summary-opted-out")).to_have_text(opted_out)
        expect(page.locator("#summary-billed")).to_have_text(billed)
        expect(page.locator("#summary-segments")).to_contain_text(f"最多 {segments}")

    summary("4", "0", "5", "2")
    page.goto(live_server.url + reverse("admin:django_veesing_optout_add"))
    page.fill("#id_phone", "13800000002")  # the long text's number opts out
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_be_visible()
    summary("3", "1", "3", "1")
    expect(page.locator("#veesing-longest")).not_to_contain_text(long_name)  # texts it will send
    expect(page.locator(".veesing-sample")).not_to_contain_text([long_name])
    page.screenshot(path=str(shots / "6-opted-out.png"), full_page=True)

    opt_out = OptOut.objects.get(phone="13800000002")
    page.goto(live_server.url + reverse("admin:django_veesing_optout_change", args=[opt_out.pk]))
    page.fill("#id_phone", "13800000001")  # the sender corrects the number: another one opted out
    page.click("input[name=_save]")
    expect(page.locator(".messagelist")).to_be_visible()
    summary("3", "1", "4", "2")
    expect(page.locator("#veesing-longest")).to_contain_text(long_name)

    viewer = log_in_as(browser, live_server, "viewer")  # reads the same figures, cannot send
    viewer.goto(live_server.url + reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))
    plan = viewer.locator("#veesing-plan")
    expect(plan).to_contain_text("待发送 3 个号码，共 2 种不同短信，每个号码最多 2 条：计费 4")
    viewer.screenshot(path=str(shots / "7-viewer-plan.png"), full_page=True)
    viewer.goto(confirm)
    expect(viewer.locator("#content")).to_contain_text("只有有权发送群发任务的用户")
