"""The provider's rules: who may call, what a send costs, which refusal applies.

No HTTP here: ``Provider.group`` and ``Provider.balance`` take the request's fields and
return the JSON object the provider answers, plus the events an accepted send produces.
"""

from __future__ import annotations

import datetime as dt
import random
import string
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from ..rules.addresses import in_networks
from ..rules.phones import MOBILE_LIST, is_mainland_mobile
from ..rules.segments import cost
from .config import SimulatorConfig

CHINA = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"

BAD_CREDENTIALS = "账号或密码错误"
MISSING = "缺少参数"
LOCKED = "您的账户已被锁定，请联系您的专属客服"
LOW_BALANCE = "余额不足"
BAD_NUMBER = "手机号码格式不正确"
NUMBER_DAILY_CAP = "该号码今日发送次数已达上限"
SAME_NUMBER_MINUTE = "相同手机号码一分钟之内只可发送一次"
ACCOUNT_DAILY_CAP = "当日发送量已超出最大发送限制"
UNKNOWN = "未知原因，请联系客服"
IP_REFUSED = "IP受限"
NO_TEMPLATE = "模板不存在或者未通过"
BAD_PARAMETER = "参数错误"  # the document's own example, outside its tables

TASK_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass
class Event:
    kind: str  # "receipt" or "reply"
    fields: dict[str, str]
    due: float  # clock time at which it is pushed


@dataclass
class Outcome:
    body: dict[str, str | None]
    numbers: list[str] = field(default_factory=list)
    accepted: bool = False
    events: list[Event] = field(default_factory=list)
    text: str = ""  # a verification code's text, as the phone shows it

    @property
    def message(self) -> str:
        return self.body["message"] or ""

    @property
    def task_id(self) -> str | None:
        return self.body["taskId"]


