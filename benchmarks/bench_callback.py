"""The callback through gunicorn (2 workers) and PostgreSQL, loaded by wrk (8 connections),
against a bare Django view on the same server in the same run (alternating runs, the best
of each side). Every push is a distinct receipt for a submitted recipient, committed
before its 200. Beside them, the least any durable view can do (one single-row UPDATE committed a request: the machine's ceiling for
a view that commits) and the straightforward receipt view.

    python benchmarks/bench_callback.py [--seconds 20] [--database postgres://…/veesing_bench_callback]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cpu
from common import free_port, publish, setup_django

HERE = Path(__file__).resolve().parent
TOKEN = "bench-callback-token-0123456789"


def prepare(threads: int, per_thread: int, *, campaigns: int = 1, label: str = "BENCH", base: int = 13000000000) -> int:
    """Submitted recipients for wrk's receipts (``push.lua``), as the sending pipeline leaves
    them: wrk thread t's number n is phone ``base + t * 1e6 + n`` in campaign ``n % campaigns``,
    sent in a batch the provider accepted (task id ``<label>T<t>C<n % campaigns>``), its row
    submitted with that batch and its task id. Returns the first campaign's id."""
    from django.db import connection

    from django_veesing.models import Batch, Campaign

    made = [Campaign.objects.create(name=f"{label} {c}", content="【基准】x", status="sent") for c in range(campaigns)]
    for thread in range(threads):
        for c, campaign in enumerate(made):
            numbers = range(c or campaigns, per_thread + 1, campaigns)  # n % campaigns == c, n ≥ 1
            batch = Batch.objects.create(
                campaign=campaign, state="submitted", task_id=f"{label}T{thread}C{c}", size=len(numbers)
            )
            rows = "".join(
                f"{campaign.pk}\t{base + thread * 1_000_000 + n}\tsubmitted\t{batch.pk}\t{batch.task_id}\t\t\n"
                for n in numbers
            )
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(
                    "COPY django_veesing_recipient (campaign_id, phone, status, batch_id, task_id, receipt_code, error)"
                    " FROM STDIN"
                ) as copy,
            ):
                copy.write(rows)
    for campaign in made:
        campaign.recount()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return made[0].pk


@dataclass
class Load:
    """One wrk run: its rate, its p99, and the CPU each side spent a request."""

    rate: float
    p99_ms: float
    site_cpu_ms: float  # gunicorn's processes
    database_cpu_ms: float  # PostgreSQL's processes


def wrk(
    server: int, url: str, seconds: int, script: str | None = None, *script_args: str, connections: int = 8
) -> Load:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", script]
        command += ["--", *script_args]
    before = cpu.snapshot(cpu.family(server)), cpu.snapshot(cpu.named("postgres"))
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    after = cpu.snapshot(cpu.family(server)), cpu.snapshot(cpu.named("postgres"))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    value, unit = float(p99.group(1)), p99.group(2)
    per_request = [cpu.spent(start, end) * 1000 / max(requests, 1) for start, end in zip(before, after, strict=True)]
    return Load(rate, value / 1000 if unit == "us" else value * 1000 if unit == "s" else value, *per_request)


@contextlib.contextmanager
def gunicorn(database: str, *, workers: int, written_id: int) -> Iterator[tuple[int, str]]:
    """The benchmark site (``callback_site``) under gunicorn: its pid and its address."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database, "BENCH_TOKEN": TOKEN, "PYTHONPATH": str(HERE)}
    env["BENCH_CAMPAIGN"] = str(written_id)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    server = subprocess.Popen([*command, "--log-level", "warning", "callback_site:application"], cwd=HERE, env=env)
    try:
        time.sleep(3)
        yield server.pid, f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description="callback throughput against a bare view")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/veesing_bench_callback")
    parser.add_argument("--quick", action="store_true", help="5-second runs (CI smoke run)")
    parser.add_argument("--runs", type=int, default=3, help="alternating runs of the bare view and the callback")
    args = parser.parse_args()
    seconds = 5 if args.quick else args.seconds
    if not shutil.which("wrk"):
        print("bench_callback: skipped, wrk is not installed (apt-get install wrk)")
        return
    setup_django(args.database)
    from django.db import connection

    from django_veesing.models import Receipt, Recipient

    per_run = 2000 * seconds  # more than a run can push, per wrk thread
    campaign_id = prepare(threads=2, per_thread=(args.runs + 1) * per_run)
    connection.close()
    with gunicorn(args.database, workers=2, written_id=campaign_id) as (server, base):
        push_script = str(HERE / "push.lua")
        write = wrk(server, base + "/one-write/", seconds)
        plain = wrk(server, f"{base}/straightforward/", seconds, push_script, str(args.runs * per_run))
        # The bare view and the callback alternately, each on fresh recipients; each side's
        # best run counts (a run on a shared machine is sometimes slowed throughout).
        bares, pushes = [], []
        for run in range(args.runs):
            bares.append(wrk(server, base + "/bare/", seconds))
            pushes.append(wrk(server, f"{base}/veesing/callback/{TOKEN}/", seconds, push_script, str(run * per_run)))
        bare, push = (max(loads, key=lambda load: load.rate) for loads in (bares, pushes))
    delivered = Recipient.objects.filter(status="delivered").count()
    stored = Receipt.objects.count()
    lines = []
    lines.append(f"callback through gunicorn (2 workers) + {connection.vendor}, wrk 8 connections, {seconds} s each")
    best = f"best of {args.runs}: " if args.runs > 1 else ""
    lines.append(
        f"  bare Django view : {bare.rate:8.0f} requests/s, p99 {bare.p99_ms:6.1f} ms   "
        f"({best}{', '.join(f'{load.rate:.0f}' for load in bares)})"
    )
    lines.append(
        f"  one durable write: {write.rate:8.0f} requests/s, p99 {write.p99_ms:6.1f} ms   "
        f"({write.rate / bare.rate:.2f} of the bare view: one single-row UPDATE committed a request)"
    )
    lines.append(
        f"  straightforward  : {plain.rate:8.0f} pushes/s,   p99 {plain.p99_ms:6.1f} ms   "
        "(one SELECT, one UPDATE, one INSERT; no counts, no checks)"
    )
    worst_p99 = max(load.p99_ms for load in pushes)
    lines.append(
        f"  callback         : {push.rate:8.0f} pushes/s,   p99 {worst_p99:6.1f} ms   "
        f"({best}{', '.join(f'{load.rate:.0f}' for load in pushes)}; the highest p99 of the runs, target < 50 ms)"
    )
    lines.append(f"  ratio            : {push.rate / bare.rate:8.2f}   (target ≥ 0.2)")
    lines.append(f"  against straightforward : {push.rate / plain.rate:5.2f}×")
    lines.append(f"  against one durable write : {push.rate / write.rate:5.2f}")
    if cpu.available():
        lines.append("  CPU a request, ms : gunicorn  PostgreSQL")
        for name, load in (("bare view", bare), ("one write", write), ("straightforward", plain), ("callback", push)):
            lines.append(f"    {name:<16}: {load.site_cpu_ms:8.3f}  {load.database_cpu_ms:10.3f}")
    lines.append(
        f"  receipts stored {stored:,}, recipients delivered {delivered:,} over all runs (each committed before its 200)"
    )
    publish("bench_callback", lines, quick=args.quick)


if __name__ == "__main__":
    main()
