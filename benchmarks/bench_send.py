"""Send overhead: the app sending a campaign to the simulator, against a bare
requests.Session posting the same batches with no database, in the same run (each run
against a simulator of its own, started afresh), with no provider latency or with some.

    python benchmarks/bench_send.py [--numbers 1000000] [--database postgres://…/veesing_bench]
    python benchmarks/bench_send.py --latency 0.05     # 50 ms a call; 200,000 numbers
"""

from __future__ import annotations

import argparse
import time
from urllib.parse import urlencode

from common import peak_rss_mib, publish, setup_django, start_simulator

TEXT = "【基准】您的订单已发货"


def fresh(campaign) -> None:
    """Ready to send again: its rows pending, its batches gone, its cursor back, and the
    table vacuumed (as a campaign imported long before it is sent would be)."""
    from django.db import connection

    from django_veesing.models import Batch, Campaign, Recipient

    Recipient.objects.filter(campaign=campaign).exclude(status="pending").update(status="pending", task_id="")
    Batch.objects.filter(campaign=campaign).delete()  # the rows' batch becomes NULL
    Campaign.objects.filter(pk=campaign.pk).update(status="scheduled", claimed_through=0, finished_at=None)
    campaign.recount()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE django_veesing_recipient")


def main() -> None:
    parser = argparse.ArgumentParser(description="send overhead against a bare requests.Session")
    parser.add_argument("--numbers", type=int, help="default 1,000,000; 200,000 with --latency")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds the simulator takes a call")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/veesing_bench")
    parser.add_argument("--runs", type=int, default=3, help="alternating runs of each side (the best counts)")
    parser.add_argument("--quick", action="store_true", help="50,000 numbers, one run each (CI smoke run)")
    args = parser.parse_args()
    numbers = 50_000 if args.quick else args.numbers or (200_000 if args.latency else 1_000_000)
    args.runs = 1 if args.quick else args.runs
    setup_django(args.database)

    import requests
    from django.conf import settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from django_veesing.models import Campaign
    from django_veesing.sending.sender import Sender

    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": args.batch_size, "QUIET_HOURS": None}
    phones = [str(13100000000 + i) for i in range(numbers)]

    # The campaign is imported first and its table vacuumed, as a campaign is long before
    # it is sent: the database's autovacuum of a million new rows would otherwise run
    # during a timed send, on one of the two cores.
    campaign = Campaign.objects.create(name="bench", content=TEXT, kind="notification")
    campaign.add_recipients(phones)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE django_veesing_recipient")

    def bare_run() -> float:
        session = requests.Session()
        headers = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
        started = time.perf_counter()
        for i in range(0, numbers, args.batch_size):
            body = urlencode(
                {
                    "appId": settings.VEESING["APP_ID"],
                    "appKey": settings.VEESING["APP_KEY"],
                    "phone": ",".join(phones[i : i + args.batch_size]),
                    "content": TEXT,
                }
            )
            session.post(url + "/smsApi/group", data=body, headers=headers, timeout=30).raise_for_status()
        return numbers / (time.perf_counter() - started)

    def app_run() -> float:
        fresh(campaign)
        started = time.perf_counter()
        Sender().send(campaign)
        rate = numbers / (time.perf_counter() - started)
        campaign.refresh_from_db()
        assert campaign.submitted_count == numbers, campaign.counts()
        return rate

    # Alternating runs, each against a simulator of its own started afresh (it slows a
    # little as its record of accepted numbers grows, which would favour whichever ran
    # first); each side's best of ``--runs`` counts, as timings usually do.
    bare_rates, app_rates = [], []
    rss_before = peak_rss_mib()
    for _ in range(args.runs):
        for rates, run in ((bare_rates, bare_run), (app_rates, app_run)):
            simulator, url = start_simulator(args.latency)
            settings.VEESING = {**settings.VEESING, "API_URL": url}
            rates.append(run())
            simulator.terminate()
    bare, app = max(bare_rates), max(app_rates)
    simulator, url = start_simulator(args.latency)
    settings.VEESING = {**settings.VEESING, "API_URL": url}
    sender = Sender()

    per_batch = []
    for size in (100, 1000):  # queries a batch takes as a worker sends it, at two batch sizes
        settings.VEESING = {**settings.VEESING, "BATCH_SIZE": size}
        counted = []
        for batches in (2, 4):
            probe = Campaign.objects.create(name="probe", content=TEXT, kind="notification")
            probe.add_recipients(str(13200000000 + size * 100 + batches * size + i) for i in range(batches * size))
            probe.schedule()
            with CaptureQueriesContext(connection) as queries:  # start and finish alike at 2 and 4 batches
                sender.send(probe)
            counted.append(len(queries))
        per_batch.append((counted[1] - counted[0]) // 2)
    simulator.terminate()

    lines = []
    latency = f", provider latency {args.latency * 1000:.0f} ms" if args.latency else ""
    lines.append(f"send overhead, {numbers:,} numbers in batches of {args.batch_size}, {connection.vendor}{latency}")
    runs = f"best of {args.runs}: " if args.runs > 1 else ""
    lines.append(
        f"  bare requests.Session : {bare:10,.0f} numbers/s   ({runs}{', '.join(f'{r:,.0f}' for r in bare_rates)})"
    )
    lines.append(
        f"  django-veesing        : {app:10,.0f} numbers/s   ({runs}{', '.join(f'{r:,.0f}' for r in app_rates)})"
    )
    lines.append(f"  ratio                 : {app / bare:10.2f}   (target ≥ {0.8 if args.latency else 0.4})")
    lines.append(f"  queries per batch     : {per_batch[0]} at 100 numbers, {per_batch[1]} at 1000")
    lines.append(f"  peak RSS              : {rss_before:.0f} MiB before sending, {peak_rss_mib():.0f} MiB after")
    publish("bench_send_latency" if args.latency else "bench_send", lines, quick=args.quick)


if __name__ == "__main__":
    main()
