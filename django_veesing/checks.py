"""System checks for the ``VEESING`` settings, each with a stable id.

========  =================================================================
id        what it guards
========  =================================================================
E001      ``VEESING`` is not a dict
E002      a key in ``VEESING`` that the app does not know (a typo)
W001      ``APP_ID`` or ``APP_KEY`` missing: nothing can be sent
W002      ``CALLBACK_TOKEN`` missing: receipts and replies cannot be received
E003      ``CALLBACK_TOKEN`` shorter than 16 characters, or not text
E004      ``API_URL`` not https (allowed for loopback addresses and under DEBUG)
E005      ``BATCH_SIZE`` not a whole number from 1 to 100,000
E006      ``TIMEOUT`` or ``CONNECT_TIMEOUT`` not a positive number
E007      ``QUIET_HOURS`` not None nor a pair of "HH:MM" times
E008      ``SIGNATURE`` not a 【signature】 of 2 to 10 characters
E009      ``OPT_OUT_PHRASES`` or ``OPT_OUT_KEYWORDS`` not a list of texts
E010      ``CALLBACK_ALLOWED_IPS`` has an entry that is not an address or network
E011      ``CALLBACK_PROXY_COUNT``, ``CALLBACK_MAX_BODY`` or ``CELERY_FAN_OUT`` not a whole number in range
E012      ``CLOCK`` not a callable, nor the dotted path of one, that returns an aware datetime
E013      ``PRICE_PER_MESSAGE`` not None nor a price in yuan written as text ("0.045")
E014      ``TRIAL_NUMBERS`` not a list of at most 10 mainland mobile numbers
E015      ``ACCOUNTS`` not a dict of named accounts, each with its ``APP_ID`` and ``APP_KEY``
          (and an https ``API_URL``, if it has its own)
E016      ``KIND_ACCOUNTS`` names a kind the app does not know, or an account ``ACCOUNTS`` lacks
E017      ``VERIFY_TEXT`` (once set) has no ``{code}``, or, signed, breaks the content rules
E018      ``CODE_LENGTH`` not 4–8, or ``CODE_TTL``, ``CODE_MAX_TRIES`` or a ``CODE_…_LIMIT`` not a
          positive whole number
========  =================================================================
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.utils import timezone
from django.utils.module_loading import import_string

from .conf import DEFAULTS, parse_clock
from .rules.addresses import is_loopback
from .rules.content import SIGNATURE
from .rules.phones import InvalidPhone, normalise

MIN_TOKEN_LENGTH = 16
MAX_BATCH_SIZE = 100_000


@register(Tags.compatibility)
def check_veesing_settings(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    config = getattr(settings, "VEESING", {})
    if not isinstance(config, dict):
        return [
            Error(
                "The VEESING setting must be a dict.",
                hint="Write VEESING = {'APP_ID': ..., 'APP_KEY': ..., ...} in your settings.",
                id="veesing.E001",
            )
        ]
    messages: list[CheckMessage] = []
    for check in (
        _unknown_keys,
        _credentials,
        _callback_token,
        _api_url,
        _batch_size,
        _timeouts,
        _quiet_hours,
        _signature,
        _opt_out_phrases,
        _callback_addresses,
        _callback_numbers,
        _clock,
        _price,
        _trial_numbers,
        _accounts,
        _kind_accounts,
        _verify_text,
        _code_numbers,
    ):
        messages.extend(check(config))
    return messages


def _unknown_keys(config: dict[str, Any]) -> Iterable[CheckMessage]:
    for key in sorted(set(config) - set(DEFAULTS)):
        close = difflib.get_close_matches(str(key), DEFAULTS, n=1)
        hint = f"Did you mean {close[0]!r}?" if close else f"Known keys: {', '.join(DEFAULTS)}."
        yield Error(f"VEESING has an unknown key {key!r}.", hint=hint, id="veesing.E002")


def _credentials(config: dict[str, Any]) -> Iterable[CheckMessage]:
    missing = [key for key in ("APP_ID", "APP_KEY") if not config.get(key)]
    if missing:
        yield Warning(
            f"VEESING has no {' or '.join(missing)}: no message can be sent.",
            hint="Copy the account id and key from the Veesing console (首页 → 账号信息).",
            id="veesing.W001",
        )


def _callback_token(config: dict[str, Any]) -> Iterable[CheckMessage]:
    value = config.get("CALLBACK_TOKEN")
    if not value:
        yield Warning(
            "VEESING has no CALLBACK_TOKEN: delivery receipts and replies cannot be received.",
            hint="Set a random string of 16 or more characters, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(24))'`.",
            id="veesing.W002",
        )
        return
    tokens = [value] if isinstance(value, str) else value
    if not isinstance(tokens, (list, tuple)) or not all(isinstance(t, str) for t in tokens):
        yield Error(
            "VEESING['CALLBACK_TOKEN'] must be a string or a list of strings.",
            id="veesing.E003",
        )
        return
    if any(len(token) < MIN_TOKEN_LENGTH for token in tokens):
        yield Error(
            f"VEESING['CALLBACK_TOKEN'] is shorter than {MIN_TOKEN_LENGTH} characters: "
            "anyone could guess the callback address.",
            hint="Use a random string of 16 or more characters.",
            id="veesing.E003",
        )


def _api_url(config: dict[str, Any]) -> Iterable[CheckMessage]:
    url = config.get("API_URL", DEFAULTS["API_URL"])
    parts = urlsplit(str(url))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        yield Error(f"VEESING['API_URL'] is not a URL: {url!r}.", id="veesing.E004")
    elif parts.scheme != "https" and not settings.DEBUG and not is_loopback(parts.hostname):
        yield Error(
            "VEESING['API_URL'] does not use https: the app key would cross the network in clear text.",
            hint="Use https://vip.veesing.com (plain http is only allowed for loopback "
            "addresses, e.g. the simulator, or under DEBUG).",
            id="veesing.E004",
        )


def _batch_size(config: dict[str, Any]) -> Iterable[CheckMessage]:
    size = config.get("BATCH_SIZE", DEFAULTS["BATCH_SIZE"])
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_BATCH_SIZE:
        yield Error(
            f"VEESING['BATCH_SIZE'] must be a whole number from 1 to {MAX_BATCH_SIZE:,}; it is {size!r}.",
            hint="1000 is a safe size; the provider's console refuses more than 100,000.",
            id="veesing.E005",
        )


def _timeouts(config: dict[str, Any]) -> Iterable[CheckMessage]:
    for key in ("TIMEOUT", "CONNECT_TIMEOUT"):
        value = config.get(key, DEFAULTS[key])
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            yield Error(
                f"VEESING[{key!r}] must be a positive number of seconds; it is {value!r}.",
                id="veesing.E006",
            )


def _quiet_hours(config: dict[str, Any]) -> Iterable[CheckMessage]:
    value = config.get("QUIET_HOURS", DEFAULTS["QUIET_HOURS"])
    if value is None:
        return
    try:
        start, end = value
        parse_clock(start), parse_clock(end)
    except (TypeError, ValueError):
        yield Error(
            f"VEESING['QUIET_HOURS'] must be None or a pair of China times; it is {value!r}.",
            hint='For example ("20:00", "08:00"): marketing texts wait outside 08:00-20:00.',
            id="veesing.E007",
        )


def _signature(config: dict[str, Any]) -> Iterable[CheckMessage]:
    value = config.get("SIGNATURE", "")
    if value and (not isinstance(value, str) or not SIGNATURE.fullmatch(value)):
        yield Error(
            f"VEESING['SIGNATURE'] must be a signature in 【】 of 2 to 10 characters; it is {value!r}.",
            hint="For example 【维信科技】, as registered in the Veesing console.",
            id="veesing.E008",
        )


def _opt_out_phrases(config: dict[str, Any]) -> Iterable[CheckMessage]:
    for key, example in (("OPT_OUT_PHRASES", "回T退订"), ("OPT_OUT_KEYWORDS", "退订")):
        value = config.get(key, DEFAULTS[key])
        if not isinstance(value, (list, tuple)) or not all(isinstance(p, str) and p for p in value):
            yield Error(f"VEESING[{key!r}] must be a list of texts such as {example}.", id="veesing.E009")


def _callback_addresses(config: dict[str, Any]) -> Iterable[CheckMessage]:
    entries = config.get("CALLBACK_ALLOWED_IPS", [])
    if not isinstance(entries, (list, tuple)):
        entries = [entries]
    for entry in entries:
        try:
            ipaddress.ip_network(str(entry), strict=False)
        except ValueError:
            yield Error(
                f"VEESING['CALLBACK_ALLOWED_IPS'] has {entry!r}, which is not an address or network.",
                hint="Use addresses such as '203.0.113.7' or networks such as '203.0.113.0/24'.",
                id="veesing.E010",
            )


def _callback_numbers(config: dict[str, Any]) -> Iterable[CheckMessage]:
    for key, low, high in (
        ("CALLBACK_PROXY_COUNT", 0, 10),
        ("CALLBACK_MAX_BODY", 1024, 10 * 1024 * 1024),
        ("CELERY_FAN_OUT", 1, 256),
    ):
        value = config.get(key, DEFAULTS[key])
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            yield Error(
                f"VEESING[{key!r}] must be a whole number from {low} to {high}; it is {value!r}.",
                id="veesing.E011",
            )


def _clock(config: dict[str, Any]) -> Iterable[CheckMessage]:
    value = config.get("CLOCK")
    if value is None:
        return
    hint = "Leave CLOCK out for Django's timezone.now, or name a function that returns timezone-aware datetimes."
    try:
        clock = import_string(value) if isinstance(value, str) else value
    except ImportError as error:
        yield Error(f"VEESING['CLOCK'] cannot be imported: {error}.", hint=hint, id="veesing.E012")
        return
    try:
        instant = clock()
    except Exception as error:  # whatever it is, the app cannot tell the time with it
        yield Error(f"VEESING['CLOCK'] cannot be called: {error!r}.", hint=hint, id="veesing.E012")
        return
    if not isinstance(instant, dt.datetime) or timezone.is_naive(instant):
        yield Error(f"VEESING['CLOCK'] returned {instant!r}, not an aware datetime.", hint=hint, id="veesing.E012")


def _price(config: dict[str, Any]) -> Iterable[CheckMessage]:
    value = config.get("PRICE_PER_MESSAGE")
    if value is None:
        return
    hint = 'Write the price of one billed message in yuan as text, e.g. "0.045", or leave it out.'
    try:
        price = Decimal(value) if isinstance(value, (str, int, Decimal)) and not isinstance(value, bool) else None
    except InvalidOperation:
        price = None
    if price is None or not price.is_finite() or price < 0:
        yield Error(f"VEESING['PRICE_PER_MESSAGE'] is {value!r}, not a price in yuan.", hint=hint, id="veesing.E013")


def _trial_numbers(config: dict[str, Any]) -> Iterable[CheckMessage]:
    value = config.get("TRIAL_NUMBERS", [])
    hint = 'A list of your own mobile numbers, e.g. ["13800138000"], at most 10.'
    if not isinstance(value, (list, tuple)) or len(value) > 10:
        yield Error(
            f"VEESING['TRIAL_NUMBERS'] is {value!r}, not a list of up to 10 numbers.", hint=hint, id="veesing.E014"
        )
        return
    for number in value:
        try:
            normalise(str(number))
        except InvalidPhone as reason:
            yield Error(f"VEESING['TRIAL_NUMBERS'] has {number!r}: {reason.code}.", hint=hint, id="veesing.E014")


ACCOUNT_KEYS = {"APP_ID", "APP_KEY", "API_URL", "VERIFY_TEMPLATE_ID"}


def _accounts(config: dict[str, Any]) -> Iterable[CheckMessage]:
    accounts = config.get("ACCOUNTS", DEFAULTS["ACCOUNTS"])
    hint = 'For example {"marketing": {"APP_ID": "...", "APP_KEY": "..."}}: one entry per account of the console.'
    if not isinstance(accounts, dict):
        yield Error(
            f"VEESING['ACCOUNTS'] must be a dict of accounts; it is {accounts!r}.", hint=hint, id="veesing.E015"
        )
        return
    for name, values in accounts.items():
        where = f"VEESING['ACCOUNTS'][{name!r}]"
        if not isinstance(name, str) or not name or not isinstance(values, dict):
            yield Error(f"{where} must be named by a text and be a dict.", hint=hint, id="veesing.E015")
            continue
        unknown = sorted(set(values) - ACCOUNT_KEYS)
        if unknown:
            yield Error(f"{where} has unknown keys: {', '.join(unknown)}.", hint=hint, id="veesing.E015")
        missing = [key for key in ("APP_ID", "APP_KEY") if not values.get(key)]
        if missing:
            yield Error(f"{where} has no {' or '.join(missing)}.", hint=hint, id="veesing.E015")
        if "API_URL" in values:
            for problem in _api_url({"API_URL": values["API_URL"]}):
                yield Error(f"{where}: {problem.msg}", hint=problem.hint, id="veesing.E015")


def _kind_accounts(config: dict[str, Any]) -> Iterable[CheckMessage]:
    from .models.choices import CampaignKind

    chosen = config.get("KIND_ACCOUNTS", DEFAULTS["KIND_ACCOUNTS"])
    if not isinstance(chosen, dict):
        yield Error(f"VEESING['KIND_ACCOUNTS'] must be a dict; it is {chosen!r}.", id="veesing.E016")
        return
    configured = config.get("ACCOUNTS")
    accounts: dict[str, Any] = configured if isinstance(configured, dict) else {}
    for kind, account in chosen.items():
        if kind not in [*CampaignKind.values, "verification"]:
            yield Error(
                f"VEESING['KIND_ACCOUNTS'] names an unknown kind {kind!r}.",
                hint=f"Kinds: {', '.join(CampaignKind.values)}, verification.",
                id="veesing.E016",
            )
        if account != "default" and account not in accounts:
            yield Error(
                f"VEESING['KIND_ACCOUNTS'][{kind!r}] is {account!r}, which VEESING['ACCOUNTS'] does not name.",
                hint="Add the account to VEESING['ACCOUNTS'], or use \"default\".",
                id="veesing.E016",
            )


def _verify_text(config: dict[str, Any]) -> Iterable[CheckMessage]:
    """Checked once a project sets it (codes sent by group send need it signed)."""
    from .rules.content import check as check_content

    if "VERIFY_TEXT" not in config:
        return
    text = config["VERIFY_TEXT"]
    hint = 'For example "您的验证码是{code}，{minutes}分钟内有效。"'
    if not isinstance(text, str) or "{code}" not in text:
        yield Error(
            f"VEESING['VERIFY_TEXT'] must be a text with {{code}}; it is {text!r}.", hint=hint, id="veesing.E017"
        )
        return
    sample = text.replace("{code}", "123456").replace("{minutes}", "5")
    report = check_content(sample, marketing=False, default_signature=str(config.get("SIGNATURE") or ""))
    if not report.ok and not (config.get("VERIFY_TEMPLATE_ID") or ""):
        yield Error(
            f"VEESING['VERIFY_TEXT'] breaks the content rules: {' '.join(report.messages())}",
            hint="Set SIGNATURE, or sign the text, or send codes through an approved VERIFY_TEMPLATE_ID.",
            id="veesing.E017",
        )


CODE_RANGES = {
    "CODE_LENGTH": (4, 8),
    "CODE_TTL": (30, 86_400),
    "CODE_MAX_TRIES": (1, 100),
    "CODE_NUMBER_DAILY_LIMIT": (1, 1_000),
    "CODE_IP_HOURLY_LIMIT": (1, 1_000_000),
    "CODE_SITE_MINUTE_LIMIT": (1, 1_000_000),
}


def _code_numbers(config: dict[str, Any]) -> Iterable[CheckMessage]:
    for key, (low, high) in CODE_RANGES.items():
        value = config.get(key, DEFAULTS[key])
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            yield Error(
                f"VEESING[{key!r}] must be a whole number from {low} to {high}; it is {value!r}.", id="veesing.E018"
            )
