"""The sending pipeline against the simulator over loopback."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from django_veesing import signals
from django_veesing.models import Batch, BatchState, Campaign, CampaignStatus, OptOut, Recipient, RecipientStatus
from django_veesing.provider.client import VeesingClient
from django_veesing.receiving.parsing import read_event
from django_veesing.receiving.receipts import take_receipt
from django_veesing.rules.schedule import CHINA
from django_veesing.sending.backlog import resend_uncertain, retry_failed
from django_veesing.sending.sender import Sender
from django_veesing.sending.settling import expire

from .conftest import connected, counted_reasons, mobiles, reasons_of_rows


@pytest.fixture(autouse=True)
def noon(clock):
    """Every test here starts at noon in China (outside quiet hours) by the app's clock."""
    return clock


pytestmark = pytest.mark.usefixtures("sending_path")


@pytest.fixture
def sender(simulator, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 1000}
    return Sender()


def statuses(campaign):
    return dict(Recipient.objects.filter(campaign=campaign).values_list("phone", "status"))


def test_sends_in_batches_each_number_once(simulator, sender, make_campaign):
    campaign = make_campaign(mobiles(2500))
    report = sender.send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert (report.batches, report.submitted) == (3, 2500)
    assert simulator.record.sent_more_than_once() == {}
    assert set(simulator.record.accepted) == set(mobiles(2500))
    assert [r.numbers for r in simulator.record.group_requests()] == [1000, 1000, 500]
    assert campaign.counts()["submitted"] == 2500 and campaign.pending_count == 0
    batches = list(campaign.batches.all())
    assert {b.state for b in batches} == {BatchState.SUBMITTED}
    assert {b.task_id for b in batches} == set(simulator.record.tasks)
    for batch in batches:
        sent = batch.recipients.all()
        assert set(sent.values_list("phone", flat=True)) == set(simulator.record.tasks[batch.task_id])
        assert set(sent.values_list("status", "task_id")) == {(RecipientStatus.SUBMITTED, batch.task_id)}
    assert Recipient.objects.filter(campaign=campaign, status=RecipientStatus.SUBMITTED).count() == 2500
    assert batches[-1].remain_point == simulator.provider.balance
    assert campaign.started_at and campaign.finished_at


def test_rerun_sends_nothing_again(simulator, sender, make_campaign):
    campaign = make_campaign(mobiles(1200))
    sender.send(campaign)
    sender.send(campaign)
    assert sender.send_due() == []
    assert sum(simulator.record.accepted.values()) == 1200


def query_count(settings, make_campaign, sender, batch_size):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": batch_size}
    campaign = make_campaign(mobiles(4 * batch_size, start=13800000000 + batch_size * 10))
    with CaptureQueriesContext(connection) as queries:
        sender.send(campaign)
    return len(queries)


def test_queries_per_batch_do_not_grow_with_batch_size(
    settings, simulator, sender, make_campaign, django_assert_max_num_queries
):
    small = query_count(settings, make_campaign, sender, 10)
    large = query_count(settings, make_campaign, sender, 400)
    assert small == large
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 50}
    campaign = make_campaign(mobiles(50, start=13900000000))
    with django_assert_max_num_queries(32):
        sender.send(campaign)  # one batch, start and finish included


on_postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement path is PostgreSQL's")


def round_trips(make_campaign, batches, start):
    """Queries to send a notification campaign of ``batches`` batches of 10 (its start
    and finish cost the same whatever its size: compare two)."""
    campaign = make_campaign(mobiles(10 * batches, start=start))
    sender = Sender()
    with CaptureQueriesContext(connection) as queries:
        sender.send(campaign)
    assert sender.send(campaign).status == CampaignStatus.SENT
    return [query["sql"] for query in queries]


