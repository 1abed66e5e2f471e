"""The app's clock: every part of the app that asks what time it is asks :func:`now`.

Sending, quiet hours, scheduling, settling, expiry, reconciling, receipts, imports,
heartbeats, the admin and the rows' own timestamps all read this one clock, so a test (or
a project's staging site) that sets it sees every part of the app agree on the instant.

It is Django's :func:`django.utils.timezone.now` unless ``VEESING["CLOCK"]`` names another
callable returning an aware datetime, as a dotted path or the callable itself::

    VEESING = {..., "CLOCK": "myproject.clocks.now"}

:class:`FakeClock` is such a callable for tests: it starts at a chosen instant and runs on
(or stands still), and a test moves it forward with :meth:`FakeClock.advance`.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from functools import lru_cache

from django.utils import timezone
from django.utils.module_loading import import_string

from .conf import veesing_settings

Clock = Callable[[], dt.datetime]


def now() -> dt.datetime:
    """The current instant by the app's clock (aware)."""
    return current()()


def current() -> Clock:
    """The clock ``VEESING["CLOCK"]`` names, or Django's ``timezone.now``."""
    value = veesing_settings.get("CLOCK")
    if value is None:
        return timezone.now
    if isinstance(value, str):
        return _imported(value)
    return value


@lru_cache(maxsize=8)
def _imported(path: str) -> Clock:
    return import_string(path)


def timestamp() -> float:
    """The app's clock as seconds since the epoch (what ``time.time`` would say)."""
    return now().timestamp()


class FakeClock:
    """A clock for tests: starts at ``at`` and, when ``ticking``, runs on in real time.

    Give it to the app with ``settings.VEESING = {..., "CLOCK": clock}``: then the
    scheduler, quiet hours, expiry, receipts and the admin all see ``clock()``. A ticking
    clock suits code that waits for real (the simulator's pushes, a worker's loop); a
    still one gives exact instants.
    """

    def __init__(self, at: dt.datetime, *, ticking: bool = True) -> None:
        if timezone.is_naive(at):
            raise ValueError("FakeClock needs an aware datetime (with its time zone).")
        self.ticking = ticking
        self.set(at)

    def __call__(self) -> dt.datetime:
        if not self.ticking:
            return self._at
        return self._at + dt.timedelta(seconds=time.monotonic() - self._set_at)

    def __repr__(self) -> str:
        return f"FakeClock({self():%Y-%m-%d %H:%M:%S%z}{'' if self.ticking else ', still'})"

    def set(self, at: dt.datetime) -> None:
        """Move the clock to ``at`` (from there it runs on, when ticking)."""
        self._at, self._set_at = at, time.monotonic()

    def advance(self, delta: dt.timedelta | None = None, **units: float) -> dt.datetime:
        """Move the clock forward by ``delta`` or ``timedelta(**units)``; returns the new now."""
        self.set(self() + (delta if delta is not None else dt.timedelta(**units)))
        return self()
