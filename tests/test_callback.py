"""The callback view, through HTTP, with the records it changes."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.urls import reverse

from django_veesing import clock as app_clock
from django_veesing import signals
from django_veesing.db import prepared
from django_veesing.models import (
    Batch,
    BatchState,
    OptOut,
    Receipt,
    ReceiptArrivals,
    Recipient,
    RecipientStatus,
    RejectedPush,
    Reply,
    move_counts,
)
from django_veesing.receiving import statements as receipt_sql
from django_veesing.receiving.replies import is_opt_out
from django_veesing.rules.schedule import CHINA
from django_veesing.sending.reconcile import reconcile
from django_veesing.sending.settling import mark_submitted

from .conftest import connected, counted_reasons, reasons_of_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["statement", "orm"] if connection.vendor == "postgresql" else ["orm"])
def receipt_path(request, monkeypatch):
    """Every test here runs on both paths a receipt can take on PostgreSQL: the one
    statement (``receiving.statements``), and the ORM path forced on (the path of every
    other database, and of a receipt whose task is not known yet). Elsewhere, once."""
    if request.param == "orm":
        monkeypatch.setattr(prepared, "usable", lambda model: False)
    return request.param


TOKEN = "test-callback-token-0123456789"
TASK = "A" * 32


def url(kind=None, token=TOKEN):
    name = {None: "callback", "receipt": "callback-receipts", "reply": "callback-replies"}[kind]
    return reverse(f"django_veesing:{name}", args=[token])


def receipt(phone="13800138000", status="1", code="DELIVRD", when="2026-11-26 12:00:05", task=TASK):
    return {"mobile": phone, "taskid": task, "status": status, "code": code, "receivetime": when}


def reply(phone="13800138000", content="收到", when="2026-11-26 12:01:00", task=TASK):
    return {"mobile": phone, "taskid": task, "content": content, "receivetime": when}


FORM = "application/x-www-form-urlencoded;charset=utf-8"


def push(client, data, kind=None, **extra):
    """POST as the provider does: one form-encoded event."""
    return client.post(url(kind), urlencode(data), content_type=FORM, **extra)


@pytest.fixture
def sent(make_campaign):
    """A campaign of three numbers whose batch was submitted with task TASK."""
    campaign = make_campaign(["13800138000", "13900139000", "13700137000"])
    batch = Batch.objects.create(campaign=campaign, size=3)
    Recipient.objects.filter(campaign=campaign).update(batch=batch)
    mark_submitted(batch, TASK, 3, 100, "成功", app_clock.now())
    campaign.refresh_from_db()
    return campaign


def recipient(phone="13800138000"):
    return Recipient.objects.get(phone=phone)


def test_receipt_delivers(client, sent):
    response = push(client, receipt())
    assert response.status_code == 200 and response.content == b"ok"
    r = recipient()
    assert r.status == RecipientStatus.DELIVERED
    assert r.receipt_code == "DELIVRD"
    assert r.receipt_at == dt.datetime(2026, 11, 26, 12, 0, 5, tzinfo=CHINA)
    stored = Receipt.objects.get()
    assert stored.recipient == r and stored.delivered and stored.raw == receipt()
    sent.refresh_from_db()
    assert (sent.submitted_count, sent.delivered_count) == (2, 1)


def test_failed_receipt(client, sent):
    push(client, receipt(status="0", code="MK:0011"))
    assert recipient().status == RecipientStatus.FAILED
    sent.refresh_from_db()
    assert sent.failed_count == 1


def test_same_push_twice_is_stored_once_and_changes_nothing(client, sent):
    assert push(client, receipt()).status_code == 200
    assert push(client, receipt()).status_code == 200
    assert Receipt.objects.count() == 1
    sent.refresh_from_db()
    assert (sent.submitted_count, sent.delivered_count) == (2, 1)


def test_older_receipt_does_not_overwrite_a_newer_one(client, sent):
    push(client, receipt(status="1", code="DELIVRD", when="2026-11-26 12:05:00"))
    push(client, receipt(status="0", code="MK:0011", when="2026-11-26 12:01:00"))
    r = recipient()
    assert (r.status, r.receipt_code) == (RecipientStatus.DELIVERED, "DELIVRD")
    assert Receipt.objects.count() == 2  # both stored, only the newer applied
    push(client, receipt(status="0", code="MA:0001", when="2026-11-26 12:09:00"))
    assert recipient().status == RecipientStatus.FAILED
    sent.refresh_from_db()
    assert (sent.delivered_count, sent.failed_count, sent.submitted_count) == (0, 1, 2)


def test_late_receipt_settles_an_expired_number(client, sent):
    Recipient.objects.filter(phone="13800138000").update(status=RecipientStatus.EXPIRED)
    move_counts(sent.pk, submitted=-1, expired=1)
    push(client, receipt())
    sent.refresh_from_db()
    assert recipient().status == RecipientStatus.DELIVERED
    assert (sent.expired_count, sent.delivered_count) == (0, 1)


def test_early_receipt_is_linked_when_the_task_id_commits(client, make_campaign):
    campaign = make_campaign(["13800138000"])
    batch = Batch.objects.create(campaign=campaign, size=1)
    Recipient.objects.filter(campaign=campaign).update(batch=batch)
    assert push(client, receipt(task="EARLY")).status_code == 200
    assert Receipt.objects.get().recipient is None
    mark_submitted(batch, "EARLY", 1, 10, "成功", app_clock.now())
    assert Receipt.objects.get().recipient == recipient()
    assert recipient().status == RecipientStatus.DELIVERED
    campaign.refresh_from_db()
    assert (campaign.submitted_count, campaign.delivered_count) == (0, 1)


def arrivals(campaign) -> Counter[dt.datetime]:
    """The campaign's receipts a second, as the timeline reads them (every slot added up)."""
    found: Counter[dt.datetime] = Counter()
    for second, receipts in ReceiptArrivals.objects.filter(campaign=campaign).values_list("second", "receipts"):
        found[second] += receipts
    return found


