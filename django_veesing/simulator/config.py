"""Everything about the simulator that can be set, in one dataclass.

Each field's ``help`` becomes the ``--flag`` of ``manage.py veesing_simulator``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

DEFAULT_REPLY_TEXTS = ("收到", "好的", "T", "退订")
DEFAULT_FAILURE_CODES = ("MA:0001", "MK:0011", "UNDELIV")


def _opt(default: Any, help: str, **extra: Any) -> Any:
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata={"help": help, **extra})
    return field(default=default, metadata={"help": help, **extra})


@dataclass
class SimulatorConfig:
    # The account.
    app_id: str | None = _opt(None, "account id accepted (default: VEESING['APP_ID'])")
    app_key: str | None = _opt(None, "account key accepted (default: VEESING['APP_KEY'])")
    balance: int = _opt(1_000_000, "starting balance, in messages")
    accounts: tuple[str, ...] = _opt((), "further accounts served, as appId:appKey (each with its own balance)")
    locked: bool = _opt(False, "answer every call with 您的账户已被锁定")
    ip_allowlist: tuple[str, ...] = _opt((), "caller addresses allowed (empty: any); others get IP受限")
    max_numbers: int = _opt(100_000, "most numbers one request may carry (more: 参数错误)")
    per_minute_limit: bool = _opt(True, "refuse a number sent to less than a minute ago")
    per_number_daily_cap: int = _opt(0, "sends per number per China day (0: no cap)")
    account_daily_cap: int = _opt(0, "numbers per account per China day (0: no cap)")
    return_status: str = _opt("1 ", "returnStatus of a success: '1 ' as documented, or '1'")
    templates: tuple[str, ...] = _opt(
        ("36=您的验证码是{1}，5分钟内有效",), "verification templates served, as id=text with {1}, {2} … for the values"
    )
    verify_status: str = _opt("2000", "returnStatus of a verification code sent: '2000' (the provider's sample) or '1'")
    # Pushes.
    callback_url: str | None = _opt(None, "address that receives delivery receipts")
    reply_callback_url: str | None = _opt(None, "address that receives replies (default: --callback-url)")
    push_delay: float = _opt(1.0, "seconds from an accepted send to its receipts")
    delivered_ratio: float = _opt(0.95, "share of numbers whose receipt says delivered")
    reply_ratio: float = _opt(0.05, "share of delivered numbers that reply")
    reply_texts: tuple[str, ...] = _opt(DEFAULT_REPLY_TEXTS, "texts replies are drawn from")
    failure_codes: tuple[str, ...] = _opt(DEFAULT_FAILURE_CODES, "codes of failed receipts")
    duplicate_rate: float = _opt(0.0, "share of pushes sent a second time")
    reorder_rate: float = _opt(0.0, "share of pushes held back so they arrive out of order")
    reorder_window: float = _opt(2.0, "seconds a held-back or duplicated push may lag")
    push_retries: int = _opt(3, "further attempts for a push that fails")
    push_backoff: float = _opt(0.5, "seconds before the first retry (doubling after)")
    push_timeout: float = _opt(5.0, "seconds to wait for the callback's answer")
    push_workers: int = _opt(4, "pushes in flight at once")
    # Faults, on every request.
    latency: float = _opt(0.0, "seconds added to every answer")
    hang_seconds: float = _opt(30.0, "how long a 'timeout' fault holds the request before closing")
    # Running.
    seed: int | None = _opt(None, "seed for task ids, receipts, replies and faults (repeatable runs)")
    record_path: str | None = _opt(None, "also append every request and push to this JSON-lines file")
    allow_remote: bool = _opt(False, "allow listening on an address other than loopback")

    @classmethod
    def options(cls) -> list[tuple[str, Any, str]]:
        """(name, default, help) for every setting, for command-line flags."""
        defaults = cls()
        return [(f.name, getattr(defaults, f.name), f.metadata["help"]) for f in fields(cls)]
