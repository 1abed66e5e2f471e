"""Claiming and settling a batch in one PostgreSQL statement each, and both in one round trip.

The ORM path (``sending``) takes five queries to claim a batch (the campaign's status
and cursor under a lock, the next pending rows, the cursor moved, the batch row, the rows
linked to it) and four to settle it (the batch, its rows, the campaign's counts, early
receipts); each ORM query costs more to build than PostgreSQL takes to run it. On
PostgreSQL the claim is one prepared statement and the settlement another, with the same
rules: a claim links its numbers to the batch (pending, with their batch: in flight), a
settlement marks them submitted with the task id, one UPDATE a batch either way.

A worker sending a notification campaign settles each batch together with its next
claim: the two statements go in one string, so one round trip and one commit a batch
(``claim_range`` with ``settling``). The claim, a later statement of that transaction,
looks for the settled batch's early receipts: its snapshot is taken after the
settlement holds the batch's lock, so it sees every receipt that waited for it (see
``callbacks._recipient_for_update``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection

from .models import Batch, BatchState, Campaign, CampaignStatus, Receipt, Recipient, RecipientStatus
from .prepared import Statement, execute_together, tables


@dataclass(frozen=True)
class Settlement:
    """A claimed range batch the provider accepted, with what it said."""

    batch_id: int
    task_id: str
    success_count: int
    remain_point: int | None
    message: str
    now: dt.datetime

    def params(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Claimed:
    batch_id: int
    first_id: int
    last_id: int
    phones: list[str]


@dataclass(frozen=True)
class ClaimOutcome:
    status: str | None  # the campaign's; None when it is gone
    claimed: Claimed | None  # None: not sending, or no number left after the cursor
    settled: bool = False  # the batch of ``settling`` is submitted now
    early_receipts: bool = False  # and receipts for its task came before it (unmatched)


def claim_range(
    campaign_id: int, size: int, worker: str, now: dt.datetime, settling: Settlement | None = None
) -> ClaimOutcome:
    """Claim the campaign's next pending numbers after its cursor, while it is sending,
    having first settled ``settling`` (if given) in the same transaction and round trip.

    The claim is the new batch (claimed by ``worker``) and its phones, the cursor moved
    past them, all in the one statement; none when the campaign is not sending or no
    number is left after the cursor. Outside a transaction, it commits on its own.
    """
    params = {
        "campaign_id": campaign_id,
        "size": size,
        "worker": worker,
        "now": now,
        "settled_batch": settling.batch_id if settling else None,
        "settled_task": settling.task_id if settling else "",
    }
    with connection.cursor() as cursor:
        if settling is None:
            CLAIM.execute(cursor, params)
        else:
            execute_together(cursor, [(SETTLE, settling.params()), (CLAIM, params)])
        found = cursor.fetchone()
    if found is None:
        return ClaimOutcome(None, None)
    status, batch_id, first_id, last_id, phones, settled, early = found
    claimed = None if batch_id is None else Claimed(batch_id, first_id, last_id, phones.split(","))
    return ClaimOutcome(status, claimed, bool(settled), bool(early))


def has_early_receipts(task_id: str) -> bool:
    """Whether receipts for ``task_id`` came before it was committed (so are unmatched)."""
    with connection.cursor() as cursor:
        EARLY.execute(cursor, {"task_id": task_id})
        return bool(cursor.fetchone()[0])


def settle_submitted(settlement: Settlement) -> bool:
    """A claimed batch accepted by the provider: the batch, its numbers (submitted, with
    the task id) and the campaign's counts.

    False when the batch was no longer claimed (settled meanwhile).
    """
    with connection.cursor() as cursor:
        SETTLE.execute(cursor, settlement.params())
        return cursor.fetchone() is not None


def _claim_statement() -> str:
    campaigns, recipients, batches, receipts = tables(Campaign, Recipient, Batch, Receipt)
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
        taken AS (
            SELECT count(*) AS size, min(id) AS first_id, max(id) AS last_id, string_agg(phone, ',') AS phones
            FROM picked
        ),
        moved AS (
            UPDATE {campaigns} SET claimed_through = taken.last_id
            FROM taken WHERE id = %(campaign_id)s AND taken.size > 0
        ),
        created AS (
            INSERT INTO {batches}
                (campaign_id, state, size, task_id, message, claimed_by, claimed_at, first_id, last_id)
            SELECT %(campaign_id)s, '{BatchState.CLAIMED}', size, '', '', %(worker)s, %(now)s, first_id, last_id
            FROM taken WHERE size > 0
            RETURNING id
        ),
        linked AS (
            UPDATE {recipients} AS r SET batch_id = created.id
            FROM picked, created WHERE r.id = picked.id
        )
        SELECT campaign.status, (SELECT id FROM created), taken.first_id, taken.last_id, taken.phones,
               (SELECT state = '{BatchState.SUBMITTED}' AND task_id = %(settled_task)s
                FROM {batches} WHERE id = %(settled_batch)s),
               %(settled_task)s <> '' AND EXISTS (
                   SELECT 1 FROM {receipts} WHERE task_id = %(settled_task)s AND recipient_id IS NULL
               )
        FROM campaign, taken
    """  # noqa: S608


def _settle_statement() -> str:
    campaigns, batches, recipients = tables(Campaign, Batch, Recipient)
    return f"""
        WITH settled AS (
            UPDATE {batches}
            SET state = '{BatchState.SUBMITTED}', task_id = %(task_id)s, success_count = %(success_count)s,
                remain_point = %(remain_point)s, message = %(message)s, sent_at = %(now)s
            WHERE id = %(batch_id)s AND state = '{BatchState.CLAIMED}'
            RETURNING id, campaign_id
        ),
        moved AS (
            UPDATE {recipients} AS r SET status = '{RecipientStatus.SUBMITTED}', task_id = %(task_id)s
            FROM settled
            WHERE r.batch_id = settled.id AND r.status = '{RecipientStatus.PENDING}'
            RETURNING r.id
        )
        UPDATE {campaigns} AS c
        SET pending_count = c.pending_count - (SELECT count(*) FROM moved),
            submitted_count = c.submitted_count + (SELECT count(*) FROM moved)
        FROM settled WHERE c.id = settled.campaign_id
        RETURNING c.id
    """  # noqa: S608


def _early_statement() -> str:
    (receipts,) = tables(Receipt)
    return f"SELECT EXISTS (SELECT 1 FROM {receipts} WHERE task_id = %(task_id)s AND recipient_id IS NULL)"  # noqa: S608


CLAIM = Statement(
    "veesing_claim_range",
    _claim_statement,
    {
        "campaign_id": "bigint",
        "size": "integer",
        "worker": "text",
        "now": "timestamptz",
        "settled_batch": "bigint",
        "settled_task": "text",
    },
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