def stored_seconds(campaign) -> Counter[dt.datetime]:
    """The same, from the receipts matched to its numbers."""
    matched = Receipt.objects.filter(recipient__campaign=campaign)
    return Counter(stored.replace(microsecond=0) for stored in matched.values_list("created_at", flat=True))


def test_a_receipt_matched_to_a_number_counts_once_in_the_second_it_was_stored(client, sent, clock):
    push(client, receipt())
    push(client, receipt())  # the same push again: stored once
    clock.advance(seconds=5)
    push(client, receipt("13900139000", status="0", code="MK:0011"))
    push(client, receipt("13500135000"))  # a number the batch did not send to: stored, unmatched
    assert Receipt.objects.count() == 3
    counted = arrivals(sent)
    assert sum(counted.values()) == 2 and len(counted) == 2 and counted == stored_seconds(sent)


def test_failed_numbers_are_counted_by_reason_as_receipts_move_them(client, sent):
    push(client, receipt(status="0", code="MK:0011", when="2026-11-26 12:01:00"))
    push(client, receipt("13900139000", status="0", code="MK:0011"))
    push(client, receipt("13700137000", status="0", code="UNDELIV"))
    assert counted_reasons(sent) == reasons_of_rows(sent) == {("MK:0011", ""): 2, ("UNDELIV", ""): 1}
    push(client, receipt(status="0", code="MA:0001", when="2026-11-26 12:02:00"))  # newer: another reason
    push(client, receipt("13900139000", status="1", code="DELIVRD", when="2026-11-26 12:09:00"))  # delivered after all
    push(client, receipt("13700137000", status="0", code="XYZ:9", when="2026-11-26 11:00:00"))  # older: not applied
    push(client, receipt("13700137000", status="0", code="UNDELIV"))  # the same push again
    assert counted_reasons(sent) == reasons_of_rows(sent) == {("MA:0001", ""): 1, ("UNDELIV", ""): 1}


