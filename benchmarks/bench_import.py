"""Import: a campaign's numbers in mixed formats through add_recipients, against COPY of
the same rows already normalised (PostgreSQL), in the same run.

    python benchmarks/bench_import.py [--numbers 1000000] [--database postgres://…/veesing_bench | sqlite]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator

from common import peak_rss_mib, publish, setup_django

PREFIXES = ["138", "139", "150", "186", "177", "199"]


def entries(count: int, seed: int = 7) -> Iterator[str]:
    """Numbers as people paste them: +86, 0086, spaces, dashes; 5% invalid, 5% repeated."""
    rng = random.Random(seed)
    recent: list[str] = []
    for i in range(count):
        roll = rng.random()
        if roll < 0.05:
            yield f"12{i:09d}"  # not a mobile block
            continue
        if roll < 0.10 and recent:
            yield rng.choice(recent)
            continue
        number = rng.choice(PREFIXES) + f"{i:08d}"
        recent = ([*recent, number])[-100:]
        style = rng.randrange(4)
        yield [
            number,
            "+86 " + number,
            f"0086-{number[:3]}-{number[3:7]}-{number[7:]}",
            f"{number[:3]} {number[3:7]} {number[7:]}",
        ][style]


def main() -> None:
    parser = argparse.ArgumentParser(description="import against COPY")
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/veesing_bench")
    parser.add_argument("--quick", action="store_true", help="50,000 numbers (CI smoke run)")
    args = parser.parse_args()
    count = 50_000 if args.quick else args.numbers
    setup_django(args.database)

    from django.db import connection

    from django_veesing.models import Campaign
    from django_veesing.rules.phones import InvalidPhone, normalise

    baseline = None
    if connection.vendor == "postgresql":
        rows = []
        seen = set()
        for entry in entries(count):
            try:
                number = normalise(entry)
            except InvalidPhone:
                continue
            if number not in seen:
                seen.add(number)
                rows.append(number)
        scratch = Campaign.objects.create(name="copy baseline", content="【基准】x")
        block = "".join(f"{scratch.pk}\t{number}\tpending\t\t\t\n" for number in rows)
        started = time.perf_counter()  # the baseline: COPY alone, from text prepared beforehand
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(
                "COPY django_veesing_recipient (campaign_id, phone, status, task_id, receipt_code, error) FROM STDIN"
            ) as copy,
        ):
            copy.write(block)
        baseline = time.perf_counter() - started
        del rows, seen, block

    campaign = Campaign.objects.create(name="import", content="【基准】x")
    rss_before = peak_rss_mib()
    started = time.perf_counter()
    result = campaign.add_recipients(entries(count))
    seconds = time.perf_counter() - started
    lines = []
    lines.append(f"import of {count:,} entries in mixed formats, {connection.vendor}")
    lines.append(f"  added {result.added:,}, duplicates {result.duplicates:,}, invalid {result.invalid_count:,}")
    if baseline is not None:
        lines.append(f"  COPY of the normalised rows : {baseline:7.1f} s")
    lines.append(f"  add_recipients              : {seconds:7.1f} s ({count / seconds:,.0f} entries/s)")
    if baseline is not None:
        lines.append(f"  ratio                       : {seconds / baseline:7.1f} × COPY   (target ≤ 3)")
    lines.append(
        f"  peak RSS                    : {rss_before:.0f} MiB before, {peak_rss_mib():.0f} MiB after (target < 300)"
    )
    publish("bench_import" if connection.vendor == "postgresql" else "bench_import_sqlite", lines, quick=args.quick)


if __name__ == "__main__":
    main()