@pytest.fixture(params=["prepared", "unprepared", "server-side binding"])
def binding(request, settings):
    """How the statements reach PostgreSQL: prepared (the default), sent whole, or sent
    whole through psycopg's server-side binding."""
    if request.param == "prepared":
        yield
        return
    settings.VEESING = {**settings.VEESING, "PREPARED_STATEMENTS": False}
    if request.param == "unprepared":
        yield
        return
    options = connection.settings_dict["OPTIONS"]
    connection.close()
    connection.settings_dict["OPTIONS"] = {**options, "server_side_binding": True}
    yield
    connection.close()
    connection.settings_dict["OPTIONS"] = options


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_batch_takes_four_statements_however_they_are_bound(
    simulator, make_campaign, settings, binding, sending_path
):
    """The claim (ahead, queued), the take before the call, the settlement and the look
    for early receipts: one statement each."""
    if sending_path != "statement":
        pytest.skip("the one-statement path")
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 10}
    round_trips(make_campaign, 2, 13700000000)  # statements prepared on this connection (a take too)
    two, five = round_trips(make_campaign, 2, 13710000000), round_trips(make_campaign, 5, 13720000000)
    assert len(five) - len(two) == 3 * 4
    assert simulator.record.sent_more_than_once() == {}
    assert set(statuses(Campaign.objects.last()).values()) == {RecipientStatus.SUBMITTED}


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_notification_claims_its_next_batch_while_a_call_is_in_flight(simulator, make_campaign, settings):
    """When batch n's call starts, batch n-1 is settled already (a crash mid-call leaves
    one batch unsettled); while it is in flight the worker claims batch n+1, which waits
    as queued. A call that waits for the claim to show ends; a worker claiming only after
    each answer would make it time out."""
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 2}
    campaign = make_campaign(mobiles(8))
    sender = Sender()
    send, seen = sender.client.send, []

    def send_and_watch(phones, *args, **kwargs):
        def states():
            return list(Batch.objects.filter(campaign=campaign).order_by("id").values_list("state", flat=True))

        n = len(seen)  # this is batch n (0-based)
        try:
            settled_before = n == 0 or states()[n - 1] == BatchState.SUBMITTED
            result = send(phones, *args, **kwargs)
            deadline = time.monotonic() + 10
            while not (claimed_after := n == 3 or len(states()) > n + 1) and time.monotonic() < deadline:
                time.sleep(0.01)
            next_state = states()[n + 1] if n < 3 else None
        finally:
            connection.close()  # this thread's own connection
        seen.append((settled_before, claimed_after, next_state))
        return result

    sender.client.send = send_and_watch
    assert sender.send(campaign).status == CampaignStatus.SENT
    assert seen == [(True, True, BatchState.QUEUED)] * 3 + [(True, True, None)]
    assert set(statuses(campaign).values()) == {RecipientStatus.SUBMITTED}
    assert set(campaign.batches.values_list("state", flat=True)) == {BatchState.SUBMITTED}


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_receipt_that_beats_its_batch_settlement_is_linked_once_it_is_settled(simulator, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 2}
    campaign = make_campaign(mobiles(4))
    sender = Sender()
    send = sender.client.send
    early = []

    def send_and_receipt_first(phones, *args, **kwargs):
        result = send(phones, *args, **kwargs)
        if not early:  # the provider's receipt comes before the batch is settled
            push = {
                "mobile": phones[0],
                "taskid": result.task_id,
                "status": "1",
                "code": "DELIVRD",
                "receivetime": "2026-11-26 12:00:05",
            }
            early.append((phones[0], take_receipt(read_event(push))))
        return result

    sender.client.send = send_and_receipt_first
    sender.send(campaign)
    phone, receipt = early[0]
    assert receipt.recipient_id is None  # stored unmatched when it came
    receipt.refresh_from_db()
    assert receipt.recipient is not None and receipt.recipient.phone == phone
    assert statuses(campaign)[phone] == RecipientStatus.DELIVERED
    campaign.refresh_from_db()
    assert (campaign.delivered_count, campaign.submitted_count) == (1, 3)


def watch_calls(sender: Sender, watch) -> list:
    """Have ``watch(phones)`` run as each of the sender's calls starts (its batch claimed
    and committed by then), in the call's own thread; returns what each watch returned."""
    send, seen = sender.client.send, []

    def watched(phones, *args, **kwargs):
        try:
            seen.append(watch(phones))
        finally:
            connection.close()  # the call thread's own connection
        return send(phones, *args, **kwargs)

    sender.client.send = watched
    return seen


