"""Receipts for ONE campaign against the same receipts spread over 16 campaigns: gunicorn
with 8 workers, wrk with 16 connections, PostgreSQL. Every push is a distinct receipt for a
submitted recipient, committed before its 200. The two loads alternate, best of three each;
while each runs, pg_stat_activity is sampled for backends waiting on a lock.

If the campaign's counts lived in one row every receipt updates, the one-campaign load would
queue on that row's lock; the ratio shows whether it does.

    python benchmarks/bench_contention.py [--seconds 15] [--database postgres://…/veesing_bench_contention]
"""

from __future__ import annotations

import argparse
import shutil
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench_callback import TOKEN, Load, gunicorn, prepare, wrk
from common import publish, setup_django

HERE = Path(__file__).resolve().parent
SPREAD = 16
CONNECTIONS = 16
WORKERS = 8


@dataclass
class LockWaits:
    """pg_stat_activity sampled every 20 ms: how often a backend waited, and on what."""

    samples: int = 0
    waiting: int = 0  # backend-samples waiting on a heavyweight lock
    events: Counter[str] = field(default_factory=Counter)

    def mean(self) -> float:
        return self.waiting / max(self.samples, 1)

    def describe(self) -> str:
        top = ", ".join(f"{name} {n}" for name, n in self.events.most_common(3)) or "none"
        return f"{self.mean():.2f} backends waiting on a lock on average ({top})"


def sample_lock_waits(database: str, stop: threading.Event, into: LockWaits) -> None:
    import psycopg

    with psycopg.connect(database, autocommit=True) as conn:
        while not stop.is_set():
            rows = conn.execute(
                "SELECT wait_event FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            ).fetchall()
            into.samples += 1
            into.waiting += len(rows)
            into.events.update(row[0] for row in rows)
            time.sleep(0.02)


def loaded(database: str, server: int, url: str, seconds: int, *script_args: str) -> tuple[Load, LockWaits]:
    waits, stop = LockWaits(), threading.Event()
    sampler = threading.Thread(target=sample_lock_waits, args=(database, stop, waits))
    sampler.start()
    try:
        load = wrk(server, url, seconds, str(HERE / "push.lua"), *script_args, connections=CONNECTIONS)
    finally:
        stop.set()
        sampler.join()
    return load, waits


def main() -> None:
    parser = argparse.ArgumentParser(description="receipts for one campaign against the same spread over 16")
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/veesing_bench_contention")
    parser.add_argument("--quick", action="store_true", help="5-second runs, one each (CI smoke run)")
    parser.add_argument("--runs", type=int, default=3, help="alternating runs of each load")
    args = parser.parse_args()
    seconds, runs = (5, 1) if args.quick else (args.seconds, args.runs)
    if not shutil.which("wrk"):
        print("bench_contention: skipped, wrk is not installed (apt-get install wrk)")
        return
    setup_django(args.database)
    from django.db import connection

    from django_veesing.models import Campaign, Receipt, Recipient

    per_run = 2500 * seconds  # more than a run can push, per wrk thread
    per_thread = (runs + 1) * per_run
    one = prepare(threads=2, per_thread=per_thread, campaigns=1, label="ONE", base=13000000000)
    prepare(threads=2, per_thread=per_thread, campaigns=SPREAD, label="SPREAD", base=15000000000)
    connection.close()
    callback = f"/veesing/callback/{TOKEN}/"
    results: dict[str, list[tuple[Load, LockWaits]]] = {"one": [], "spread": []}
    with gunicorn(args.database, workers=WORKERS, written_id=one) as (server, base):
        for run in range(runs):
            start = str(run * per_run)
            results["one"].append(
                loaded(args.database, server, base + callback, seconds, start, "1", "ONE", "13000000000")
            )
            results["spread"].append(
                loaded(args.database, server, base + callback, seconds, start, str(SPREAD), "SPREAD", "15000000000")
            )
    best = {name: max(loads, key=lambda pair: pair[0].rate) for name, loads in results.items()}
    stored = Receipt.objects.count()
    delivered = Recipient.objects.filter(status="delivered").count()
    exact = all(
        campaign.delivered_count == campaign.recipients.filter(status="delivered").count()
        for campaign in Campaign.objects.all()
    )

    lines = [
        f"receipts through gunicorn ({WORKERS} workers) + {connection.vendor}, wrk {CONNECTIONS} connections, "
        f"{seconds} s each, best of {runs}",
    ]
    for name, label in (("one", "one campaign     "), ("spread", f"over {SPREAD} campaigns")):
        load, waits = best[name]
        rates = ", ".join(f"{pair[0].rate:.0f}" for pair in results[name])
        worst_p99 = max(pair[0].p99_ms for pair in results[name])
        lines.append(f"  {label}: {load.rate:8.0f} pushes/s, p99 {worst_p99:6.1f} ms   ({rates})")
        lines.append(f"      lock waits: {waits.describe()}")
    ratio = best["one"][0].rate / best["spread"][0].rate
    lines.append(f"  one / spread     : {ratio:8.2f}   (target ≥ 0.8)")
    lines.append(
        f"  receipts stored {stored:,}, recipients delivered {delivered:,}; "
        f"every campaign's delivered count equals its rows: {'yes' if exact else 'NO'}"
    )
    publish("bench_contention", lines, quick=args.quick)


if __name__ == "__main__":
    main()
