"""The simulator's own behaviour, over HTTP on loopback."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.core.management import CommandError, call_command

from django_veesing.simulator import RemoteAddressRefused, Simulator
from django_veesing.simulator.provider import CHINA

CREDENTIALS = {"appId": "test-app-id", "appKey": "test-app-key-S3CRET-zz9"}
TEXT = "【维信测试】您好"


def post(sim, path="/smsApi/group", **fields):
    data = {**CREDENTIALS, **fields}
    return requests.post(sim.url + path, data=data, timeout=5)


def group(sim, phones, content=TEXT, **fields):
    return post(sim, phone=",".join(phones), content=content, **fields).json()


def numbers(n, start=13800000000):
    return [str(start + i) for i in range(n)]


def test_success_answer_has_the_documented_shape(simulator):
    answer = group(simulator, ["13800138000"])
    assert answer["returnStatus"] == "1 "
    assert answer["message"] == "成功"
    assert len(answer["taskId"]) == 32 and answer["taskId"].isalnum() and answer["taskId"].isupper()
    assert answer["successCounts"] == "1"
    assert all(isinstance(value, str) for value in answer.values())


def test_return_status_switch(simulator):
    simulator.configure(return_status="1")
    assert group(simulator, ["13800138000"])["returnStatus"] == "1"


def test_task_ids_are_unique(simulator):
    simulator.configure(per_minute_limit=False)
    ids = {group(simulator, ["13800138000"])["taskId"] for _ in range(50)}
    assert len(ids) == 50


@pytest.mark.parametrize(
    "length,segments",
    [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_balance_goes_down_by_segments_times_numbers(simulator, length, segments):
    simulator.configure(balance=1000)
    content = "【签名】" + "字" * (length - 4)
    answer = group(simulator, numbers(3), content=content)
    assert answer["remainPoint"] == str(1000 - 3 * segments)
    assert post(simulator, "/smsApi/group/getBalance").json()["remainPoint"] == str(1000 - 3 * segments)


def test_duplicates_in_one_request_are_sent_and_billed_once(simulator):
    simulator.configure(balance=100)
    answer = group(simulator, ["13800138000", "13800138000", "13900139000"])
    assert answer["successCounts"] == "2"
    assert answer["remainPoint"] == "98"
    assert simulator.record.accepted == {"13800138000": 1, "13900139000": 1}


def test_balance_by_get_with_query_string(simulator):
    query = "&".join(f"{k}={v}" for k, v in CREDENTIALS.items())
    answer = requests.get(f"{simulator.url}/smsApi/group/getBalance?{query}", timeout=5).json()
    assert answer["returnStatus"] == "1 " and answer["remainPoint"] == str(simulator.config.balance)
    assert answer["taskId"] is None and answer["successCounts"] is None


def test_credentials_in_the_query_string_of_a_post(simulator):
    query = "&".join(f"{k}={v}" for k, v in CREDENTIALS.items())
    answer = requests.post(f"{simulator.url}/smsApi/group/getBalance?{query}", timeout=5).json()
    assert answer["message"] == "成功"


def test_unknown_path_and_method(simulator):
    assert requests.post(simulator.url + "/smsApi/other", timeout=5).status_code == 404
    assert requests.get(simulator.url + "/smsApi/group", timeout=5).status_code == 405


def refusal_of(answer):
    assert answer["returnStatus"] == "0"
    assert answer["remainPoint"] is None and answer["taskId"] is None and answer["successCounts"] is None
    return answer["message"]


def test_wrong_credentials(simulator):
    answer = requests.post(
        simulator.url + "/smsApi/group",
        data={**CREDENTIALS, "appKey": "x", "phone": "13800138000", "content": TEXT},
        timeout=5,
    ).json()
    assert refusal_of(answer) == "账号或密码错误"
    answer = requests.post(
        simulator.url + "/smsApi/group/getBalance", data={**CREDENTIALS, "appId": "x"}, timeout=5
    ).json()
    assert refusal_of(answer) == "账号或密码错误"


@pytest.mark.parametrize("missing", ["appId", "appKey", "phone", "content"])
def test_missing_fields(simulator, missing):
    fields = {**CREDENTIALS, "phone": "13800138000", "content": TEXT}
    del fields[missing]
    answer = requests.post(simulator.url + "/smsApi/group", data=fields, timeout=5).json()
    assert refusal_of(answer) == "缺少参数"
    assert simulator.record.accepted == {}


def test_missing_credentials_on_balance(simulator):
    assert refusal_of(requests.post(simulator.url + "/smsApi/group/getBalance", timeout=5).json()) == "缺少参数"


def test_malformed_number_refuses_the_request(simulator):
    assert refusal_of(group(simulator, ["13800138000", "1380013800"])) == "手机号码格式不正确"
    assert simulator.record.accepted == {}
    assert simulator.record.received == {"13800138000": 1, "1380013800": 1}


def test_balance_too_low(simulator):
    simulator.configure(balance=2)
    assert refusal_of(group(simulator, numbers(3))) == "余额不足"
    assert simulator.provider.balance == 2


def test_same_number_within_a_minute(settings):
    clock = FakeClock()
    with Simulator(clock=clock) as sim:
        group(sim, ["13800138000"])
        clock.advance(59)
        assert refusal_of(group(sim, ["13900139000", "13800138000"])) == "相同手机号码一分钟之内只可发送一次"
        clock.advance(1)
        assert group(sim, ["13800138000"])["returnStatus"] == "1 "
        assert sim.record.accepted == {"13800138000": 2}


def test_per_number_daily_cap_resets_at_china_midnight():
    clock = FakeClock(dt.datetime(2026, 11, 26, 23, 0, tzinfo=CHINA).timestamp())
    with Simulator(clock=clock, per_number_daily_cap=2, per_minute_limit=False) as sim:
        group(sim, ["13800138000"])
        group(sim, ["13800138000"])
        assert refusal_of(group(sim, ["13800138000"])) == "该号码今日发送次数已达上限"
        clock.advance(3600)  # midnight in China
        assert group(sim, ["13800138000"])["returnStatus"] == "1 "


def test_account_daily_cap():
    with Simulator(account_daily_cap=5) as sim:
        assert group(sim, numbers(4))["successCounts"] == "4"
        assert refusal_of(group(sim, numbers(2, start=13900000000))) == "当日发送量已超出最大发送限制"
        assert group(sim, ["13700000000"])["successCounts"] == "1"


def test_locked_account(simulator):
    simulator.configure(locked=True)
    assert refusal_of(group(simulator, ["13800138000"])) == "您的账户已被锁定，请联系您的专属客服"
    assert refusal_of(post(simulator, "/smsApi/group/getBalance").json()) == "您的账户已被锁定，请联系您的专属客服"


def test_ip_allowlist(simulator):
    simulator.configure(ip_allowlist=("10.0.0.0/8",))
    assert refusal_of(post(simulator, "/smsApi/group/getBalance").json()) == "IP受限"
    assert refusal_of(group(simulator, ["13800138000"])) == "IP受限"
    simulator.configure(ip_allowlist=("127.0.0.0/8",))
    assert post(simulator, "/smsApi/group/getBalance").json()["message"] == "成功"


def test_unknown_error_on_demand(simulator):
    simulator.inject("unknown", next_n=1)
    assert refusal_of(group(simulator, ["13800138000"])) == "未知原因，请联系客服"
    assert simulator.record.accepted == {}
    assert group(simulator, ["13800138000"])["message"] == "成功"


def test_too_many_numbers_in_one_request(simulator):
    simulator.configure(max_numbers=10)
    assert refusal_of(group(simulator, numbers(11))) == "参数错误"


def test_malformed_send_time(simulator):
    assert refusal_of(group(simulator, ["13800138000"], sendTime="2026/11/26 10:00")) == "参数错误"


class FakeClock:
    def __init__(self, start: float | None = None) -> None:
        self.now = start if start is not None else time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- pushes ----------------------------------------------------------------------------


def test_receipts_and_replies_are_pushed_with_their_fields(simulator, receiver):
    simulator.configure(callback_url=receiver.url, delivered_ratio=0.5, reply_ratio=1.0)
    phones = numbers(40)
    answer = group(simulator, phones)
    assert simulator.wait_for_pushes(10)
    receipts = [p for p in receiver.received if "status" in p]
    replies = [p for p in receiver.received if "content" in p]
    assert sorted(r["mobile"] for r in receipts) == phones
    assert {r["taskid"] for r in receipts} == {answer["taskId"]}
    assert set(receipts[0]) == {"mobile", "taskid", "status", "code", "receivetime"}
    delivered = [r for r in receipts if r["status"] == "1"]
    failed = [r for r in receipts if r["status"] == "0"]
    assert delivered and failed
    assert {r["code"] for r in delivered} == {"DELIVRD"}
    assert {r["code"] for r in failed} <= {"MA:0001", "MK:0011", "UNDELIV"}
    assert sorted(r["mobile"] for r in replies) == sorted(r["mobile"] for r in delivered)
    assert {r["content"] for r in replies} <= {"收到", "好的", "T", "退订"}
    assert set(replies[0]) == {"mobile", "taskid", "content", "receivetime"}
    now_in_china = dt.datetime.now(CHINA).replace(tzinfo=None)
    when = dt.datetime.strptime(receipts[0]["receivetime"], "%Y-%m-%d %H:%M:%S")
    assert abs((when - now_in_china).total_seconds()) < 60
    assert all(ct.startswith("application/x-www-form-urlencoded") for ct in receiver.content_types)
    truth = simulator.record.final_statuses()
    assert truth == {(r["taskid"], r["mobile"]): r["status"] for r in receipts}


@pytest.mark.slow  # seconds: left out of the quick run
def test_replies_go_to_their_own_address(simulator, receiver):
    from tests.conftest import PushReceiver

    replies = PushReceiver()
    try:
        simulator.configure(callback_url=receiver.url, reply_callback_url=replies.url, delivered_ratio=1, reply_ratio=1)
        group(simulator, numbers(5))
        assert simulator.wait_for_pushes(10)
        assert all("status" in p for p in receiver.received) and len(receiver.received) == 5
        assert all("content" in p for p in replies.received) and len(replies.received) == 5
    finally:
        replies.close()


def test_failed_push_is_retried_with_backoff(simulator, receiver):
    receiver.fail_first = 2
    simulator.configure(callback_url=receiver.url, reply_ratio=0)
    group(simulator, ["13800138000"])
    assert simulator.wait_for_pushes(10)
    (push,) = simulator.record.pushes
    assert push.attempts == 3 and push.delivered and not push.dropped
    assert push.answers[:2] == ["503 busy", "503 busy"]
    assert len(receiver.received) == 1


def test_push_dropped_after_retries(simulator, closed_port):
    simulator.configure(callback_url=f"http://127.0.0.1:{closed_port}/", reply_ratio=0, push_retries=2)
    group(simulator, ["13800138000"])
    assert simulator.wait_for_pushes(10)
    (push,) = simulator.record.pushes
    assert push.dropped and not push.delivered and push.attempts == 3
    assert push.answers == ["ConnectionError"] * 3


def test_duplicates_and_out_of_order(simulator, receiver):
    simulator.configure(
        callback_url=receiver.url, reply_ratio=0, duplicate_rate=0.3, reorder_rate=0.5, reorder_window=0.3
    )
    phones = numbers(200)
    group(simulator, phones)
    assert simulator.wait_for_pushes(20)
    mobiles = [p["mobile"] for p in receiver.received]
    assert set(mobiles) == set(phones)
    assert 200 + 30 <= len(mobiles) <= 200 + 90  # about 30% pushed twice
    assert mobiles != sorted(mobiles)  # some arrive out of order
    assert sum(p.duplicate for p in simulator.record.pushes) == len(mobiles) - 200


def test_scheduled_send_pushes_after_its_time(simulator, receiver):
    clock = FakeClock()
    simulator.provider.clock = clock
    simulator.configure(callback_url=receiver.url, reply_ratio=0)
    later = dt.datetime.fromtimestamp(clock.now + 3600, CHINA).strftime("%Y-%m-%d %H:%M:%S")
    group(simulator, ["13800138000"], sendTime=later)
    assert not simulator.wait_for_pushes(0.3)  # the pusher holds it: not idle within 0.3 s
    assert receiver.received == []
    assert simulator.pusher.pending() == 1


# -- faults ----------------------------------------------------------------------------


def test_fault_for_next_n_then_normal(simulator):
    simulator.inject("http_error", next_n=2, status=503)
    assert post(simulator, "/smsApi/group/getBalance").status_code == 503
    assert post(simulator, "/smsApi/group/getBalance").status_code == 503
    assert post(simulator, "/smsApi/group/getBalance").status_code == 200


def test_fault_after_processing_still_sends(simulator):
    simulator.inject("bad_json", next_n=1)
    response = post(simulator, phone="13800138000", content=TEXT)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()
    assert simulator.record.accepted == {"13800138000": 1}
    assert simulator.record.requests[-1].fault == "bad_json"


def test_fault_before_processing_sends_nothing(simulator):
    simulator.inject("http_error", next_n=1, process=False)
    assert post(simulator, phone="13800138000", content=TEXT).status_code == 502
    assert simulator.record.accepted == {}


def test_fault_limited_to_one_path(simulator):
    simulator.inject("http_error", next_n=1, path="/group")
    assert post(simulator, "/smsApi/group/getBalance").status_code == 200
    assert post(simulator, phone="13800138000", content=TEXT).status_code == 502


def test_timeout_fault_holds_the_answer(simulator):
    simulator.inject("timeout", next_n=1, seconds=1.0)
    with pytest.raises(requests.ReadTimeout):
        requests.post(simulator.url + "/smsApi/group/getBalance", data=CREDENTIALS, timeout=0.2)


def test_reset_fault(simulator):
    simulator.inject("reset", next_n=1)
    with pytest.raises(requests.ConnectionError):
        post(simulator, "/smsApi/group/getBalance")


def test_fault_rate(simulator):
    simulator.inject("http_error", rate=0.5)
    codes = [post(simulator, "/smsApi/group/getBalance").status_code for _ in range(200)]
    assert 60 < codes.count(502) < 140


def test_latency(simulator):
    simulator.configure(latency=0.2)
    started = time.monotonic()
    post(simulator, "/smsApi/group/getBalance")
    assert time.monotonic() - started >= 0.2


def test_bad_fault_arguments(simulator):
    with pytest.raises(ValueError, match="unknown fault"):
        simulator.inject("explode", next_n=1)
    with pytest.raises(ValueError, match="next_n"):
        simulator.inject("reset")


# -- record, determinism, safety -------------------------------------------------------


def test_record_keeps_everything_but_the_key(simulator, tmp_path):
    path = tmp_path / "record.jsonl"
    with Simulator(record_path=str(path), seed=1) as sim:
        group(sim, ["13800138000", "13900139000"])
        group(sim, ["1"])
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [line["message"] for line in lines] == ["成功", "手机号码格式不正确"]
    assert lines[0]["numbers"] == 2 and lines[0]["fields"]["content"] == TEXT
    assert CREDENTIALS["appKey"] not in path.read_text(encoding="utf-8")
    assert sim.record.sent_more_than_once() == {}


def test_sent_more_than_once(simulator):
    simulator.configure(per_minute_limit=False)
    group(simulator, ["13800138000", "13900139000"])
    group(simulator, ["13800138000"])
    assert simulator.record.sent_more_than_once() == {"13800138000": 2}


def run_seeded(receiver, seed):
    with Simulator(seed=seed, callback_url=receiver.url, push_delay=0, reply_ratio=0.3, delivered_ratio=0.7) as sim:
        ids = [group(sim, numbers(20, start=13800000000 + 100 * i))["taskId"] for i in range(3)]
        sim.wait_for_pushes(10)
        return ids, sim.record.final_statuses(), sorted(r["mobile"] + r["content"] for r in sim.record.replies)


@pytest.mark.slow  # seconds: left out of the quick run
def test_deterministic_when_seeded(receiver):
    first, second, other = run_seeded(receiver, 7), run_seeded(receiver, 7), run_seeded(receiver, 8)
    assert first == second
    assert first[0] != other[0]


def test_refuses_non_loopback_unless_told():
    with pytest.raises(RemoteAddressRefused, match="loopback"):
        Simulator(host="0.0.0.0")
    Simulator(host="0.0.0.0", allow_remote=True)  # allowed, not started


def test_uses_project_credentials_by_default(settings):
    assert Simulator().config.app_key == settings.VEESING["APP_KEY"]
    settings.VEESING = {}
    assert Simulator().config.app_id == "veesing-demo"


def test_command_help_lists_every_setting():
    result = subprocess.run(
        [sys.executable, "-m", "django", "veesing_simulator", "--help"],
        env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": ""},
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    from django_veesing.simulator import SimulatorConfig

    for name, _default, _help in SimulatorConfig.options():
        assert "--" + name.replace("_", "-") in result.stdout
    assert "--callback" in result.stdout and "--seed" in result.stdout


def test_command_refuses_non_loopback():
    with pytest.raises(CommandError, match="loopback"):
        call_command("veesing_simulator", "--host", "0.0.0.0")


def test_after_counts_each_rules_requests(simulator):
    simulator.inject("http_error", next_n=1, status=503, after=1)
    simulator.inject("http_error", next_n=1, status=500, after=2)
    codes = [post(simulator, "/smsApi/group/getBalance").status_code for _ in range(4)]
    assert codes == [200, 503, 500, 200]


def code(sim, phone="13800138000", template="36", variables="123456", **fields):
    return post(sim, "/smsApi/verifyCode", phone=phone, templateId=template, variables=variables, **fields).json()


def test_a_verification_code_fills_its_template_and_is_recorded(simulator, receiver):
    simulator.configure(callback_url=receiver.url)
    answer = code(simulator)
    assert answer["returnStatus"] == "2000" and answer["taskId"]
    assert simulator.record.last_text_to("13800138000") == "您的验证码是123456，5分钟内有效"
    assert simulator.wait_for_pushes(10)
    assert any(push.fields.get("taskid") == answer["taskId"] for push in simulator.record.pushes)  # a receipt
    simulator.configure(verify_status="1")
    assert code(simulator, phone="13900139000")["returnStatus"] == "1"


@pytest.mark.parametrize(
    "fields,refusal",
    [
        ({"phone": "13800138000,13900139000"}, "手机号码格式不正确"),  # one number a call
        ({"template": "99"}, "模板不存在或者未通过"),
        ({"variables": "1"}, "参数错误"),  # 2 to 8 digits
        ({"variables": "123456789"}, "参数错误"),
        ({"variables": "12a4"}, "参数错误"),
        ({"variables": ""}, "缺少参数"),
    ],
)
def test_verification_code_refusals(simulator, fields, refusal):
    answer = code(simulator, **fields)
    assert (answer["returnStatus"], answer["message"]) == ("0", refusal)
    assert not simulator.record.codes


def test_a_second_code_within_a_minute_and_a_locked_account_are_refused(simulator):
    assert code(simulator)["returnStatus"] == "2000"
    assert code(simulator)["message"] == "相同手机号码一分钟之内只可发送一次"
    simulator.configure(locked=True)
    assert code(simulator, phone="13900139000")["message"] == "您的账户已被锁定，请联系您的专属客服"


def test_templates_given_at_start():
    with Simulator(templates=("7=验证码{1}，请在{2}分钟内输入",)) as sim:
        assert code(sim, template="7", variables="4321;10")["returnStatus"] == "2000"
        assert sim.record.last_text_to("13800138000") == "验证码4321，请在10分钟内输入"
