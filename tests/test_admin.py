"""The operators' screens through Django's test client (the browser tests drive Chromium)."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_veesing.imports.jobs import INLINE_LIMIT, run_queued_imports
from django_veesing.models import Batch, Campaign, CampaignStatus, ImportJob, OptOut, Recipient, RejectedPush
from django_veesing.rules.schedule import CHINA
from django_veesing.sending.sender import Sender
from django_veesing.sending.workers import beat

from .conftest import MARKETING_TEXT, logged_in, mobiles
from .conftest import admin_url as url

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign(simulator, make_campaign):
    return make_campaign(mobiles(30), kind="marketing", schedule=False)


def test_send_through_the_confirmation_page(simulator, operator, campaign):
    OptOut.objects.create(phone="13800000000")
    client = logged_in(operator)
    page = client.get(url("campaign_send", campaign.pk))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="summary-numbers">29<' in text  # 30 numbers, one opted out
    assert 'id="summary-opted-out">1<' in text
    assert 'id="summary-billed">29<' in text
    assert f'id="summary-balance">{simulator.provider.balance}<' in text
    assert "回T退订" in text  # the text as the phone shows it
    response = client.post(url("campaign_send", campaign.pk), {"send_at": ""})
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


def test_confirmation_refuses_a_text_that_breaks_the_rules(simulator, operator, make_campaign):
    bad = make_campaign(mobiles(2), kind="marketing", content="【维信】会员日八折", schedule=False)
    client = logged_in(operator)
    response = client.post(url("campaign_send", bad.pk), {"send_at": ""})
    assert response.status_code == 200
    assert "opt out" in response.content.decode()
    bad.refresh_from_db()
    assert bad.status == CampaignStatus.DRAFT


def test_state_changes_need_the_send_permission(simulator, viewer, campaign):
    client = logged_in(viewer)
    assert client.get(url("campaign_send", campaign.pk)).status_code == 403
    assert client.post(url("campaign_send", campaign.pk), {"send_at": ""}).status_code == 403
    assert client.post(url("campaign_state", campaign.pk, "cancel")).status_code == 403
    assert client.post(url("campaign_state", campaign.pk, "retry")).status_code == 403
    assert client.post(url("campaign_resend", campaign.pk)).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert client.get(url("campaign_change", campaign.pk)).status_code == 200  # viewing is allowed


def test_state_changes_need_a_csrf_token(simulator, operator, campaign):
    client = logged_in(operator, enforce_csrf_checks=True)
    assert client.post(url("campaign_send", campaign.pk), {"send_at": ""}).status_code == 403
    assert client.post(url("campaign_state", campaign.pk, "cancel")).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_state_changes_are_post_only(simulator, operator, campaign):
    client = logged_in(operator)
    assert client.get(url("campaign_state", campaign.pk, "cancel")).status_code == 403
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_cancel_duplicate_retry(simulator, operator, campaign):
    client = logged_in(operator)
    client.post(url("campaign_state", campaign.pk, "duplicate"))
    copy = Campaign.objects.exclude(pk=campaign.pk).get()
    assert copy.total_count == 30 and copy.status == CampaignStatus.DRAFT and "(copy)" in copy.name
    campaign.schedule()
    client.post(url("campaign_state", campaign.pk, "cancel"))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.CANCELLED


def test_retry_failed_numbers(simulator, operator, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "QUIET_HOURS": None}
    campaign = make_campaign(mobiles(4))
    simulator.inject("raw", next_n=1, path="/group", body={"returnStatus": "0", "message": "手机号码格式不正确"})
    Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.failed_count == 4
    logged_in(operator).post(url("campaign_state", campaign.pk, "retry"))
    campaign.refresh_from_db()
    assert (campaign.status, campaign.pending_count, campaign.failed_count) == (CampaignStatus.SCHEDULED, 4, 0)
    Sender().send(campaign)
    campaign.refresh_from_db()
    assert campaign.submitted_count == 4


def test_resend_uncertain_page_warns_of_double_delivery(simulator, operator, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "QUIET_HOURS": None}
    simulator.configure(per_minute_limit=False)
    campaign = make_campaign(mobiles(3))
    simulator.inject("http_error", next_n=1, path="/group")
    Sender().send(campaign)
    client = logged_in(operator)
    page = client.get(url("campaign_resend", campaign.pk)).content.decode()
    assert "3 numbers may receive it twice" in page
    client.post(url("campaign_resend", campaign.pk))
    assert Batch.objects.get(campaign=campaign, state="resent").size == 3
    assert Batch.objects.get(campaign=campaign, state="queued").recipients.count() == 3


def test_paste_numbers(simulator, operator, campaign):
    client = logged_in(operator)
    response = client.post(
        url("campaign_load", campaign.pk), {"pasted": "+86 139 0000 0001, 13900000002；abc\n13800000000"}
    )
    text = response.content.decode()
    assert "Added 2, duplicates 1, invalid 1." in text
    job = ImportJob.objects.get()
    invalid = client.get(url("import_invalid", job.pk))
    rows = list(csv.reader(io.StringIO(b"".join(invalid.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["line", "entry", "reason"]
    assert rows[1][:2] == ["1", "abc"] and rows[1][2]


def test_upload_small_gbk_csv(simulator, operator, campaign):
    data = "姓名,手机\n张三,13900000011\n李四,+86-139-0000-0012\n".encode("gbk")
    logged_in(operator).post(url("campaign_load", campaign.pk), {"file": SimpleUploadedFile("名单.csv", data)})
    assert set(Recipient.objects.filter(phone__startswith="139").values_list("phone", flat=True)) == {
        "13900000011",
        "13900000012",
    }
    job = ImportJob.objects.get()
    assert (job.added, job.invalid_count) == (2, 0)  # the heading and the names are not numbers to report
    assert job.message == "Numbers read from column 2 (“手机”), with their values: 姓名."


@pytest.mark.slow  # seconds: left out of the quick run
def test_large_file_is_imported_by_the_worker(simulator, operator, campaign):
    lines = "\n".join(str(13700000000 + i) for i in range(INLINE_LIMIT // 10)).encode()
    client = logged_in(operator)
    response = client.post(url("campaign_load", campaign.pk), {"file": SimpleUploadedFile("big.txt", lines)})
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.status == "queued"
    assert "veesing_send --loop" in client.get(url("campaign_changelist")).content.decode()  # no worker seen
    assert run_queued_imports() == 1
    job.refresh_from_db()
    assert (job.status, job.added, job.processed) == ("done", INLINE_LIMIT // 10, INLINE_LIMIT // 10)
    assert job.data == b""


@pytest.mark.parametrize(
    "name,data,message",
    [
        ("empty.csv", b"", "empty"),
        ("photo.txt", b"\x89PNG\x00\x00\x00", "binary"),
        ("old.xls", b"\xd0\xcf\x11\xe0stuff", "CSV, TXT and XLSX"),
    ],
)
def test_unreadable_files_say_why(simulator, operator, campaign, name, data, message):
    response = logged_in(operator).post(url("campaign_load", campaign.pk), {"file": SimpleUploadedFile(name, data)})
    assert message in response.content.decode()
    assert campaign.recipients.count() == 30


def test_remove_numbers(simulator, operator, campaign):
    logged_in(operator).post(url("campaign_load", campaign.pk), {"remove": "13800000001\n+86 138 0000 0002"})
    campaign.refresh_from_db()
    assert campaign.total_count == 28 and campaign.pending_count == 28


def test_export_escapes_formulas(simulator, operator, campaign):
    Recipient.objects.filter(phone="13800000001").update(error='=HYPERLINK("http://x")', status="failed")
    campaign.recount()
    response = logged_in(operator).get(url("campaign_export", campaign.pk))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 31
    row = next(r for r in rows if r[0] == "13800000001")
    assert row[5].startswith("'=")


def test_banner_goes_away_when_a_worker_beats(simulator, operator, campaign):
    campaign.schedule()
    client = logged_in(operator)
    assert "veesing_send --loop" in client.get(url("campaign_changelist")).content.decode()
    beat("worker-1")
    assert "veesing_send --loop" not in client.get(url("campaign_changelist")).content.decode()


def test_change_page_shows_funnel_timeline_and_counter(simulator, operator, campaign):
    page = logged_in(operator).get(url("campaign_change", campaign.pk)).content.decode()
    assert 'id="veesing-funnel"' in page and 'id="veesing-timeline"' in page
    assert "veesing-counter-data" in page
    assert f"Balance: {simulator.provider.balance} messages." in page


def test_refresh_balance(simulator, operator, campaign):
    client = logged_in(operator)
    client.get(url("campaign_change", campaign.pk))
    simulator.configure(balance=4321)
    assert "4321" not in client.get(url("campaign_change", campaign.pk)).content.decode()  # cached
    client.post(url("balance"), {"next": url("campaign_change", campaign.pk)})
    assert "Balance: 4321 messages." in client.get(url("campaign_change", campaign.pk)).content.decode()


@pytest.mark.parametrize("name", ["campaign", "recipient", "receipt", "reply", "optout", "rejectedpush"])
def test_lists_render_with_a_constant_number_of_queries(simulator, operator, make_campaign, name):
    client = logged_in(operator)
    make_campaign(mobiles(5))
    client.get(url(f"{name}_changelist"))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url(f"{name}_changelist")).status_code == 200
    for i in range(5):
        make_campaign(mobiles(20, start=13900000000 + i * 100))
        RejectedPush.objects.create(reason=f"r{i}")
        OptOut.objects.create(phone=str(13600000000 + i))
    with CaptureQueriesContext(connection) as many:
        assert client.get(url(f"{name}_changelist")).status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_replay_a_rejected_push(simulator, operator, make_campaign):
    body = urlencode({"mobile": "13800138000", "taskid": "T", "content": "收到", "receivetime": "2026-11-26 12:00:00"})
    push = RejectedPush.objects.create(reason="was broken", body=body, content_type="application/x-www-form-urlencoded")
    logged_in(operator).post(url("rejectedpush_changelist"), {"action": "replay", "_selected_action": [push.pk]})
    push.refresh_from_db()
    assert push.replayed_at is not None
    from django_veesing.models import Reply

    assert Reply.objects.get().content == "收到"


def test_admin_pages_never_show_the_app_key(simulator, operator, campaign, settings):
    client = logged_in(operator)
    pages = [
        url("campaign_changelist"),
        url("campaign_change", campaign.pk),
        url("campaign_send", campaign.pk),
        url("campaign_load", campaign.pk),
    ]
    for page in pages:
        assert settings.VEESING["APP_KEY"] not in client.get(page).content.decode()


def test_chinese_admin(simulator, operator, campaign):
    client = logged_in(operator, HTTP_ACCEPT_LANGUAGE="zh-hans")
    page = client.get(url("campaign_send", campaign.pk), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "计费" in page or "条" in page
    assert MARKETING_TEXT in page


@pytest.mark.parametrize("term", ["13800000007", "+86 138-0000-0007", "１３８０００００００７"])
def test_search_recipients_by_phone_in_any_format(simulator, operator, campaign, term):
    page = logged_in(operator).get(url("recipient_changelist") + "?" + urlencode({"q": term})).content.decode()
    assert "13800000007" in page and "13800000008" not in page


def test_search_replies_by_text(simulator, operator, make_campaign, client):
    from django_veesing.models import Reply

    Reply.objects.create(
        fingerprint="a", phone="13800000001", content="我要退订", received_at="2026-11-26T12:00:00+08:00"
    )
    Reply.objects.create(fingerprint="b", phone="13800000002", content="收到", received_at="2026-11-26T12:00:00+08:00")
    page = logged_in(operator).get(url("reply_changelist") + "?" + urlencode({"q": "退订"})).content.decode()
    assert "13800000001" in page and "13800000002" not in page


def test_sent_numbers_show_as_submitted_with_their_task_id(simulator, operator, make_campaign):
    campaign = make_campaign(mobiles(4))
    Sender().send(campaign)
    batch = campaign.batches.get()
    client = logged_in(operator)
    page = client.get(url("recipient_changelist") + f"?campaign__id__exact={campaign.pk}").content.decode()
    assert page.count(batch.task_id) == 4
    assert page.count('field-status">submitted<') == 4 and 'field-status">pending<' not in page
    submitted = client.get(url("recipient_changelist") + "?status__exact=submitted").content.decode()
    pending = client.get(url("recipient_changelist") + "?status__exact=pending").content.decode()
    assert all(phone in submitted and phone not in pending for phone in mobiles(4))
    found = client.get(url("recipient_changelist") + "?" + urlencode({"q": batch.task_id})).content.decode()
    assert all(phone in found for phone in mobiles(4))
    detail = client.get(url("recipient_change", Recipient.objects.get(phone=mobiles(1)[0]).pk)).content.decode()
    assert batch.task_id in detail and "submitted" in detail
    response = client.get(url("campaign_export", campaign.pk))
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert {(row[1], row[2]) for row in rows[1:]} == {("submitted", batch.task_id)}


def test_a_campaign_held_by_quiet_hours_says_until_when_and_why(simulator, operator, viewer, campaign, clock):
    clock.set(dt.datetime(2026, 11, 26, 22, 30, tzinfo=CHINA))
    campaign.schedule()
    client = logged_in(operator)
    page = html.unescape(client.get(url("campaign_change", campaign.pk)).content.decode())
    assert "quiet hours (20:00–08:00 China time)" in page
    assert "from 2026-11-27 08:00 China time" in page and 'VEESING["QUIET_HOURS"]' in page
    chinese = client.get(url("campaign_change", campaign.pk), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "免打扰" in html.unescape(chinese)
    seen_by_viewer = logged_in(viewer).get(url("campaign_change", campaign.pk)).content.decode()
    assert 'id="veesing-waiting"' in seen_by_viewer and 'id="veesing-cancel"' not in seen_by_viewer
    clock.set(dt.datetime(2026, 11, 27, 8, 0, tzinfo=CHINA))
    assert 'id="veesing-waiting"' not in client.get(url("campaign_change", campaign.pk)).content.decode()


def test_a_campaigns_numbers_of_one_status_are_counted_by_the_campaign(simulator, operator, make_campaign):
    campaign = make_campaign(mobiles(4))
    Sender().send(campaign)
    client = logged_in(operator)
    query = f"?campaign__id__exact={campaign.pk}&status__exact=submitted"
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url("recipient_changelist") + query).content.decode()
    assert "4 recipients" in page and all(phone in page for phone in mobiles(4))
    assert not [q["sql"] for q in queries if "COUNT(" in q["sql"] and "django_veesing_recipient" in q["sql"]]
    other = client.get(url("recipient_changelist") + f"?campaign__id__exact={campaign.pk}&status__exact=failed")
    assert "0 recipients" in other.content.decode()


def test_the_live_counter_answers_with_the_content_rules_own_report(simulator, operator, campaign):
    client = logged_in(operator)
    text = "【维】会员日八折"  # a one-character signature, and no opt-out phrase
    answer = client.get(url("campaign_counter"), {"content": text, "kind": "marketing", "campaign": campaign.pk}).json()
    report = Campaign(content=text, kind="marketing").content_report()
    assert answer["problems"] == report.messages() and len(answer["problems"]) == 2
    assert answer["lines"] == [
        f"{report.length} characters, 1 message(s) per number",
        f"30 messages billed for {campaign.pending_count} numbers to send",
    ]
    notice = client.get(
        url("campaign_counter"), {"content": "【维信测试】您的订单已发货", "kind": "notification"}
    ).json()
    assert notice["problems"] == [] and len(notice["lines"]) == 1


def test_the_counter_and_the_panel_give_the_same_numbers_to_send(simulator, operator, campaign):
    OptOut.objects.create(phone=mobiles(1)[0])
    client = logged_in(operator)
    asked = {"content": campaign.content, "kind": "marketing", "campaign": campaign.pk}
    assert client.get(url("campaign_counter"), asked).json()["lines"][1] == (
        "29 messages billed for 29 numbers to send (1 opted out, skipped)"
    )
    panel = client.get(url("campaign_change", campaign.pk)).content.decode()
    assert "29 numbers to send, 1 message(s) each: 29 billed." in panel
    assert "1 more number opted out and is skipped." in panel
    notice = client.get(url("campaign_counter"), {**asked, "kind": "notification"}).json()
    assert notice["lines"][1] == "30 messages billed for 30 numbers to send"  # opt-outs stop marketing only


def test_the_live_counter_is_for_staff_with_a_campaign_permission(simulator, viewer, campaign):
    nobody = User.objects.create_user("nobody", password="pw", is_staff=True)
    assert logged_in(nobody).get(url("campaign_counter"), {"content": "x"}).status_code == 403
    assert logged_in(viewer).get(url("campaign_counter"), {"content": "x"}).status_code == 200
    assert Client().get(url("campaign_counter"), {"content": "x"}).status_code == 302  # to the login page


def test_a_model_form_cannot_save_a_text_that_breaks_the_rules(db):
    from django.core.exceptions import ValidationError
    from django.forms import modelform_factory

    form = modelform_factory(Campaign, fields=["name", "kind", "content"])(
        {"name": "x", "kind": "marketing", "content": "会员日🎉"}
    )
    assert not form.is_valid()
    assert len(form.errors["content"]) == 3  # no signature, an emoji, no opt-out phrase
    with pytest.raises(ValidationError):
        Campaign(name="x", kind="notification", content="没有签名").full_clean()


@pytest.mark.parametrize(
    "typed,stored",
    [("+86 186-0000-1234", "18600001234"), ("0086 139 0000 0002", "13900000002"), ("13800000003", "13800000003")],
)
def test_an_opt_out_typed_by_hand_is_stored_as_eleven_digits(operator, typed, stored):
    response = logged_in(operator).post(url("optout_add"), {"phone": typed})
    assert response.status_code == 302
    assert OptOut.objects.get(phone=stored).source == "admin"


@pytest.mark.parametrize("typed,reason", [("12345", "has 5 digits"), ("+1 415 555 0100", "+86"), ("张三", "digits")])
def test_an_opt_out_that_is_no_number_is_refused_with_the_reason(operator, typed, reason):
    response = logged_in(operator).post(url("optout_add"), {"phone": typed})
    assert response.status_code == 200
    assert "Not a mainland mobile number" in response.content.decode() and reason in response.content.decode()
    assert not OptOut.objects.exists()


def test_opt_outs_that_are_no_number_can_be_found(operator):
    OptOut.objects.create(phone="13800000001")
    OptOut.objects.create(phone="12345")  # stored before opt-outs were checked
    page = logged_in(operator).get(url("optout_changelist") + "?number=invalid").content.decode()
    assert "12345" in page and "13800000001" not in page


def test_the_balance_says_when_it_was_read_and_is_read_again_after_a_send(simulator, operator, campaign, clock):
    client = logged_in(operator)
    page = client.get(url("campaign_change", campaign.pk)).content.decode()
    assert f"(read at {timezone.localtime(clock()):%Y-%m-%d %H:%M:%S})" in page
    simulator.configure(balance=4321)
    clock.advance(seconds=10)
    Campaign.objects.filter(pk=campaign.pk).update(status=CampaignStatus.SENDING, started_at=clock())
    clock.advance(seconds=10)
    assert "Balance: 4321 messages." in client.get(url("campaign_change", campaign.pk)).content.decode()


def test_the_cost_in_money_beside_billed_counts(simulator, operator, campaign, settings):
    settings.VEESING = {**settings.VEESING, "PRICE_PER_MESSAGE": "0.045"}
    client = logged_in(operator)
    confirm = client.get(url("campaign_send", campaign.pk)).content.decode()
    assert 'id="summary-money">about 1.35 yuan (0.045 yuan a message)<' in confirm  # 30 messages
    page = client.get(url("campaign_change", campaign.pk)).content.decode()
    assert "about 1.35 yuan (0.045 yuan a message)" in page
    settings.VEESING = {**settings.VEESING, "PRICE_PER_MESSAGE": None}
    assert "yuan" not in client.get(url("campaign_send", campaign.pk)).content.decode()


def test_the_campaign_page_lists_its_latest_batches_whatever_their_number(operator, make_campaign):
    """A personalised campaign can have a batch a number: the page lists the latest
    ``SHOWN_BATCHES`` and says so, in the same queries at 60 batches as at 200."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from django_veesing.admin.campaigns import SHOWN_BATCHES
    from django_veesing.models import Batch

    campaign = make_campaign(mobiles(2))
    client = logged_in(operator)

    def page_with(batches: int) -> tuple[str, int]:
        have = Batch.objects.filter(campaign=campaign).count()
        Batch.objects.bulk_create(
            Batch(campaign=campaign, state="submitted", size=1, task_id=f"T{n:05d}") for n in range(have, batches)
        )
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url("campaign_change", campaign.pk)).content.decode()
        return html.split('id="batches-group"')[1].split("</fieldset>")[0], len(queries)

    few, _queries = page_with(3)
    assert few.count("T0000") == 3 and "latest" not in few
    listed, at_60 = page_with(60)
    assert f"Batches (the latest {SHOWN_BATCHES})" in listed
    oldest_shown = 60 - SHOWN_BATCHES
    assert f"T{oldest_shown:05d}" in listed and f"T{oldest_shown - 1:05d}" not in listed  # the newest ones
    assert "T00059" in listed
    listed, at_200 = page_with(200)
    assert "T00199" in listed and "T00149" not in listed
    assert at_200 == at_60
