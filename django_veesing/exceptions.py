"""Every error django-veesing raises.

``VeesingError`` is the base. A refusal by the provider is a ``ProviderError`` subclass
chosen from the provider's message; a failure to get a readable answer at all is a
``TransportError``, whose ``maybe_sent`` says whether the provider may have acted on the
request. None of them ever holds the app key.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import ImproperlyConfigured


class VeesingError(Exception):
    """Base class. Carries the provider's message and its raw response, if there was one."""

    def __init__(self, message: str, *, response: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.response = response

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigurationError(VeesingError, ImproperlyConfigured):
    """The ``VEESING`` settings do not allow the requested call."""


class UnknownAccountError(ConfigurationError):
    """No provider account of that name in ``VEESING['ACCOUNTS']``."""


class UnknownKindError(VeesingError, ValueError):
    """A kind of text the app does not know (marketing, notification ...)."""


class InvalidRequest(VeesingError, ValueError):
    """Refused before any request was made: the input cannot be sent as it is."""

    def __init__(self, message: str, *, bad_numbers: list[str] | None = None) -> None:
        super().__init__(message)
        self.bad_numbers = bad_numbers or []


class TransportError(VeesingError):
    """No readable answer from the provider.

    ``maybe_sent`` is False only when the request certainly never reached the provider
    (the connection could not be made); otherwise the provider may have sent the
    messages, and resending could deliver them twice.
    """

    def __init__(self, message: str, *, maybe_sent: bool, response: Any = None) -> None:
        super().__init__(message, response=response)
        self.maybe_sent = maybe_sent

    def __repr__(self) -> str:
        return f"TransportError({self.message!r}, maybe_sent={self.maybe_sent})"


class ProviderError(VeesingError):
    """The provider answered and refused (``returnStatus`` 0).

    ``scope`` says what the refusal concerns: ``"account"`` (nothing will go out until
    someone fixes the account), ``"numbers"`` (this batch's numbers), or ``"request"``
    (the request itself, or a cause the provider did not name).
    """

    scope = "request"


class AuthenticationError(ProviderError):
    """账号或密码错误 — the app id or key is wrong."""

    scope = "account"


class AccountLockedError(ProviderError):
    """您的账户已被锁定，请联系您的专属客服 — the account is locked."""

    scope = "account"


class InsufficientBalanceError(ProviderError):
    """余额不足 — the account's balance is too low."""

    scope = "account"


class IPNotAllowedError(ProviderError):
    """IP受限 — this server's address is not on the account's allowlist."""

    scope = "account"


class InvalidNumberError(ProviderError):
    """手机号码格式不正确 — a number of the batch is malformed."""

    scope = "numbers"


class RateLimitError(ProviderError):
    """A frequency or volume limit: per number per minute, per number per day, or the
    account's daily volume (whose ``scope`` is ``"account"``: nothing more goes out today)."""

    scope = "numbers"


class MissingParameterError(ProviderError):
    """缺少参数 — a required field was missing."""


class TemplateError(ProviderError):
    """模板不存在或者未通过 / 模板id格式不正确 — a template problem."""


class UnknownProviderError(ProviderError):
    """未知原因，请联系客服, or any message outside the provider's documented tables."""


def _key(message: str) -> str:
    # The provider's punctuation varies between full and half width; NFKC folds both.
    return unicodedata.normalize("NFKC", message).strip()


REFUSALS: dict[str, type[ProviderError]] = {
    _key(message): cls
    for message, cls in [
        ("账号或密码错误", AuthenticationError),
        ("您的账户已被锁定，请联系您的专属客服", AccountLockedError),
        ("余额不足", InsufficientBalanceError),
        ("IP受限", IPNotAllowedError),
        ("手机号码格式不正确", InvalidNumberError),
        ("该号码今日发送次数已达上限", RateLimitError),
        ("相同手机号码一分钟之内只可发送一次", RateLimitError),
        ("当日发送量已超出最大发送限制", RateLimitError),
        ("缺少参数", MissingParameterError),
        ("模板不存在或者未通过", TemplateError),
        ("模板id格式不正确", TemplateError),
        ("未知原因，请联系客服", UnknownProviderError),
    ]
}


ACCOUNT_DAILY_LIMIT = _key("当日发送量已超出最大发送限制")


def refusal_for(message: str, response: Any = None) -> ProviderError:
    """The exception that stands for the provider's refusal ``message``."""
    key = _key(message or "")
    error = REFUSALS.get(key, UnknownProviderError)(message or "returnStatus 0 without a message", response=response)
    if key == ACCOUNT_DAILY_LIMIT:
        error.scope = "account"
    return error


class CampaignStateError(VeesingError):
    """The campaign is not in a state that allows this (e.g. adding numbers once sent)."""


class TooManyCodes(VeesingError):
    """A verification code refused by a throttle: ``retry_after`` says in how many seconds
    one may be asked for again; ``limit`` which throttle (``number_minute``, ``number_day``,
    ``ip_hour``, ``site_minute``)."""

    def __init__(self, message: str, *, retry_after: int, limit: str) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.limit = limit


class ContentError(VeesingError, ValueError):
    """The text breaks the content rules; ``problems`` lists every message."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = problems


class ValuesError(VeesingError, ValueError):
    """A personalised campaign's import refused as a whole (nothing of it was stored):
    ``rows`` holds the first refused rows (``InvalidEntry``: entry, reason, line) and
    ``count`` how many there were in all."""

    def __init__(self, message: str, rows: list[Any] | None = None, count: int = 0) -> None:
        super().__init__(message)
        self.rows = rows or []
        self.count = count or len(self.rows)
