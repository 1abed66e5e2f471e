"""veesing_send, veesing_balance and veesing_expire, as an operator runs them."""

import io

import pytest
from django.core.management import CommandError, call_command

from django_veesing.models import Campaign, CampaignStatus, move_counts

from .conftest import mobiles


def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def no_quiet_hours(settings):
    settings.VEESING = {**settings.VEESING, "QUIET_HOURS": None}


def test_send_due(simulator, make_campaign):
    campaign = make_campaign(mobiles(3))
    output = run("veesing_send")
    assert f"Campaign {campaign.pk}: sent" in output and "3 submitted" in output
    assert sum(simulator.record.accepted.values()) == 3


def test_send_named_campaign_approves_a_draft(simulator, make_campaign):
    campaign = make_campaign(mobiles(2), schedule=False)
    assert campaign.status == CampaignStatus.DRAFT
    run("veesing_send", "--campaign", str(campaign.pk))
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT


def test_send_unknown_campaign(simulator, db):
    with pytest.raises(CommandError, match="No campaign with id 999"):
        run("veesing_send", "--campaign", "999")


def test_send_draft_with_bad_content_says_why(simulator, make_campaign):
    campaign = make_campaign(mobiles(2), schedule=False, content="没有签名的通知")
    with pytest.raises(CommandError, match="signature"):
        run("veesing_send", "--campaign", str(campaign.pk))


def test_failed_campaign_exits_non_zero_with_the_providers_message(simulator, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "CHECK_BALANCE": False}
    make_campaign(mobiles(2))
    simulator.configure(locked=True)
    with pytest.raises(CommandError, match="您的账户已被锁定"):
        run("veesing_send")


def test_dry_run_sends_nothing(simulator, make_campaign):
    campaign = make_campaign(mobiles(5), kind="marketing")
    output = run("veesing_send", "--dry-run")
    assert f"Campaign {campaign.pk}" in output and "5 numbers in 1 batches" in output and "5 billed" in output
    assert simulator.record.requests == []
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SCHEDULED


def test_resend_uncertain(simulator, make_campaign):
    simulator.configure(per_minute_limit=False)
    campaign = make_campaign(mobiles(3))
    simulator.inject("http_error", next_n=1, path="/group")
    run("veesing_send")
    output = run("veesing_send", "--resend-uncertain", str(campaign.pk))
    assert "3 numbers of uncertain batches will be sent again" in output
    assert simulator.record.sent_more_than_once() == dict.fromkeys(mobiles(3), 2)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT


def test_no_credentials_is_a_clear_error(settings, db):
    settings.VEESING = {}
    with pytest.raises(CommandError, match="APP_ID or APP_KEY"):
        run("veesing_send")


def test_balance(simulator):
    simulator.configure(balance=500)
    assert run("veesing_balance").strip() == "500"
    assert run("veesing_balance", "--warn-below", "100").strip() == "500"
    with pytest.raises(CommandError, match="below 1000") as info:
        run("veesing_balance", "--warn-below", "1000")
    assert info.value.returncode == 1


def test_balance_provider_down(settings, closed_port):
    settings.VEESING = {**settings.VEESING, "API_URL": f"http://127.0.0.1:{closed_port}"}
    with pytest.raises(CommandError, match=r"Could not read the balance.*could not connect"):
        run("veesing_balance")


def test_expire(simulator, make_campaign):
    make_campaign(mobiles(2))
    run("veesing_send")
    assert "0 numbers expired" in run("veesing_expire")
    assert "2 numbers expired" in run("veesing_expire", "--after", "0")


def test_reconcile(simulator, make_campaign, client):
    from urllib.parse import urlencode

    from django_veesing.models import Batch, Receipt, Recipient

    campaign = make_campaign(["13800138000"])
    batch = Batch.objects.create(campaign=campaign, size=1)
    Recipient.objects.update(batch=batch)
    body = {
        "mobile": "13800138000",
        "taskid": "T1",
        "status": "1",
        "code": "DELIVRD",
        "receivetime": "2026-11-26 12:00:00",
    }
    client.post(
        "/veesing/callback/test-callback-token-0123456789/",
        urlencode(body),
        content_type="application/x-www-form-urlencoded",
    )
    assert "0 receipts linked" in run("veesing_reconcile")
    # The batch commits with its task id without linking (as if that step had crashed).
    Batch.objects.filter(pk=batch.pk).update(task_id="T1", state="submitted")
    Recipient.objects.update(task_id="T1", status="submitted")
    move_counts(campaign.pk, pending=-1, submitted=1)
    assert "1 receipts linked" in run("veesing_reconcile")
    assert Receipt.objects.get().recipient is not None


def test_send_named_campaign_that_is_already_sent(simulator, make_campaign):
    campaign = make_campaign(mobiles(2))
    run("veesing_send")
    output = run("veesing_send", "--campaign", str(campaign.pk))
    assert "already sent: nothing to send" in output
    assert sum(simulator.record.accepted.values()) == 2
