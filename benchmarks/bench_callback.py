"""The callback through gunicorn (2 workers) and PostgreSQL, loaded by wrk (8 connections),
against a bare Django view on the same server in the same run. Every push is a distinct
receipt for a submitted recipient, committed before its 200. Beside them, the least any
durable view can do (one single-row UPDATE committed a request: the machine's ceiling for
a view that commits) and the straightforward receipt view.

    python benchmarks/bench_callback.py [--seconds 20] [--database postgres://…/veesing_bench_callback]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import free_port, publish, setup_django

HERE = Path(__file__).resolve().parent
TOKEN = "bench-callback-token-0123456789"


def prepare(threads: int, per_thread: int) -> int:
    """Submitted recipients for wrk's receipts: thread t sends phones 13000000000 + t*1e6 + n."""
    from django.db import connection

    from django_veesing.models import Batch, Campaign

    campaign = Campaign.objects.create(name="bench", content="【基准】x", status="sent")
    for thread in range(threads):
        batch = Batch.objects.create(
            campaign=campaign, state="submitted", task_id=f"BENCHTASK{thread}", size=per_thread
        )
        rows = "".join(
            f"{campaign.pk}\t{13000000000 + thread * 1_000_000 + n}\tsubmitted\t{batch.task_id}\t\t\t{batch.pk}\n"
            for n in range(1, per_thread + 1)
        )
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                "COPY django_veesing_recipient (campaign_id, phone, status, task_id, receipt_code, error, batch_id) FROM STDIN"
            ) as copy,
        ):
            copy.write(rows)
    Campaign.objects.filter(pk=campaign.pk).update(
        total_count=threads * per_thread, submitted_count=threads * per_thread
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return campaign.pk


def wrk(url: str, seconds: int, script: str | None = None, *script_args: str) -> tuple[float, float]:
    command = ["wrk", "-t2", "-c8", f"-d{seconds}s", "--latency", url]
    if script:
        command[1:1] = ["-s", script]
        command += ["--", *script_args]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    value, unit = float(p99.group(1)), p99.group(2)
    return rate, value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def main() -> None:
    parser = argparse.ArgumentParser(description="callback throughput against a bare view")
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/veesing_bench_callback")
    parser.add_argument("--quick", action="store_true", help="5-second runs (CI smoke run)")
    args = parser.parse_args()
    seconds = 5 if args.quick else args.seconds
    if not shutil.which("wrk"):
        print("bench_callback: skipped, wrk is not installed (apt-get install wrk)")
        return
    setup_django(args.database)
    from django.db import connection

    from django_veesing.models import Receipt, Recipient

    per_run = 2000 * seconds  # more than a run can push, per wrk thread
    campaign_id = prepare(threads=2, per_thread=2 * per_run)
    connection.close()
    port = free_port()
    env = {**os.environ, "DATABASE_URL": args.database, "BENCH_TOKEN": TOKEN, "PYTHONPATH": str(HERE)}
    env["BENCH_CAMPAIGN"] = str(campaign_id)
    env.pop("DJANGO_SETTINGS_MODULE", None)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "callback_site:application",
        ],
        cwd=HERE,
        env=env,
    )
    try:
        time.sleep(3)
        base = f"http://127.0.0.1:{port}"
        bare_rate, bare_p99 = wrk(base + "/bare/", seconds)
        write_rate, write_p99 = wrk(base + "/one-write/", seconds)
        plain_rate, plain_p99 = wrk(f"{base}/straightforward/", seconds, str(HERE / "push.lua"), str(per_run))
        push_rate, push_p99 = wrk(f"{base}/veesing/callback/{TOKEN}/", seconds, str(HERE / "push.lua"), "0")
    finally:
        server.terminate()
        server.wait(10)
    delivered = Recipient.objects.filter(status="delivered").count()
    stored = Receipt.objects.count()
    lines = []
    lines.append(f"callback through gunicorn (2 workers) + {connection.vendor}, wrk 8 connections, {seconds} s each")
    lines.append(f"  bare Django view : {bare_rate:8.0f} requests/s, p99 {bare_p99:6.1f} ms")
    lines.append(
        f"  one durable write: {write_rate:8.0f} requests/s, p99 {write_p99:6.1f} ms   "
        f"({write_rate / bare_rate:.2f} of the bare view: one single-row UPDATE committed a request)"
    )
    lines.append(
        f"  straightforward  : {plain_rate:8.0f} pushes/s,   p99 {plain_p99:6.1f} ms   "
        "(one SELECT, one UPDATE, one INSERT; no counts, no checks)"
    )
    lines.append(f"  callback         : {push_rate:8.0f} pushes/s,   p99 {push_p99:6.1f} ms   (target p99 < 50 ms)")
    lines.append(f"  ratio            : {push_rate / bare_rate:8.2f}   (target ≥ 0.2)")
    lines.append(f"  against straightforward : {push_rate / plain_rate:5.2f}×")
    lines.append(f"  against one durable write : {push_rate / write_rate:5.2f}")
    lines.append(
        f"  receipts stored {stored:,}, recipients delivered {delivered:,} over both runs (each committed before its 200)"
    )
    publish("bench_callback", lines, quick=args.quick)


if __name__ == "__main__":
    main()
