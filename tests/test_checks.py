"""Each system check, by its stable id."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.checks import Error, Warning

from django_veesing.checks import check_veesing_settings

GOOD = {
    "APP_ID": "2RYN7CQHL1M00000",
    "APP_KEY": "WVNA4A000000",
    "API_URL": "https://vip.veesing.com",
    "CALLBACK_TOKEN": "a-long-enough-token-123",
}


def ids(settings, veesing, debug=False):
    settings.VEESING = veesing
    settings.DEBUG = debug
    return sorted(message.id for message in check_veesing_settings())


def test_good_settings_pass(settings):
    assert ids(settings, GOOD) == []
    assert ids(settings, {**GOOD, "BATCH_SIZE": 100_000, "TIMEOUT": 2.5, "CALLBACK_TOKEN": ["a" * 16, "b" * 20]}) == []


def test_not_a_dict(settings):
    assert ids(settings, ["APP_ID"]) == ["veesing.E001"]


def test_unknown_key_suggests_the_right_one(settings):
    settings.VEESING = {**GOOD, "BATCH_SIZ": 10}
    (message,) = check_veesing_settings()
    assert message.id == "veesing.E002" and isinstance(message, Error)
    assert "BATCH_SIZE" in message.hint


@pytest.mark.parametrize("missing", ["APP_ID", "APP_KEY"])
def test_missing_credentials_warn(settings, missing):
    veesing = {k: v for k, v in GOOD.items() if k != missing}
    settings.VEESING = veesing
    (message,) = check_veesing_settings()
    assert message.id == "veesing.W001" and isinstance(message, Warning)
    assert missing in message.msg


def test_missing_callback_token_warns(settings):
    assert ids(settings, {k: v for k, v in GOOD.items() if k != "CALLBACK_TOKEN"}) == ["veesing.W002"]


@pytest.mark.parametrize("token", ["short", ["a" * 16, "tooshort"], 12345, [None]])
def test_weak_or_malformed_callback_token(settings, token):
    assert ids(settings, {**GOOD, "CALLBACK_TOKEN": token}) == ["veesing.E003"]


@pytest.mark.parametrize(
    "url,debug,expected",
    [
        ("http://vip.veesing.com", False, ["veesing.E004"]),
        ("http://vip.veesing.com", True, []),
        ("http://127.0.0.1:8025", False, []),
        ("http://localhost:8025", False, []),
        ("http://[::1]:8025", False, []),
        ("ftp://vip.veesing.com", True, ["veesing.E004"]),
        ("vip.veesing.com", False, ["veesing.E004"]),
    ],
)
def test_api_url_must_be_https_outside_loopback_and_debug(settings, url, debug, expected):
    assert ids(settings, {**GOOD, "API_URL": url}, debug=debug) == expected


@pytest.mark.parametrize("size", [0, 100_001, "1000", 1.5, True, -3])
def test_batch_size_range(settings, size):
    assert ids(settings, {**GOOD, "BATCH_SIZE": size}) == ["veesing.E005"]


@pytest.mark.parametrize("key", ["TIMEOUT", "CONNECT_TIMEOUT"])
@pytest.mark.parametrize("value", [0, -1, "10", None])
def test_timeouts_positive(settings, key, value):
    assert ids(settings, {**GOOD, key: value}) == ["veesing.E006"]


def test_checks_are_registered_with_django(settings):
    from django.core import checks

    settings.VEESING = {**GOOD, "BATCH_SIZE": 0}
    assert "veesing.E005" in [m.id for m in checks.run_checks()]


@pytest.mark.parametrize("hours", [("20:00",), ("25:00", "08:00"), "20:00-08:00", ("20:00", 8), 5])
def test_quiet_hours_must_be_a_pair_of_times(settings, hours):
    assert ids(settings, {**GOOD, "QUIET_HOURS": hours}) == ["veesing.E007"]


@pytest.mark.parametrize("hours", [None, ("21:30", "08:00"), ["00:00", "23:59"]])
def test_quiet_hours_accepted(settings, hours):
    assert ids(settings, {**GOOD, "QUIET_HOURS": hours}) == []


@pytest.mark.parametrize("signature", ["维信科技", "【维】", "【维信科技维信科技维信科技】", 12])
def test_signature_in_brackets(settings, signature):
    settings.VEESING = {**GOOD, "SIGNATURE": signature}
    (message,) = check_veesing_settings()
    assert message.id == "veesing.E008" and "【维信科技】" in message.hint


@pytest.mark.parametrize("key", ["OPT_OUT_PHRASES", "OPT_OUT_KEYWORDS"])
@pytest.mark.parametrize("value", ["退订", ["T", ""], [None], None])
def test_opt_out_texts_are_a_list_of_texts(settings, key, value):
    assert ids(settings, {**GOOD, key: value}) == ["veesing.E009"]


def test_callback_allowlist_names_each_bad_entry(settings):
    settings.VEESING = {**GOOD, "CALLBACK_ALLOWED_IPS": ["203.0.113.7", "203.0.113.0/24", "not-an-ip", "::1"]}
    (message,) = check_veesing_settings()
    assert message.id == "veesing.E010" and "'not-an-ip'" in message.msg
    assert ids(settings, {**GOOD, "CALLBACK_ALLOWED_IPS": "203.0.113.7"}) == []


@pytest.mark.parametrize(
    "key,value",
    [
        ("CALLBACK_PROXY_COUNT", -1),
        ("CALLBACK_PROXY_COUNT", 11),
        ("CALLBACK_MAX_BODY", 100),
        ("CALLBACK_MAX_BODY", "65536"),
        ("CELERY_FAN_OUT", 0),
        ("CELERY_FAN_OUT", True),
    ],
)
def test_whole_numbers_in_range(settings, key, value):
    settings.VEESING = {**GOOD, key: value}
    (message,) = check_veesing_settings()
    assert message.id == "veesing.E011" and key in message.msg


def test_a_clock_may_be_a_callable_or_its_dotted_path(settings):
    assert ids(settings, {**GOOD, "CLOCK": "django.utils.timezone.now"}) == []
    assert ids(settings, {**GOOD, "CLOCK": lambda: dt.datetime.now(dt.UTC)}) == []


@pytest.mark.parametrize(
    "clock,said",
    [
        ("myproject.nowhere.now", "cannot be imported"),
        (42, "cannot be called"),
        (dt.datetime.now, "not an aware datetime"),  # naive
        ("time.time", "not an aware datetime"),
    ],
)
def test_a_clock_that_cannot_tell_aware_time_is_refused(settings, clock, said):
    settings.VEESING = {**GOOD, "CLOCK": clock}
    (message,) = check_veesing_settings()
    assert message.id == "veesing.E012" and said in message.msg


@pytest.mark.parametrize("price", ["0.045", 0, Decimal("0.05"), None])
def test_a_price_per_message_in_yuan(settings, price):
    assert ids(settings, {**GOOD, "PRICE_PER_MESSAGE": price}) == []


@pytest.mark.parametrize("price", ["4.5分", "-0.04", 0.045, True, "NaN"])
def test_a_price_that_is_not_yuan_as_text_is_refused(settings, price):
    settings.VEESING = {**GOOD, "PRICE_PER_MESSAGE": price}
    (message,) = check_veesing_settings()
    assert message.id == "veesing.E013" and repr(price) in message.msg


MARKETING = {"APP_ID": "MK000000", "APP_KEY": "MKKEY0000000"}


@pytest.mark.parametrize(
    "accounts,kinds,expected",
    [
        ({"marketing": MARKETING}, {"marketing": "marketing"}, []),
        ({"marketing": MARKETING}, {"verification": "marketing"}, []),
        ({"marketing": MARKETING}, {"otp": "default"}, ["veesing.E016"]),  # no such kind
        ({}, {"marketing": "marketing"}, ["veesing.E016"]),  # no such account
        ({"marketing": {"APP_ID": "MK000000"}}, {}, ["veesing.E015"]),  # no key
        ({"marketing": {**MARKETING, "APPKEY": "x"}}, {}, ["veesing.E015"]),  # a typo
        ({"marketing": {**MARKETING, "API_URL": "http://example.com"}}, {}, ["veesing.E015"]),  # key in clear
        (["marketing"], {}, ["veesing.E015"]),
        ({}, "marketing", ["veesing.E016"]),
    ],
)
def test_accounts_and_which_kind_uses_which(settings, accounts, kinds, expected):
    assert ids(settings, {**GOOD, "ACCOUNTS": accounts, "KIND_ACCOUNTS": kinds}) == expected


def test_an_account_check_never_shows_its_key(settings):
    settings.VEESING = {**GOOD, "ACCOUNTS": {"marketing": {"APP_ID": "MK", "APP_KEY": "s3cret-key", "X": 1}}}
    assert all("s3cret-key" not in f"{m.msg} {m.hint}" for m in check_veesing_settings())


@pytest.mark.parametrize(
    "extra,expected",
    [
        ({"VERIFY_TEXT": "您的验证码是{code}", "SIGNATURE": "【维信测试】"}, []),
        ({"VERIFY_TEXT": "【维信测试】您的验证码是{code}"}, []),
        ({"VERIFY_TEXT": "【维信测试】您的验证码"}, ["veesing.E017"]),  # no {code}
        ({"VERIFY_TEXT": "您的验证码是{code}"}, ["veesing.E017"]),  # unsigned
        ({"VERIFY_TEXT": "您的验证码是{code}", "VERIFY_TEMPLATE_ID": "36"}, []),  # the template is used
        ({"CODE_LENGTH": 3}, ["veesing.E018"]),
        ({"CODE_TTL": 0}, ["veesing.E018"]),
        ({"CODE_SITE_MINUTE_LIMIT": "60"}, ["veesing.E018"]),
    ],
)
def test_verification_code_settings(settings, extra, expected):
    assert ids(settings, {**GOOD, **extra}) == expected
