"""The admin's lists with a million recipients: time and queries per page, beside the same
pages with a thousand recipients (the baseline), in the same run.

    python benchmarks/bench_admin.py [--recipients 1000000] [--database postgres://…/veesing_bench_admin]
"""

from __future__ import annotations

import argparse
import logging
import time

from common import publish, setup_django

PAGES = [
    ("campaign list", "admin:django_veesing_campaign_changelist", ""),
    ("recipient list", "admin:django_veesing_recipient_changelist", ""),
    (
        "recipients of a campaign, failed",
        "admin:django_veesing_recipient_changelist",
        "?campaign__id__exact={c}&status__exact=failed",
    ),
    ("recipient search by phone", "admin:django_veesing_recipient_changelist", "?q=13000012345"),
    ("campaign page", "admin:django_veesing_campaign_change", "{c}"),
    ("campaign's delete page", "admin:django_veesing_campaign_delete", "{c}"),
]

#: The pages of a campaign not yet sent: what sending it would do.
DRAFT_PAGES = [
    ("draft's campaign page", "admin:django_veesing_campaign_change", "{c}"),
    ("draft's confirmation page", "admin:django_veesing_campaign_send", "{c}"),
]

BATCH = 1000
OPTED_OUT = 200  # a draft's one number in 200 opted out


