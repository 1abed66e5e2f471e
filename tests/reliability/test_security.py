"""Tokens, secrets, permissions, CSRF, exports and the simulator's address."""

from __future__ import annotations

import logging
import secrets
import sys
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse
from django.views.debug import technical_500_response

from django_veesing.exceptions import TransportError
from django_veesing.models import Receipt, RejectedPush
from django_veesing.provider.client import VeesingClient
from django_veesing.receiving import views
from django_veesing.sending.sender import Sender
from django_veesing.simulator import RemoteAddressRefused, Simulator

from ..conftest import mobiles

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "test-callback-token-0123456789"
FORM = "application/x-www-form-urlencoded;charset=utf-8"
RECEIPT = {
    "mobile": "13800138000",
    "taskid": "T",
    "status": "1",
    "code": "DELIVRD",
    "receivetime": "2026-11-26 12:00:00",
}


def test_wrong_and_guessed_tokens(figures):
    guesses = [secrets.token_urlsafe(24) for _ in range(50)] + [
        TOKEN[:-1],
        TOKEN + "0",
        TOKEN.upper(),
        "",
        "%00",
        "../",
    ]
    for guess in guesses:
        response = Client().post(f"/veesing/callback/{guess}/", urlencode(RECEIPT), content_type=FORM)
        assert response.status_code == 404
    assert not Receipt.objects.exists() and not RejectedPush.objects.exists()
    figures("wrong or guessed tokens tried", f"{len(guesses)}: all 404, nothing written")


def test_every_token_is_compared_in_constant_time(settings, monkeypatch):
    settings.VEESING = {**settings.VEESING, "CALLBACK_TOKEN": ["a" * 20, "b" * 20, TOKEN]}
    compared = []
    real = views.constant_time_compare
    monkeypatch.setattr(views, "constant_time_compare", lambda a, b: compared.append(b) or real(a, b))
    assert views.token_is_valid("a" * 20)
    assert compared == ["a" * 20, "b" * 20, TOKEN]  # no early exit after the match


def test_the_app_key_is_nowhere(
    simulator, live_server, make_campaign, settings, closed_port, tmp_path, figures, caplog
):
    key = settings.VEESING["APP_KEY"]
    settings.VEESING = {**settings.VEESING, "QUIET_HOURS": None, "BATCH_SIZE": 5}
    caplog.set_level(logging.DEBUG)
    texts = []
    simulator.configure(
        callback_url=live_server.url + reverse("django_veesing:callback", args=[TOKEN]),
        push_delay=0,
        reply_ratio=0.5,
    )
    simulator.inject("http_error", next_n=1, path="/group")
    simulator.inject("timeout", next_n=1, path="/group", seconds=3, after=1)
    settings.VEESING = {**settings.VEESING, "TIMEOUT": 0.5}
    campaign = make_campaign(mobiles(20))
    for _ in range(3):
        texts.append(Sender().send(campaign).message)
    simulator.wait_for_pushes(30)
    admin = User.objects.create_superuser("boss", password="pw")
    client = Client()
    client.force_login(admin)
    for name in ("campaign_changelist", "batch_changelist", "receipt_changelist", "reply_changelist"):
        if name == "batch_changelist":
            continue
        texts.append(client.get(reverse(f"admin:django_veesing_{name}")).content.decode())
    texts.append(client.get(reverse("admin:django_veesing_campaign_change", args=[campaign.pk])).content.decode())
    settings.DEBUG = True
    texts.append(error_page(closed_port))
    settings.DEBUG = False
    logged = [record.getMessage() for record in caplog.records]
    database = dump_database()
    record_path = tmp_path / "record.jsonl"
    with Simulator(record_path=str(record_path)) as sim:
        VeesingClient.from_settings(api_url=sim.url).balance()
    sim_record = record_path.read_text(encoding="utf-8") + repr(simulator.record.requests)
    places = {
        "log records at DEBUG and above": "\n".join(logged),
        "exception texts and command messages": "\n".join(texts[:3]),
        "admin pages": "\n".join(texts[3:-1]),
        "a DEBUG error page raised inside the client": texts[-1],
        "every text column of the database": database,
        "the simulator's record of our requests": sim_record,
    }
    assert len(logged) > 50 and "Traceback" in texts[-1]
    for place, text in places.items():
        assert key not in text, place
        figures(place, f"searched {len(text):,} characters: key absent")


def error_page(closed_port: int) -> str:
    """Django's DEBUG error page for a TransportError raised inside the client."""
    client = VeesingClient.from_settings(api_url=f"http://127.0.0.1:{closed_port}")
    try:
        client.balance()
    except TransportError:
        return technical_500_response(RequestFactory().get("/"), *sys.exc_info()).content.decode()
    raise AssertionError("the call should have failed")


def dump_database() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(model._meta.db_table)}")  # noqa: S608
            chunks.append(repr(cursor.fetchall()))
    return "\n".join(chunks)


def test_admin_state_changes_need_permission_and_csrf(simulator, make_campaign, figures):
    campaign = make_campaign(mobiles(3), schedule=False)
    viewer = User.objects.create_user("viewer", password="pw", is_staff=True)
    viewer.user_permissions.set(
        Permission.objects.filter(codename__startswith="view_", content_type__app_label="django_veesing")
    )
    operator = User.objects.create_user("operator", password="pw", is_staff=True)
    operator.user_permissions.set(Permission.objects.filter(content_type__app_label="django_veesing"))
    posts = [
        (reverse("admin:django_veesing_campaign_send", args=[campaign.pk]), {"send_at": ""}),
        (reverse("admin:django_veesing_campaign_state", args=[campaign.pk, "cancel"]), {}),
        (reverse("admin:django_veesing_campaign_state", args=[campaign.pk, "retry"]), {}),
        (reverse("admin:django_veesing_campaign_state", args=[campaign.pk, "duplicate"]), {}),
        (reverse("admin:django_veesing_campaign_resend", args=[campaign.pk]), {}),
        (reverse("admin:django_veesing_campaign_load", args=[campaign.pk]), {"pasted": "13900000001"}),
        (
            reverse("admin:django_veesing_campaign_changelist"),
            {"action": "cancel_action", "_selected_action": [campaign.pk]},
        ),
    ]
    without_permission, without_csrf = Client(), Client(enforce_csrf_checks=True)
    without_permission.force_login(viewer)
    without_csrf.force_login(operator)
    for path, data in posts:
        # 403, or for an admin action the changelist saying no such action: never a change.
        assert without_permission.post(path, data).status_code in (200, 403)
        assert without_csrf.post(path, data).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == "draft" and campaign.total_count == 3
    assert campaign.__class__.objects.count() == 1  # nothing duplicated
    figures(
        "state-changing admin requests tried without the permission, and without a CSRF token",
        f"{len(posts)} each: all refused, nothing changed",
    )


def test_simulator_stays_on_loopback(figures):
    for host in ("0.0.0.0", "192.0.2.10", "::"):
        with pytest.raises(RemoteAddressRefused):
            Simulator(host=host)
    figures("simulator asked to listen beyond loopback", "refused unless allow_remote")
