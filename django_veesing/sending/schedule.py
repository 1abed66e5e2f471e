"""When a scheduled campaign may go out: its send time, the provider's scheduling, quiet hours."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from ..rules.schedule import MIN_SCHEDULE_AHEAD, in_quiet_hours

if TYPE_CHECKING:
    from ..models import Campaign


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
