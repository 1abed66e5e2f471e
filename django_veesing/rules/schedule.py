"""Time rules: China's time zone, the provider's scheduling lead, quiet hours."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from ..conf import veesing_settings

#: The provider's time zone: send times, receipts' times and quiet hours are China time.
CHINA = ZoneInfo("Asia/Shanghai")
#: The provider takes a scheduled send only this far ahead, or more.
MIN_SCHEDULE_AHEAD = dt.timedelta(minutes=30)


def in_quiet_hours(at: dt.datetime) -> bool:
    """Whether ``at`` falls in ``VEESING["QUIET_HOURS"]`` (China time)."""
    window = veesing_settings.QUIET_HOURS
    if window is None:
        return False
    start, end = window
    clock = at.astimezone(CHINA).time()
    if start <= end:
        return start <= clock < end
    return clock >= start or clock < end  # the window wraps past midnight


def quiet_hours_end(at: dt.datetime) -> dt.datetime | None:
    """When the quiet window that ``at`` falls in ends (aware, China time); None outside it."""
    if not in_quiet_hours(at):
        return None
    window = veesing_settings.QUIET_HOURS
    assert window is not None  # in_quiet_hours is False without one
    china = at.astimezone(CHINA)
    end = china.replace(hour=window[1].hour, minute=window[1].minute, second=0, microsecond=0)
    return end if end > china else end + dt.timedelta(days=1)