def test_an_early_receipt_counts_in_its_second_once_it_is_linked(client, make_campaign, clock):
    campaign = make_campaign(["13800138000"])
    batch = Batch.objects.create(campaign=campaign, size=1)
    Recipient.objects.filter(campaign=campaign).update(batch=batch)
    push(client, receipt(task="EARLY"))
    assert not arrivals(campaign)
    clock.advance(seconds=30)
    mark_submitted(batch, "EARLY", 1, 10, "成功", app_clock.now())
    assert sum(arrivals(campaign).values()) == 1 and arrivals(campaign) == stored_seconds(campaign)


def test_reconcile_settles_an_uncertain_batch_from_its_receipts(client, make_campaign, clock):
    campaign = make_campaign(["13800138000", "13900139000"])
    batch = Batch.objects.create(campaign=campaign, size=2, state=BatchState.UNCERTAIN)
    Recipient.objects.filter(campaign=campaign).update(batch=batch)
    push(client, receipt(task="LOST"))
    assert reconcile().batches_found == 0  # too recent: maybe just early
    clock.advance(minutes=10)
    report = reconcile()
    assert (report.batches_found, report.linked) == (1, 1)
    batch.refresh_from_db()
    assert (batch.state, batch.task_id) == (BatchState.SUBMITTED, "LOST")
    assert recipient().status == RecipientStatus.DELIVERED
    assert recipient("13900139000").status == RecipientStatus.SUBMITTED


@pytest.mark.parametrize("ours", ["trial", "code"])
def test_reconcile_never_takes_a_trial_or_a_codes_receipt_for_an_uncertain_batch(client, make_campaign, clock, ours):
    from django_veesing.models import TrialSend, VerificationCode

    campaign = make_campaign(["13800138000"])
    batch = Batch.objects.create(campaign=campaign, size=1, state=BatchState.UNCERTAIN)
    Recipient.objects.filter(campaign=campaign).update(batch=batch)
    if ours == "trial":
        TrialSend.objects.create(campaign=campaign, phones="13800138000", text="t", task_id="OURS", state="submitted")
    else:
        VerificationCode.objects.create(phone="13800138000", account="default", task_id="OURS", expires_at=clock())
    push(client, receipt(task="OURS"))
    clock.advance(minutes=10)
    assert reconcile().batches_found == 0
    batch.refresh_from_db()
    assert batch.state == BatchState.UNCERTAIN  # still for an operator to decide


def test_reply_is_linked_by_task_and_phone(client, sent):
    assert push(client, reply()).status_code == 200
    stored = Reply.objects.get()
    assert (stored.recipient, stored.campaign, stored.content) == (recipient(), sent, "收到")
    assert not stored.opt_out and not OptOut.objects.exists()


def test_reply_without_known_task_goes_to_the_latest_recipient_of_that_phone(client, sent, make_campaign):
    newer = make_campaign(["13800138000"])
    push(client, reply(task="UNKNOWN"))
    assert Reply.objects.get().campaign == newer


@pytest.mark.parametrize("text", ["T", "t", "TD", "R", "退订", " 退订 ", "Ｔ", "ｔｄ", "T。", "【T】", "退订!"])
def test_opt_out_keywords(text):
    assert is_opt_out(text)


@pytest.mark.parametrize("text", ["收到", "好的", "TT", "不要退订", "Thanks"])
def test_not_opt_out(text):
    assert not is_opt_out(text)


def test_opt_out_reply_adds_the_number(client, sent):
    push(client, reply(content="退订"))
    opt_out = OptOut.objects.get()
    assert (opt_out.phone, opt_out.source) == ("13800138000", "reply")
    assert Reply.objects.get().opt_out


