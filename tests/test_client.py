"""VeesingClient against the simulator: a real HTTP server on a free loopback port."""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlencode

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from django_veesing import exceptions as exc
from django_veesing.provider.client import SendResult, VeesingClient

PHONE = "13800138000"
TEXT = "【维信测试】您的验证码是1234"
SECRET = "test-app-key-S3CRET-zz9"  # tests/settings.py


def refusal(message: str) -> dict:
    return {"returnStatus": "0", "message": message, "remainPoint": None, "taskId": None, "successCounts": None}


def test_documented_success_with_trailing_space(simulator, veesing_client):
    result = veesing_client.send([PHONE, "13900139000"], TEXT)
    assert isinstance(result, SendResult)
    assert isinstance(result.task_id, str) and len(result.task_id) == 32
    assert result.success_count == 2
    assert result.remain_point == simulator.config.balance - 2
    assert result.message == "成功"
    assert simulator.record.accepted == {PHONE: 1, "13900139000": 1}


@pytest.mark.parametrize(
    "reply",
    [
        {"returnStatus": "1", "message": "成功", "remainPoint": "9", "taskId": "3313746", "successCounts": "1"},
        {"returnStatus": 1, "message": "成功", "remainPoint": 9, "taskId": 3313746, "successCounts": 1},
        {"returnStatus": "1 ", "message": "成功", "remainpoint": " 9 ", "taskId": "3313746", "successCounts": "1"},
    ],
    ids=["string-1", "number-1", "lowercase-remainpoint"],
)
def test_success_variants(simulator, veesing_client, reply):
    simulator.inject("raw", next_n=1, body=reply)
    result = veesing_client.send([PHONE], TEXT)
    assert result.task_id == "3313746"
    assert result.success_count == 1
    assert result.remain_point == 9


def test_documented_nulls_on_success_are_tolerated(simulator, veesing_client):
    simulator.inject(
        "raw",
        next_n=1,
        body={"returnStatus": "1 ", "message": "成功", "remainPoint": None, "taskId": "T1", "successCounts": None},
    )
    result = veesing_client.send([PHONE], TEXT)
    assert (result.task_id, result.success_count, result.remain_point) == ("T1", 0, None)


def test_balance(simulator, veesing_client):
    simulator.configure(balance=241)
    assert veesing_client.balance() == 241
    veesing_client.send([PHONE], TEXT)
    assert veesing_client.balance() == 240


def test_balance_reads_lowercase_remainpoint(simulator, veesing_client):
    simulator.inject("raw", next_n=1, body={"returnStatus": "1 ", "message": "成功", "remainpoint": "77"})
    assert veesing_client.balance() == 77


def test_balance_without_figure_is_an_error(simulator, veesing_client):
    simulator.inject("raw", next_n=1, body={"returnStatus": "1 ", "message": "成功", "remainPoint": None})
    with pytest.raises(exc.TransportError, match="remainPoint"):
        veesing_client.balance()


TABLE = [
    ("账号或密码错误", exc.AuthenticationError, "account"),
    ("缺少参数", exc.MissingParameterError, "request"),
    ("模板不存在或者未通过", exc.TemplateError, "request"),
    ("模板id格式不正确", exc.TemplateError, "request"),
    ("您的账户已被锁定，请联系您的专属客服", exc.AccountLockedError, "account"),
    ("您的账户已被锁定,请联系您的专属客服", exc.AccountLockedError, "account"),  # half-width comma
    ("余额不足", exc.InsufficientBalanceError, "account"),
    ("手机号码格式不正确", exc.InvalidNumberError, "numbers"),
    ("该号码今日发送次数已达上限", exc.RateLimitError, "numbers"),
    ("相同手机号码一分钟之内只可发送一次", exc.RateLimitError, "numbers"),
    ("当日发送量已超出最大发送限制", exc.RateLimitError, "account"),
    ("未知原因，请联系客服", exc.UnknownProviderError, "request"),
    ("IP受限", exc.IPNotAllowedError, "account"),
    ("参数错误", exc.UnknownProviderError, "request"),  # the document's example, in no table
    ("服务器维护中", exc.UnknownProviderError, "request"),
]


@pytest.mark.parametrize("message,error,scope", TABLE, ids=[m for m, _e, _s in TABLE])
def test_every_refusal_message_maps_to_its_error(simulator, veesing_client, message, error, scope):
    simulator.inject("raw", next_n=2, body=refusal(message))
    with pytest.raises(error) as info:
        veesing_client.send([PHONE], TEXT)
    assert str(info.value) == message
    assert info.value.response["message"] == message
    assert info.value.scope == scope
    assert isinstance(info.value, exc.ProviderError)
    with pytest.raises(error):
        veesing_client.balance()