@pytest.mark.django_db(transaction=True)
def test_claiming_takes_the_next_numbers_after_the_cursor(simulator, sender, make_campaign):
    campaign = make_campaign(mobiles(300))

    def claimed(phones):
        batch = Batch.objects.get(campaign=campaign, state=BatchState.CLAIMED)
        ids = list(Recipient.objects.filter(campaign=campaign).order_by("id").values_list("id", flat=True))
        cursor = Campaign.objects.get(pk=campaign.pk).claimed_through
        in_batch = set(batch.pending_recipients().values_list("phone", flat=True))
        return len(phones), (batch.first_id, batch.last_id) == (ids[0], ids[299]), cursor == batch.last_id, in_batch

    seen = watch_calls(sender, claimed)
    sender.send(campaign)
    assert seen == [(300, True, True, set(mobiles(300)))]


def test_a_failed_campaign_with_numbers_added_sends_the_rest_and_the_new_once(simulator, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 4}
    simulator.configure(per_minute_limit=False)
    campaign = make_campaign(mobiles(8))
    simulator.inject("unknown", next_n=1, path="/group", after=1)  # the second batch is refused
    assert Sender().send(campaign).campaign_failed
    campaign.refresh_from_db()
    campaign.schedule()
    assert campaign.add_recipients(mobiles(3, start=13700000000)).added == 3
    Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT and campaign.submitted_count == 11
    assert simulator.record.accepted == dict.fromkeys(mobiles(8) + mobiles(3, start=13700000000), 1)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_queued_batch_has_one_taker_and_none_once_its_campaign_stops(simulator, make_campaign, sending_path):
    """Two workers take the same queued batch at once: the second waits for the first's
    lock, finds the batch claimed, and does not send it. A stopped campaign's queued
    batch is taken by nobody."""
    campaign = make_campaign(mobiles(4))
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    queued = Batch.objects.create(campaign=campaign, state=BatchState.QUEUED, size=4, claimed_by="ahead")
    first, second = Sender(worker="first"), Sender(worker="second")
    took = {}

    def second_takes():
        try:
            took["second"] = second._take(Batch.objects.get(pk=queued.pk))
        finally:
            connections[DEFAULT_DB_ALIAS].close()  # this thread's own connection

    with transaction.atomic():
        took["first"] = first._take(Batch.objects.get(pk=queued.pk))
        waiting = threading.Thread(target=second_takes)
        waiting.start()
        deadline = time.monotonic() + 10
        while not lock_waits() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lock_waits(), "the second worker should wait for the first's lock"
    waiting.join(10)
    assert took == {"first": True, "second": False}
    assert Batch.objects.values_list("state", "claimed_by").get(pk=queued.pk) == (BatchState.CLAIMED, "first")

    stopped = Batch.objects.create(campaign=campaign, state=BatchState.QUEUED, size=4, claimed_by="ahead")
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.CANCELLED)
    assert not first._take(stopped)
    assert Batch.objects.values_list("state", flat=True).get(pk=stopped.pk) == BatchState.QUEUED


