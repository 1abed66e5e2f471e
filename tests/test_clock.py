"""The app's clock: every part of the app tells the time by ``VEESING["CLOCK"]``."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from django_veesing import clock as app_clock
from django_veesing.clock import FakeClock
from django_veesing.models import Batch, OptOut, Receipt, Reply, WorkerHeartbeat
from django_veesing.sending.reconcile import reconcile
from django_veesing.sending.sender import Sender
from django_veesing.sending.settling import expire
from django_veesing.sending.workers import beat

from .conftest import NOON_IN_CHINA, mobiles

#: Ten years before the tests' noon: nowhere near the machine's own clock.
LONG_AGO = NOON_IN_CHINA - dt.timedelta(days=3650)


def test_a_still_clock_stands_and_a_ticking_one_runs():
    still = FakeClock(LONG_AGO, ticking=False)
    ticking = FakeClock(LONG_AGO)
    time.sleep(0.05)
    assert still() == LONG_AGO
    assert dt.timedelta(seconds=0.04) < ticking() - LONG_AGO < dt.timedelta(seconds=5)
    assert still.advance(hours=2) == LONG_AGO + dt.timedelta(hours=2)
    assert still.advance(dt.timedelta(minutes=1)) == LONG_AGO + dt.timedelta(hours=2, minutes=1)
    assert "2016-11-28 14:01:00+0800, still" in repr(still)


def test_a_fake_clock_needs_a_time_zone():
    with pytest.raises(ValueError, match="aware"):
        FakeClock(dt.datetime(2026, 11, 26, 12, 0))


def frozen() -> dt.datetime:
    return LONG_AGO


def test_the_clock_setting_takes_a_dotted_path(settings):
    settings.VEESING = {**settings.VEESING, "CLOCK": "tests.test_clock.frozen"}
    assert app_clock.now() == LONG_AGO
    assert app_clock.timestamp() == LONG_AGO.timestamp()
    settings.VEESING = {k: v for k, v in settings.VEESING.items() if k != "CLOCK"}
    assert abs(app_clock.now().timestamp() - time.time()) < 5


def near(moment: dt.datetime | None, start: dt.datetime) -> bool:
    return moment is not None and start <= moment < start + dt.timedelta(minutes=5)


def push(client, **event: str) -> int:
    url = reverse("django_veesing:callback", args=["test-callback-token-0123456789"])
    form = "application/x-www-form-urlencoded;charset=utf-8"
    return client.post(url, urlencode(event), content_type=form).status_code


def test_every_time_the_app_reads_or_writes_is_by_its_clock(simulator, make_campaign, clock, client):
    """Ten years back by the app's clock, a whole flow stamps every row with that time,
    and expiry and reconciling measure their ages by it too."""
    clock.set(LONG_AGO)
    campaign = make_campaign(mobiles(3))
    Sender().send(campaign)
    campaign.refresh_from_db()
    (batch,) = Batch.objects.filter(campaign=campaign)
    assert all(near(at, LONG_AGO) for at in (campaign.created_at, campaign.started_at, campaign.finished_at))
    assert near(batch.claimed_at, LONG_AGO) and near(batch.sent_at, LONG_AGO)
    (when,) = {r.time for r in simulator.record.group_requests()}
    assert near(dt.datetime.fromtimestamp(when, dt.UTC), LONG_AGO)  # the simulator keeps the same time

    when = f"{LONG_AGO:%Y-%m-%d %H:%M:%S}"
    phone = mobiles(1)[0]
    assert push(client, mobile=phone, taskid=batch.task_id, status="1", code="DELIVRD", receivetime=when) == 200
    assert push(client, mobile=phone, taskid=batch.task_id, content="T", receivetime=when) == 200
    assert near(Receipt.objects.get().created_at, LONG_AGO) and near(Reply.objects.get().created_at, LONG_AGO)
    assert near(OptOut.objects.get().created_at, LONG_AGO)
    beat("host:1")
    assert near(WorkerHeartbeat.objects.get().seen_at, LONG_AGO)

    assert reconcile().linked == 0 and expire(72) == 0  # nothing is old by the app's clock
    clock.advance(hours=73)
    assert expire(72) == 2  # the two numbers without a receipt