def test_real_refusals_from_the_simulator(simulator, veesing_client, settings):
    veesing_client.send([PHONE], TEXT)
    with pytest.raises(exc.RateLimitError, match="一分钟"):
        veesing_client.send([PHONE], TEXT)
    simulator.configure(balance=0)
    with pytest.raises(exc.InsufficientBalanceError):
        veesing_client.send(["13900139000"], TEXT)
    simulator.configure(locked=True)
    with pytest.raises(exc.AccountLockedError):
        veesing_client.balance()
    wrong = VeesingClient("test-app-id", "not-the-key", api_url=simulator.url)
    with pytest.raises(exc.AuthenticationError):
        wrong.balance()


@pytest.mark.parametrize(
    "fault,options,match",
    [
        ("http_error", {"status": 500}, "HTTP 500"),
        ("http_error", {"status": 502}, "HTTP 502.*Bad Gateway"),
        ("bad_json", {}, "not the JSON"),
        ("raw", {"body": {"message": "成功"}}, "not the JSON"),
        ("raw", {"body": "[1, 2]"}, "not the JSON"),
        ("raw", {"body": b"\xff\xfe", "content_type": "text/plain"}, "not the JSON"),
    ],
    ids=["500", "502-html", "200-not-json", "json-without-returnStatus", "json-list", "not-utf8"],
)
def test_unreadable_answers_may_have_sent(simulator, veesing_client, fault, options, match):
    simulator.inject(fault, next_n=1, **options)
    with pytest.raises(exc.TransportError, match=match) as info:
        veesing_client.send([PHONE], TEXT)
    assert info.value.maybe_sent is True


def test_connection_refused_certainly_did_not_send(closed_port):
    client = VeesingClient("id", SECRET, api_url=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(exc.TransportError, match="could not connect") as info:
        client.send([PHONE], TEXT)
    assert info.value.maybe_sent is False


def test_unresolvable_host_certainly_did_not_send():
    client = VeesingClient("id", SECRET, api_url="http://no-such-host.invalid")
    with pytest.raises(exc.TransportError) as info:
        client.balance()
    assert info.value.maybe_sent is False


def test_read_timeout_may_have_sent(simulator):
    simulator.inject("timeout", next_n=1, seconds=2)
    client = VeesingClient("test-app-id", SECRET, api_url=simulator.url, timeout=0.3)
    with pytest.raises(exc.TransportError, match="no answer in time") as info:
        client.send([PHONE], TEXT)
    assert info.value.maybe_sent is True
    # The simulator did act on it: exactly the case that must not be resent blindly.
    assert simulator.record.accepted[PHONE] == 1


def test_connection_reset_may_have_sent(simulator, veesing_client):
    simulator.inject("reset", next_n=1)
    with pytest.raises(exc.TransportError) as info:
        veesing_client.send([PHONE], TEXT)
    assert info.value.maybe_sent is True


def test_send_time_goes_out_as_china_wall_time(simulator, veesing_client, settings):
    assert settings.TIME_ZONE == "Europe/Paris"
    at = (timezone.now() + dt.timedelta(days=30)).astimezone(dt.UTC).replace(hour=9, minute=30, second=0, microsecond=0)
    china_wall_time = f"{at:%Y-%m-%d} 17:30:00"  # 09:30 UTC is 17:30 in China, the same day
    veesing_client.send([PHONE], TEXT, send_time=at)
    assert simulator.record.requests[-1].fields["sendTime"] == china_wall_time
    with timezone.override("Europe/Paris"):
        local = timezone.localtime(at)
    veesing_client.send(["13900139000"], TEXT, send_time=local)
    assert simulator.record.requests[-1].fields["sendTime"] == china_wall_time


@pytest.mark.parametrize(
    "phones,content,send_time,match",
    [
        ([], TEXT, None, "No numbers"),
        (
            [PHONE, "1380013800", "+8613800138000", "23800138000"],
            TEXT,
            None,
            "'1380013800', '\\+8613800138000', '23800138000'",
        ),
        ([PHONE], "", None, "empty"),
        ([PHONE], "   ", None, "empty"),
        ([PHONE], TEXT, "naive", "time zone"),
        ([PHONE], TEXT, "soon", "30 minutes"),
    ],
    ids=["no-numbers", "bad-numbers", "empty", "blank", "naive-time", "too-soon"],
)
def test_refused_before_any_request(simulator, veesing_client, phones, content, send_time, match):
    if send_time == "soon":
        send_time = timezone.now() + dt.timedelta(minutes=29)
    elif send_time == "naive":  # a day ahead, without its time zone
        send_time = timezone.now().replace(tzinfo=None) + dt.timedelta(days=1)
    with pytest.raises(exc.InvalidRequest, match=match):
        veesing_client.send(phones, content, send_time=send_time)
    assert simulator.record.requests == []


def test_bad_numbers_are_listed_on_the_error(veesing_client):
    with pytest.raises(exc.InvalidRequest) as info:
        veesing_client.send([PHONE, "12345", PHONE, "abc"], TEXT)
    assert info.value.bad_numbers == ["12345", "abc"]


@pytest.mark.parametrize(
    "numbers",
    [
        ["13800138000,13900139000"],  # two numbers in one entry
        ["1380013800", "139001390001"],  # ten and twelve digits: the right length together
        [PHONE, 13800138000],  # not text
        [PHONE + " "],
    ],
)
def test_the_joined_list_is_checked_number_by_number(simulator, veesing_client, numbers):
    with pytest.raises(exc.InvalidRequest) as info:
        veesing_client.send(numbers, TEXT)
    assert info.value.bad_numbers and simulator.record.requests == []


def test_from_settings_without_credentials_is_a_configuration_error(settings):
    settings.VEESING = {"API_URL": "https://vip.veesing.com"}
    with pytest.raises(ImproperlyConfigured, match="APP_ID or APP_KEY"):
        VeesingClient.from_settings()


def test_from_settings_reads_every_setting(settings):
    settings.VEESING = {
        "APP_ID": "a",
        "APP_KEY": SECRET,
        "API_URL": "https://example.test/",
        "TIMEOUT": 7,
        "CONNECT_TIMEOUT": 2,
    }
    client = VeesingClient.from_settings()
    assert (client.app_id, client.api_url, client.timeout) == ("a", "https://example.test", (2.0, 7.0))


def test_form_body_is_utf8_with_credentials_in_the_body(simulator, veesing_client):
    veesing_client.send([PHONE], TEXT)
    record = simulator.record.requests[-1]
    assert record.fields["content"] == TEXT  # decoded as UTF-8 by the simulator
    assert record.fields["appId"] == "test-app-id"
    assert "appKey" not in record.fields  # the simulator never keeps it


NUMBER_LISTS = st.lists(st.text("0123456789", max_size=12), max_size=20).map(",".join)


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(["phone", "content", "sendTime"]), st.text(max_size=40) | NUMBER_LISTS))
def test_the_form_body_is_encoded_as_urlencode_does(fields):
    client = VeesingClient("app id", "key&=+ 密钥", api_url="http://127.0.0.1:9")
    form = {"appId": "app id", "appKey": "key&=+ 密钥", **fields}
    assert client._body(fields) == urlencode(form, encoding="utf-8").encode("ascii")


