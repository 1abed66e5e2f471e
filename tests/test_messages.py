"""Messages from code (``send_message``) against the simulator: stored, sent by the worker
in batches of one text, never twice, with each message's fate on its row."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

import django_veesing
from django_veesing import signals
from django_veesing.exceptions import (
    ContentError,
    InvalidRequest,
    UnknownAccountError,
    UnknownKindError,
    VeesingError,
)
from django_veesing.models import AccountHold, Message, MessageBatch, OptOut, Receipt, Reply
from django_veesing.rules.phones import InvalidPhone
from django_veesing.sending.message_sender import resend_uncertain_messages, resume_account
from django_veesing.sending.sender import Sender
from django_veesing.sending.settling import expire
from django_veesing.simulator import Simulator

from .conftest import connected, mobiles
from .test_callback import FORM, receipt, reply, url

pytestmark = pytest.mark.django_db

SHIPPED = "【维信测试】您的订单已发货"
SALE = "【维信测试】会员日八折，回T退订"


def send_due():
    return Sender().messages.send_due()


def group_calls(simulator):
    return [request for request in simulator.record.requests if request.path.endswith("/group")]


def test_a_message_is_stored_pending_and_the_worker_sends_it(simulator, clock):
    message = django_veesing.send_message("+86 138-0013-8000", SHIPPED, metadata={"order": 7})
    assert (message.status, message.phone, message.kind, message.account) == (
        "pending",
        "13800138000",
        "notification",
        "default",
    )
    assert not group_calls(simulator)  # nothing is sent by the call itself
    report = send_due()
    message.refresh_from_db()
    (call,) = group_calls(simulator)
    assert (report.batches, report.submitted) == (1, 1)
    assert message.status == "submitted" and message.task_id == call.task_id and message.submitted_at
    assert call.fields["content"] == message.text == SHIPPED
    assert message.metadata == {"order": 7}
    assert send_due().batches == 0  # nothing is sent twice


def test_a_key_returns_the_first_message_and_sends_nothing_more(simulator):
    first = django_veesing.send_message("13800138000", SHIPPED, key="order-7-shipped")
    again = django_veesing.send_message("13800138000", SHIPPED, key="order-7-shipped")
    assert again.pk == first.pk and Message.objects.count() == 1
    send_due()
    after = django_veesing.send_message("13800138000", SHIPPED, key="order-7-shipped")
    assert after.pk == first.pk and after.status == "submitted"
    assert send_due().batches == 0 and len(group_calls(simulator)) == 1


@pytest.mark.parametrize(
    "call,error,said",
    [
        (lambda: django_veesing.send_message("12345", SHIPPED), InvalidPhone, "5 digits"),
        (lambda: django_veesing.send_message("13800138000", "  "), ContentError, "empty"),
        (lambda: django_veesing.send_message("13800138000", "【维信测试】★好消息"), ContentError, "★"),
        (lambda: django_veesing.send_message("13800138000", "【维信测试】八折", kind="marketing"), ContentError, "opt"),
        (lambda: django_veesing.send_message("13800138000", SHIPPED, kind="otp"), UnknownKindError, "'otp'"),
        (lambda: django_veesing.send_message("13800138000", SHIPPED, account="nope"), UnknownAccountError, "'nope'"),
        (
            lambda: django_veesing.send_message("13800138000", SHIPPED, send_at=dt.datetime(2026, 12, 1, 9)),
            InvalidRequest,
            "time zone",
        ),
        (
            lambda: django_veesing.send_message("13800138000", SHIPPED, metadata={"when": object()}),
            InvalidRequest,
            "JSON",
        ),
    ],
)
def test_bad_input_is_a_typed_error_and_nothing_is_stored(simulator, call, error, said):
    with pytest.raises(error, match=said) as raised:
        call()
    assert isinstance(raised.value, VeesingError)
    assert not Message.objects.exists()


def test_messages_of_one_text_share_a_call_and_each_text_takes_its_own(simulator):
    numbers = mobiles(30)
    for number in numbers[:20]:
        django_veesing.send_message(number, SHIPPED)
    for number in numbers[20:]:
        django_veesing.send_message(number, "【维信测试】您的预约在明天九点")
    django_veesing.send_message(numbers[0], SHIPPED)
    report = send_due()
    calls = group_calls(simulator)
    assert [call.numbers for call in calls] == [20, 10]  # the same number twice waits a minute
    assert report.submitted == 30 and Message.objects.filter(status="pending").count() == 1


def test_batches_hold_at_most_batch_size_numbers(simulator, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 4}
    for number in mobiles(10):
        django_veesing.send_message(number, SHIPPED)
    send_due()
    assert [call.numbers for call in group_calls(simulator)] == [4, 4, 2]
    assert set(Message.objects.values_list("status", flat=True)) == {"submitted"}


def test_a_worker_asked_to_stop_sends_no_batch_after_the_one_in_flight(simulator, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 4}
    for number in mobiles(10):
        django_veesing.send_message(number, SHIPPED)
    sender = Sender()
    send = sender.client.send

    def send_and_stop(phones, *args, **kwargs):
        sender.stop.set()  # as Ctrl-C or SIGTERM sets it in veesing_send, with the first call out
        return send(phones, *args, **kwargs)

    sender.client.send = send_and_stop
    report = sender.messages.send_due()
    assert (report.batches, report.submitted) == (1, 4)
    assert Message.objects.filter(status="pending", batch=None).count() == 6
    assert send_due().submitted == 6
    assert [call.numbers for call in group_calls(simulator)] == [4, 4, 2]


def test_a_message_to_a_number_sent_to_a_minute_ago_waits(simulator, clock):
    django_veesing.send_message("13800138000", SHIPPED)
    send_due()
    second = django_veesing.send_message("13800138000", "【维信测试】您的包裹已签收")
    assert send_due().batches == 0
    clock.advance(seconds=61)
    send_due()
    second.refresh_from_db()
    assert second.status == "submitted" and len(group_calls(simulator)) == 2


def test_a_message_waits_for_its_send_at(simulator, clock):
    message = django_veesing.send_message("13800138000", SHIPPED, send_at=clock() + dt.timedelta(hours=2))
    assert send_due().batches == 0
    clock.advance(hours=2, seconds=1)
    send_due()
    message.refresh_from_db()
    assert message.status == "submitted"


def test_marketing_waits_out_quiet_hours_and_skips_opted_out_numbers(simulator, clock):
    OptOut.objects.create(phone="13800138001")
    clock.advance(hours=9)  # 21:00 in China
    wanted = django_veesing.send_message("13800138000", SALE, kind="marketing")
    stopped = django_veesing.send_message("13800138001", SALE, kind="marketing")
    notice = django_veesing.send_message("13800138002", SHIPPED)
    send_due()
    assert [m.status for m in Message.objects.filter(pk__in=[wanted.pk, notice.pk]).order_by("pk")] == [
        "pending",
        "submitted",
    ]
    clock.advance(hours=12)  # 09:00 the next day
    report = send_due()
    wanted.refresh_from_db(), stopped.refresh_from_db()
    assert (wanted.status, stopped.status, report.skipped) == ("submitted", "skipped", 1)
    assert "13800138001" not in simulator.record.accepted


@pytest.mark.django_db(transaction=True)
def test_receipts_and_replies_link_to_their_message_and_signals_carry_its_metadata(simulator, clock, client):
    seen = []

    def on_submitted(sender, message, **kwargs):
        seen.append(("submitted", message.metadata["order"]))

    def on_receipt(sender, receipt, **kwargs):
        seen.append(("receipt", receipt.message.metadata["order"]))

    message = django_veesing.send_message("13800138000", SHIPPED, metadata={"order": 42})
    with connected({signals.message_submitted: on_submitted, signals.receipt_received: on_receipt}):
        send_due()
        message.refresh_from_db()
        data = receipt(message.phone, status="0", code="UNDELIV", task=message.task_id)
        assert client.post(url(), urlencode(data), content_type=FORM).status_code == 200
    client.post(url(), urlencode(reply(message.phone, content="谢谢", task=message.task_id)), content_type=FORM)
    message.refresh_from_db()
    assert (message.status, message.receipt_code) == ("failed", "UNDELIV")
    assert Receipt.objects.get().message == message and Reply.objects.get().message == message
    assert seen == [("submitted", 42), ("receipt", 42)]


def test_a_receipt_before_the_settlement_is_linked_by_it(simulator, clock, client):
    message = django_veesing.send_message("13800138000", SHIPPED)
    sender = Sender()
    send = sender.client.send

    def send_then_receipt_first(phones, text, **kwargs):
        result = send(phones, text, **kwargs)
        client.post(url(), urlencode(receipt(phones[0], task=result.task_id)), content_type=FORM)
        return result

    sender.client.send = send_then_receipt_first
    sender.messages.send_due()
    message.refresh_from_db()
    assert message.status == "delivered" and Receipt.objects.get().message == message


def test_a_lost_answer_leaves_the_messages_uncertain_until_an_operator_resends(simulator, settings):
    settings.VEESING = {**settings.VEESING, "TIMEOUT": 0.5}
    for number in mobiles(3):
        django_veesing.send_message(number, SHIPPED)
    simulator.inject("timeout", next_n=1, path="/group", seconds=1)
    report = send_due()
    assert report.uncertain == 3 and "no answer in time" in report.message
    assert set(Message.objects.values_list("status", flat=True)) == {"uncertain"}
    assert send_due().batches == 0  # never sent again by itself
    simulator.configure(per_minute_limit=False)  # the provider did send them: a second time within the minute
    assert resend_uncertain_messages(Message.objects.all()) == 3
    send_due()
    assert set(Message.objects.values_list("status", flat=True)) == {"submitted"}


def test_a_connection_never_made_leaves_the_messages_waiting(simulator, settings, closed_port):
    message = django_veesing.send_message("13800138000", SHIPPED)
    settings.VEESING = {**settings.VEESING, "API_URL": f"http://127.0.0.1:{closed_port}"}
    report = send_due()
    message.refresh_from_db()
    assert (message.status, message.batch, report.uncertain) == ("pending", None, 0)
    settings.VEESING = {**settings.VEESING, "API_URL": simulator.url}
    send_due()
    message.refresh_from_db()
    assert message.status == "submitted"


@pytest.mark.django_db(transaction=True)
def test_a_refusal_of_the_messages_fails_them_with_the_providers_text(simulator):
    failed = []
    message = django_veesing.send_message("13800138000", SHIPPED)
    simulator.inject("unknown", next_n=1, path="/group")
    with connected({signals.message_failed: lambda sender, message, **kw: failed.append(message.pk)}):
        report = send_due()
    message.refresh_from_db()
    assert (message.status, message.error, report.failed) == ("failed", "未知原因，请联系客服", 1)
    assert failed == [message.pk]


def test_an_account_refusal_stops_that_account_until_resumed(simulator, settings, client, admin_user):
    message = django_veesing.send_message("13800138000", SHIPPED)
    simulator.configure(locked=True)
    report = send_due()
    message.refresh_from_db()
    assert report.stopped_accounts == ["default"] and message.status == "pending" and message.batch is None
    assert "锁定" in AccountHold.objects.get(account="default").reason
    simulator.configure(locked=False)
    assert send_due().batches == 0  # stopped until an operator says so
    client.force_login(admin_user)
    page = client.get("/admin/django_veesing/message/").content.decode()
    assert "锁定" in page and "default" in page
    assert resume_account("default")
    send_due()
    message.refresh_from_db()
    assert message.status == "submitted"


def test_a_balance_that_does_not_cover_the_messages_stops_the_account_before_any_send(simulator):
    simulator.configure(balance=2)
    for number in mobiles(3):
        django_veesing.send_message(number, SHIPPED)
    report = send_due()
    assert report.stopped_accounts == ["default"] and not group_calls(simulator)
    assert "does not cover" in AccountHold.objects.get().reason
    assert set(Message.objects.values_list("status", flat=True)) == {"pending"}


def test_each_kind_goes_through_its_own_account(settings, clock):  # noon: marketing goes
    settings.VEESING = {
        **settings.VEESING,
        "ACCOUNTS": {"marketing": {"APP_ID": "mk-id", "APP_KEY": "mk-key-secret"}},
        "KIND_ACCOUNTS": {"marketing": "marketing"},
    }
    with Simulator(seed=1, push_delay=0.05) as simulator:  # serves both accounts of the settings
        settings.VEESING = {**settings.VEESING, "API_URL": simulator.url}
        sale = django_veesing.send_message("13800138000", SALE, kind="marketing")
        notice = django_veesing.send_message("13800138001", SHIPPED)
        assert (sale.account, notice.account) == ("marketing", "default")
        send_due()
        accounts = sorted(call.fields["appId"] for call in group_calls(simulator))
        assert accounts == sorted(["mk-id", simulator.config.app_id])
        assert simulator.account("mk-id").balance == simulator.config.balance - 1
        out: list[str] = []
        call_command("veesing_balance", "--account", "marketing", stdout=_Lines(out))
        assert out == [str(simulator.config.balance - 1)]
        with pytest.raises(CommandError, match="no account named 'x'"):
            call_command("veesing_balance", "--account", "x")


class _Lines:
    def __init__(self, lines):
        self.lines = lines

    def write(self, text):
        self.lines.extend(line for line in text.splitlines() if line)

    def flush(self):
        pass


def test_submitted_messages_with_no_receipt_expire(simulator, clock):
    message = django_veesing.send_message("13800138000", SHIPPED)
    send_due()
    clock.advance(hours=73)
    assert expire() == 1
    message.refresh_from_db()
    assert message.status == "expired"


def test_the_worker_command_sends_messages_too(simulator):
    django_veesing.send_message("13800138000", SHIPPED)
    out = []
    call_command("veesing_send", stdout=_Lines(out))
    assert any("1 submitted" in line for line in out if line.startswith("Messages"))
    assert Message.objects.get().status == "submitted"
    assert MessageBatch.objects.get().state == "submitted"


def test_a_refused_balance_question_leaves_the_messages_waiting_and_the_worker_running(simulator):
    message = django_veesing.send_message("13800138000", SHIPPED)
    simulator.inject("unknown", next_n=1, path="/getBalance")
    report = send_due()
    message.refresh_from_db()
    assert (message.status, message.batch, report.batches) == ("pending", None, 0)
    assert "未知原因" in report.message and not group_calls(simulator)
    send_due()
    message.refresh_from_db()
    assert message.status == "submitted"


def test_a_messages_receipt_never_waits_for_a_campaigns_batches_in_flight(simulator, client, make_campaign):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    message = django_veesing.send_message("13800138000", SHIPPED)
    send_due()
    message.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        client.post(url(), urlencode(receipt(message.phone, task=message.task_id)), content_type=FORM)
    assert Receipt.objects.get().message == message
    locks = [q["sql"] for q in queries if "FOR UPDATE" in q["sql"] and '"django_veesing_batch"' in q["sql"]]
    assert locks == []
