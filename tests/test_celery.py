"""Sending through a real Celery worker (Redis broker), beside a veesing_send worker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection

from django_veesing.models import Batch, Campaign, CampaignStatus

from .conftest import database_url, mobiles

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def redis_is_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.fixture
def celery_env(simulator):
    queue = f"veesing-tests-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": database_url(),
        "VEESING_API_URL": simulator.url,
        "VEESING_BATCH_SIZE": "100",
        "CELERY_QUEUE": queue,
        "PYTHONPATH": str(ROOT),
    }
    yield env


@pytest.fixture
def celery_worker(celery_env):
    if not redis_is_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    from tests.celery_app import start_worker

    worker = start_worker(celery_env, 4, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    yield worker
    worker.terminate()
    try:
        worker.wait(20)
    except subprocess.TimeoutExpired:
        worker.kill()


def wait_until_sent(campaign: Campaign, timeout: float = 120) -> Campaign:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        campaign.refresh_from_db()
        if campaign.status == CampaignStatus.SENT:
            return campaign
        time.sleep(0.2)
    raise AssertionError(f"campaign still {campaign.status}")


def test_celery_worker_sends_a_campaign_once(simulator, make_campaign, celery_worker, celery_env, settings):
    from tests.celery_app import app

    settings.VEESING = {**settings.VEESING, "QUIET_HOURS": None}
    simulator.configure(per_minute_limit=False, latency=0.01)
    campaign = make_campaign(mobiles(3000))
    app.send_task("django_veesing.send_due", kwargs={"fan_out": 4}, queue=celery_env["CELERY_QUEUE"])
    campaign = wait_until_sent(campaign)
    assert celery_worker.poll() is None, "the worker is still running"
    assert simulator.record.sent_more_than_once() == {}
    assert len(simulator.record.accepted) == 3000
    assert campaign.submitted_count == 3000
    claimers = set(Batch.objects.filter(campaign=campaign).values_list("claimed_by", flat=True))
    assert len(claimers) >= 2, "the batches were shared between worker processes"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="several workers need PostgreSQL")
def test_celery_and_veesing_send_side_by_side(simulator, make_campaign, celery_worker, celery_env):
    from tests.celery_app import app

    simulator.configure(per_minute_limit=False, latency=0.1)  # outlasts the process start-up
    campaign = make_campaign(mobiles(5000))
    for _ in range(4):
        app.send_task("django_veesing.send_campaign", args=[campaign.pk], queue=celery_env["CELERY_QUEUE"])
    command = [sys.executable, "-m", "django", "veesing_send", "--campaign", str(campaign.pk)]
    plain = subprocess.Popen(
        command, env=celery_env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output, _ = plain.communicate(timeout=120)
    assert plain.returncode == 0, output
    campaign = wait_until_sent(campaign)
    assert simulator.record.sent_more_than_once() == {}
    assert len(simulator.record.accepted) == 5000
    claimers = set(Batch.objects.filter(campaign=campaign).values_list("claimed_by", flat=True))
    assert any(str(plain.pid) in claimer for claimer in claimers), "veesing_send took part"
    assert len(claimers) >= 2, (claimers, plain.pid, output)


def test_tasks_in_eager_mode(simulator, make_campaign, settings):
    from celery import current_app

    from django_veesing.tasks import send_due

    settings.VEESING = {**settings.VEESING, "QUIET_HOURS": None, "BATCH_SIZE": 10}
    campaign = make_campaign(mobiles(35))
    current_app.conf.task_always_eager = True
    try:
        assert send_due.apply(kwargs={"fan_out": 2}).get() == [campaign.pk]
    finally:
        current_app.conf.task_always_eager = False
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT and campaign.submitted_count == 35
    assert simulator.record.sent_more_than_once() == {}


def test_send_due_hands_the_messages_from_code_to_a_task(simulator, celery_worker, celery_env):
    from django_veesing import send_message
    from django_veesing.models import Message
    from tests.celery_app import app

    simulator.configure(per_minute_limit=False)
    for number in mobiles(50):
        send_message(number, "【维信测试】您的订单已发货")
    app.send_task("django_veesing.send_due", queue=celery_env["CELERY_QUEUE"])
    deadline = time.monotonic() + 120
    while Message.objects.exclude(status="submitted").exists():
        assert time.monotonic() < deadline, "messages still pending"
        time.sleep(0.2)
    assert simulator.record.sent_more_than_once() == {} and len(simulator.record.accepted) == 50
