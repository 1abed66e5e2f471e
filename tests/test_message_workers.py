"""Messages from code with real processes: concurrent calls with one key store one
message, and two workers draining one queue send each message once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from django.db import connection

from django_veesing.models import Message, MessageBatch

from .conftest import database_url, mobiles
from .test_workers import ROOT, run_send

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL's locks"),
]

SHIPPED = "【维信测试】您的订单已发货"

CALLER = """
import sys, time
import django
django.setup()
from django_veesing import send_message
start = float(sys.argv[1])
time.sleep(max(0.0, start - time.time()))
print(send_message("13800138000", "{text}", key="order-7-shipped").pk)
"""


def test_concurrent_calls_with_one_key_store_one_message():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "DATABASE_URL": database_url()}
    start = time.time() + 3  # every process connected and waiting by then
    code = CALLER.format(text=SHIPPED)
    callers = [
        subprocess.Popen([sys.executable, "-c", code, str(start)], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    answers = {caller.communicate(timeout=60)[0].strip() for caller in callers}
    assert all(caller.returncode == 0 for caller in callers)
    assert answers == {str(Message.objects.get(key="order-7-shipped").pk)}
    assert Message.objects.count() == 1


def test_two_workers_send_each_message_once(simulator):
    simulator.configure(per_minute_limit=False, latency=0.2)  # 30 calls: long enough for both to start
    texts = [f"【维信测试】您的订单{n}已发货" for n in range(10)]
    numbers = mobiles(3000)
    Message.objects.bulk_create(
        Message(phone=number, text=texts[i % 10], account="default") for i, number in enumerate(numbers)
    )
    workers = [run_send(simulator, 100) for _ in range(2)]
    for worker in workers:
        output, _ = worker.communicate(timeout=180)
        assert worker.returncode == 0, output
    assert simulator.record.sent_more_than_once() == {}
    assert set(simulator.record.accepted) == set(numbers)
    assert set(Message.objects.values_list("status", flat=True)) == {"submitted"}
    assert MessageBatch.objects.values("claimed_by").distinct().count() == 2  # both took part
