"""Verification codes against the simulator: the client's verify-code call, the service's
start and check, its throttles, the login backend and the DRF endpoints."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from django_veesing import verification
from django_veesing.exceptions import TemplateError, TooManyCodes
from django_veesing.models import VerificationCode
from django_veesing.provider.client import VeesingClient
from django_veesing.rules.phones import InvalidPhone
from django_veesing.verification.codes import digest

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


@pytest.fixture
def templated(settings, simulator, clock):
    settings.VEESING = {**settings.VEESING, "VERIFY_TEMPLATE_ID": "36"}
    return simulator


def received(simulator, phone=PHONE) -> str:
    """The code in the last text ``phone`` received."""
    return re.search(r"\d{4,8}", simulator.record.last_text_to(phone) or "").group()


def test_the_client_sends_a_code_through_a_template(simulator):
    with VeesingClient.from_settings() as client:
        result = client.send_code(PHONE, "36", ["123456"])
        assert result.task_id and simulator.record.last_text_to(PHONE) == "您的验证码是123456，5分钟内有效"
        simulator.configure(verify_status="1", per_minute_limit=False)  # the other success seen in the wild
        assert client.send_code(PHONE, "36", ["654321"]).task_id
        with pytest.raises(TemplateError):
            client.send_code(PHONE, "99", ["123456"])
    (call, *_) = [r for r in simulator.record.requests if r.path.endswith("/verifyCode")]
    assert call.fields["templateId"] == "36" and "appKey" not in call.fields


def test_a_code_is_sent_stored_as_a_hash_and_checks_once(templated):
    row = verification.start("+86 138 0013 8000", client_ip="10.0.0.1")
    code = received(templated)
    assert len(code) == 6 and row.state == "sent" and row.task_id
    stored = VerificationCode.objects.values().get()
    assert not any(code in str(value) for name, value in stored.items() if name != "phone")  # never in clear
    assert stored["digest"] == digest(PHONE, "login", code)
    assert not verification.check(PHONE, code, "signup")  # bound to its purpose
    assert verification.check("138-0013-8000", code)
    assert not verification.check(PHONE, code)  # single use


def test_without_a_template_the_code_goes_by_group_send_in_the_text(settings, simulator, clock):
    settings.VEESING = {**settings.VEESING, "SIGNATURE": "【维信测试】", "CODE_LENGTH": 4}
    verification.start(PHONE)
    (call,) = [r for r in simulator.record.requests if r.path.endswith("/group")]
    code = re.search(r"\d{4}", call.fields["content"]).group()
    assert call.fields["content"] == f"【维信测试】您的验证码是{code}，5分钟内有效，请勿告诉他人。"
    assert verification.check(PHONE, code)


def test_a_code_expires_dies_after_wrong_tries_and_only_the_latest_counts(templated, clock):
    verification.start(PHONE)
    first = received(templated)
    clock.advance(seconds=61)
    verification.start(PHONE)
    second = received(templated)
    if first != second:
        assert not verification.check(PHONE, first)  # the older code no longer counts
    for _ in range(5):
        assert not verification.check(PHONE, "000000" if second != "000000" else "111111")
    assert not verification.check(PHONE, second)  # dead after five wrong tries
    clock.advance(seconds=61)
    verification.start(PHONE)
    third = received(templated)
    clock.advance(minutes=5, seconds=1)
    assert not verification.check(PHONE, third)  # expired


def test_throttles_say_how_long_to_wait(templated, clock, settings):
    verification.start(PHONE, client_ip="10.0.0.1")
    clock.advance(seconds=20)
    with pytest.raises(TooManyCodes) as raised:
        verification.start(PHONE)
    assert (raised.value.limit, raised.value.retry_after) == ("number_minute", 40)
    assert "40" in str(raised.value)
    settings.VEESING = {**settings.VEESING, "CODE_IP_HOURLY_LIMIT": 2, "CODE_NUMBER_DAILY_LIMIT": 2}
    verification.start("13800138001", client_ip="10.0.0.1")
    with pytest.raises(TooManyCodes) as raised:
        verification.start("13800138002", client_ip="10.0.0.1")
    assert raised.value.limit == "ip_hour" and 3500 < raised.value.retry_after <= 3600
    clock.advance(seconds=61)
    verification.start(PHONE)
    clock.advance(seconds=61)
    with pytest.raises(TooManyCodes) as raised:
        verification.start(PHONE)
    assert raised.value.limit == "number_day"
    settings.VEESING = {**settings.VEESING, "CODE_SITE_MINUTE_LIMIT": 1}
    verification.start("13900139001")
    with pytest.raises(TooManyCodes) as raised:
        verification.start("13900139000")
    assert raised.value.limit == "site_minute"
    assert not templated.record.last_text_to("13900139000")  # the provider was never called


def test_a_bad_number_is_refused_before_anything(templated):
    with pytest.raises(InvalidPhone):
        verification.start("12345")
    assert not VerificationCode.objects.exists() and not templated.record.requests


def test_a_refused_code_is_failed_and_does_not_hold_the_number(templated, clock):
    templated.inject("unknown", next_n=1, path="/smsApi/verifyCode")
    with pytest.raises(Exception, match="未知原因"):
        verification.start(PHONE)
    assert VerificationCode.objects.get().state == "failed"
    verification.start(PHONE)  # a failed code never reached the phone: no minute to wait
    assert VerificationCode.objects.filter(state="sent").count() == 1


def test_the_code_never_appears_in_logs(templated, caplog):
    with caplog.at_level(logging.DEBUG):
        verification.start(PHONE)
        code = received(templated)
        verification.check(PHONE, code)
    assert code not in caplog.text


def test_brute_force_from_many_addresses_never_passes(templated):
    verification.start(PHONE)
    code = received(templated)
    wrong = [f"{n:06d}" for n in range(200) if f"{n:06d}" != code]
    assert not any(verification.check(PHONE, guess) for guess in wrong)
    assert VerificationCode.objects.get().tries == 5  # counted up to the limit, then dead
    assert not verification.check(PHONE, code)


@hypothesis_settings(max_examples=60, deadline=None)
@given(st.text(max_size=10))
def test_only_the_code_itself_checks(guess):
    code = "482913"
    row_digest = digest(PHONE, "login", code)
    assert (row_digest == digest(PHONE, "login", guess.strip())) == (guess.strip() == code)


def test_the_login_backend_finds_the_user_by_phone(templated, settings):
    settings.AUTHENTICATION_BACKENDS = [
        "django.contrib.auth.backends.ModelBackend",
        "django_veesing.verification.backends.PhoneCodeBackend",
    ]
    settings.VEESING = {**settings.VEESING, "USER_PHONE_FIELD": "username"}
    user = User.objects.create_user(PHONE)
    verification.start(PHONE)
    code = received(templated)
    assert authenticate(None, phone="+86 13800138000", code="000000" if code != "000000" else "1") is None
    assert authenticate(None, phone=PHONE, code=code) == user
    assert authenticate(None, phone=PHONE, code=code) is None  # used


def test_the_endpoints(client, templated, clock):
    answer = client.post("/verify/start/", {"phone": "138 0013 8000"})
    assert answer.status_code == 202 and answer.json()["retry_after"] == 60
    clock.advance(seconds=15)
    again = client.post("/verify/start/", {"phone": PHONE})
    assert again.status_code == 429 and again.json()["retry_after"] == 45 and again["Retry-After"] == "45"
    assert again.json()["limit"] == "number_minute"
    bad = client.post("/verify/start/", {"phone": "12345"})
    assert bad.status_code == 400 and "phone" in bad.json()
    code = received(templated)
    assert client.post("/verify/check/", {"phone": PHONE, "code": "12"}).status_code == 400
    wrong = client.post("/verify/check/", {"phone": PHONE, "code": "000000" if code != "000000" else "111111"})
    assert wrong.status_code == 400 and wrong.json()["valid"] is False
    right = client.post("/verify/check/", {"phone": PHONE, "code": code})
    assert right.status_code == 200 and right.json() == {"valid": True}


def test_the_expiry_is_the_ttl(templated, clock, settings):
    settings.VEESING = {**settings.VEESING, "CODE_TTL": 120}
    row = verification.start(PHONE)
    assert row.expires_at - row.created_at == dt.timedelta(seconds=120)


def test_the_admin_shows_a_code_row_but_never_the_code(templated, admin_client):
    row = verification.start(PHONE)
    code = received(templated)
    for address in (
        "/admin/django_veesing/verificationcode/",
        f"/admin/django_veesing/verificationcode/{row.pk}/change/",
    ):
        page = admin_client.get(address).content.decode()
        assert PHONE in page and code not in page.replace(PHONE, "") and row.digest not in page


def test_an_unsigned_text_is_refused_before_anything(simulator, clock):
    from django_veesing.exceptions import ContentError

    with pytest.raises(ContentError, match="signature"):
        verification.start(PHONE)
    assert not VerificationCode.objects.exists() and not simulator.record.requests


@hypothesis_settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(code=st.text("0123456789", min_size=6, max_size=6), guess=st.text(max_size=12))
def test_check_passes_the_code_itself_once_and_nothing_else(clock, code, guess):
    VerificationCode.objects.all().delete()
    VerificationCode.objects.create(
        phone=PHONE,
        digest=digest(PHONE, "login", code),
        account="default",
        state="sent",
        expires_at=clock() + dt.timedelta(minutes=5),
    )
    right = guess.strip() == code
    assert verification.check(PHONE, guess) is right
    assert verification.check(PHONE, code) is (not right)  # a right code is used up at once


def test_the_endpoints_are_described_in_openapi(client):
    schema = client.get("/verify/schema/").json()
    paths = schema["paths"]
    assert set(paths) == {"/start/", "/check/"}  # relative to where the project includes them
    assert set(paths["/start/"]["post"]["responses"]) == {"202", "400", "429", "502", "503"}
    assert set(paths["/check/"]["post"]["responses"]) == {"200", "400"}
    components = schema["components"]["schemas"]
    assert {"phone", "purpose"} <= set(components["Start"]["properties"])
    assert {"phone", "code", "purpose"} <= set(components["Check"]["properties"])


def test_wrong_codes_from_many_addresses_never_pass_and_kill_the_code(client, templated):
    assert client.post("/verify/start/", {"phone": PHONE}).status_code == 202
    code = received(templated)
    guesses = [f"{n:06d}" for n in range(1, 60) if f"{n:06d}" != code]
    for n, guess in enumerate(guesses):
        answer = client.post(
            "/verify/check/", {"phone": PHONE, "code": guess}, REMOTE_ADDR=f"10.0.{n // 250}.{n % 250}"
        )
        assert answer.status_code == 400
    assert client.post("/verify/check/", {"phone": PHONE, "code": code}, REMOTE_ADDR="10.9.9.9").status_code == 400


def test_behind_a_proxy_the_address_throttle_counts_each_visitor(client, templated, settings):
    settings.VEESING = {**settings.VEESING, "CALLBACK_PROXY_COUNT": 1, "CODE_IP_HOURLY_LIMIT": 1}
    nginx = {"REMOTE_ADDR": "127.0.0.1"}
    first = client.post("/verify/start/", {"phone": PHONE}, HTTP_X_FORWARDED_FOR="203.0.113.7", **nginx)
    other = client.post("/verify/start/", {"phone": "13900139000"}, HTTP_X_FORWARDED_FOR="203.0.113.8", **nginx)
    again = client.post("/verify/start/", {"phone": "13700137000"}, HTTP_X_FORWARDED_FOR="203.0.113.7", **nginx)
    assert (first.status_code, other.status_code, again.status_code) == (202, 202, 429)
    assert again.json()["limit"] == "ip_hour"
    assert set(VerificationCode.objects.values_list("client_ip", flat=True)) == {"203.0.113.7", "203.0.113.8"}
