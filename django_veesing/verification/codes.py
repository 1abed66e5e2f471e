"""Sending a verification code and checking it.

``start`` makes a code with ``secrets``, stores only its keyed hash, and sends it: through
the provider's verification endpoint when the account has a ``VERIFY_TEMPLATE_ID``, or as
``VERIFY_TEXT`` by group send. The row is committed before the call (a crash leaves it
``sending``: the phone may have the code) and settled after it. ``check`` compares in
constant time; a code checks once, before it expires, and dies after ``CODE_MAX_TRIES``
wrong tries. Only the latest code of a number and purpose counts.
"""

from __future__ import annotations

import hmac
import secrets

from django.db import transaction
from django.db.models import F
from django.utils.crypto import salted_hmac

from .. import clock
from ..conf import veesing_settings
from ..db.locks import serialise
from ..exceptions import ContentError, TransportError, VeesingError
from ..models import VerificationCode, VerificationState
from ..provider.client import SendResult, VeesingClient
from ..rules import content
from ..rules.content import with_signature
from ..rules.phones import InvalidPhone, normalise
from .throttles import wait_for

#: The kind of text a code is: ``KIND_ACCOUNTS["verification"]`` names its account.
KIND = "verification"
DIGEST_SALT = "django_veesing.verification"


def digest(phone: str, purpose: str, code: str) -> str:
    """The code's HMAC, keyed from ``SECRET_KEY`` and bound to the number and purpose."""
    return salted_hmac(DIGEST_SALT, f"{phone}:{purpose}:{code}", algorithm="sha256").hexdigest()


def new_code() -> str:
    length = veesing_settings.CODE_LENGTH
    return "".join(secrets.choice("0123456789") for _ in range(length))


def start(phone: str, purpose: str = "login", *, client_ip: str | None = None) -> VerificationCode:
    """Send a new code to ``phone`` for ``purpose`` and return its record once the provider
    took it. Raises ``InvalidPhone``, ``TooManyCodes`` (with ``retry_after``), or the
    provider's error (a ``TransportError`` whose ``maybe_sent`` says the phone may have it)."""
    number = normalise(phone)
    account = veesing_settings.account(veesing_settings.account_for_kind(KIND))
    if not account.verify_template_id:  # by group send: the text must meet the content rules
        report = content.check(code_text("0" * veesing_settings.CODE_LENGTH), marketing=False)
        if not report.ok:
            raise ContentError(report.messages())
    code = new_code()
    now = clock.now()
    with transaction.atomic():
        serialise(VerificationCode, "django_veesing.verification.start")  # one caller at a time passes the throttles
        wait = wait_for(number, client_ip, now)
        if wait is not None:
            raise wait.error()
        row = VerificationCode.objects.create(
            phone=number,
            purpose=purpose,
            digest=digest(number, purpose, code),
            client_ip=client_ip,
            account=account.name,
            created_at=now,
            expires_at=now + veesing_settings.CODE_TTL,
        )
    try:
        result = _send(account.name, account.verify_template_id, number, code)
    except TransportError as error:
        _settle(row, VerificationState.UNCERTAIN if error.maybe_sent else VerificationState.FAILED, error.message)
        raise
    except VeesingError as error:
        _settle(row, VerificationState.FAILED, error.message)
        raise
    _settle(row, VerificationState.SENT, result.message, task_id=result.task_id)
    return row


def _send(account: str, template_id: str, phone: str, code: str) -> SendResult:
    with VeesingClient.from_settings(account) as client:
        if template_id:
            return client.send_code(phone, template_id, [code])
        return client.send([phone], code_text(code))


def code_text(code: str) -> str:
    """``VERIFY_TEXT`` with the code and the minutes it lasts, signed."""
    minutes = max(1, int(veesing_settings.CODE_TTL.total_seconds() // 60))
    text = veesing_settings.VERIFY_TEXT.replace("{code}", code).replace("{minutes}", str(minutes))
    return with_signature(text, veesing_settings.SIGNATURE)


def _settle(row: VerificationCode, state: str, message: str, task_id: str = "") -> None:
    row.state, row.message, row.task_id = state, message, task_id
    row.save(update_fields=["state", "message", "task_id"])


def check(phone: str, code: str, purpose: str = "login") -> bool:
    """Whether ``code`` is the live code of ``phone`` for ``purpose``; a right code is
    used up (a second check fails), a wrong one counts a try."""
    try:
        number = normalise(phone)
    except InvalidPhone:
        return False
    now = clock.now()
    latest = VerificationCode.objects.filter(phone=number, purpose=purpose).order_by("-id").first()
    if latest is None or latest.state == VerificationState.FAILED:
        return False
    live = VerificationCode.objects.filter(
        pk=latest.pk, used_at__isnull=True, expires_at__gt=now, tries__lt=veesing_settings.CODE_MAX_TRIES
    )
    given = str(code).strip()
    if not hmac.compare_digest(latest.digest, digest(number, purpose, given)):
        live.update(tries=F("tries") + 1)
        return False
    return live.update(used_at=now) == 1  # of two checks at once, one wins
