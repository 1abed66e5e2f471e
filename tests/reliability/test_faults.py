"""Every fault the simulator has, during one large campaign: nothing sent twice, every
number accounted for, and each fault leaves a message an operator can act on."""

from __future__ import annotations

import pytest

from django_veesing.models import Batch, BatchState, CampaignStatus
from django_veesing.sending.sender import Sender

from ..conftest import mobiles
from .helpers import account

pytestmark = pytest.mark.django_db(transaction=True)


def refusal(message):
    return {"body": {"returnStatus": "0", "message": message, "remainPoint": None, "taskId": None}}


# (fault, options, what the operator reads, where)
FAULTS = [
    ("timeout", {"seconds": 2}, "no answer in time", "batch"),
    ("http_error", {"status": 502}, "HTTP 502", "batch"),
    ("http_error", {"status": 500, "process": False}, "HTTP 500", "batch"),
    ("bad_json", {}, "not the JSON", "batch"),
    ("reset", {}, "the connection failed", "batch"),
    ("raw", refusal("手机号码格式不正确"), "手机号码格式不正确", "batch"),
    ("raw", refusal("该号码今日发送次数已达上限"), "该号码今日发送次数已达上限", "batch"),
    ("raw", refusal("相同手机号码一分钟之内只可发送一次"), "相同手机号码一分钟之内只可发送一次", "batch"),
    ("raw", refusal("余额不足"), "余额不足", "campaign"),
    ("raw", refusal("您的账户已被锁定，请联系您的专属客服"), "您的账户已被锁定", "campaign"),
    ("raw", refusal("账号或密码错误"), "账号或密码错误", "campaign"),
    ("raw", refusal("IP受限"), "IP受限", "campaign"),
    ("raw", refusal("当日发送量已超出最大发送限制"), "当日发送量已超出最大发送限制", "campaign"),
    ("unknown", {}, "未知原因", "campaign"),
    ("raw", refusal("参数错误"), "参数错误", "campaign"),
]


def test_every_fault_during_a_large_campaign(simulator, make_campaign, settings, figures):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 200, "TIMEOUT": 1, "CHECK_BALANCE": False}
    simulator.configure(per_minute_limit=False)
    campaign = make_campaign(mobiles(6000))
    for i, (kind, options, _text, _where) in enumerate(FAULTS):
        simulator.inject(kind, next_n=1, path="/group", after=2 * i + 1, **options)
    messages_seen, runs, reschedules = [], 0, 0
    while True:
        runs += 1
        assert runs < 100, "the campaign must end"
        report = Sender().send(campaign)
        if report.message:
            messages_seen.append(report.message)
        campaign.refresh_from_db()
        if campaign.status == CampaignStatus.SENT:
            break
        if campaign.status == CampaignStatus.FAILED:
            campaign.schedule()  # the operator fixes the account and schedules it again
            reschedules += 1

    counts = account(campaign, simulator)
    batch_messages = list(
        Batch.objects.filter(campaign=campaign).exclude(state=BatchState.SUBMITTED).values_list("message", flat=True)
    )
    for _kind, _options, text, where in FAULTS:
        pool = batch_messages if where == "batch" else messages_seen
        assert any(text in message for message in pool), f"no message says {text!r}"
    assert all(batch_messages), "every batch that did not go through says why"
    assert counts["duplicates"] == 0
    assert counts["unaccounted"] == 0
    assert counts["submitted"] + counts["failed"] + counts["uncertain"] == 6000
    figures("faults injected (each kind once, every refusal message)", len(FAULTS))
    figures("sending runs / times the operator rescheduled a failed campaign", f"{runs} / {reschedules}")
    figures(
        "numbers submitted / failed by a refusal / pending in uncertain batches",
        f"{counts['submitted']} / {counts['failed']} / {counts['uncertain']}",
    )
    figures("numbers that reached the provider twice", counts["duplicates"])
    figures("numbers unaccounted for", counts["unaccounted"])
    figures("faults that left no message for the operator", 0)
