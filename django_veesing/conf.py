"""The ``VEESING`` settings dict, read lazily with its defaults in one place.

Nothing here reads ``django.conf.settings`` at import time: every property looks the
value up when it is asked for, so ``override_settings`` in tests and late configuration
in a project both work.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from .exceptions import UnknownAccountError

DEFAULT_API_URL = "https://vip.veesing.com"

#: Every key the app understands, with its default. A key outside this dict is a typo
#: (reported by the system check ``veesing.E002``).
DEFAULTS: dict[str, Any] = {
    "APP_ID": "",
    "APP_KEY": "",
    "API_URL": DEFAULT_API_URL,
    "CALLBACK_TOKEN": "",
    # Further provider accounts, by name: {"marketing": {"APP_ID": ..., "APP_KEY": ...}};
    # APP_ID/APP_KEY above are the account named "default" unless ACCOUNTS names one.
    "ACCOUNTS": {},
    # Which account each kind of text uses, e.g. {"marketing": "marketing"}; others: "default".
    "KIND_ACCOUNTS": {},
    "BATCH_SIZE": 1000,
    "TIMEOUT": 10,
    "CONNECT_TIMEOUT": 5,
    # Campaigns and sending.
    "SIGNATURE": "",  # e.g. "【你的公司】", added to texts that carry none
    "OPT_OUT_PHRASES": ["回T退订", "回TD退订", "拒收请回复R"],
    "QUIET_HOURS": ("20:00", "08:00"),  # China time; marketing waits outside 08:00-20:00
    "CHECK_BALANCE": True,  # refuse to start a campaign that costs more than the balance
    "EXPIRE_AFTER_HOURS": 72,
    "TRIAL_NUMBERS": [],  # the operators' own numbers a trial send goes to by default
    "PRICE_PER_MESSAGE": None,  # e.g. "0.045": yuan a billed message, shown beside billed counts
    # The callback.
    "CALLBACK_ALLOWED_IPS": [],  # addresses or CIDRs; empty: any address
    "CALLBACK_PROXY_COUNT": 0,  # trusted reverse proxies in front (X-Forwarded-For)
    "CALLBACK_MAX_BODY": 65536,  # bytes; a larger push is answered 413
    "OPT_OUT_KEYWORDS": ["T", "TD", "R", "退订"],
    "PREPARED_STATEMENTS": True,  # PostgreSQL (see ``prepared``); False behind PgBouncer in transaction pooling
    # Celery (optional): how many tasks share one campaign's batches.
    "CELERY_FAN_OUT": 4,
    # The app's clock (``django_veesing.clock``): None for Django's timezone.now, or a
    # callable returning an aware datetime (or its dotted path), e.g. a test's FakeClock.
    "CLOCK": None,
    # Verification codes (``django_veesing.verification``).
    "VERIFY_TEMPLATE_ID": "",  # the default account's approved template; "" sends VERIFY_TEXT by group send
    "VERIFY_TEXT": "您的验证码是{code}，{minutes}分钟内有效，请勿告诉他人。",
    "CODE_LENGTH": 6,  # digits, 4 to 8
    "CODE_TTL": 300,  # seconds a code stays valid
    "CODE_MAX_TRIES": 5,  # wrong tries that kill a code
    "CODE_NUMBER_DAILY_LIMIT": 10,  # codes a number may receive in 24 hours (and one a minute)
    "CODE_IP_HOURLY_LIMIT": 20,  # codes one client address may ask for in an hour
    "CODE_SITE_MINUTE_LIMIT": 60,  # codes the whole site may send in a minute (SMS-pumping fraud)
    "USER_PHONE_FIELD": "phone",  # the user model's field the login backend matches
}


DEFAULT_ACCOUNT = "default"


@dataclass(frozen=True)
class Account:
    """One provider account (appId/appKey) the app sends through. Its repr hides the key."""

    name: str
    app_id: str
    app_key: str = field(repr=False)
    api_url: str
    verify_template_id: str = ""


class VeesingSettings:
    """Typed, lazy access to ``settings.VEESING``."""

    @property
    def raw(self) -> dict[str, Any]:
        value = getattr(settings, "VEESING", None)
        return value if isinstance(value, dict) else {}

    def get(self, key: str) -> Any:
        return self.raw.get(key, DEFAULTS[key])

    @property
    def APP_ID(self) -> str:
        return str(self.get("APP_ID") or "")

    @property
    def APP_KEY(self) -> str:
        return str(self.get("APP_KEY") or "")

    @property
    def API_URL(self) -> str:
        return str(self.get("API_URL") or DEFAULT_API_URL).rstrip("/")

    @property
    def ACCOUNTS(self) -> dict[str, Account]:
        """Every account by name; "default" is ``APP_ID``/``APP_KEY`` unless ``ACCOUNTS`` names it."""
        configured = self.get("ACCOUNTS") or {}
        template = str(self.get("VERIFY_TEMPLATE_ID") or "")
        accounts = {DEFAULT_ACCOUNT: Account(DEFAULT_ACCOUNT, self.APP_ID, self.APP_KEY, self.API_URL, template)}
        for name, values in configured.items():
            values = values if isinstance(values, dict) else {}
            api_url = str(values.get("API_URL") or self.API_URL).rstrip("/")
            app_id, app_key = str(values.get("APP_ID") or ""), str(values.get("APP_KEY") or "")
            template = str(values.get("VERIFY_TEMPLATE_ID") or "")
            accounts[str(name)] = Account(str(name), app_id, app_key, api_url, template)
        return accounts

    def account(self, name: str | None = None) -> Account:
        """The account called ``name`` (the default one for None); ``UnknownAccountError`` if none is."""
        accounts = self.ACCOUNTS
        try:
            return accounts[name or DEFAULT_ACCOUNT]
        except KeyError:
            raise UnknownAccountError(
                _("VEESING has no account named %(account)s: add it to VEESING['ACCOUNTS'].") % {"account": repr(name)}
            ) from None

    def account_for_kind(self, kind: str) -> str:
        """The name of the account that sends texts of ``kind``."""
        return str((self.get("KIND_ACCOUNTS") or {}).get(kind) or DEFAULT_ACCOUNT)

    @property
    def CALLBACK_TOKENS(self) -> list[str]:
        """The accepted callback tokens: ``CALLBACK_TOKEN`` may be one string or a list."""
        value = self.get("CALLBACK_TOKEN")
        if not value:
            return []
        if isinstance(value, str):
            return [value]
        return [str(token) for token in value if token]

    @property
    def BATCH_SIZE(self) -> int:
        return int(self.get("BATCH_SIZE"))

    @property
    def TIMEOUT(self) -> float:
        return float(self.get("TIMEOUT"))

    @property
    def CONNECT_TIMEOUT(self) -> float:
        return float(self.get("CONNECT_TIMEOUT"))

    @property
    def SIGNATURE(self) -> str:
        return str(self.get("SIGNATURE") or "")

    @property
    def OPT_OUT_PHRASES(self) -> list[str]:
        return [str(phrase) for phrase in self.get("OPT_OUT_PHRASES") or []]

    @property
    def QUIET_HOURS(self) -> tuple[dt.time, dt.time] | None:
        """(start, end) of the quiet window in China time, or None when disabled."""
        value = self.get("QUIET_HOURS")
        if not value:
            return None
        start, end = value
        return parse_clock(start), parse_clock(end)

    @property
    def CHECK_BALANCE(self) -> bool:
        return bool(self.get("CHECK_BALANCE"))

    @property
    def TRIAL_NUMBERS(self) -> list[str]:
        return [str(number) for number in self.get("TRIAL_NUMBERS") or []]

    @property
    def PRICE_PER_MESSAGE(self) -> Decimal | None:
        """Yuan a billed message costs, or None when not set (no money is shown then)."""
        value = self.get("PRICE_PER_MESSAGE")
        return None if value is None else Decimal(str(value))

    @property
    def EXPIRE_AFTER_HOURS(self) -> float:
        return float(self.get("EXPIRE_AFTER_HOURS"))

    @property
    def CALLBACK_ALLOWED_IPS(self) -> list[str]:
        return [str(entry) for entry in self.get("CALLBACK_ALLOWED_IPS") or []]

    @property
    def CALLBACK_PROXY_COUNT(self) -> int:
        return int(self.get("CALLBACK_PROXY_COUNT") or 0)

    @property
    def CALLBACK_MAX_BODY(self) -> int:
        return int(self.get("CALLBACK_MAX_BODY"))

    @property
    def OPT_OUT_KEYWORDS(self) -> list[str]:
        return [str(word) for word in self.get("OPT_OUT_KEYWORDS") or []]

    @property
    def PREPARED_STATEMENTS(self) -> bool:
        return bool(self.get("PREPARED_STATEMENTS"))

    @property
    def VERIFY_TEXT(self) -> str:
        return str(self.get("VERIFY_TEXT"))

    @property
    def CODE_LENGTH(self) -> int:
        return int(self.get("CODE_LENGTH"))

    @property
    def CODE_TTL(self) -> dt.timedelta:
        return dt.timedelta(seconds=float(self.get("CODE_TTL")))

    @property
    def CODE_MAX_TRIES(self) -> int:
        return int(self.get("CODE_MAX_TRIES"))

    @property
    def CODE_LIMITS(self) -> dict[str, int]:
        """The throttles of verification codes: per number a day, per address an hour, the
        site a minute."""
        return {
            "number_day": int(self.get("CODE_NUMBER_DAILY_LIMIT")),
            "ip_hour": int(self.get("CODE_IP_HOURLY_LIMIT")),
            "site_minute": int(self.get("CODE_SITE_MINUTE_LIMIT")),
        }

    @property
    def USER_PHONE_FIELD(self) -> str:
        return str(self.get("USER_PHONE_FIELD"))

    @property
    def CELERY_FAN_OUT(self) -> int:
        return int(self.get("CELERY_FAN_OUT"))


def parse_clock(value: str | dt.time) -> dt.time:
    """``"20:00"`` (or a ``datetime.time``) as a ``datetime.time``; ValueError if malformed."""
    if isinstance(value, dt.time):
        return value
    return dt.datetime.strptime(str(value).strip(), "%H:%M").time()


veesing_settings = VeesingSettings()
