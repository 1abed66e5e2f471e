"""Personalised campaigns: importing numbers with two values each against bare numbers, and
sending 100,000 numbers whose texts are mostly their own against one text to all, with
50 ms of simulated provider latency, one and four workers (veesing_send processes and
Celery prefork children), in the same run.

A personalised campaign costs one provider call per distinct text: 80% of these numbers
have a text of their own (80,000 calls), the other 20% share 20 texts. Sending it all
would take over an hour per configuration, so each run sends for ``--window`` seconds and
is then cancelled: its rate is the numbers settled over the time from its first claim to
its last settlement, on the full-size campaign's tables.

    python benchmarks/bench_personalised.py [--numbers 100000] [--import-numbers 1000000]
        [--window 30] [--database postgres://…/veesing_bench_personal]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import uuid

from bench_scaling import env_for
from common import ROOT, peak_rss_mib, publish, setup_django, start_simulator

TEXT = "【基准】您的订单已发货"
PERSONAL = "【基准】{姓名}您好，您的积分{积分}将于月底清零"
SHARED_NAMES = 20
BATCH_SIZE = 1000
LATENCY = 0.05


def values(i: int) -> dict[str, str]:
    """Every fifth number shares one of 20 names (and so a text); the others have their own."""
    if i % 5 == 0:
        return {"姓名": f"会员{i % (SHARED_NAMES * 5) // 5}", "积分": "100"}
    return {"姓名": f"客户{i}", "积分": str(i % 9000)}


def csv_of(numbers: int, start: int, personalised: bool) -> bytes:
    if not personalised:
        return "\n".join(str(start + i) for i in range(numbers)).encode()
    rows = ["手机号,姓名,积分"]
    rows += [f"{start + i},{v['姓名']},{v['积分']}" for i, v in ((i, values(i)) for i in range(numbers))]
    return "\n".join(rows).encode()


# -- the import, in a process of its own (for its own peak memory) ------------------------------


def import_once(numbers: int, personalised: bool) -> dict[str, float]:
    from django_veesing.imports.readers import read_file
    from django_veesing.models import Campaign

    data = csv_of(numbers, 13000000000, personalised)
    campaign = Campaign.objects.create(name="import", content=PERSONAL if personalised else TEXT, kind="notification")
    before = peak_rss_mib()
    started = time.perf_counter()
    result = campaign.add_recipients(read_file("list.csv", data))
    seconds = time.perf_counter() - started
    assert result.added == numbers, result
    return {"seconds": seconds, "rss_before": before, "rss_after": peak_rss_mib()}


def measure_import(numbers: int, personalised: bool, database: str) -> dict[str, float]:
    database += "_import"  # a database of its own: each run starts from an empty one
    command = [sys.executable, __file__, "--import-only", "--import-numbers", str(numbers), "--database", database]
    if personalised:
        command.append("--personalised")
    output = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT / "benchmarks").stdout
    return json.loads(output.strip().splitlines()[-1])


# -- sending --------------------------------------------------------------------------------


def campaign_of(numbers: int, start: int, personalised: bool):
    from django_veesing.models import Campaign

    campaign = Campaign.objects.create(
        name=f"personal {start}", content=PERSONAL if personalised else TEXT, kind="notification"
    )
    if personalised:
        campaign.add_recipients((str(start + i), values(i)) for i in range(numbers))
    else:
        campaign.add_recipients(str(start + i) for i in range(numbers))
    campaign.schedule()
    return campaign


def rate(campaign) -> tuple[float, int, float, float]:
    """(numbers settled a second, calls settled, a call's median time claim to settlement,
    seconds from the first claim to the last settlement)."""
    import statistics

    from django.db.models import Max, Min, Sum

    from django_veesing.models import Batch, BatchState

    settled = Batch.objects.filter(campaign=campaign, state=BatchState.SUBMITTED)
    span = settled.aggregate(first=Min("claimed_at"), last=Max("sent_at"), numbers=Sum("size"))
    seconds = (span["last"] - span["first"]).total_seconds()
    each = [(sent - claimed).total_seconds() for claimed, sent in settled.values_list("claimed_at", "sent_at")]
    return span["numbers"] / seconds, len(each), statistics.median(each), seconds


def shared_calls(numbers: int) -> int:
    per_text = numbers // 5 // SHARED_NAMES
    return SHARED_NAMES * -(-per_text // BATCH_SIZE)


def until_done_or(campaign, window: float) -> None:
    """Wait until the campaign is sent, or cancel it after ``window`` seconds of sending."""
    from django_veesing.models import Batch, Campaign

    while not Batch.objects.filter(campaign=campaign).exists():
        time.sleep(0.05)
    deadline = time.monotonic() + window
    while Campaign.objects.get(pk=campaign.pk).status == "sending":
        if time.monotonic() > deadline:
            Campaign.objects.get(pk=campaign.pk).cancel()
            break
        time.sleep(0.1)


def with_processes(campaign, workers: int, env: dict[str, str], window: float) -> tuple[float, int, float, float]:
    command = [sys.executable, "-m", "django", "veesing_send", "--campaign", str(campaign.pk)]
    procs = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL) for _ in range(workers)]
    until_done_or(campaign, window)
    assert all(p.wait(120) == 0 for p in procs)
    return rate(campaign)


def with_celery(campaign, workers: int, env: dict[str, str], window: float) -> tuple[float, int, float, float]:
    from tests.celery_app import app, start_worker

    worker = start_worker(env, workers, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(workers):
            app.send_task("django_veesing.send_campaign", args=[campaign.pk], queue=env["CELERY_QUEUE"])
        until_done_or(campaign, window)
        time.sleep(1)  # the batches in flight settle
    finally:
        worker.terminate()
        worker.wait(30)
    return rate(campaign)


def main() -> None:
    parser = argparse.ArgumentParser(description="personalised campaigns: import and send")
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--import-numbers", type=int, default=1_000_000)
    parser.add_argument("--window", type=float, default=30.0, help="seconds each personalised run sends")
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/veesing_bench_personal")
    parser.add_argument("--quick", action="store_true", help="10,000 numbers, 5 s windows (CI smoke run)")
    parser.add_argument("--import-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--personalised", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.import_only:
        setup_django(args.database)
        print(json.dumps(import_once(args.import_numbers, args.personalised)))
        return
    numbers = 10_000 if args.quick else args.numbers
    imported = 50_000 if args.quick else args.import_numbers
    window = 5.0 if args.quick else args.window

    bare = measure_import(imported, False, args.database)
    fields = measure_import(imported, True, args.database)
    setup_django(args.database)

    simulator, url = start_simulator(latency=LATENCY)
    env = env_for(url, BATCH_SIZE, queue=f"veesing-bench-{uuid.uuid4().hex[:8]}")
    runs: dict[str, dict[str, tuple[float, int, float, float]]] = {"plain": {}, "personalised": {}}
    start = 13000000000
    for kind in ("plain", "personalised"):
        for label, send, workers in (
            ("veesing_send, 1 process", with_processes, 1),
            ("veesing_send, 4 processes", with_processes, 4),
            ("Celery, 1 prefork child", with_celery, 1),
            ("Celery, 4 prefork children", with_celery, 4),
        ):
            start += 100_000_000
            campaign = campaign_of(numbers, start, kind == "personalised")
            try:
                runs[kind][label] = send(campaign, workers, env, window)
            except (OSError, AssertionError, RuntimeError) as error:
                print(f"  ({label} skipped: {error})")
    simulator.terminate()

    lines = [f"import of {imported:,} numbers from a CSV file, bare against with two values each (姓名, 积分)"]
    for label, run in (("bare numbers", bare), ("with two values", fields)):
        lines.append(
            f"  {label:16}: {run['seconds']:7.1f} s, peak RSS {run['rss_before']:.0f} → {run['rss_after']:.0f} MiB"
        )
    lines.append(f"  ratio           : {fields['seconds'] / bare['seconds']:7.2f} × bare   (target ≤ 1.5)")
    lines.append("")
    calls = shared_calls(numbers) + numbers * 4 // 5  # the shared texts' calls, then one a number
    lines.append(
        f"sending {numbers:,} numbers, {LATENCY * 1000:.0f} ms provider latency, batches of up to {BATCH_SIZE}; "
        f"personalised: 80% texts of their own, 20% sharing {SHARED_NAMES} texts: {calls:,} calls"
    )
    lines.append(
        f"  (personalised runs sent for {window:.0f} s each; the whole campaign's time is its calls at the rate measured)"
    )
    for label in runs["plain"]:
        plain, personal = runs["plain"][label], runs["personalised"].get(label)
        if personal is None:
            continue
        per_second = personal[1] / personal[3]
        whole = calls / per_second
        lines.append(
            f"  {label:27}: plain {plain[0]:7,.0f} numbers/s; personalised {per_second:5.1f} calls/s "
            f"→ {numbers / whole:5.0f} numbers/s, all of it in {whole / 60:4.0f} min: {numbers / whole / plain[0]:.3f} × plain"
        )
    for kind, unit in (("personalised", 1), ("plain", 0)):
        for one, four in (
            ("veesing_send, 1 process", "veesing_send, 4 processes"),
            ("Celery, 1 prefork child", "Celery, 4 prefork children"),
        ):
            a, b = runs[kind].get(one), runs[kind].get(four)
            if a and b:
                ratio = (b[1] / b[3]) / (a[1] / a[3]) if unit else b[0] / a[0]
                lines.append(f"  {kind}, {four.split(',')[0]} 4 : 1 : {ratio:.2f}")
    one = runs["personalised"].get("veesing_send, 1 process")
    if one:
        lines.append(
            f"  one worker's time a call, claim to settlement: {one[2]:.3f} s (the admin's estimate until a site has its own)"
        )
    publish("bench_personalised", lines, quick=args.quick)


if __name__ == "__main__":
    main()
