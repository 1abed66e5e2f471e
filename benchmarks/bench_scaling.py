"""Send scaling: with 100 ms of simulated provider latency, four workers against one, as
veesing_send processes and as Celery prefork workers (Redis broker), in the same run.
Throughput runs from the first claim to the last settled batch (process start-up excluded).

    python benchmarks/bench_scaling.py [--batches 200] [--database postgres://…/veesing_bench_scaling]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import uuid

from common import ROOT, publish, setup_django, start_simulator

TEXT = "【基准】您的订单已发货"


def campaign_of(numbers: int, start: int):
    from django_veesing.models import Campaign

    campaign = Campaign.objects.create(name=f"scaling {start}", content=TEXT, kind="notification")
    campaign.add_recipients(str(start + i) for i in range(numbers))
    campaign.schedule()
    return campaign


def rate(campaign) -> float:
    from django.db.models import Max, Min

    from django_veesing.models import Campaign

    campaign = Campaign.objects.get(pk=campaign.pk)
    assert campaign.status == "sent", campaign.status
    span = campaign.batches.aggregate(first=Min("claimed_at"), last=Max("sent_at"))
    return campaign.submitted_count / (span["last"] - span["first"]).total_seconds()


def env_for(url: str, batch_size: int, queue: str = "") -> dict[str, str]:
    from django.db import connection

    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "VEESING_API_URL": url,
        "VEESING_BATCH_SIZE": str(batch_size),
        "CELERY_QUEUE": queue,
        "PYTHONPATH": str(ROOT),
    }


def with_processes(campaign, workers: int, env: dict[str, str]) -> float:
    command = [sys.executable, "-m", "django", "veesing_send", "--campaign", str(campaign.pk)]
    procs = [subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL) for _ in range(workers)]
    assert all(p.wait(600) == 0 for p in procs)
    return rate(campaign)


def with_celery(campaign, workers: int, env: dict[str, str]) -> float:
    from tests.celery_app import app, start_worker

    worker = start_worker(env, workers, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(workers):
            app.send_task("django_veesing.send_campaign", args=[campaign.pk], queue=env["CELERY_QUEUE"])
        deadline = time.monotonic() + 600
        while campaign.__class__.objects.get(pk=campaign.pk).status != "sent":
            assert time.monotonic() < deadline, "the campaign did not finish"
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(30)
    return rate(campaign)


def main() -> None:
    parser = argparse.ArgumentParser(description="four workers against one, 100 ms provider latency")
    parser.add_argument("--batches", type=int, default=200, help="per run; fewer and start-up skew shows")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/veesing_bench_scaling")
    parser.add_argument("--quick", action="store_true", help="20 batches per run (CI smoke run)")
    args = parser.parse_args()
    batches = 20 if args.quick else args.batches
    numbers = batches * args.batch_size
    setup_django(args.database)
    simulator, url = start_simulator(latency=0.1)
    env = env_for(url, args.batch_size, queue=f"veesing-bench-{uuid.uuid4().hex[:8]}")
    figures = {}
    figures["veesing_send, 1 process"] = with_processes(campaign_of(numbers, 13000000000), 1, env)
    figures["veesing_send, 4 processes"] = with_processes(campaign_of(numbers, 13100000000), 4, env)
    try:
        figures["Celery, 1 prefork child"] = with_celery(campaign_of(numbers, 13200000000), 1, env)
        figures["Celery, 4 prefork children"] = with_celery(campaign_of(numbers, 13300000000), 4, env)
    except (OSError, AssertionError, RuntimeError) as error:
        print(f"  (Celery part skipped: {error})")
    simulator.terminate()
    lines = []
    lines.append(f"send scaling, {numbers:,} numbers per run in batches of {args.batch_size}, 100 ms provider latency")
    for label, value in figures.items():
        lines.append(f"  {label:28}: {value:9,.0f} numbers/s")
    lines.append(
        f"  ratio, veesing_send 4 : 1  : {figures['veesing_send, 4 processes'] / figures['veesing_send, 1 process']:9.2f}   (target ≥ 3.5)"
    )
    if "Celery, 4 prefork children" in figures:
        ratio = figures["Celery, 4 prefork children"] / figures["Celery, 1 prefork child"]
        lines.append(f"  ratio, Celery 4 : 1        : {ratio:9.2f}   (target ≥ 3.5)")
    publish("bench_scaling", lines, quick=args.quick)


if __name__ == "__main__":
    main()