def test_receipts_and_replies_on_their_own_addresses(client, sent):
    assert push(client, receipt(), kind="receipt").status_code == 200
    assert push(client, reply(), kind="reply").status_code == 200
    assert (Receipt.objects.count(), Reply.objects.count()) == (1, 1)
    response = push(client, reply(phone="13900139000"), kind="receipt")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"status"}


def test_json_object_and_list(client, sent):
    body = json.dumps([receipt(), receipt(phone="13900139000", status=0), reply()])
    assert client.post(url(), body, content_type="application/json").status_code == 200
    assert recipient("13900139000").status == RecipientStatus.FAILED
    assert (
        client.post(url(), json.dumps(receipt(phone="13700137000")), content_type="application/json").status_code == 200
    )
    assert Receipt.objects.count() == 3 and Reply.objects.count() == 1


@pytest.mark.parametrize(
    "when,expected",
    [
        ("2013-9-17 17:38:08", dt.datetime(2013, 9, 17, 17, 38, 8)),
        ("2016/1/26 11:02:08", dt.datetime(2016, 1, 26, 11, 2, 8)),
        ("2019-07-23 17:00:00", dt.datetime(2019, 7, 23, 17, 0, 0)),
    ],
)
def test_lenient_times_read_as_china_time(client, sent, when, expected):
    push(client, receipt(when=when))
    assert Receipt.objects.get().received_at == expected.replace(tzinfo=CHINA)


@pytest.mark.parametrize(
    "data,fields",
    [
        (receipt(phone="1380013800"), {"mobile"}),
        (receipt(status="2"), {"status"}),
        (receipt(when="yesterday"), {"receivetime"}),
        ({"mobile": "13800138000", "status": "1"}, {"taskid", "receivetime"}),
        ({"hello": "world"}, {"non_field_errors"}),
        (reply(content=""), {"content"}),
    ],
    ids=["mobile", "status", "time", "missing", "neither", "empty-reply"],
)
def test_bad_push_is_400_naming_each_field_and_kept(client, sent, data, fields):
    response = push(client, data)
    assert response.status_code == 400
    assert set(response.json()["errors"]) == fields
    assert not Receipt.objects.exists() and not Reply.objects.exists()
    rejected = RejectedPush.objects.get()
    assert all(field in rejected.reason for field in fields)
    assert rejected.remote_addr == "127.0.0.1"
    assert recipient().status == RecipientStatus.SUBMITTED


