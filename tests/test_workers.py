"""Real worker processes: killed mid-call, and four at once on one campaign."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from django_veesing.models import Batch, BatchState, Campaign, CampaignStatus, Recipient, RecipientStatus

from .conftest import PERSONAL_TEXT, accepted_texts, database_url, mobiles, personal_rows, personal_text

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def worker(simulator, campaign, batch_size, *extra):
    return run_send(simulator, batch_size, "--campaign", str(campaign.pk), *extra)


#: The worker processes a test started, killed when it ends: a worker left running would
#: claim the next tests' batches and fail them against its gone simulator.
_started: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _no_worker_outlives_its_test():
    yield
    while _started:
        process = _started.pop()
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=30)


def run_send(simulator, batch_size, *arguments, settings="tests.settings"):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "DATABASE_URL": database_url(),
        "VEESING_API_URL": simulator.url,
        "VEESING_BATCH_SIZE": str(batch_size),
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "django", "veesing_send", *arguments]
    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _started.append(process)
    return process


def wait_for(condition, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.mark.parametrize("personalised", [False, True], ids=["one text", "personalised"])
def test_worker_killed_between_the_call_and_the_commit(simulator, make_campaign, personalised):
    simulator.configure(per_minute_limit=False)
    if personalised:  # three texts of 1,000 numbers each: six batches of 500 all the same
        rows = personal_rows(mobiles(3000), names=3)
        campaign = make_campaign(rows, content=PERSONAL_TEXT)
    else:
        campaign = make_campaign(mobiles(3000))
    # The third batch reaches the provider, which acts on it and never answers.
    simulator.inject("timeout", next_n=1, path="/group", after=2, seconds=60)
    first = worker(simulator, campaign, 500)
    wait_for(lambda: len(simulator.record.group_requests()) == 3)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    assert Batch.objects.filter(campaign=campaign, state=BatchState.CLAIMED).count() == 1

    second = worker(simulator, campaign, 500)
    output, _ = second.communicate(timeout=120)
    assert second.returncode == 0, output

    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENT
    states = sorted(Batch.objects.filter(campaign=campaign).values_list("state", flat=True))
    assert states == [BatchState.SUBMITTED] * 5 + [BatchState.UNCERTAIN]
    uncertain = Batch.objects.get(campaign=campaign, state=BatchState.UNCERTAIN)
    assert "stopped while sending" in uncertain.message
    assert simulator.record.sent_more_than_once() == {}
    assert set(simulator.record.accepted) == set(mobiles(3000))  # the lost answer's batch did go out
    pending = set(
        Recipient.objects.filter(status=RecipientStatus.PENDING, campaign=campaign).values_list("phone", flat=True)
    )
    assert pending == set(uncertain.recipients.values_list("phone", flat=True)) and len(pending) == 500
    assert campaign.submitted_count == 2500 and campaign.pending_count == 500
    if personalised:
        assert accepted_texts(simulator) == {phone: [personal_text(values)] for phone, values in rows}


def test_a_looping_worker_sends_what_falls_due_and_stops_on_ctrl_c(simulator, make_campaign):
    from django_veesing.models import WorkerHeartbeat

    looping = run_send(simulator, 100, "--loop", "--interval", "0.1")
    wait_for(lambda: WorkerHeartbeat.objects.exists())  # it is up, with nothing due yet
    campaign = make_campaign(mobiles(250))  # scheduled while the worker runs
    wait_for(lambda: Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.SENT)
    finished = Campaign.objects.get(pk=campaign.pk).finished_at
    wait_for(lambda: WorkerHeartbeat.objects.filter(seen_at__gt=finished).exists())  # its report is printed
    looping.send_signal(signal.SIGINT)
    output, _ = looping.communicate(timeout=30)
    assert looping.returncode == 0, output
    assert "Worker stopped." in output and f"Campaign {campaign.pk}: sent — 3 batches, 250 submitted" in output
    assert simulator.record.accepted == dict.fromkeys(mobiles(250), 1)


@pytest.mark.parametrize(
    ("stop", "arguments", "said"),
    [
        (signal.SIGINT, ["--loop", "--interval", "0.1"], "Worker stopped."),
        (signal.SIGTERM, ["--loop", "--interval", "0.1"], "Worker stopped."),
        (signal.SIGINT, [], "Stopped on request"),
        (signal.SIGTERM, [], "Stopped on request"),
    ],
    ids=["ctrl-c, looping", "sigterm, looping", "ctrl-c, one run", "sigterm, one run"],
)
def test_a_worker_asked_to_stop_settles_the_batch_in_flight_and_claims_no_more(
    simulator, make_campaign, stop, arguments, said
):
    """Ctrl-C or SIGTERM (systemd, Docker) while a call is out: the worker waits for its
    answer, settles the batch and exits; the batch it claimed ahead waits, queued, and
    the next run sends the rest. Interrupted at once, it left the batch claimed (later
    uncertain, never resent without an operator), or swallowed the interrupt altogether
    when it came inside a commit."""
    simulator.configure(per_minute_limit=False, latency=1.0)
    campaign = make_campaign(mobiles(1000))
    if not arguments:
        arguments = ["--campaign", str(campaign.pk)]
    first = run_send(simulator, 100, *arguments)
    wait_for(lambda: Batch.objects.filter(campaign=campaign, state=BatchState.CLAIMED).exists())
    first.send_signal(stop)
    output, _ = first.communicate(timeout=30)
    assert first.returncode == 0, output
    assert said in output

    # The signal lands during the first call (a second), unless this process stalls: then
    # during a later one. Either way, every batch called is settled and nothing follows.
    calls = len(simulator.record.group_requests())
    states = list(Batch.objects.filter(campaign=campaign).values_list("state", flat=True))
    assert sorted(states) in ([BatchState.QUEUED] + [BatchState.SUBMITTED] * calls, [BatchState.SUBMITTED] * calls)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.SENDING and calls < 10, output
    assert (campaign.submitted_count, campaign.pending_count) == (100 * calls, 1000 - 100 * calls)

    simulator.configure(latency=0.0)
    second = worker(simulator, campaign, 100)
    output, _ = second.communicate(timeout=60)
    assert second.returncode == 0, output
    campaign.refresh_from_db()
    assert (campaign.status, campaign.submitted_count) == (CampaignStatus.SENT, 1000)
    assert simulator.record.accepted == dict.fromkeys(mobiles(1000), 1)


def test_a_receiver_that_raises_does_not_stop_a_looping_worker(simulator, make_campaign):
    """Every receiver of the worker's signals raises (tests.raising_receivers): each error
    is logged with its traceback, and the worker sends the next campaign all the same."""
    from django_veesing.models import WorkerHeartbeat

    looping = run_send(simulator, 100, "--loop", "--interval", "0.1", settings="tests.settings_raising")
    wait_for(lambda: WorkerHeartbeat.objects.exists())
    first = make_campaign(mobiles(150))
    wait_for(lambda: Campaign.objects.get(pk=first.pk).status == CampaignStatus.SENT)
    second = make_campaign(mobiles(150, start=13900000000))
    wait_for(lambda: Campaign.objects.get(pk=second.pk).status == CampaignStatus.SENT)
    finished = Campaign.objects.get(pk=second.pk).finished_at
    wait_for(lambda: WorkerHeartbeat.objects.filter(seen_at__gt=finished).exists())
    looping.send_signal(signal.SIGINT)
    output, _ = looping.communicate(timeout=30)
    assert looping.returncode == 0, output
    assert output.count("A receiver of a django-veesing signal raised: broken") == 2 * (1 + 2 + 1)
    assert "Traceback" in output and "RuntimeError: a receiver's own bug" in output
    assert len(simulator.record.accepted) == 300 and "Worker stopped." in output


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent claims need PostgreSQL's row locks")
def test_four_workers_send_each_number_exactly_once(simulator, make_campaign):
    numbers = 20_000
    simulator.configure(per_minute_limit=False, latency=0.005)
    campaign = make_campaign(mobiles(numbers))
    workers = [worker(simulator, campaign, 200) for _ in range(4)]
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], outputs
    assert simulator.record.sent_more_than_once() == {}
    assert len(simulator.record.accepted) == numbers
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.status == CampaignStatus.SENT
    assert (campaign.submitted_count, campaign.pending_count) == (numbers, 0)
    assert Recipient.objects.filter(status=RecipientStatus.SUBMITTED, campaign=campaign).count() == numbers
    claimers = set(Batch.objects.filter(campaign=campaign).values_list("claimed_by", flat=True))
    assert len(claimers) >= 3, "the workers really ran side by side"
    assert Batch.objects.filter(campaign=campaign).count() == numbers // 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent claims need PostgreSQL's row locks")
def test_four_workers_send_a_personalised_campaign_each_number_once_with_its_text(simulator, make_campaign):
    numbers = 3_000  # 600 share one text (three batches of 200), 2,400 texts of their own
    simulator.configure(per_minute_limit=False, latency=0.002)
    rows = personal_rows(mobiles(numbers))
    campaign = make_campaign(rows, content=PERSONAL_TEXT)
    workers = [worker(simulator, campaign, 200) for _ in range(4)]
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    assert [w.returncode for w in workers] == [0, 0, 0, 0], outputs
    assert simulator.record.sent_more_than_once() == {}
    assert accepted_texts(simulator) == {phone: [personal_text(values)] for phone, values in rows}
    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.status == CampaignStatus.SENT
    assert (campaign.submitted_count, campaign.pending_count) == (numbers, 0)
    assert Recipient.objects.filter(status=RecipientStatus.SUBMITTED, campaign=campaign).count() == numbers
    assert len(set(Batch.objects.filter(campaign=campaign).values_list("claimed_by", flat=True))) >= 3
    assert Batch.objects.filter(campaign=campaign).count() == 3 + 2_400


@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent claims need PostgreSQL's row locks")
def test_numbers_committed_out_of_order_are_not_skipped_by_the_cursor(simulator, make_campaign, monkeypatch):
    """An import whose ids come first but commit last must still be sent (claims move a cursor)."""
    import threading

    from django.db import connections

    from django_veesing.db import bulk
    from django_veesing.sending.sender import Sender

    campaign = make_campaign(mobiles(5))  # scheduled
    inserted, release = threading.Event(), threading.Event()
    real_insert = bulk.insert_new

    def slow_insert(model, campaign_id, numbers):
        added = real_insert(model, campaign_id, numbers)
        if next(iter(numbers)) == "13600000000":  # the first import: its ids are taken, not committed
            inserted.set()
            release.wait(20)
        return added

    monkeypatch.setattr(bulk, "insert_new", slow_insert)

    def in_thread(work):
        def run():
            try:
                work()
            finally:
                connections.close_all()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    first = in_thread(lambda: Campaign.objects.get(pk=campaign.pk).add_recipients(mobiles(5, start=13600000000)))
    assert inserted.wait(10)
    second = in_thread(lambda: Campaign.objects.get(pk=campaign.pk).add_recipients(mobiles(5, start=13500000000)))
    sender = in_thread(lambda: Sender().send(Campaign.objects.get(pk=campaign.pk)))
    time.sleep(0.5)  # without the lock, the second import commits and the sender passes the first's ids
    release.set()
    for thread in (first, second, sender):
        thread.join(30)
    Sender().send(Campaign.objects.get(pk=campaign.pk))
    campaign.refresh_from_db()
    everyone = mobiles(5) + mobiles(5, start=13600000000) + mobiles(5, start=13500000000)
    assert simulator.record.accepted == dict.fromkeys(everyone, 1)
    assert campaign.status == CampaignStatus.SENT and campaign.pending_count == 0