def lock_waits() -> int:
    """How many other sessions wait for a row lock (read afresh: inside a transaction
    PostgreSQL keeps showing its first look at them)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_retried_failures_go_out_in_queued_batches_once_each(simulator, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 3}
    simulator.configure(per_minute_limit=False)
    campaign = make_campaign(mobiles(7))
    Sender().send(campaign)
    Recipient.objects.filter(campaign=campaign).update(status=RecipientStatus.FAILED, error="拒收")
    campaign.recount()
    assert counted_reasons(campaign) == reasons_of_rows(campaign) == {("", "拒收"): 7}
    assert retry_failed(campaign) == 7
    assert counted_reasons(campaign) == reasons_of_rows(campaign) == {}
    queued = Batch.objects.filter(campaign=campaign, state=BatchState.QUEUED)
    assert sorted(b.recipients.count() for b in queued) == [1, 3, 3]
    Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT and campaign.submitted_count == 7
    assert simulator.record.accepted == dict.fromkeys(mobiles(7), 2)  # once, then once more on request
    assert not Batch.objects.filter(campaign=campaign, state=BatchState.QUEUED).exists()


def test_opted_out_numbers_are_skipped_for_marketing_only(simulator, sender, make_campaign):
    OptOut.objects.create(phone="13800000001")
    marketing = make_campaign(mobiles(3), kind="marketing")
    notice = make_campaign(mobiles(3), kind="notification")
    sender.send(marketing)
    assert statuses(marketing)["13800000001"] == RecipientStatus.SKIPPED
    simulator.configure(per_minute_limit=False)
    sender.send(notice)
    assert statuses(notice)["13800000001"] == RecipientStatus.SUBMITTED
    assert simulator.record.accepted["13800000001"] == 1
    marketing.refresh_from_db()
    assert (marketing.skipped_count, marketing.submitted_count) == (1, 2)


@pytest.mark.django_db(transaction=True)
def test_opt_out_during_sending_is_honoured(simulator, sender, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 2}
    campaign = make_campaign(mobiles(4), kind="marketing")

    def opt_out_late(sender, batch, **kwargs):
        OptOut.objects.get_or_create(phone="13800000003")

    with connected({signals.batch_submitted: opt_out_late}):
        Sender().send(campaign)
    assert statuses(campaign)["13800000003"] == RecipientStatus.SKIPPED
    assert "13800000003" not in simulator.record.accepted


def test_provider_unreachable_keeps_numbers_pending_then_sends(simulator, make_campaign, settings, closed_port):
    campaign = make_campaign(mobiles(10))
    settings.VEESING = {**settings.VEESING, "API_URL": f"http://127.0.0.1:{closed_port}", "CHECK_BALANCE": False}
    report = Sender().send(campaign)
    assert "could not connect" in report.message
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING
    assert campaign.pending_count == 10 and "could not connect" in campaign.last_message
    released = Batch.objects.get(campaign=campaign, state=BatchState.RELEASED)
    queued = Batch.objects.get(campaign=campaign, state=BatchState.QUEUED)  # the numbers, to send later
    assert set(queued.recipients.values_list("phone", flat=True)) == set(mobiles(10))
    assert not released.recipients.exists()
    settings.VEESING = {**settings.VEESING, "API_URL": simulator.url}
    Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT and campaign.submitted_count == 10
    assert simulator.record.accepted == dict.fromkeys(mobiles(10), 1)


@pytest.mark.parametrize("fault", ["timeout", "http_error", "bad_json", "reset"])
def test_uncertain_batch_is_not_resent_until_an_operator_says_so(simulator, make_campaign, settings, fault):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 5, "TIMEOUT": 0.5}
    simulator.configure(per_minute_limit=False)
    campaign = make_campaign(mobiles(10))
    simulator.inject(fault, next_n=1, path="/group", seconds=2)
    report = Sender().send(campaign)
    assert report.uncertain == 1 and report.message
    uncertain = Batch.objects.get(campaign=campaign, state=BatchState.UNCERTAIN)
    assert uncertain.message == report.message
    uncertain_phones = set(uncertain.recipients.values_list("phone", flat=True))
    assert len(uncertain_phones) == 5
    Sender().send(campaign)  # a rerun sends the rest, not the uncertain batch
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert (campaign.submitted_count, campaign.pending_count) == (5, 5)
    assert simulator.record.sent_more_than_once() == {}
    assert sum(simulator.record.accepted.values()) == 10  # the provider did get all ten
    assert resend_uncertain(campaign) == 5
    assert campaign.status == CampaignStatus.SCHEDULED
    Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT and campaign.submitted_count == 10
    assert set(simulator.record.sent_more_than_once()) == uncertain_phones
    assert Batch.objects.get(pk=uncertain.pk).state == BatchState.RESENT


@pytest.mark.parametrize(
    "setup,message",
    [
        ({"balance": 1}, "余额不足"),
        ({"locked": True}, "您的账户已被锁定"),
        ({"ip_allowlist": ("10.0.0.0/8",)}, "IP受限"),
        ({"app_key": "another-key"}, "账号或密码错误"),
    ],
    ids=["balance", "locked", "ip", "credentials"],
)
def test_account_refusals_fail_the_campaign(simulator, make_campaign, settings, setup, message):
    settings.VEESING = {**settings.VEESING, "CHECK_BALANCE": False}
    campaign = make_campaign(mobiles(5))
    simulator.configure(**setup)
    report = Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED and report.campaign_failed
    assert message in campaign.last_message and message in report.message
    assert campaign.pending_count == 5 and campaign.submitted_count == 0
    assert Batch.objects.get(campaign=campaign, state=BatchState.REFUSED).size == 5
    assert Batch.objects.get(campaign=campaign, state=BatchState.QUEUED).recipients.count() == 5
    assert simulator.record.accepted == {}


def test_unknown_refusal_fails_the_campaign(simulator, make_campaign):
    campaign = make_campaign(mobiles(3))
    simulator.inject("unknown", next_n=1, path="/group")
    report = Sender().send(campaign)
    assert report.campaign_failed and "未知原因" in report.message


def test_number_refusals_fail_those_numbers_and_the_campaign_goes_on(simulator, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 3}
    campaign = make_campaign(mobiles(9))
    VeesingClient.from_settings().send(["13800000004"], "【维信测试】先发一条")  # now inside its one-minute window
    report = Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert (campaign.failed_count, campaign.submitted_count) == (3, 6)
    assert report.failed == 3
    failed = Recipient.objects.filter(campaign=campaign, status=RecipientStatus.FAILED)
    assert set(failed.values_list("phone", flat=True)) == {"13800000003", "13800000004", "13800000005"}
    assert {r.error for r in failed} == {"相同手机号码一分钟之内只可发送一次"}


@pytest.mark.parametrize(
    "message", ["手机号码格式不正确", "该号码今日发送次数已达上限", "相同手机号码一分钟之内只可发送一次"]
)
def test_each_number_refusal_fails_only_its_batch(simulator, make_campaign, settings, message):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 2}
    campaign = make_campaign(mobiles(4))
    simulator.inject("raw", next_n=1, path="/group", body={"returnStatus": "0", "message": message})
    report = Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert (campaign.failed_count, campaign.submitted_count, report.failed) == (2, 2, 2)
    assert set(Recipient.objects.filter(campaign=campaign, status="failed").values_list("error", flat=True)) == {
        message
    }
    assert counted_reasons(campaign) == reasons_of_rows(campaign) == {("", message): 2}
    assert campaign.last_message == message


def test_account_daily_limit_stops_the_campaign(simulator, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 2}
    simulator.configure(account_daily_cap=3)
    campaign = make_campaign(mobiles(6))
    report = Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED and "当日发送量" in report.message
    assert (campaign.submitted_count, campaign.pending_count, campaign.failed_count) == (2, 4, 0)


def test_balance_below_cost_does_not_start(simulator, make_campaign):
    simulator.configure(balance=9)
    campaign = make_campaign(mobiles(10))
    report = Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED
    assert "(9 messages)" in campaign.last_message and "(10 messages)" in campaign.last_message
    assert report.message == campaign.last_message
    assert simulator.record.group_requests() == []


def test_the_balance_check_refused_fails_the_campaign_before_any_send(simulator, make_campaign):
    campaign = make_campaign(mobiles(5))
    simulator.configure(app_key="another-key")  # the balance call is refused like any call
    report = Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.FAILED and report.campaign_failed
    assert "账号或密码错误" in campaign.last_message and report.message == campaign.last_message
    assert not campaign.batches.exists() and campaign.pending_count == 5
    assert simulator.record.group_requests() == []


def test_the_balance_unreadable_leaves_the_campaign_scheduled(simulator, make_campaign, settings, closed_port):
    campaign = make_campaign(mobiles(5))
    settings.VEESING = {**settings.VEESING, "API_URL": f"http://127.0.0.1:{closed_port}"}
    report = Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED == report.status  # tried again on the next run
    assert report.message.startswith("Could not ask the provider for the balance")
    assert not campaign.batches.exists()
    settings.VEESING = {**settings.VEESING, "API_URL": simulator.url}
    assert Sender().send(campaign).status == CampaignStatus.SENT


def at_the_second_call(sender, simulator, action):
    """Make ``sender`` run ``action`` as it starts each call after the first (the first
    batch sent, the second about to go)."""
    send = sender.client.send

    def sending(phones, *args, **kwargs):
        if simulator.record.group_requests():
            action()
        return send(phones, *args, **kwargs)

    sender.client.send = sending


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["notification", "marketing"])
def test_cancel_while_sending_stops_at_the_next_claim(simulator, make_campaign, settings, kind):
    """An operator cancels while the second batch is at the provider: that batch is
    sent and settled, no later one is claimed."""
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 2}
    campaign = make_campaign(mobiles(6), kind=kind)
    sender = Sender()
    at_the_second_call(sender, simulator, lambda: Campaign.objects.get(pk=campaign.pk).cancel())  # as from the admin
    report = sender.send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED == report.status
    assert (campaign.submitted_count, campaign.pending_count) == (4, 2)
    assert sum(simulator.record.accepted.values()) == 4
    # The batch after (claimed ahead during a notification's call) was never called: it
    # waits, queued, with its numbers pending.
    assert set(campaign.batches.values_list("state", flat=True)) <= {BatchState.SUBMITTED, BatchState.QUEUED}
    assert not campaign.batches.filter(state=BatchState.QUEUED).exclude(recipients__status="pending").exists()
    assert set(statuses(campaign).values()) == {RecipientStatus.SUBMITTED, RecipientStatus.PENDING}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", ["notification", "marketing"])
def test_a_worker_asked_to_stop_settles_the_batch_in_flight_and_claims_no_more(
    simulator, make_campaign, settings, kind
):
    """``Sender.stop`` set while the second batch is at the provider (as Ctrl-C or
    SIGTERM sets it in ``veesing_send``): that batch is settled, none is claimed or taken
    after it, and the next run sends the rest, each number once."""
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 2}
    campaign = make_campaign(mobiles(6), kind=kind)
    sender = Sender()
    at_the_second_call(sender, simulator, sender.stop.set)
    report = sender.send(campaign)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING == report.status
    assert (campaign.submitted_count, campaign.pending_count) == (4, 2)
    assert set(campaign.batches.values_list("state", flat=True)) <= {BatchState.SUBMITTED, BatchState.QUEUED}
    assert sender.send_due() == []

    assert Sender().send(campaign).status == CampaignStatus.SENT
    assert simulator.record.accepted == dict.fromkeys(mobiles(6), 1)


@pytest.mark.django_db(transaction=True)
def test_signals(simulator, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 2}
    seen = []
    receivers = {
        signals.campaign_started: lambda sender, campaign, **kw: seen.append(("started", campaign.status)),
        signals.batch_submitted: lambda sender, batch, **kw: seen.append(("batch", batch.state)),
        signals.campaign_finished: lambda sender, campaign, **kw: seen.append(("finished", campaign.status)),
    }
    with connected(receivers):
        Sender().send(make_campaign(mobiles(3)))
    assert seen == [("started", "sending"), ("batch", "submitted"), ("batch", "submitted"), ("finished", "sent")]


def test_waits_for_send_at(simulator, make_campaign, clock):
    campaign = make_campaign(mobiles(2), schedule=False)
    campaign.schedule(clock() + dt.timedelta(hours=1))
    sender = Sender()
    assert sender.send_due() == []
    clock.advance(hours=1)
    (report,) = sender.send_due()
    assert report.status == CampaignStatus.SENT and report.submitted == 2


def test_quiet_hours_hold_marketing_but_not_notifications(simulator, make_campaign, clock):
    clock.set(dt.datetime(2026, 11, 26, 21, 0, tzinfo=CHINA))  # evening
    marketing = make_campaign(mobiles(2), kind="marketing")
    notice = make_campaign(mobiles(2, start=13900000000), kind="notification")
    reports = {r.campaign_id: r for r in Sender().send_due()}
    assert marketing.pk not in reports  # not due yet
    assert reports[notice.pk].status == CampaignStatus.SENT
    report = Sender().send(marketing)
    assert report.waiting == "quiet_hours" and report.status == CampaignStatus.SCHEDULED
    clock.set(dt.datetime(2026, 11, 27, 8, 0, tzinfo=CHINA))  # morning
    (report,) = Sender().send_due()
    assert report.campaign_id == marketing.pk and report.status == CampaignStatus.SENT


def test_quiet_hours_setting_can_be_disabled(simulator, make_campaign, settings, clock):
    settings.VEESING = {**settings.VEESING, "QUIET_HOURS": None}
    campaign = make_campaign(mobiles(2), kind="marketing")
    clock.set(dt.datetime(2026, 11, 26, 23, 0, tzinfo=CHINA))
    report = Sender().send(campaign)
    assert report.status == CampaignStatus.SENT


def test_scheduled_at_the_provider(simulator, make_campaign, clock):
    campaign = make_campaign(mobiles(2), schedule=False)
    at = clock() + dt.timedelta(hours=3)
    campaign.schedule(at, at_provider=True)
    (report,) = Sender().send_due()
    assert report.status == CampaignStatus.SENT
    expected = at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
    assert simulator.record.group_requests()[0].fields["sendTime"] == expected


def test_abandoned_claim_of_a_dead_worker_becomes_uncertain(simulator, make_campaign, clock):
    campaign = make_campaign(mobiles(4))
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING)
    batch = Batch.objects.create(campaign=campaign, size=2, claimed_by="nohost-really:1")
    Recipient.objects.filter(phone__in=mobiles(2)).update(batch=batch)
    dead = Batch.objects.create(campaign=campaign, size=0, claimed_by=f"{socket.gethostname()}:999999")
    Sender().send(campaign)
    assert Batch.objects.get(pk=dead.pk).state == BatchState.UNCERTAIN
    campaign.refresh_from_db()
    # The other host's claim is recent: the campaign waits for it rather than finishing.
    assert campaign.status == CampaignStatus.SENDING
    assert Batch.objects.get(pk=batch.pk).state == BatchState.CLAIMED
    clock.advance(minutes=10)
    Sender().send(campaign)
    assert Batch.objects.get(pk=batch.pk).state == BatchState.UNCERTAIN
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    assert set(simulator.record.accepted) == set(mobiles(4)[2:])


def test_expire(simulator, sender, make_campaign, clock):
    campaign = make_campaign(mobiles(3))
    sender.send(campaign)
    clock.advance(hours=71)
    assert expire(72) == 0
    clock.advance(hours=2)
    assert expire(72) == 3
    campaign.refresh_from_db()
    assert (campaign.submitted_count, campaign.expired_count) == (0, 3)
    assert set(statuses(campaign).values()) == {RecipientStatus.EXPIRED}
    assert expire(72) == 0  # nothing twice


@pytest.mark.django_db(transaction=True)
def test_a_batch_writes_its_rows_once_claimed_and_once_settled(simulator, sender, make_campaign, sending_path):
    """In flight, a number reads pending with its batch; once accepted, submitted with the
    batch's task id: one UPDATE of the rows each, never one per number. (A marketing
    campaign claims after each answer, so nothing runs beside its call.)"""
    campaign = make_campaign(mobiles(5), kind="marketing")
    rows = Recipient.objects.filter(campaign=campaign)
    main = connections[DEFAULT_DB_ALIAS]  # this thread's: the calls run on another

    def in_flight(phones):
        return len(main.queries_log), set(rows.values_list("status", "batch__state", "task_id"))

    seen = watch_calls(sender, in_flight)
    with CaptureQueriesContext(main) as queries:
        sender.send(campaign)
    ((mark, flying),) = seen
    assert flying == {(RecipientStatus.PENDING, BatchState.CLAIMED, "")}
    batch = Batch.objects.get(campaign=campaign)
    assert set(rows.values_list("status", "batch", "task_id")) == {(RecipientStatus.SUBMITTED, batch.pk, batch.task_id)}
    sql = [q["sql"] for q in queries.captured_queries]
    claiming, settling = sql[: mark - queries.initial_queries], sql[mark - queries.initial_queries :]
    if sending_path == "statement":  # one prepared statement each
        assert len([q for q in claiming if q.startswith("EXECUTE veesing_claim")]) == 1, claiming
        assert len([q for q in settling if q.startswith("EXECUTE veesing_settle")]) == 1, settling
    else:
        assert len([q for q in claiming if q.startswith('UPDATE "django_veesing_recipient" SET "batch_id"')]) == 1
        assert len([q for q in settling if q.startswith('UPDATE "django_veesing_recipient" SET "status"')]) == 1
    campaign.refresh_from_db()
    assert (campaign.pending_count, campaign.submitted_count) == (0, 5)
    campaign.recount()  # the repair tool finds what the counts say
    assert (campaign.pending_count, campaign.submitted_count) == (0, 5)


@pytest.mark.django_db(transaction=True)
def test_numbers_in_flight_are_pending_with_their_batch(simulator, sender, make_campaign):
    campaign = make_campaign(mobiles(5))

    def in_flight(phones):
        return set(Recipient.objects.filter(campaign=campaign).values_list("status", "batch__state"))

    seen = watch_calls(sender, in_flight)
    sender.send(campaign)
    assert seen == [{(RecipientStatus.PENDING, BatchState.CLAIMED)}]  # claimed, its call not answered yet
    assert set(statuses(campaign).values()) == {RecipientStatus.SUBMITTED}
