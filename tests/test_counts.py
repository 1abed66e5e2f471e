"""A campaign's counts: kept in slot rows, read as the campaign's own, and never a row
that every receipt of the campaign must lock."""

from __future__ import annotations

import threading
from urllib.parse import urlencode

import psycopg
import pytest
from django.db import connection, connections
from django.db.models import Count
from django.urls import reverse

from django_veesing import clock
from django_veesing.models import (
    COUNT_SLOTS,
    Batch,
    Campaign,
    CampaignCount,
    Recipient,
    RecipientStatus,
    move_counts,
    move_failures,
)
from django_veesing.sending.settling import mark_submitted

from .conftest import another_slot, counted_reasons, database_url, mobiles, reasons_of_rows

TOKEN = "test-callback-token-0123456789"
FORM = "application/x-www-form-urlencoded;charset=utf-8"


def sent_campaign(make_campaign, numbers=3, task="T" * 32):
    campaign = make_campaign(mobiles(numbers))
    batch = Batch.objects.create(campaign=campaign, size=numbers)
    Recipient.objects.filter(campaign=campaign).update(batch=batch)
    mark_submitted(batch, task, numbers, 100, "成功", clock.now())
    return Campaign.objects.get(pk=campaign.pk)


def by_rows(campaign):
    found = dict(Recipient.objects.filter(campaign=campaign).values_list("status").annotate(Count("id")))
    return {status: found.get(status, 0) for status in RecipientStatus.values}


def receipt(phone, task="T" * 32, when="2026-11-26 12:00:05", status="1"):
    return urlencode({"mobile": phone, "taskid": task, "status": status, "code": "DELIVRD", "receivetime": when})


@pytest.mark.django_db
def test_the_counts_are_the_sums_of_the_slots_whatever_each_holds(make_campaign):
    campaign = make_campaign(mobiles(5))
    # as another connection leaves them
    CampaignCount.objects.create(campaign=campaign, slot=another_slot(campaign), pending=-2, delivered=2)
    found = Campaign.objects.get(pk=campaign.pk)
    assert (found.total_count, found.pending_count, found.delivered_count) == (5, 3, 2)
    assert found.counts()["pending"] == 3


@pytest.mark.django_db
def test_counts_filter_and_order_campaigns_like_columns(make_campaign):
    small, large = make_campaign(mobiles(2)), make_campaign(mobiles(4, start=13900000000))
    assert list(Campaign.objects.filter(total_count__gte=3)) == [large]
    assert list(Campaign.objects.order_by("pending_count")) == [small, large]
    assert Campaign.objects.values_list("total_count", flat=True).get(pk=small.pk) == 2


@pytest.mark.django_db
def test_a_campaign_loaded_without_its_counts_reads_them_once(make_campaign, django_assert_num_queries):
    campaign = make_campaign(mobiles(3))
    recipient = Recipient.objects.select_related("campaign").filter(campaign=campaign).first()
    with django_assert_num_queries(1):
        assert (recipient.campaign.total_count, recipient.campaign.pending_count) == (3, 3)
    with django_assert_num_queries(1):  # read with the campaign, in the same query
        found = Campaign.objects.get(pk=campaign.pk)
        assert (found.total_count, found.pending_count, found.delivered_count) == (3, 3, 0)


@pytest.mark.django_db
def test_refreshing_reads_the_counts_committed_since(make_campaign):
    campaign = make_campaign(mobiles(3))
    assert campaign.pending_count == 3
    move_counts(campaign.pk, pending=-1, failed=1)
    assert campaign.pending_count == 3  # as a column read earlier would
    campaign.refresh_from_db(fields=["failed_count", "name"])
    assert (campaign.pending_count, campaign.failed_count) == (2, 1)


@pytest.mark.django_db
def test_recount_rebuilds_one_slot_from_the_rows(make_campaign):
    campaign = make_campaign(mobiles(4))
    move_counts(campaign.pk, pending=40, delivered=-3)  # a repair case: counts gone wrong
    CampaignCount.objects.create(campaign=campaign, slot=another_slot(campaign), failed=9)
    Recipient.objects.filter(campaign=campaign, phone=mobiles(4)[0]).update(status="failed", receipt_code="UNDELIV")
    move_failures(campaign.pk, {("MK:0011", ""): 5})  # gone wrong too
    campaign.recount()
    assert campaign.counts() == by_rows(campaign) and campaign.total_count == 4
    assert CampaignCount.objects.filter(campaign=campaign).count() == 1
    assert counted_reasons(campaign) == reasons_of_rows(campaign) == {("UNDELIV", ""): 1}


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and backends' slots are PostgreSQL's"
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("locked", ["campaign row", "another slot"])
def test_a_receipt_waits_for_no_lock_another_transaction_holds(client, make_campaign, locked):
    """A sender holding the campaign's row, or another connection's slot, mid-transaction:
    receipts for the campaign go through all the same (a lock wait fails them at once)."""
    campaign = sent_campaign(make_campaign)
    with psycopg.connect(database_url()) as other:
        if locked == "campaign row":
            other.execute("SELECT 1 FROM django_veesing_campaign WHERE id = %s FOR UPDATE", [campaign.pk])
        else:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                slot = (cursor.fetchone()[0] + 1) % COUNT_SLOTS  # not this connection's
            other.execute(
                "INSERT INTO django_veesing_campaigncount (campaign_id, slot, delivered) VALUES (%s, %s, 0)"
                " ON CONFLICT (campaign_id, slot) DO UPDATE SET delivered = django_veesing_campaigncount.delivered",
                [campaign.pk, slot],
            )
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '500ms'")
        try:
            for phone in mobiles(3):
                response = client.post(
                    reverse("django_veesing:callback", args=[TOKEN]), receipt(phone), content_type=FORM
                )
                assert response.status_code == 200
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = 0")
        other.rollback()
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.delivered_count == 3 == by_rows(campaign)["delivered"]


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_receipts_keep_the_counts_exact_across_slots(live_server, make_campaign):
    """Eight threads, each its own connection, push receipts for one campaign (each receipt
    twice, some older than one already applied); the counts equal the rows'."""
    import requests

    campaign = sent_campaign(make_campaign, numbers=400)
    phones = mobiles(400)
    address = live_server.url + reverse("django_veesing:callback", args=[TOKEN])

    def pusher(share):
        with requests.Session() as session:
            for phone in share:
                for body in (receipt(phone, status="0", when="2026-11-26 12:00:09"), receipt(phone)):
                    for _ in range(2):  # duplicates
                        assert session.post(address, data=body, headers={"Content-Type": FORM}).text == "ok"

    threads = [threading.Thread(target=pusher, args=(phones[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    connections.close_all()
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.counts() == by_rows(campaign)
    assert campaign.failed_count == 400  # the newer receipt (12:00:09) said failed
    assert CampaignCount.objects.filter(campaign=campaign).count() > 1  # spread over slots
