"""The simulator sends a campaign's receipts and replies to a live server."""

import time

import pytest
from django.urls import reverse

from django_veesing.models import Campaign, CampaignStatus, OptOut, Receipt, Reply
from django_veesing.receiving.replies import is_opt_out
from django_veesing.sending.sender import Sender

from .conftest import expected_statuses, mobiles, stored_statuses

TOKEN = "test-callback-token-0123456789"


@pytest.mark.django_db(transaction=True)
def test_receipts_and_replies_with_duplicates_and_reordering(simulator, live_server, make_campaign, settings):
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 500, "QUIET_HOURS": None}
    callback = live_server.url + reverse("django_veesing:callback", args=[TOKEN])
    simulator.configure(
        callback_url=callback,
        push_delay=0.0,
        delivered_ratio=0.9,
        reply_ratio=0.05,
        duplicate_rate=0.2,
        reorder_rate=0.3,
        reorder_window=0.5,
        push_workers=8,
    )
    campaign = make_campaign(mobiles(2000), kind="marketing")
    started = time.monotonic()
    Sender().send(campaign)
    assert simulator.wait_for_pushes(120)
    elapsed = time.monotonic() - started

    pushes = simulator.record.pushes
    assert all(p.delivered for p in pushes), [p.answers for p in pushes if not p.delivered][:3]
    assert sum(p.duplicate for p in pushes) > 300  # duplicates really were sent

    expected = expected_statuses(simulator)
    assert len(expected) == 2000
    assert stored_statuses(campaign) == expected
    assert Receipt.objects.count() == 2000  # each duplicate stored once

    replies = simulator.record.replies
    assert replies and Reply.objects.count() == len(replies)
    assert set(Reply.objects.values_list("campaign", flat=True)) == {campaign.pk}
    expected_opt_outs = {r["mobile"] for r in replies if is_opt_out(r["content"])}
    assert set(OptOut.objects.values_list("phone", flat=True)) == expected_opt_outs

    campaign = Campaign.objects.get(pk=campaign.pk)
    delivered = sum(1 for s in expected.values() if s == "delivered")
    assert campaign.status == CampaignStatus.SENT
    assert (campaign.delivered_count, campaign.failed_count, campaign.submitted_count) == (
        delivered,
        2000 - delivered,
        0,
    )
    print(f"{len(pushes)} pushes in {elapsed:.1f}s")
