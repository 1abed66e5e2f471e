"""Deleting campaigns: their numbers, batches and texts go, a statement a table; the
pushes stay; the admin asks with counts, not a line a row."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.db.models.deletion import RestrictedError
from django.db.models.signals import post_delete
from django.test.utils import CaptureQueriesContext

from django_veesing.clock import now
from django_veesing.models import Batch, Campaign, CampaignText, ImportJob, Receipt, Recipient, Reply
from django_veesing.sending.sender import Sender
from django_veesing.signals import batch_submitted
from django_veesing.tasks import send_campaign

from .conftest import PERSONAL_TEXT, connected, logged_in, mobiles, personal_rows
from .conftest import admin_url as url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def noon(clock):
    return clock


@pytest.fixture
def sent(simulator, settings):
    """A personalised campaign sent in batches of 2, each of its numbers with a receipt and
    a reply, beside a plain campaign that stays."""
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 2}

    def send(phones: list[str]) -> Campaign:
        campaign = Campaign.objects.create(name="积分", content=PERSONAL_TEXT, kind="notification")
        campaign.add_recipients(personal_rows(phones, names=2))
        campaign.schedule()
        Sender().send(campaign)
        for number in Recipient.objects.filter(campaign=campaign):
            Receipt.objects.create(
                fingerprint=f"r{number.pk}",
                task_id=number.task_id,
                phone=number.phone,
                delivered=True,
                received_at=now(),
                recipient=number,
            )
            Reply.objects.create(
                fingerprint=f"p{number.pk}",
                phone=number.phone,
                content="收到",
                received_at=now(),
                recipient=number,
                campaign=campaign,
            )
        return campaign

    return send


@pytest.fixture
def other(make_campaign):
    return make_campaign(mobiles(3, start=13900000000))


def test_a_sent_personalised_campaign_goes_with_its_numbers_batches_and_texts(sent, other):
    campaign = sent(mobiles(6))
    assert Batch.objects.filter(campaign=campaign).count() == 4  # two texts, three numbers each
    campaign_id = campaign.pk  # delete() leaves the instance without one
    deleted, by_model = campaign.delete()
    assert by_model["django_veesing.Recipient"] == 6
    assert by_model["django_veesing.Batch"] == 4
    assert by_model["django_veesing.CampaignText"] == 2
    assert by_model["django_veesing.Campaign"] == 1
    assert deleted == sum(by_model.values())
    for model in (Recipient, Batch, CampaignText):
        assert not model.objects.filter(campaign_id=campaign_id).exists()
    # every push is a record: kept, no longer linked
    assert Receipt.objects.count() == 6 and not Receipt.objects.filter(recipient__isnull=False).exists()
    assert Reply.objects.count() == 6
    assert not Reply.objects.filter(recipient__isnull=False).exists()
    assert not Reply.objects.filter(campaign__isnull=False).exists()
    assert Recipient.objects.filter(campaign=other).count() == 3


def test_no_number_is_read_to_delete_them(sent):
    """One statement a table whatever the size: no number is loaded to be deleted."""
    campaign = sent(mobiles(6))
    with CaptureQueriesContext(connection) as queries:
        Campaign.objects.filter(pk=campaign.pk).delete()
    table = f'DELETE FROM "{Recipient._meta.db_table}"'  # noqa: S608
    deletes = [q["sql"] for q in queries.captured_queries if q["sql"].startswith(table)]
    assert len(deletes) == 1 and f"WHERE campaign_id IN ({campaign.pk})" in deletes[0]  # not by id, row by row
    assert not Recipient.objects.filter(campaign_id=campaign.pk).exists()


def test_a_receiver_of_the_numbers_delete_signal_still_hears_each(sent):
    campaign = sent(mobiles(4))
    heard = []

    def hear(sender, instance, **kwargs):
        if sender is Recipient:
            heard.append(instance.phone)

    campaign_id = campaign.pk
    with connected({post_delete: hear}):
        campaign.delete()
    assert sorted(heard) == mobiles(4)
    assert not Recipient.objects.filter(campaign_id=campaign_id).exists()


def test_a_text_its_numbers_use_cannot_be_deleted_alone(sent):
    campaign = sent(mobiles(2))
    with pytest.raises(RestrictedError):
        CampaignText.objects.filter(campaign=campaign).delete()
    assert CampaignText.objects.filter(campaign=campaign).count() == 2


# -- the admin ----------------------------------------------------------------------------


def test_the_delete_page_counts_what_goes_instead_of_listing_each_row(sent, operator):
    campaign = sent(mobiles(6))
    ImportJob.objects.create(campaign=campaign, filename="list.csv", data=b"13800000000")
    client = logged_in(operator)
    page = client.get(url("campaign_delete", campaign.pk)).content.decode()
    for line in ("Recipients: 6", "Batches: 4", "Rendered texts: 2", "Imports: 1", "Receipts and replies"):
        assert line in page
    assert "13800000000" not in page  # no line a number
    with CaptureQueriesContext(connection) as small:
        client.get(url("campaign_delete", campaign.pk))
    larger = sent(mobiles(30, start=13700000000))
    with CaptureQueriesContext(connection) as large:
        client.get(url("campaign_delete", larger.pk))
    assert len(large) == len(small)
    assert client.post(url("campaign_delete", campaign.pk), {"post": "yes"}).status_code == 302
    assert not Campaign.objects.filter(pk=campaign.pk).exists()
    assert not Recipient.objects.filter(campaign_id=campaign.pk).exists()


def test_deleting_several_campaigns_from_the_list_counts_them_together(sent, operator, other):
    first, second = sent(mobiles(2)), sent(mobiles(4, start=13700000000))
    client = logged_in(operator)
    chosen = {"action": "delete_selected", "_selected_action": [first.pk, second.pk]}
    page = client.post(url("campaign_changelist"), chosen).content.decode()
    assert "Campaigns: 2" in page and "Recipients: 6" in page
    client.post(url("campaign_changelist"), {**chosen, "post": "yes"})
    assert list(Campaign.objects.values_list("pk", flat=True)) == [other.pk]
    assert Recipient.objects.count() == 3


def test_a_user_who_may_not_delete_numbers_cannot_delete_a_campaign_that_has_some(sent, operator, other):
    campaign = sent(mobiles(2))
    operator.user_permissions.remove(Permission.objects.get(codename="delete_recipient"))
    client = logged_in(operator)
    page = client.get(url("campaign_delete", campaign.pk)).content.decode()
    assert "Cannot delete campaign" in page and "<li>recipient</li>" in page
    assert client.post(url("campaign_delete", campaign.pk), {"post": "yes"}).status_code == 403
    assert Recipient.objects.filter(campaign=campaign).count() == 2


def test_a_viewer_cannot_reach_the_delete_page(sent, viewer):
    campaign = sent(mobiles(2))
    assert logged_in(viewer).get(url("campaign_delete", campaign.pk)).status_code == 403


# -- a worker meets a deleted campaign ------------------------------------------------------


@pytest.mark.usefixtures("sending_path")
def test_a_campaign_deleted_after_a_worker_listed_it_ends_its_run(simulator, make_campaign, other):
    gone = make_campaign(mobiles(3))
    sender = Sender()
    due = sender.due_campaigns()
    assert [c.pk for c in due] == [other.pk, gone.pk] or [c.pk for c in due] == [gone.pk, other.pk]
    gone_id = gone.pk
    gone.delete()
    reports = {report.campaign_id: report for report in (sender.send(campaign) for campaign in due)}
    assert reports[gone_id].status == "" and reports[gone_id].message == "The campaign was deleted."
    assert reports[other.pk].status == "sent"
    assert send_campaign(gone_id)["message"] == "The campaign was deleted."  # a Celery task fanned out before
    assert sorted(simulator.record.accepted) == mobiles(3, start=13900000000)


@pytest.mark.usefixtures("sending_path")
@pytest.mark.django_db(transaction=True)
def test_a_campaign_deleted_while_it_sends_stops_it_and_nothing_goes_again(simulator, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 2}
    campaign = make_campaign(mobiles(6))
    sender = Sender()

    def delete_it(sender, batch, **kwargs):
        Campaign.objects.filter(pk=batch.campaign_id).delete()

    with connected({batch_submitted: delete_it}):
        report = sender.send(campaign)
    assert report.status == "" and report.batches == 1
    assert sorted(simulator.record.accepted) == mobiles(2)  # the batch out when it went; the next not taken
    assert not Recipient.objects.exists() and not Batch.objects.exists()
    later = make_campaign(mobiles(2, start=13700000000))
    assert sender.send(later).status == "sent"  # the worker goes on
