"""Loading numbers and typing opt-outs in Chromium, in Chinese: a file with a heading row
imports its phone column only and says so; a pasted line is one entry, reported with its
line; an opt-out typed by hand is stored as 11 digits, or refused with the reason."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from django_veesing.models import Campaign, OptOut

from .helpers import ARTIFACTS, log_in_as, needs_chromium

pytestmark = [needs_chromium, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser, live_server, simulator):
    page = log_in_as(browser, live_server, "sender")
    yield page
    page.context.close()


def shot(page, name: str) -> None:
    folder = ARTIFACTS / "zh-hans"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def load_page(page, live_server, campaign: Campaign) -> None:
    page.goto(live_server.url + reverse("admin:django_veesing_campaign_load", args=[campaign.pk]))


def test_a_csv_with_a_heading_imports_its_phone_column_and_the_others_as_values(page, live_server, tmp_path):
    campaign = Campaign.objects.create(name="会员通知", content="【维信测试】您的订单已发货")
    rows = "\n".join(f"{13800000000 + i},张三" for i in range(2000))
    upload = tmp_path / "名单.csv"
    upload.write_bytes(f"手机号,姓名\n{rows}\n".encode("gbk"))
    load_page(page, live_server, campaign)
    page.set_input_files("#id_file", str(upload))
    page.click("#veesing-load-submit")
    result = page.locator("#veesing-import-result")
    expect(result).to_contain_text("已添加 2000 个")
    expect(result).to_contain_text("无效 0 个")
    expect(page.locator("#veesing-import-note")).to_have_text("号码取自第 1 列（“手机号”），并带有字段值：姓名。")
    assert campaign.recipients.count() == 2000
    assert campaign.recipients.first().values == {"姓名": "张三"}
    shot(page, "load-csv-with-heading")


def test_a_pasted_line_is_one_entry_reported_by_its_line(page, live_server):
    campaign = Campaign.objects.create(name="粘贴", content="【维信测试】您的订单已发货")
    load_page(page, live_server, campaign)
    page.fill("#id_pasted", "13800000001\n+1 415 555 0100\n+86 10 6552 8888\n13800000002，13800000003")
    page.click("#veesing-load-submit")
    expect(page.locator("#veesing-import-result")).to_contain_text("已添加 3 个")
    rows = page.locator("#veesing-invalid tbody tr")
    expect(rows).to_have_count(2)
    assert rows.nth(0).locator("td").all_inner_texts()[:2] == ["2", "+1 415 555 0100"]
    assert rows.nth(1).locator("td").all_inner_texts()[:2] == ["3", "+86 10 6552 8888"]
    assert "+86" in rows.nth(0).locator("td").nth(2).inner_text()  # the reason, in Chinese
    shot(page, "load-pasted-invalid-lines")


def test_an_opt_out_typed_by_hand_is_checked(page, live_server):
    page.goto(live_server.url + reverse("admin:django_veesing_optout_add"))
    page.fill("#id_phone", "12345")
    page.click("input[name=_save]")
    expect(page.locator(".errorlist")).to_contain_text("不是大陆手机号码")
    shot(page, "opt-out-refused")
    assert not OptOut.objects.exists()

    page.fill("#id_phone", "+86 186-0000-1234")
    assert page.input_value("#id_phone") == "+86 186-0000-1234"  # not cut to the column's 11
    page.click("input[name=_save]")
    expect(page.locator("#result_list")).to_contain_text("18600001234")
    assert list(OptOut.objects.values_list("phone", "source")) == [("18600001234", "admin")]
