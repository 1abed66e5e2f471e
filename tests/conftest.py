"""Fixtures: the simulator on a free loopback port, and a receiver for its pushes."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl

import pytest
from django.core.servers.basehttp import ThreadedWSGIServer
from django.db import connection
from django.test.testcases import LiveServerThread

from django_veesing import clock as app_clock
from django_veesing.clock import FakeClock
from django_veesing.provider.client import VeesingClient
from django_veesing.rules.schedule import CHINA
from django_veesing.simulator import Simulator

# The reliability suite runs on its own: `make test-reliability` (PostgreSQL in CI).
collect_ignore = [] if os.environ.get("VEESING_RELIABILITY") else ["reliability"]


#: Modules whose every test starts processes, servers or a large campaign.
SLOW_MODULES = {
    "test_workers",
    "test_celery",
    "test_quickstart",
    "test_end_to_end",
    "test_project",
    "test_message_workers",
    "test_verification_processes",
}


def pytest_collection_modifyitems(config, items):
    """Markers by where a test is and what it needs: ``browser``, ``celery``, ``postgres``
    (a test skipped elsewhere), and ``slow`` for all of those and the slow modules."""
    for item in items:
        module = item.module.__name__.rpartition(".")[2]
        needs = set()
        if "browser" in item.nodeid.split("/"):
            needs |= {"browser", "slow"}
        if module == "test_celery":
            needs |= {"celery", "slow"}
        if module in SLOW_MODULES or "reliability" in item.nodeid.split("/"):
            needs.add("slow")
        for mark in item.iter_markers("skipif"):
            if "PostgreSQL" in str(mark.kwargs.get("reason", "")):
                needs.add("postgres")
        if "statement" in getattr(getattr(item, "callspec", None), "params", {}).values():
            needs.add("postgres")
        for name in sorted(needs):
            item.add_marker(name)


class NoDelayWSGIServer(ThreadedWSGIServer):
    """The live server, without Nagle's 40 ms stall on every kept-alive answer."""

    def get_request(self):
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address


LiveServerThread.server_class = NoDelayWSGIServer


#: The instant a test's ``clock`` starts at: a weekday noon in China, outside quiet hours.
NOON_IN_CHINA = dt.datetime(2026, 11, 26, 12, 0, tzinfo=CHINA)


@pytest.fixture
def clock(settings) -> FakeClock:
    """The app's clock for this test: noon in China on a fixed day, ticking; move it with
    ``clock.advance(hours=1)`` or ``clock.set(instant)``. The simulator keeps the same time."""
    fake = FakeClock(NOON_IN_CHINA)
    settings.VEESING = {**settings.VEESING, "CLOCK": fake}
    return fake


@pytest.fixture
def simulator(settings) -> Iterator[Simulator]:
    """A running simulator that accepts the test settings' credentials; API_URL points at it.

    It tells the time by the app's clock, so a test that sets ``clock`` moves the provider
    (its per-minute and daily caps, its scheduled sends, its receipts' times) along too."""
    sim = Simulator(seed=20261126, push_delay=0.05, push_backoff=0.05, clock=app_clock.timestamp)
    sim.start()
    settings.VEESING = {**settings.VEESING, "API_URL": sim.url}
    yield sim
    sim.stop()


@pytest.fixture
def veesing_client(simulator) -> Iterator[VeesingClient]:
    client = VeesingClient.from_settings()
    yield client
    client.close()


