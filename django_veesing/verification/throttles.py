"""How long a number, a client address or the whole site must wait before its next code.

Counted from the codes stored (``VerificationCode``), so every process agrees; ``start``
asks under a lock held until its new code is committed, so two calls cannot both pass.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ..conf import veesing_settings
from ..exceptions import TooManyCodes
from ..models import VerificationCode, VerificationState

#: The provider refuses a second text to a number within a minute: never call it then.
ONE_A_MINUTE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Wait:
    limit: str  # which throttle
    seconds: int

    def error(self) -> TooManyCodes:
        figures = {"seconds": self.seconds}
        messages = {
            "number_minute": _(
                "A code was sent to this number less than a minute ago; try again in %(seconds)d seconds."
            ),
            "number_day": _("This number has had as many codes as it may in a day; try again in %(seconds)d seconds."),
            "ip_hour": _("Too many codes were asked for from this address; try again in %(seconds)d seconds."),
            "site_minute": _("Too many codes are being sent right now; try again in %(seconds)d seconds."),
        }
        return TooManyCodes(messages[self.limit] % figures, retry_after=self.seconds, limit=self.limit)


def wait_for(phone: str, client_ip: str | None, now: dt.datetime) -> Wait | None:
    """The first throttle that holds a new code to ``phone`` back now, or None."""
    limits = veesing_settings.CODE_LIMITS
    codes = VerificationCode.objects.all()
    sent = codes.filter(phone=phone).exclude(state=VerificationState.FAILED)  # failed: never reached the phone
    checks: list[tuple[str, QuerySet[VerificationCode], dt.timedelta, int]] = [
        ("number_minute", sent, ONE_A_MINUTE, 1),
        ("number_day", codes.filter(phone=phone), dt.timedelta(days=1), limits["number_day"]),
        ("site_minute", codes, ONE_A_MINUTE, limits["site_minute"]),
    ]
    if client_ip:
        checks.insert(2, ("ip_hour", codes.filter(client_ip=client_ip), dt.timedelta(hours=1), limits["ip_hour"]))
    for limit, rows, window, most in checks:
        recent = rows.filter(created_at__gt=now - window).order_by("-created_at")
        times = list(recent.values_list("created_at", flat=True)[:most])
        if len(times) >= most:  # the oldest of the last ``most`` must leave the window first
            return Wait(limit, max(1, math.ceil((times[-1] + window - now).total_seconds())))
    return None