ENCODINGS = {
    "url-encoded form": lambda client, event: client.post(url(), urlencode(event), content_type=FORM),
    "multipart form": lambda client, event: client.post(url(), event),  # the test client's default
    "JSON object": lambda client, event: client.post(url(), json.dumps(event), content_type="application/json"),
    "JSON list": lambda client, event: client.post(url(), json.dumps([event]), content_type="application/json"),
    "query string": lambda client, event: client.post(f"{url()}?{urlencode(event)}"),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_the_same_receipt_is_taken_in_every_encoding(client, sent, encoding):
    response = ENCODINGS[encoding](client, receipt())
    assert (response.status_code, response.content) == (200, b"ok")
    stored = Receipt.objects.get()
    assert (stored.task_id, stored.phone, stored.code, stored.recipient) == (
        TASK,
        "13800138000",
        "DELIVRD",
        recipient(),
    )
    assert recipient().status == RecipientStatus.DELIVERED
    assert ENCODINGS[encoding](client, receipt()).status_code == 200  # the provider retrying
    assert Receipt.objects.count() == 1 and not RejectedPush.objects.exists()


def test_a_multipart_body_that_cannot_be_read_is_400_and_kept(client, sent):
    body = b'--x\r\nContent-Disposition: form-data; name="mobile"\r\n\r\n13800138000'  # never closed
    response = client.post(url(), body, content_type="multipart/form-data; boundary=x")
    assert response.status_code == 400
    assert RejectedPush.objects.get().content_type.startswith("multipart/")
    assert recipient().status == RecipientStatus.SUBMITTED


def test_an_empty_push_is_400(client, sent):
    response = client.post(url(), b"", content_type=FORM)
    assert response.status_code == 400 and "empty" in response.json()["errors"]["body"][0]


def test_bodies_that_are_not_utf8_or_json(client, sent):
    response = client.post(url(), b"mobile=\xff\xfe", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and "UTF-8" in response.json()["errors"]["body"][0]
    response = client.post(url(), "{not json", content_type="application/json")
    assert response.status_code == 400 and "JSON" in response.json()["errors"]["body"][0]
    assert RejectedPush.objects.count() == 2


def test_oversized_body_is_413(client, sent, settings):
    settings.VEESING = {**settings.VEESING, "CALLBACK_MAX_BODY": 2048}
    response = client.post(url(), "x=" + "a" * 5000, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    rejected = RejectedPush.objects.get()
    assert rejected.truncated and "larger than 2048" in rejected.reason


@pytest.mark.parametrize("token", ["wrong-token-0123456789", TOKEN[:-1], TOKEN + "x", "x"])
def test_wrong_token_is_404_and_writes_nothing(client, sent, token):
    response = client.post(url(token=token), urlencode(receipt()), content_type=FORM)
    assert response.status_code == 404
    assert not Receipt.objects.exists() and not RejectedPush.objects.exists()


def test_token_rotation(client, sent, settings):
    settings.VEESING = {**settings.VEESING, "CALLBACK_TOKEN": ["new-token-0123456789", TOKEN]}
    assert client.post(url(token="new-token-0123456789"), urlencode(receipt()), content_type=FORM).status_code == 200
    assert push(client, receipt(phone="13900139000")).status_code == 200


def test_only_post(client, sent):
    assert client.get(url()).status_code == 405
    assert client.put(url()).status_code == 405


def test_csrf_is_not_required(sent):
    from django.test import Client

    assert Client(enforce_csrf_checks=True).post(url(), urlencode(receipt()), content_type=FORM).status_code == 200


def test_ip_allowlist(client, sent, settings):
    settings.VEESING = {**settings.VEESING, "CALLBACK_ALLOWED_IPS": ["203.0.113.0/24"]}
    assert push(client, receipt()).status_code == 404
    assert push(client, receipt(), REMOTE_ADDR="203.0.113.9").status_code == 200


def test_forwarded_for_is_trusted_only_when_told(client, sent, settings):
    settings.VEESING = {**settings.VEESING, "CALLBACK_ALLOWED_IPS": ["203.0.113.9"]}
    forged = {"HTTP_X_FORWARDED_FOR": "203.0.113.9"}
    assert push(client, receipt(), **forged).status_code == 404
    settings.VEESING = {**settings.VEESING, "CALLBACK_PROXY_COUNT": 1}
    assert push(client, receipt(), HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.9").status_code == 200
    # With one proxy, only the address it appended counts: a forged first entry does not.
    assert push(client, receipt(phone="13900139000"), HTTP_X_FORWARDED_FOR="203.0.113.9, 10.9.9.9").status_code == 404


def test_forwarded_for_shorter_than_the_proxies_or_not_an_address_is_not_trusted(client, sent, settings):
    settings.VEESING = {**settings.VEESING, "CALLBACK_ALLOWED_IPS": ["203.0.113.9"], "CALLBACK_PROXY_COUNT": 2}
    # Two proxies promised, one entry came: the header was not written by them.
    assert push(client, receipt(), HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404
    assert push(client, receipt(), HTTP_X_FORWARDED_FOR="not-an-address, 10.0.0.1").status_code == 404
    settings.VEESING = {**settings.VEESING, "CALLBACK_ALLOWED_IPS": ["127.0.0.0/8"], "CALLBACK_PROXY_COUNT": 2}
    assert push(client, receipt(), HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 200  # the peer's own


def test_a_malformed_content_length_gets_a_400_and_is_kept(client, sent):
    response = push(client, receipt(), CONTENT_LENGTH="not-a-number")
    # Django reads no body without a length it understands: the push is empty, said so.
    assert response.status_code == 400 and "body" in response.json()["errors"]
    assert RejectedPush.objects.get().reason.startswith("body:")


def test_a_bug_of_ours_is_a_500_so_the_push_is_retried(client, sent, monkeypatch):
    from django_veesing.receiving import views

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(views, "take_body", broken)
    client.raise_request_exception = False
    assert push(client, receipt()).status_code == 500
    assert not RejectedPush.objects.exists()


def test_queries_per_push_are_few_and_constant(
    client, sent, django_assert_max_num_queries, django_assert_num_queries, receipt_path
):
    # Counted inside the test's transaction, so the outer atomic shows as a SAVEPOINT and
    # its RELEASE (in production: BEGIN and COMMIT): the batch by its task id, SELECT …
    # FOR UPDATE, the INSERT in a savepoint, the count of its second, the recipient's
    # UPDATE and the campaign's counts. (On PostgreSQL a receipt takes one statement: see the next test.)
    with django_assert_max_num_queries(10):
        push(client, receipt())
    with django_assert_max_num_queries(11):  # a failed number's reason counted too
        push(client, receipt(phone="13900139000", status="0"))
    with django_assert_max_num_queries(10):
        push(client, receipt())  # a duplicate
    with django_assert_max_num_queries(10):
        push(client, reply())
    for i in range(20):  # more stored rows do not add queries
        Recipient.objects.create(
            campaign=sent, phone=f"1360000{i:04d}", task_id=TASK, status="submitted", batch=sent.batches.get()
        )
    with django_assert_max_num_queries(10):
        push(client, receipt(phone="13600000007"))
    if receipt_path == "orm":  # exactly the ten round trips receiving/statements.py names
        with django_assert_num_queries(10):
            push(client, receipt(phone="13600000008"))


def test_a_receipt_for_a_known_task_is_one_statement_on_postgresql(
    client, sent, django_assert_num_queries, receipt_path
):
    if receipt_path != "statement":
        pytest.skip("the one-statement path")
    push(client, receipt(phone="13700137000"))  # prepares the statement on this connection, if needed
    with django_assert_num_queries(1):
        push(client, receipt(phone="13900139000", status="0", code="UNDELIV"))
    with django_assert_num_queries(1):
        push(client, receipt(phone="13900139000", status="0", code="UNDELIV"))  # a duplicate
    with django_assert_num_queries(1):
        push(client, receipt(phone="13900139000", when="2026-11-26 12:00:01"))  # older: stored, not applied
    r = recipient("13900139000")
    assert (r.status, r.receipt_code) == (RecipientStatus.FAILED, "UNDELIV")
    assert Receipt.objects.filter(recipient=r).count() == 2
    sent.refresh_from_db()
    assert (sent.submitted_count, sent.failed_count, sent.delivered_count) == (1, 1, 1)
    push(client, receipt(phone="13900139000", when="2026-11-26 12:09:00"))  # newer: delivered after all
    sent.refresh_from_db()
    assert (sent.submitted_count, sent.failed_count, sent.delivered_count) == (1, 0, 2)
    assert recipient("13900139000").status == RecipientStatus.DELIVERED


def test_the_receipt_statement_is_prepared_once_a_connection(
    client, sent, settings, django_assert_num_queries, receipt_path
):
    if receipt_path != "statement":
        pytest.skip("the one-statement path")
    push(client, receipt(phone="13600000000"))  # a number of no campaign, for the connection
    with connection.cursor() as cursor:  # as on a new connection: look, prepare, execute; then execute
        cursor.execute(f"DEALLOCATE {receipt_sql.APPLY.name}")
    prepared.forget()
    with django_assert_num_queries(3):
        push(client, receipt(phone="13800138000"))
    with django_assert_num_queries(1):
        push(client, receipt(phone="13900139000"))
    prepared.forget()  # forgotten here but still on the connection: look, execute
    with django_assert_num_queries(2):
        push(client, receipt(phone="13700137000", status="0"))
    settings.VEESING = {**settings.VEESING, "PREPARED_STATEMENTS": False}
    with django_assert_num_queries(1):
        push(client, receipt(phone="13700137000", when="2026-11-26 12:09:00"))
    assert [recipient(p).status for p in ("13800138000", "13900139000", "13700137000")] == ["delivered"] * 3
    assert Receipt.objects.filter(recipient__isnull=False).count() == 4


@pytest.mark.django_db(transaction=True)
def test_signals_after_commit(client, sent):
    seen = []
    handlers = {
        signals.receipt_received: lambda sender, receipt, **kw: seen.append(("receipt", receipt.phone)),
        signals.reply_received: lambda sender, reply, **kw: seen.append(("reply", reply.content)),
        signals.opted_out: lambda sender, opt_out, **kw: seen.append(("opted_out", opt_out.phone)),
    }
    with connected(handlers):
        push(client, receipt())
        push(client, receipt())  # duplicate: no signal
        push(client, reply(content="T"))
        push(client, reply(content="T", when="2026-11-26 13:00:00"))  # already opted out
    assert seen == [
        ("receipt", "13800138000"),
        ("reply", "T"),
        ("opted_out", "13800138000"),
        ("reply", "T"),
    ]


@pytest.mark.django_db(transaction=True)
def test_receipt_racing_its_batch_commit_is_not_left_unmatched(make_campaign):
    """The batch's settlement has looked for early receipts but not committed yet when the
    receipt comes: the receipt must wait for it rather than be stored unmatched for good."""
    import threading

    from django.db import connection, transaction

    from django_veesing.receiving.parsing import read_event
    from django_veesing.receiving.receipts import take_receipt

    campaign = make_campaign(["13800138000"])
    batch = Batch.objects.create(campaign=campaign, size=1)
    Recipient.objects.filter(campaign=campaign).update(batch=batch)
    settled, release = threading.Event(), threading.Event()
    errors = []

    def settle():
        try:
            with transaction.atomic():
                mark_submitted(batch, "RACE", 1, 10, "成功", app_clock.now())
                settled.set()
                release.wait(10)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    def receive():
        try:
            take_receipt(read_event(receipt(task="RACE")))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    settler = threading.Thread(target=settle)
    settler.start()
    assert settled.wait(10)
    receiver = threading.Thread(target=receive)
    receiver.start()
    receiver.join(0.5)  # it must wait for the settlement rather than finish unmatched
    release.set()
    settler.join(10)
    receiver.join(10)
    assert not errors
    stored = Receipt.objects.get()
    assert stored.recipient is not None
    assert recipient().status == RecipientStatus.DELIVERED


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("binding", ["unprepared", "server-side binding"])
def test_the_receipt_statement_works_however_it_is_bound(client, sent, settings, receipt_path, binding):
    """Sent whole (``PREPARED_STATEMENTS = False``, as behind PgBouncer), or sent whole
    through psycopg's server-side binding."""
    if receipt_path != "statement":
        pytest.skip("the one-statement path")
    settings.VEESING = {**settings.VEESING, "PREPARED_STATEMENTS": False}
    options = connection.settings_dict["OPTIONS"]
    if binding == "server-side binding":
        connection.close()
        connection.settings_dict["OPTIONS"] = {**options, "server_side_binding": True}
    try:
        push(client, receipt(phone="13900139000", status="0", code="UNDELIV"))
        push(client, receipt(phone="13800138000"))
    finally:
        connection.close()
        connection.settings_dict["OPTIONS"] = options
    assert [recipient(p).status for p in ("13900139000", "13800138000")] == ["failed", "delivered"]
    sent.refresh_from_db()
    assert (sent.submitted_count, sent.failed_count, sent.delivered_count) == (1, 1, 1)
