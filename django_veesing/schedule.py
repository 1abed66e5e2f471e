"""When a campaign may go out: its send time, the provider's scheduling, quiet hours."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from .client import CHINA, MIN_SCHEDULE_AHEAD
from .conf import veesing_settings

if TYPE_CHECKING:
    from .models import Campaign


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


def provider_send_time(campaign: Campaign, now: dt.datetime) -> dt.datetime | None:
    """The ``sendTime`` to hand the provider, when the provider schedules this campaign."""
    if campaign.schedule_at_provider and campaign.send_at and campaign.send_at - now >= MIN_SCHEDULE_AHEAD:
        return campaign.send_at
    return None


def waits_for(campaign: Campaign, now: dt.datetime) -> str | None:
    """Why a scheduled campaign may not go out at ``now``, or None when it may."""
    send_time = provider_send_time(campaign, now)
    if send_time is None and campaign.send_at and campaign.send_at > now:
        return "send_at"
    if campaign.is_marketing and in_quiet_hours(send_time or now):
        return "quiet_hours"
    return None