class Provider:
    """The state of one simulated account, safe to call from many threads."""

    def __init__(self, config: SimulatorConfig, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.clock = clock
        self.balance = config.balance
        self.rng = random.Random(config.seed)
        self._lock = threading.Lock()
        self._last_sent: dict[str, float] = {}
        self._day = ""
        self._sent_today: Counter[str] = Counter()
        self._account_today = 0

    # -- the two calls ---------------------------------------------------------------

    def balance_call(self, fields: dict[str, str], remote: str) -> Outcome:
        refusal = self._refuse_caller(fields, remote)
        if refusal:
            return self.refusal(refusal)
        with self._lock:
            return Outcome(self._body("成功", remain=self.balance))

    def group(self, fields: dict[str, str], remote: str) -> Outcome:
        missing = [k for k in ("appId", "appKey", "phone", "content") if not fields.get(k)]
        if missing:
            return self.refusal(MISSING)
        refusal = self._refuse_caller(fields, remote)
        if refusal:
            return self.refusal(refusal)
        numbers, well_formed = _split_numbers(fields["phone"])
        if len(numbers) > self.config.max_numbers:
            return self.refusal(BAD_PARAMETER, numbers)
        if not well_formed:
            return self.refusal(BAD_NUMBER, numbers)
        send_at = self._send_time(fields.get("sendTime", ""))
        if send_at is None:
            return self.refusal(BAD_PARAMETER, numbers)
        unique = list(dict.fromkeys(numbers))  # duplicates in one request are sent once
        with self._lock:
            refusal = self._refuse_numbers(unique, fields["content"])
            if refusal:
                return self.refusal(refusal, numbers)
            return self._accept(unique, fields["content"], send_at)

    def verify_code(self, fields: dict[str, str], remote: str) -> Outcome:
        """A verification code: one number, an approved template, its values (2–8 digits each)."""
        missing = [k for k in ("appId", "appKey", "phone", "templateId", "variables") if not fields.get(k)]
        if missing:
            return self.refusal(MISSING)
        refusal = self._refuse_caller(fields, remote)
        if refusal:
            return self.refusal(refusal)
        phone = fields["phone"].strip()
        if not is_mainland_mobile(phone):  # one number only: "a,b" is not one
            return self.refusal(BAD_NUMBER)
        template = self.templates.get(fields["templateId"].strip())
        if template is None:
            return self.refusal(NO_TEMPLATE, [phone])
        values = fields["variables"].split(";")
        if any(not (value.isascii() and value.isdigit() and 2 <= len(value) <= 8) for value in values):
            return self.refusal(BAD_PARAMETER, [phone])
        text = template
        for n, value in enumerate(values, start=1):
            text = text.replace(f"{{{n}}}", value)
        with self._lock:
            refusal = self._refuse_numbers([phone], text)
            if refusal:
                return self.refusal(refusal, [phone])
            outcome = self._accept([phone], text, 0.0)
        outcome.body["returnStatus"] = self.config.verify_status
        outcome.text = text
        return outcome

    @property
    def templates(self) -> dict[str, str]:
        return dict(entry.partition("=")[::2] for entry in self.config.templates)

    # -- refusals ----------------------------------------------------------------------

    def _refuse_caller(self, fields: dict[str, str], remote: str) -> str | None:
        if not fields.get("appId") or not fields.get("appKey"):
            return MISSING
        if (fields["appId"], fields["appKey"]) != (self.config.app_id, self.config.app_key):
            return BAD_CREDENTIALS
        if self.config.locked:
            return LOCKED
        if self.config.ip_allowlist and not in_networks(remote, self.config.ip_allowlist):
            return IP_REFUSED
        return None

    def _refuse_numbers(self, numbers: list[str], content: str) -> str | None:
        now = self.clock()
        self._roll_day(now)
        config = self.config
        if config.per_minute_limit and any(now - self._last_sent.get(n, -1e18) < 60 for n in numbers):
            return SAME_NUMBER_MINUTE
        if config.per_number_daily_cap and any(self._sent_today[n] >= config.per_number_daily_cap for n in numbers):
            return NUMBER_DAILY_CAP
        if config.account_daily_cap and self._account_today + len(numbers) > config.account_daily_cap:
            return ACCOUNT_DAILY_CAP
        if cost(content, len(numbers)) > self.balance:
            return LOW_BALANCE
        return None

    def refusal(self, message: str, numbers: list[str] | None = None) -> Outcome:
        return Outcome(self._body(message, status="0"), numbers=numbers or [])

    # -- acceptance --------------------------------------------------------------------

    def _accept(self, numbers: list[str], content: str, send_at: float | None) -> Outcome:
        now = self.clock()
        self.balance -= cost(content, len(numbers))
        self._last_sent.update(dict.fromkeys(numbers, now))
        if self.config.per_number_daily_cap:
            self._sent_today.update(numbers)
        self._account_today += len(numbers)
        task_id = "".join(self.rng.choices(TASK_ID_ALPHABET, k=32))
        body = self._body("成功", remain=self.balance, task_id=task_id, count=len(numbers))
        outcome = Outcome(body, numbers=numbers, accepted=True)
        if self.config.callback_url or self.config.reply_callback_url:
            start = max(now, send_at or now) + self.config.push_delay
            outcome.events = self._events(task_id, numbers, start)
        return outcome

    def _events(self, task_id: str, numbers: list[str], start: float) -> list[Event]:
        config, rng = self.config, self.rng
        events = []
        for number in numbers:
            delivered = rng.random() < config.delivered_ratio
            code = "DELIVRD" if delivered else rng.choice(config.failure_codes)
            receipt = {
                "mobile": number,
                "taskid": task_id,
                "status": "1" if delivered else "0",
                "code": code,
                "receivetime": china_time(start),
            }
            events.append(Event("receipt", receipt, start))
            if delivered and config.reply_texts and rng.random() < config.reply_ratio:
                reply_at = start + rng.uniform(0.1, 1.0)
                reply = {
                    "mobile": number,
                    "taskid": task_id,
                    "content": rng.choice(config.reply_texts),
                    "receivetime": china_time(reply_at),
                }
                events.append(Event("reply", reply, reply_at))
        return events

    def _body(
        self,
        message: str,
        *,
        status: str | None = None,
        remain: int | None = None,
        task_id: str | None = None,
        count: int | None = None,
    ) -> dict[str, str | None]:
        return {
            "returnStatus": status if status is not None else self.config.return_status,
            "message": message,
            "remainPoint": None if remain is None else str(remain),
            "taskId": task_id,
            "successCounts": None if count is None else str(count),
        }

    def _send_time(self, text: str) -> float | None:
        """0 for "send now", the clock time for a valid sendTime, None for a bad one."""
        if not text.strip():
            return 0.0
        try:
            when = dt.datetime.strptime(text.strip(), TIME_FORMAT).replace(tzinfo=CHINA)
        except ValueError:
            return None
        return when.timestamp()

    def _roll_day(self, now: float) -> None:
        day = dt.datetime.fromtimestamp(now, CHINA).date().isoformat()
        if day != self._day:
            self._day, self._account_today = day, 0
            self._sent_today.clear()


def china_time(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, CHINA).strftime(TIME_FORMAT)


def _split_numbers(phone: str) -> tuple[list[str], bool]:
    """The numbers of a ``phone`` field, and whether every one is well formed."""
    if MOBILE_LIST.fullmatch(phone):  # the common case, checked in one pass
        return phone.split(","), True
    numbers = [n.strip() for n in phone.split(",") if n.strip()]
    return numbers, all(is_mainland_mobile(n) for n in numbers)
