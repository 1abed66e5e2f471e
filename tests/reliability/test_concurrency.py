"""Four workers send while the simulator pushes receipts and replies at full speed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.urls import reverse

from django_veesing.models import Campaign, CampaignCount, CampaignStatus, Receipt, ReceiptArrivals, Recipient

from ..conftest import counted_reasons, expected_statuses, mobiles, reasons_of_rows, stored_statuses
from .helpers import account, start_worker

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="several workers need PostgreSQL"),
]
TOKEN = "test-callback-token-0123456789"
NUMBERS = 3000


def test_workers_and_pushes_at_once(simulator, live_server, make_campaign, figures):
    simulator.configure(
        per_minute_limit=False,
        callback_url=live_server.url + reverse("django_veesing:callback", args=[TOKEN]),
        push_delay=0.0,
        push_workers=8,
        delivered_ratio=0.9,
        reply_ratio=0.05,
        duplicate_rate=0.2,
        reorder_rate=0.3,
        reorder_window=0.5,
    )
    campaign = make_campaign(mobiles(NUMBERS))
    workers = [start_worker(simulator, "--campaign", str(campaign.pk), batch_size=100) for _ in range(4)]
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    assert [w.returncode for w in workers] == [0] * 4, outputs
    assert simulator.wait_for_pushes(300)

    campaign = Campaign.objects.get(pk=campaign.pk)
    stored_counts = campaign.counts()
    rows = dict(Recipient.objects.filter(campaign=campaign).values_list("status").annotate(Count("id")))
    slots = CampaignCount.objects.filter(campaign=campaign).count()
    arrived = ReceiptArrivals.objects.filter(campaign=campaign).aggregate(n=Sum("receipts"))["n"]
    matched = Receipt.objects.filter(recipient__campaign=campaign).count()
    campaign.recount()
    stored, expected = stored_statuses(campaign), expected_statuses(simulator)
    mismatched = sum(1 for key, status in expected.items() if stored.get(key) != status)
    counts = account(campaign, simulator)
    pushes = simulator.record.pushes
    figures("worker processes / numbers", f"4 / {NUMBERS}")
    figures(
        "pushes delivered (duplicates among them)",
        f"{sum(p.delivered for p in pushes)} ({sum(p.duplicate for p in pushes)})",
    )
    figures("pushes dropped after retries", sum(p.dropped for p in pushes))
    figures("final statuses that differ from the simulator's record", mismatched)
    figures(
        "campaign counts that differ from a recount (lost updates)",
        sum(stored_counts[k] != campaign.counts()[k] for k in stored_counts),
    )
    figures(
        "campaign counts that differ from COUNT(*) by status",
        sum(stored_counts[k] != rows.get(k, 0) for k in stored_counts),
    )
    figures("count slots the workers and pushes wrote", slots)
    figures("numbers that reached the provider twice", counts["duplicates"])
    assert campaign.status == CampaignStatus.SENT
    assert not any(p.dropped for p in pushes)
    assert mismatched == 0 and len(expected) == NUMBERS
    assert stored_counts == campaign.counts() == {k: rows.get(k, 0) for k in stored_counts}
    assert slots > 1  # the changes went to several slots, and still add up
    assert counts["duplicates"] == 0
    assert arrived == matched > 0  # every receipt on the timeline once
    assert counted_reasons(campaign) == reasons_of_rows(campaign) != {}  # every failed number by its reason