def fill(campaign, count: int) -> None:
    """A sent campaign: every number went out in a submitted batch of ``BATCH``, one in
    fifty failed, the rest delivered, each with its receipt (stored over two hours), and
    the campaign's counts, receipts a second and failed numbers by reason say so (as
    sending and receipts keep them)."""
    from django.db import connection

    from django_veesing.models import Batch, Campaign, move_counts

    batches = Batch.objects.bulk_create(
        Batch(campaign=campaign, state="submitted", size=min(BATCH, count - start), task_id=f"T{start:031d}")
        for start in range(0, count, BATCH)
    )
    failed = 0
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(
            "COPY django_veesing_recipient (campaign_id, phone, status, batch_id, task_id, receipt_code, error)"
            " FROM STDIN"
        ) as copy,
    ):
        for i in range(count):
            status = "failed" if i % 50 == 0 else "delivered"
            failed += status == "failed"
            batch = batches[i // BATCH]
            code = "UNDELIV" if status == "failed" else "DELIVRD"
            copy.write_row((campaign.pk, str(13000000000 + i), status, batch.pk, batch.task_id, code, ""))
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO django_veesing_receipt
                (fingerprint, task_id, phone, delivered, code, received_at, recipient_id, raw, created_at)
            SELECT 'bench-' || r.id, r.task_id, r.phone, r.status = 'delivered',
                   CASE WHEN r.status = 'delivered' THEN 'DELIVRD' ELSE 'UNDELIV' END,
                   at, r.id, '{}', at
            FROM django_veesing_recipient AS r,
                 LATERAL (SELECT now() + (r.id - %(first)s) * %(step)s * interval '1 second' AS at) AS stored
            WHERE r.campaign_id = %(campaign)s
            """,
            {"campaign": campaign.pk, "first": first_id(campaign), "step": 7200 / count},
        )
        cursor.execute(
            """
            INSERT INTO django_veesing_receiptarrivals (campaign_id, second, slot, receipts)
            SELECT %s, date_trunc('second', created_at), 0, count(*)
            FROM django_veesing_receipt WHERE fingerprint LIKE 'bench-%%' AND recipient_id IN (
                SELECT id FROM django_veesing_recipient WHERE campaign_id = %s
            )
            GROUP BY 2
            """,
            [campaign.pk, campaign.pk],
        )
        cursor.execute(
            """
            INSERT INTO django_veesing_failurecount (campaign_id, slot, code, error, numbers)
            SELECT %s, 0, receipt_code, '', count(*) FROM django_veesing_recipient
            WHERE campaign_id = %s AND status = 'failed' GROUP BY receipt_code
            """,
            [campaign.pk, campaign.pk],
        )
    vacuumed("django_veesing_recipient", "django_veesing_receipt")
    move_counts(campaign.pk, total=count, failed=failed, delivered=count - failed)
    Campaign.objects.filter(pk=campaign.pk).update(status="sent")


def vacuumed(*tables: str) -> None:
    """Vacuum and analyze ``tables``, as autovacuum does some time after rows come: its run
    over a million new rows would otherwise share the two cores with the pages timed."""
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def first_id(campaign) -> int:
    from django_veesing.models import Recipient

    return Recipient.objects.filter(campaign=campaign).order_by("id").values_list("id", flat=True).first()


def a_draft(count: int):
    """A marketing campaign not yet sent: ``count`` numbers waiting, one in ``OPTED_OUT``
    of them opted out, among 5,000 opt-outs of other numbers."""
    from django.db import connection

    from django_veesing.models import Campaign, OptOut, move_counts

    campaign = Campaign.objects.create(name="draft", content="【基准】x，回T退订", kind="marketing")
    with (
        connection.cursor() as cursor,
        cursor.connection.cursor().copy(
            "COPY django_veesing_recipient (campaign_id, phone, status, task_id, receipt_code, error) FROM STDIN"
        ) as copy,
    ):
        for i in range(count):
            copy.write_row((campaign.pk, str(14000000000 + i), "pending", "", "", ""))
    theirs = [OptOut(phone=str(14000000000 + i)) for i in range(0, count, OPTED_OUT)]
    others = [OptOut(phone=str(15000000000 + i)) for i in range(5000)]
    OptOut.objects.bulk_create(theirs + others, ignore_conflicts=True)
    vacuumed("django_veesing_recipient", "django_veesing_optout")
    move_counts(campaign.pk, total=count, pending=count)
    return campaign


def a_personal_draft(count: int):
    """A personalised marketing campaign not yet sent, imported as bench_personalised's
    (80% of its numbers with a text of their own), one in ``OPTED_OUT`` opted out."""
    from bench_personalised import PERSONAL, csv_of

    from django_veesing.imports.readers import read_file
    from django_veesing.models import Campaign, OptOut

    campaign = Campaign.objects.create(name="personal", content=PERSONAL + "，回T退订", kind="marketing")
    result = campaign.add_recipients(read_file("list.csv", csv_of(count, 13900000000, True)))
    assert result.added == count, result.invalid[:3]
    theirs = [OptOut(phone=str(13900000000 + i)) for i in range(0, count, OPTED_OUT)]
    OptOut.objects.bulk_create(theirs, ignore_conflicts=True)
    vacuumed("django_veesing_recipient", "django_veesing_campaigntext", "django_veesing_optout")
    return campaign


def a_batch_a_number(count: int):
    """A campaign sent a batch a number, as a personalised one whose texts all differ is
    (its numbers themselves are not needed by its page)."""
    from django.db import connection

    from django_veesing.models import Campaign

    campaign = Campaign.objects.create(name="texts", content="【基准】{姓名}", status="sent")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_veesing_batch (campaign_id, state, size, task_id, message, claimed_by, claimed_at)"
            " SELECT %s, 'submitted', 1, 'T' || n, '', 'bench', now() FROM generate_series(1, %s) AS n",
            [campaign.pk, count],
        )
    vacuumed("django_veesing_batch")
    return campaign


def many_campaigns(count: int) -> None:
    """``count`` more campaigns, their counts spread over four slots each (as receipts
    taken by several connections leave them)."""
    from django_veesing.models import Campaign, CampaignCount

    made = Campaign.objects.bulk_create(
        Campaign(name=f"campaign {n}", content="【基准】x", status="sent") for n in range(count)
    )
    CampaignCount.objects.bulk_create(
        CampaignCount(campaign=campaign, slot=slot, total=250 * (slot == 0), pending=0, delivered=60, failed=2)
        for campaign in made
        for slot in range(4)
    )
    vacuumed("django_veesing_campaign", "django_veesing_campaigncount")


def measure(client, campaign_id: int, repeats: int = 5, pages=PAGES) -> list[tuple[str, float, int]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    rows = []
    for label, name, suffix in pages:
        url = reverse(name, args=[campaign_id]) if suffix == "{c}" else reverse(name) + suffix.format(c=campaign_id)
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            for _ in range(repeats):
                assert client.get(url).status_code == 200
            seconds = (time.perf_counter() - started) / repeats
        rows.append((label, seconds * 1000, len(queries) // repeats))
    return rows


def first_view(client, campaign_id: int, page: str = "admin:django_veesing_campaign_change") -> float:
    """Milliseconds of a campaign's page with nothing cached (a personalised draft's texts
    added up)."""
    from django.core.cache import cache
    from django.urls import reverse

    cache.clear()
    started = time.perf_counter()
    assert client.get(reverse(page, args=[campaign_id])).status_code == 200
    return (time.perf_counter() - started) * 1000


def after_an_opt_out(client, campaign_id: int, page: str, phone: str) -> float:
    """Milliseconds of a page of a personalised draft right after one of its numbers
    opted out (its texts' totals kept, less the opted out, found again)."""
    from django.urls import reverse

    from django_veesing.models import OptOut

    OptOut.objects.create(phone=phone)
    started = time.perf_counter()
    assert client.get(reverse(page, args=[campaign_id])).status_code == 200
    return (time.perf_counter() - started) * 1000


def deleted(client, campaign_id: int) -> tuple[float, int]:
    """Milliseconds and queries to delete the campaign from its delete page (once)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from django_veesing.models import Recipient

    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        answer = client.post(reverse("admin:django_veesing_campaign_delete", args=[campaign_id]), {"post": "yes"})
    took = (time.perf_counter() - started) * 1000
    assert answer.status_code == 302 and not Recipient.objects.filter(campaign_id=campaign_id).exists()
    return took, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description="admin lists with many recipients")
    parser.add_argument("--recipients", type=int, default=1_000_000)
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/veesing_bench_admin")
    parser.add_argument("--quick", action="store_true", help="100,000 recipients (CI smoke run)")
    args = parser.parse_args()
    count = 100_000 if args.quick else args.recipients
    setup_django(args.database)

    from django.conf import settings
    from django.contrib.auth.models import User
    from django.test import Client

    from django_veesing.models import Campaign

    logging.getLogger("django_veesing").setLevel(logging.ERROR)  # the unreachable balance, once a page
    settings.ALLOWED_HOSTS = ["*"]
    settings.VEESING = {**settings.VEESING, "API_URL": "http://127.0.0.1:9"}  # balance: unreachable, fast
    client = Client()
    client.force_login(User.objects.create_superuser("bench", password=None))
    small = Campaign.objects.create(name="small", content="【基准】x")
    fill(small, 1000)
    baseline = measure(client, small.pk)
    small_first = first_view(client, small.pk)
    big = Campaign.objects.create(name="big", content="【基准】x")
    fill(big, count)
    large = measure(client, big.pk)
    large_first = first_view(client, big.pk)
    drafts = [measure(client, a_draft(size).pk, pages=DRAFT_PAGES) for size in (1000, count)]
    personal = [a_personal_draft(size).pk for size in (1000, count)]
    personal_first = [[first_view(client, pk, page) for _l, page, _s in DRAFT_PAGES] for pk in personal]
    personal_kept = [measure(client, pk, pages=DRAFT_PAGES) for pk in personal]
    phones = iter(str(13900000001 + n) for n in range(10))  # numbers of both drafts, not opted out yet
    personal_opted = [
        [after_an_opt_out(client, pk, page, next(phones)) for _l, page, _s in DRAFT_PAGES] for pk in personal
    ]
    texts = a_batch_a_number(count)
    by_text = measure(client, texts.pk, pages=[PAGES[4]])[0]
    many_campaigns(997)
    listed = measure(client, big.pk, pages=PAGES[:1])[0]
    lines = []
    lines.append(f"admin pages, {count:,} recipients against 1,000 (the baseline), one client, PostgreSQL")
    lines.append(f"  {'page':36} {'1,000':>10} {f'{count:,}':>12} {'queries':>9}")
    for (label, base_ms, base_q), (_l, ms, q) in zip(baseline, large, strict=True):
        lines.append(f"  {label:36} {base_ms:8.1f} ms {ms:9.1f} ms {base_q:4d} → {q}")
    for (label, base_ms, base_q), (_l, ms, q) in zip(*drafts, strict=True):
        lines.append(
            f"  {label:36} {base_ms:8.1f} ms {ms:9.1f} ms {base_q:4d} → {q}   (marketing, one in {OPTED_OUT} opted out)"
        )
    for i, (label, _name, _suffix) in enumerate(DRAFT_PAGES):
        label = label.replace("draft's", "personalised draft,").replace(" page", "")
        (_l, base_ms, base_q), (_l, ms, q) = personal_kept[0][i], personal_kept[1][i]
        lines.append(f"  {label:36} {base_ms:8.1f} ms {ms:9.1f} ms {base_q:4d} → {q}   (texts kept in the cache)")
        lines.append(
            f"  {'  the same, first view':36} {personal_first[0][i]:8.1f} ms {personal_first[1][i]:9.1f} ms"
            "            (texts added up)"
        )
        lines.append(
            f"  {'  the same, after an opt-out':36} {personal_opted[0][i]:8.1f} ms {personal_opted[1][i]:9.1f} ms"
            "            (kept texts, less the opted out)"
        )
    lines.append(
        f"  {'campaign page, first view':36} {small_first:8.1f} ms {large_first:9.1f} ms"
        "            (nothing in the cache; failure reasons and timeline from their counts)"
    )
    lines.append(
        f"  {'campaign page, a batch a number':36} {baseline[4][1]:8.1f} ms {by_text[1]:9.1f} ms"
        f" {baseline[4][2]:4d} → {by_text[2]}   ({count:,} batches: a personalised campaign's most)"
    )
    lines.append(
        f"  {'campaign list, 1,000 campaigns':36} {baseline[0][1]:8.1f} ms {listed[1]:9.1f} ms"
        f" {baseline[0][2]:4d} → {listed[2]}   (100 rows a page against 2; counts in 4 slots each)"
    )
    small_gone, big_gone = deleted(client, small.pk), deleted(client, big.pk)
    lines.append(
        f"  {'campaign deleted (confirmed)':36} {small_gone[0]:8.1f} ms {big_gone[0]:9.1f} ms"
        f" {small_gone[1]:4d} → {big_gone[1]}   (once; numbers, batches, texts a statement each)"
    )
    publish("bench_admin", lines, quick=args.quick)


if __name__ == "__main__":
    main()
