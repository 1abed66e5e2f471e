"""The only code that speaks HTTP to the provider. It knows nothing of models.

One ``requests.Session`` per client keeps connections alive between calls. Every call
goes through ``VeesingClient._call``, which turns each way a call can fail into the
app's own error (see ``exceptions.py``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

import requests
from django.utils import timezone
from django.utils.translation import gettext as _
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from .. import clock
from ..conf import DEFAULT_ACCOUNT, DEFAULT_API_URL, veesing_settings
from ..exceptions import ConfigurationError, InvalidRequest, TransportError, refusal_for
from ..rules import phones
from ..rules.schedule import CHINA, MIN_SCHEDULE_AHEAD
from .protocol import (
    BALANCE_PATH,
    CODE_SUCCESS,
    FORM_CONTENT_TYPE,
    GROUP_PATH,
    SEND_TIME_FORMAT,
    SUCCESS,
    VERIFY_CODE_PATH,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    """What the provider said about an accepted group send."""

    task_id: str
    success_count: int
    remain_point: int | None
    message: str
    raw: dict[str, Any] = field(repr=False, compare=False, default_factory=dict)


class _Secret:
    """Holds the app key so that no repr, log or traceback shows it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'********'"

    __str__ = __repr__


class VeesingClient:
    """Group send and balance calls to Veesing (中昱维信)."""

    session_class: type[requests.Session] = requests.Session

    def __init__(
        self,
        app_id: str,
        app_key: str,
        *,
        api_url: str = DEFAULT_API_URL,
        timeout: float = 10,
        connect_timeout: float = 5,
        session: requests.Session | None = None,
    ) -> None:
        self.app_id = app_id
        self._app_key = _Secret(app_key)
        self.api_url = api_url.rstrip("/")
        self.timeout = (min(connect_timeout, timeout), timeout)
        self.session = session if session is not None else self.session_class()

    @classmethod
    def from_settings(cls, account: str | None = None, **overrides: Any) -> VeesingClient:
        """A client for ``account`` of ``settings.VEESING`` (the default account for None)."""
        conf = veesing_settings
        chosen = conf.account(account)  # UnknownAccountError for a name the settings lack
        if not chosen.app_id or not chosen.app_key:
            if chosen.name == DEFAULT_ACCOUNT:
                message = _("VEESING has no APP_ID or APP_KEY: set both to the values in the Veesing console.")
            else:
                message = _(
                    "VEESING['ACCOUNTS'][%(account)s] has no APP_ID or APP_KEY: set both to the values "
                    "in the Veesing console."
                ) % {"account": repr(chosen.name)}
            raise ConfigurationError(message)
        options: dict[str, Any] = {
            "api_url": chosen.api_url,
            "timeout": conf.TIMEOUT,
            "connect_timeout": conf.CONNECT_TIMEOUT,
        }
        options.update(overrides)
        return cls(chosen.app_id, chosen.app_key, **options)

    def __repr__(self) -> str:
        return f"<VeesingClient app_id={self.app_id!r} api_url={self.api_url!r}>"

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> VeesingClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the calls ---------------------------------------------------------------------

    def send(self, phones: list[str], content: str, send_time: datetime | None = None) -> SendResult:
        """Send ``content`` to every number of ``phones`` in one group send.

        Raises ``InvalidRequest`` before any request when the input cannot be sent, a
        ``ProviderError`` subclass when the provider refuses, and ``TransportError`` when
        no readable answer came back.
        """
        numbers = list(phones)
        fields = {"phone": _check_numbers(numbers), "content": _check_content(content)}
        if send_time is not None:
            fields["sendTime"] = format_send_time(send_time)
        logger.debug("Group send of %d numbers to %s", len(numbers), self.api_url)
        data = self._call(GROUP_PATH, fields)
        result = SendResult(
            task_id=_text(data.get("taskId")),
            success_count=_int_or_none(data.get("successCounts")) or 0,
            remain_point=_remain_point(data),
            message=_text(data.get("message")),
            raw=data,
        )
        logger.info(
            "Group send accepted: task %s, %d of %d numbers, %s messages left",
            result.task_id,
            result.success_count,
            len(numbers),
            result.remain_point,
        )
        return result

    def send_code(self, phone: str, template_id: str, variables: list[str]) -> SendResult:
        """Send a verification code through the provider's template ``template_id`` to
        one number; ``variables`` fill the template (the code first), joined by ``;``.

        Errors as for ``send``. The answer may carry no task id (PROTOCOL.md): then the
        result's ``task_id`` is "" and the code's delivery cannot be known.
        """
        number = _check_numbers([phone])
        if not str(template_id).strip():
            raise InvalidRequest(
                _("No verification template id: set VERIFY_TEMPLATE_ID to the approved template's id.")
            )
        values = [str(value) for value in variables]
        if not values or any(not value or ";" in value for value in values):
            raise InvalidRequest(_("A template takes one or more values, none empty and none with a “;”."))
        fields = {"phone": number, "templateId": str(template_id).strip(), "variables": ";".join(values)}
        data = self._call(VERIFY_CODE_PATH, fields, success=CODE_SUCCESS)
        logger.info("Verification code accepted for template %s", fields["templateId"])
        return SendResult(
            task_id=_text(data.get("taskId")),
            success_count=1,
            remain_point=_remain_point(data),
            message=_text(data.get("message")),
            raw={key: value for key, value in data.items() if key != "variables"},
        )

    def balance(self) -> int:
        """How many messages the account can still send."""
        data = self._call(BALANCE_PATH, {})
        remain = _remain_point(data)
        if remain is None:
            raise TransportError(_("The provider's balance reply has no remainPoint."), maybe_sent=True, response=data)
        return remain

    # -- the one HTTP chokepoint -------------------------------------------------------

    def _call(self, path: str, fields: dict[str, str], success: tuple[str, ...] = SUCCESS) -> dict[str, Any]:
        url = self.api_url + path
        try:
            response = self.session.post(
                url,
                data=self._body(fields),
                headers={"Content-Type": FORM_CONTENT_TYPE, "Accept": "application/json"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            error = TransportError(_describe(exc, url), maybe_sent=_maybe_sent(exc))
            logger.warning("%s (maybe sent: %s)", error.message, error.maybe_sent)
            # Not chained: the frames of requests hold the form body, app key included,
            # and error pages and reporters show the locals of chained tracebacks.
            raise error from None
        data = _parse(response)
        if str(data["returnStatus"]).strip() not in success:
            refusal = refusal_for(_text(data.get("message")), response=data)
            logger.warning("The provider refused %s: %s", path, refusal.message)
            raise refusal
        return data

    def _body(self, fields: dict[str, str]) -> bytes:
        # Built here so that no frame that can end up in a traceback holds the key in a
        # local variable: error pages and reporters show the locals of traceback frames.
        form = {"appId": self.app_id, "appKey": self._app_key.reveal(), **fields}
        return "&".join(f"{quote_plus(name)}={form_value(value)}" for name, value in form.items()).encode("ascii")


def form_value(value: str) -> str:
    """``value`` encoded as ``urlencode`` does, without its per-character pass over a
    list of numbers (digits and commas, a third of a batch's time beside the database's)."""
    if value.isascii() and value.replace(",", "").isdigit():
        return value.replace(",", "%2C")
    return quote_plus(value, encoding="utf-8")


def format_send_time(send_time: datetime) -> str:
    """``send_time`` as the provider reads it: China wall time, ``yyyy-MM-dd HH:mm:ss``."""
    if timezone.is_naive(send_time):
        raise InvalidRequest(_("The send time must carry a time zone (an aware datetime), not a naive one."))
    if send_time - clock.now() < MIN_SCHEDULE_AHEAD:
        raise InvalidRequest(_("The provider schedules a send only 30 minutes or more ahead; send now instead."))
    return send_time.astimezone(CHINA).strftime(SEND_TIME_FORMAT)


def _check_numbers(numbers: list[str]) -> str:
    if not numbers:
        raise InvalidRequest(_("No numbers to send to."))
    if all(isinstance(number, str) for number in numbers):
        joined = ",".join(numbers)
        # One pass over the joined list: eleven digits, a comma, eleven digits ... The
        # length says each entry held one number (an entry with a comma in it holds two).
        if len(joined) == 12 * len(numbers) - 1 and phones.MOBILE_LIST.fullmatch(joined):
            return joined
    bad = phones.malformed(numbers)
    if bad:
        shown = ", ".join(repr(number) for number in bad[:10])
        more = len(bad) - 10
        message = _("Not 11-digit mainland mobile numbers: %(numbers)s") % {"numbers": shown}
        if more > 0:
            message += " " + _("(and %(count)d more)") % {"count": more}
        raise InvalidRequest(message, bad_numbers=bad)
    return ",".join(numbers)


def _check_content(content: str) -> str:
    if not content or not content.strip():
        raise InvalidRequest(_("The text is empty."))
    return content


def _parse(response: requests.Response) -> dict[str, Any]:
    """The reply's JSON object, or a ``TransportError`` saying why it is unreadable."""
    where = f"{response.request.method} {response.url}"
    if not 200 <= response.status_code < 300:
        raise TransportError(
            _("HTTP %(status)s from the provider (%(where)s): %(body)s")
            % {"status": response.status_code, "where": where, "body": _excerpt(response)},
            maybe_sent=True,
            response=response.text,
        )
    try:
        data = json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or "returnStatus" not in data:
        raise TransportError(
            _("The provider's reply is not the JSON it documents (%(where)s): %(body)s")
            % {"where": where, "body": _excerpt(response)},
            maybe_sent=True,
            response=response.text,
        )
    return data


def _maybe_sent(exc: requests.RequestException) -> bool:
    """False only when the connection could not be made, so nothing reached the provider."""
    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        return not isinstance(reason, (NewConnectionError, ConnectTimeoutError))
    return True


def _describe(exc: requests.RequestException, url: str) -> str:
    if isinstance(exc, requests.ConnectTimeout):
        what = _("could not connect in time")
    elif isinstance(exc, requests.ReadTimeout):
        what = _("no answer in time")
    elif isinstance(exc, requests.exceptions.SSLError):
        what = _("the TLS handshake failed")
    elif isinstance(exc, requests.ConnectionError) and not _maybe_sent(exc):
        what = _("could not connect")
    else:
        what = _("the connection failed")
    return _("Calling the provider at %(url)s: %(what)s (%(error)s)") % {
        "url": url,
        "what": what,
        "error": type(exc).__name__,
    }


def _excerpt(response: requests.Response, limit: int = 200) -> str:
    text = response.content[:limit].decode("utf-8", errors="replace")
    return " ".join(text.split()) or _("(empty body)")


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _int_or_none(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _remain_point(data: dict[str, Any]) -> int | None:
    value = data.get("remainPoint")
    if value is None:
        value = data.get("remainpoint")
    return _int_or_none(value)
