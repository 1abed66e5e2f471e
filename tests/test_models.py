"""Campaign.add_recipients, schedule and cancel."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_veesing.exceptions import CampaignStateError, ContentError
from django_veesing.models import Campaign, CampaignStatus, Recipient, move_counts

from .conftest import MARKETING_TEXT, mobiles

pytestmark = pytest.mark.django_db


def new_campaign(**fields):
    return Campaign.objects.create(name="c", content=fields.pop("content", MARKETING_TEXT), **fields)


def test_add_recipients_normalises_and_reports():
    campaign = new_campaign()
    result = campaign.add_recipients(
        ["+86 138 0013 8000", "13800138000", "0086-139-0013-9000", "１３７００１３７０００", "12345", "", "abc"]
    )
    assert result.added == 3
    assert result.duplicates == 1
    assert result.invalid_count == 3
    assert [item.entry for item in result.invalid] == ["12345", "", "abc"]
    assert all(item.reason for item in result.invalid)
    assert sorted(campaign.recipients.values_list("phone", flat=True)) == ["13700137000", "13800138000", "13900139000"]
    assert (campaign.total_count, campaign.pending_count) == (3, 3)


def test_numbers_already_in_the_campaign_are_duplicates():
    campaign = new_campaign()
    campaign.add_recipients(mobiles(5))
    result = campaign.add_recipients(mobiles(8))
    assert (result.added, result.duplicates) == (3, 5)
    assert campaign.recipients.count() == 8 == campaign.total_count


def test_add_recipients_streams_with_queries_per_chunk_not_per_number():
    campaign = new_campaign()
    generated = (str(13800000000 + i) for i in range(5000))  # a generator, read once
    with CaptureQueriesContext(connection) as queries:
        result = campaign.add_recipients(generated)
    assert result.added == 5000
    assert len(queries) < 5000 / 20  # chunks of 2000 (SQLite splits an INSERT in a few), never one per number
    assert Recipient.objects.filter(campaign=campaign).count() == 5000


def test_cannot_add_to_a_sent_campaign():
    campaign = new_campaign(status=CampaignStatus.SENT)
    with pytest.raises(CampaignStateError, match="draft or scheduled"):
        campaign.add_recipients(["13800138000"])


def test_schedule_checks_content_and_recipients():
    campaign = new_campaign(content="没有签名")
    campaign.add_recipients(["13800138000"])
    with pytest.raises(ContentError) as info:
        campaign.schedule()
    assert any("signature" in p for p in info.value.problems)
    assert any("opt out" in p for p in info.value.problems)
    empty = new_campaign()
    with pytest.raises(CampaignStateError, match="no recipients"):
        empty.schedule()


def test_schedule_now_and_later():
    campaign = new_campaign()
    campaign.add_recipients(["13800138000"])
    at = timezone.now() + dt.timedelta(hours=2)
    campaign.schedule(at)
    assert (campaign.status, campaign.send_at) == (CampaignStatus.SCHEDULED, at)


def test_provider_scheduling_needs_thirty_minutes():
    campaign = new_campaign(kind="notification")
    campaign.add_recipients(["13800138000"])
    with pytest.raises(CampaignStateError, match="30 minutes"):
        campaign.schedule(timezone.now() + dt.timedelta(minutes=20), at_provider=True)
    with pytest.raises(CampaignStateError, match="needs a send time"):
        campaign.schedule(None, at_provider=True)
    campaign.schedule(timezone.now() + dt.timedelta(hours=1), at_provider=True)
    assert campaign.schedule_at_provider


def test_provider_scheduling_refuses_quiet_hours_for_marketing():
    campaign = new_campaign()
    campaign.add_recipients(["13800138000"])
    tonight = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=8))).replace(hour=22, minute=0) + dt.timedelta(
        days=1
    )
    with pytest.raises(CampaignStateError, match="quiet hours"):
        campaign.schedule(tonight, at_provider=True)


def test_cancel():
    campaign = new_campaign()
    campaign.add_recipients(["13800138000"])
    campaign.schedule()
    assert campaign.cancel() is True
    assert campaign.status == CampaignStatus.CANCELLED
    assert campaign.cancel() is False


def test_recount_repairs_counts():
    campaign = new_campaign()
    campaign.add_recipients(mobiles(4))
    move_counts(campaign.pk, pending=95)  # as a lost or doubled update would leave them
    campaign.recount()
    assert campaign.counts()["pending"] == 4 and campaign.total_count == 4