def test_one_session_keeps_the_connection_alive(simulator, veesing_client):
    for _ in range(5):
        veesing_client.balance()
    assert simulator.connections_opened == 1


def test_app_key_never_appears_in_logs_errors_or_reprs(simulator, closed_port, caplog):
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    client = VeesingClient("test-app-id", SECRET, api_url=simulator.url, timeout=0.3)
    texts += [repr(client), str(vars(client))]
    client.send([PHONE], TEXT)
    client.send_code("13700137000", "36", ["123456"])
    client.balance()
    simulator.inject("raw", next_n=1, body=refusal("账号或密码错误"))
    simulator.inject("http_error", next_n=1)
    simulator.inject("bad_json", next_n=1)
    simulator.inject("timeout", next_n=1, seconds=1)
    for _ in range(4):
        with pytest.raises(exc.VeesingError) as info:
            client.send(["13900139000"], TEXT)
        texts += [str(info.value), repr(info.value), repr(info.value.response), repr(info.value.__cause__)]
    with pytest.raises(exc.TransportError) as info:
        VeesingClient("id", SECRET, api_url=f"http://127.0.0.1:{closed_port}").balance()
    texts += [str(info.value), repr(info.value), str(info.value.__cause__)]
    with pytest.raises(exc.InvalidRequest) as info:
        client.send(["bad"], TEXT)
    texts += [str(info.value), repr(info.value)]
    records = caplog.records
    logged = [r.getMessage() for r in records] + [str(r.args) for r in records]
    assert any("urllib3" in r.name for r in records), "DEBUG records of the HTTP stack were captured"
    assert any("django_veesing" in r.name for r in records)
    for text in logged + texts:
        assert SECRET not in text


def test_the_keys_of_named_accounts_never_appear_in_reprs_or_errors(settings, simulator):
    from django_veesing.conf import veesing_settings

    key = "marketing-key-S3CRET-77"
    settings.VEESING = {**settings.VEESING, "ACCOUNTS": {"marketing": {"APP_ID": "mk", "APP_KEY": key}}}
    client = VeesingClient.from_settings("marketing")
    texts = [repr(veesing_settings.ACCOUNTS), str(veesing_settings.account("marketing")), repr(client)]
    with pytest.raises(exc.AuthenticationError) as info:  # the simulator does not know the account
        client.balance()
    texts += [str(info.value), repr(info.value), repr(info.value.response)]
    assert client.app_id == "mk" and all(key not in text for text in texts)
