"""Claiming and settling a batch in one PostgreSQL statement each.

The ORM path (``sending``) takes four queries to claim a batch (the campaign's status
and cursor under a lock, the next pending rows, the cursor moved, the batch row) and
three to settle it (the batch, the campaign's counts, early receipts); each ORM query
costs more to build than PostgreSQL takes to run it. On PostgreSQL the claim is one
prepared statement, the settlement another, and the look for early receipts a third,
with the same rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection

from .models import Batch, BatchState, Campaign, CampaignStatus, Receipt, Recipient, RecipientStatus
from .prepared import Statement


@dataclass(frozen=True)
class Claimed:
    batch_id: int
    first_id: int
    last_id: int
    phones: list[str]


def claim_range(campaign_id: int, size: int, worker: str, now: dt.datetime) -> tuple[str | None, Claimed | None]:
    """Claim the campaign's next pending numbers after its cursor, while it is sending.

    Returns the campaign's status and the claim: the new batch (claimed by ``worker``)
    and its phones, the cursor moved past them, all in the one statement; no claim when
    the campaign is not sending or no number is left after the cursor. Call inside a
    transaction.
    """
    params = {"campaign_id": campaign_id, "size": size, "worker": worker, "now": now}
    with connection.cursor() as cursor:
        CLAIM.execute(cursor, params)
        found = cursor.fetchone()
    if found is None:
        return None, None
    status, batch_id, first_id, last_id, phones = found
    if batch_id is None:
        return status, None
    return status, Claimed(batch_id, first_id, last_id, phones.split(","))


def has_early_receipts(task_id: str) -> bool:
    """Whether receipts for ``task_id`` came before it was committed (so are unmatched)."""
    with connection.cursor() as cursor:
        EARLY.execute(cursor, {"task_id": task_id})
        return bool(cursor.fetchone()[0])


def settle_submitted(
    batch_id: int, task_id: str, success_count: int, remain_point: int | None, message: str, now: dt.datetime
) -> bool:
    """A claimed range batch accepted by the provider: the batch and the campaign's counts.

    False when the batch was no longer claimed (settled meanwhile). The batch stands for
    its rows, so none is written (see ``states``).
    """
    params: dict[str, Any] = {
        "batch_id": batch_id,
        "task_id": task_id,
        "success_count": success_count,
        "remain_point": remain_point,
        "message": message,
        "now": now,
    }
    with connection.cursor() as cursor:
        SETTLE.execute(cursor, params)
        return cursor.fetchone() is not None


def _tables() -> tuple[str, str, str]:
    quote = connection.ops.quote_name
    return quote(Campaign._meta.db_table), quote(Recipient._meta.db_table), quote(Batch._meta.db_table)


def _claim_statement() -> str:
    campaigns, recipients, batches = _tables()
    # Only the models' table names and the app's own status values are formatted in. The
    # cursor is a bound on the (campaign, status, id) index: the rows come in order.
    return f"""
        WITH campaign AS (
            SELECT id, status, claimed_through FROM {campaigns} WHERE id = %(campaign_id)s FOR UPDATE
        ),
        picked AS (
            SELECT r.id, r.phone FROM {recipients} AS r
            WHERE r.campaign_id = %(campaign_id)s AND r.status = '{RecipientStatus.PENDING}'
              AND r.id > (SELECT claimed_through FROM campaign)
              AND (SELECT status FROM campaign) = '{CampaignStatus.SENDING}'
              AND r.batch_id IS NULL
            ORDER BY r.id LIMIT %(size)s
        ),
        moved AS (
            UPDATE {campaigns} SET claimed_through = (SELECT max(id) FROM picked)
            WHERE id = %(campaign_id)s AND EXISTS (SELECT 1 FROM picked)
        ),
        created AS (
            INSERT INTO {batches}
                (campaign_id, state, size, task_id, message, claimed_by, claimed_at, first_id, last_id)
            SELECT %(campaign_id)s, '{BatchState.CLAIMED}', count(*), '', '', %(worker)s, %(now)s, min(id), max(id)
            FROM picked HAVING count(*) > 0
            RETURNING id
        )
        SELECT campaign.status, (SELECT id FROM created), (SELECT min(id) FROM picked),
               (SELECT max(id) FROM picked), (SELECT string_agg(phone, ',') FROM picked)
        FROM campaign
    """  # noqa: S608


def _settle_statement() -> str:
    campaigns, _recipients, batches = _tables()
    return f"""
        WITH settled AS (
            UPDATE {batches}
            SET state = '{BatchState.SUBMITTED}', task_id = %(task_id)s, success_count = %(success_count)s,
                remain_point = %(remain_point)s, message = %(message)s, sent_at = %(now)s
            WHERE id = %(batch_id)s AND state = '{BatchState.CLAIMED}'
            RETURNING campaign_id, size
        )
        UPDATE {campaigns} AS c
        SET pending_count = c.pending_count - settled.size, submitted_count = c.submitted_count + settled.size
        FROM settled WHERE c.id = settled.campaign_id
        RETURNING c.id
    """  # noqa: S608


def _early_statement() -> str:
    receipts = connection.ops.quote_name(Receipt._meta.db_table)
    return f"SELECT EXISTS (SELECT 1 FROM {receipts} WHERE task_id = %(task_id)s AND recipient_id IS NULL)"  # noqa: S608


CLAIM = Statement(
    "veesing_claim_range",
    _claim_statement,
    {"campaign_id": "bigint", "size": "integer", "worker": "text", "now": "timestamptz"},
)
EARLY = Statement("veesing_early_receipts", _early_statement, {"task_id": "text"})
SETTLE = Statement(
    "veesing_settle_range",
    _settle_statement,
    {
        "batch_id": "bigint",
        "task_id": "text",
        "success_count": "integer",
        "remain_point": "bigint",
        "message": "text",
        "now": "timestamptz",
    },
)