class PushReceiver:
    """A loopback HTTP server that stores every form POST; fails the first ``fail_first``."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.content_types: list[str] = []
        self.fail_first = 0
        self.calls = 0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver._lock:
                    receiver.calls += 1
                    failing = receiver.calls <= receiver.fail_first
                    if not failing:
                        receiver.received.append(dict(parse_qsl(body.decode("utf-8"))))
                        receiver.content_types.append(self.headers.get("Content-Type", ""))
                answer = b"busy" if failing else b"ok"
                self.send_response(503 if failing else 200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push/"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[PushReceiver]:
    receiver = PushReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port on which nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


MARKETING_TEXT = "【维信测试】会员日全场八折，回T退订"
NOTICE_TEXT = "【维信测试】您的订单已发货"


def mobiles(n: int, start: int = 13800000000) -> list[str]:
    return [str(start + i) for i in range(n)]


PERSONAL_TEXT = "【维信测试】{姓名}您好，您的订单已发货"


def personal_rows(phones: list[str], names: int | None = None) -> list[tuple[str, dict[str, str]]]:
    """(phone, values) rows for ``PERSONAL_TEXT``: the names cycle through ``names`` of
    them; by default every fifth number shares one name and the others have their own."""
    if names:
        return [(phone, {"姓名": f"客户{i % names}"}) for i, phone in enumerate(phones)]
    return [(phone, {"姓名": "会员" if i % 5 == 0 else f"客户{i}"}) for i, phone in enumerate(phones)]


def personal_text(values: dict[str, str]) -> str:
    return PERSONAL_TEXT.replace("{姓名}", values["姓名"])


def accepted_texts(simulator) -> dict[str, list[str]]:
    """phone → every text the simulator accepted for it, in order."""
    texts: dict[str, list[str]] = {}
    for request in simulator.record.group_requests():
        for phone in simulator.record.tasks.get(request.task_id or "", []):
            texts.setdefault(phone, []).append(request.fields["content"])
    return texts


def another_slot(campaign) -> int:
    """A count slot the campaign does not use yet, as another connection's would be (this
    connection's slot depends on its backend pid, so a fixed number collides now and then)."""
    from django_veesing.models import COUNT_SLOTS, CampaignCount

    used = set(CampaignCount.objects.filter(campaign=campaign).values_list("slot", flat=True))
    return min(set(range(1, COUNT_SLOTS)) - used)


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """Each test starts with nothing cached (the balance reading is), as a fresh process would."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(params=["statement", "orm"] if connection.vendor == "postgresql" else ["orm"])
def sending_path(request, monkeypatch):
    """A test using it runs on both paths a batch can take on PostgreSQL: the one-statement
    claim and settlement (``sending.statements``), and the ORM path forced on (every other
    database's). Elsewhere, once."""
    if request.param == "orm":
        from django_veesing.db import prepared

        monkeypatch.setattr(prepared, "usable", lambda model: False)
    return request.param


@pytest.fixture
def make_campaign(db):
    """make_campaign(phones, kind=..., content=..., schedule=True) -> Campaign"""
    from django_veesing.models import Campaign

    def make(phones, *, kind="notification", content=None, schedule=True, **fields):
        text = content or (MARKETING_TEXT if kind == "marketing" else NOTICE_TEXT)
        campaign = Campaign.objects.create(name="test", content=text, kind=kind, **fields)
        campaign.add_recipients(phones)
        if schedule:
            campaign.schedule()
        return campaign

    return make


@pytest.fixture
def operator(db):
    """A staff user with every permission of the app (a sender)."""
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("operator", password="pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="django_veesing"))
    return user


@pytest.fixture
def viewer(db):
    """A staff user who may only view the app's records."""
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user("viewer", password="pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__startswith="view_", content_type__app_label="django_veesing")
    )
    return user


def logged_in(user, **kwargs):
    """A test client logged in as ``user``."""
    from django.test import Client

    client = Client(**kwargs)
    client.force_login(user)
    return client


def admin_url(name, *args):
    from django.urls import reverse

    return reverse(f"admin:django_veesing_{name}", args=args)


@contextlib.contextmanager
def connected(receivers: dict) -> Iterator[None]:
    """Connect {signal: receiver} for the duration of a ``with`` block."""
    for signal, receiver in receivers.items():
        signal.connect(receiver)
    try:
        yield
    finally:
        for signal, receiver in receivers.items():
            signal.disconnect(receiver)


def database_url() -> str:
    """A URL of the test database, for worker processes a test starts."""
    from django.db import connection

    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def stored_statuses(campaign) -> dict[tuple[str, str], str]:
    """(task id, phone) → current status of the campaign's numbers, keyed as the simulator's record."""
    from django_veesing.models import Recipient

    rows = Recipient.objects.filter(campaign=campaign).values_list("task_id", "phone", "status")
    return {(task_id, phone): status for task_id, phone, status in rows}


def expected_statuses(simulator: Simulator) -> dict[tuple[str, str], str]:
    """What each receipt the simulator produced says the status is."""
    return {
        key: "delivered" if status == "1" else "failed" for key, status in simulator.record.final_statuses().items()
    }


def counted_reasons(campaign) -> dict[tuple[str, str], int]:
    """The campaign's failed numbers by reason, as its ``FailureCount`` rows add up."""
    from django_veesing.models import FailureCount

    found: dict[tuple[str, str], int] = {}
    for code, error, n in FailureCount.objects.filter(campaign=campaign).values_list("code", "error", "numbers"):
        found[(code, error)] = found.get((code, error), 0) + n
    return {reason: n for reason, n in found.items() if n}


def reasons_of_rows(campaign) -> dict[tuple[str, str], int]:
    """The same, grouped from the campaign's failed numbers themselves."""
    from django_veesing.models import Recipient, RecipientStatus, reason_of

    found: dict[tuple[str, str], int] = {}
    failed = Recipient.objects.filter(campaign=campaign, status=RecipientStatus.FAILED)
    for code, error in failed.values_list("receipt_code", "error"):
        found[reason_of(code, error)] = found.get(reason_of(code, error), 0) + 1
    return found
