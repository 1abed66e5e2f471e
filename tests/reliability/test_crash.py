"""Sending workers killed with SIGKILL at random moments never send a number twice."""

from __future__ import annotations

import random
import signal
import time

import pytest

from django_veesing.models import Batch, BatchState, Campaign, CampaignStatus

from ..conftest import PERSONAL_TEXT, accepted_texts, mobiles, personal_rows, personal_text
from .helpers import account, start_worker

pytestmark = pytest.mark.django_db(transaction=True)
RUNS = 20
NUMBERS = 12_000  # 120 batches: more than twenty interrupted runs can send


@pytest.mark.parametrize("personalised", [False, True], ids=["one text", "personalised"])
def test_random_kills_then_a_final_run(simulator, make_campaign, figures, personalised):
    rng = random.Random(20261126)
    simulator.configure(per_minute_limit=False, latency=0.12)
    if personalised:  # 120 texts of 100 numbers: the same 120 batches, each of one text
        rows = personal_rows(mobiles(NUMBERS), names=120)
        campaign = make_campaign(rows, content=PERSONAL_TEXT)
    else:
        campaign = make_campaign(mobiles(NUMBERS))
    killed = 0
    for _run in range(RUNS):
        worker = start_worker(simulator, "--campaign", str(campaign.pk), batch_size=100)
        time.sleep(rng.uniform(0.6, 1.8))  # somewhere in start-up, a claim, a call or a commit
        if worker.poll() is None:
            worker.send_signal(signal.SIGKILL)
            killed += 1
        worker.wait(30)
    final = start_worker(simulator, "--campaign", str(campaign.pk), batch_size=100)
    output, _ = final.communicate(timeout=300)
    assert final.returncode == 0, output

    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.status == CampaignStatus.SENT
    counts = account(campaign, simulator)
    uncertain = Batch.objects.filter(campaign=campaign, state=BatchState.UNCERTAIN)
    reached = sum(
        1
        for batch in uncertain
        if set(batch.recipients.values_list("phone", flat=True)) <= set(simulator.record.accepted)
    )
    if personalised:
        texts = accepted_texts(simulator)
        expected = {phone: personal_text(values) for phone, values in rows}
        assert all(set(got) == {expected[phone]} for phone, got in texts.items())
    figures("worker runs killed with SIGKILL at a random moment", f"{killed} of {RUNS}")
    figures("numbers in the campaign", counts["numbers"])
    figures(
        "batches left uncertain by a kill (the provider had them / had not)",
        f"{reached} / {uncertain.count() - reached}",
    )
    figures("numbers submitted / pending in uncertain batches", f"{counts['submitted']} / {counts['uncertain']}")
    figures("numbers that reached the provider twice", counts["duplicates"])
    figures("numbers unaccounted for", counts["unaccounted"])
    assert killed >= 10, "most runs must really be interrupted"
    assert counts["duplicates"] == 0
    assert counts["unaccounted"] == 0
    assert counts["claimed batches left"] == 0
    assert counts["submitted"] + counts["uncertain"] == NUMBERS
