"""Run the suite with the process clock moved, so that CI proves no test depends on the day
or the hour it runs: ``VEESING_TEST_TIME_SHIFT`` set to

- an offset: ``+730d``, ``+8h``, ``+90m``, ``+3600s`` (or negative), or
- ``china HH:MM``: the next time the clock in China shows HH:MM (e.g. ``china 23:00``, inside
  the default quiet hours).

The clock keeps running from there. Every process that loads the test settings (the test
run, the workers and Celery workers a test starts) moves its clock by the same offset:
the first one resolves ``china HH:MM`` to seconds and leaves that in the environment its
children inherit.

Python's wall clock is moved (``time.time``, ``datetime.now`` and what Django reads), not
the monotonic clock that timeouts and sleeps use. Debian's ``faketime`` preload cannot do
this for Python 3.11+: it moves the monotonic clock too, and the absolute deadlines that
Python hands ``sem_clockwait`` and ``clock_nanosleep`` then either wait for hours or fail
with EINVAL (see docs/integration.rst, "Testing").
"""

from __future__ import annotations

import datetime as dt
import os
import re

VARIABLE = "VEESING_TEST_TIME_SHIFT"
CHINA = dt.timezone(dt.timedelta(hours=8))
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def offset_seconds(spec: str, now: dt.datetime) -> int:
    """``spec`` as a number of seconds to add to ``now``; ValueError when malformed."""
    spec = spec.strip()
    offset = re.fullmatch(r"([+-]\d+)([smhd]?)", spec)
    if offset:
        return int(offset[1]) * UNITS[offset[2] or "s"]
    wall = re.fullmatch(r"china (\d{1,2}):(\d{2})", spec, re.IGNORECASE)
    if wall:
        china_now = now.astimezone(CHINA)
        target = china_now.replace(hour=int(wall[1]), minute=int(wall[2]), second=0, microsecond=0)
        if target <= china_now:
            target += dt.timedelta(days=1)
        return round((target - china_now).total_seconds())
    raise ValueError(f"{VARIABLE}={spec!r}: write an offset such as +730d or +8h, or 'china 23:00'.")


def start_from_environment() -> None:
    """Move this process's clock as ``VEESING_TEST_TIME_SHIFT`` says (nothing when unset)."""
    spec = os.environ.get(VARIABLE, "").strip()
    if not spec:
        return
    import time_machine

    now = dt.datetime.now(dt.UTC)
    seconds = offset_seconds(spec, now)
    os.environ[VARIABLE] = f"{seconds:+d}s"  # children move by the same offset
    time_machine.travel(now + dt.timedelta(seconds=seconds), tick=True).start()
