"""Claiming, taking and settling a batch in one PostgreSQL statement each.

The ORM path (``sending``) takes five queries to claim a batch (the campaign's status
and cursor under a lock, the next pending rows, the cursor moved, the batch row, the rows
linked to it) and four to settle it (the batch, its rows, the campaign's counts, early
receipts); each ORM query costs more to build than PostgreSQL takes to run it. On
PostgreSQL the claim is one prepared statement and the settlement another, with the same
rules: a claim links its numbers to the batch (pending, with their batch: in flight), a
settlement marks them submitted with the task id, one UPDATE of the rows each (a
personalised campaign's batch settles by its own statement, which finds its numbers on
the index of its text's numbers; its claim stays on the ORM path). A batch
claimed ahead waits as queued until a worker takes it just before its call: one UPDATE
of the batch's row, which the ORM cost the worker more to build (1.4 ms a batch) than
PostgreSQL took to run it (0.7 ms).

After a settlement, a separate statement looks for receipts of its task that came
before it (``has_early_receipts``): its snapshot is taken once the settlement holds the
batch's lock, so it sees every receipt that waited for it (see
``receiving.receipts._recipient_for_update``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

from ..db.prepared import Statement, tables
from ..db.routing import connection_for
from ..models import (
    Batch,
    BatchState,
    Campaign,
    CampaignStatus,
    Receipt,
    Recipient,
    RecipientStatus,
    count_slot,
    upsert_counts,
)


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


def claim_range(
    campaign_id: int, size: int, worker: str, now: dt.datetime, state: str = BatchState.CLAIMED
) -> tuple[str | None, Claimed | None]:
    """Claim the campaign's next pending numbers after its cursor, while it is sending.

    Returns the campaign's status (None when it is gone) and the claim: the new batch
    (in ``state``, by ``worker``: claimed, or queued until its call) and its phones, the
    cursor moved past them and the numbers linked to the batch, all in the one statement;
    none when the campaign is not sending or no number is left after the cursor. Outside
    a transaction, it commits on its own.
    """
    params = {"campaign_id": campaign_id, "size": size, "worker": worker, "now": now, "state": state}
    with connection_for(Batch).cursor() as cursor:
        CLAIM.execute(cursor, params)
        found = cursor.fetchone()
    if found is None:
        return None, None
    status, batch_id, first_id, last_id, phones = found
    return status, None if batch_id is None else Claimed(batch_id, first_id, last_id, phones.split(","))


def has_early_receipts(task_id: str) -> bool:
    """Whether receipts for ``task_id`` came before it was committed (so are unmatched)."""
    with connection_for(Batch).cursor() as cursor:
        EARLY.execute(cursor, {"task_id": task_id})
        return bool(cursor.fetchone()[0])


def take_queued(batch_id: int, worker: str, now: dt.datetime) -> bool:
    """Claim a batch that waited as queued for ``worker``, while its campaign is sending;
    False when another worker took it first or the campaign stopped sending."""
    with connection_for(Batch).cursor() as cursor:
        TAKE.execute(cursor, {"batch_id": batch_id, "worker": worker, "now": now})
        return cursor.rowcount == 1


def settle_submitted(settlement: Settlement, *, by_text: bool = False) -> bool:
    """A claimed batch accepted by the provider: the batch, its numbers (submitted, with
    the task id) and the campaign's counts. ``by_text`` for a personalised campaign's
    batch, whose numbers are found on the index of its text's numbers.

    False when the batch was no longer claimed (settled meanwhile).
    """
    with connection_for(Batch).cursor() as cursor:
        (SETTLE_TEXT if by_text else SETTLE).execute(cursor, settlement.params())
        return cursor.fetchone() is not None


def _claim_statement() -> str:
    campaigns, recipients, batches = tables(Campaign, Recipient, Batch)
    # Only the models' table names and the app's own status values are formatted in. The
    # cursor bounds the (campaign, id) index twice over (see ``db.cursors``): "id > cursor"
    # starts the scan there, and the row comparison, which no other index can take, keeps
    # the planner off the primary key (walked from the cursor, a new campaign's first claim
    # passed over every older campaign's rows: 38 ms for 200,000 of them, against 0.5 ms).
    return f"""
        WITH campaign AS (
            SELECT id, status, claimed_through FROM {campaigns} WHERE id = %(campaign_id)s FOR UPDATE
        ),
        picked AS (
            SELECT r.id, r.phone FROM {recipients} AS r
            WHERE r.campaign_id = %(campaign_id)s AND r.status = '{RecipientStatus.PENDING}'
              AND r.id > (SELECT claimed_through FROM campaign)
              AND (r.campaign_id, r.id) > (%(campaign_id)s, (SELECT claimed_through FROM campaign))
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
            SELECT %(campaign_id)s, %(state)s, size, '', '', %(worker)s, %(now)s, first_id, last_id
            FROM taken WHERE size > 0
            RETURNING id
        ),
        linked AS (
            UPDATE {recipients} AS r SET batch_id = created.id
            FROM taken, created
            WHERE r.campaign_id = %(campaign_id)s AND r.id BETWEEN taken.first_id AND taken.last_id
              AND r.status = '{RecipientStatus.PENDING}' AND r.batch_id IS NULL
        )
        SELECT campaign.status, (SELECT id FROM created), taken.first_id, taken.last_id, taken.phones
        FROM campaign, taken
    """  # noqa: S608


def _settle_statement(by_text: bool = False) -> str:
    batches, recipients = tables(Batch, Recipient)
    # A text's numbers are spread over the campaign's ids: its index finds them, not the range.
    same_text = "AND r.text_id = settled.text_id" if by_text else ""
    moved = "(SELECT count(*) FROM moved)"
    counted = upsert_counts(["pending", "submitted"]).format(
        values=f"SELECT settled.campaign_id, {count_slot()}, -{moved}, {moved} FROM settled"  # noqa: S608
    )
    return f"""
        WITH settled AS (
            UPDATE {batches}
            SET state = '{BatchState.SUBMITTED}', task_id = %(task_id)s, success_count = %(success_count)s,
                remain_point = %(remain_point)s, message = %(message)s, sent_at = %(now)s
            WHERE id = %(batch_id)s AND state = '{BatchState.CLAIMED}'
            RETURNING id, campaign_id, first_id, last_id, text_id
        ),
        moved AS (
            UPDATE {recipients} AS r SET status = '{RecipientStatus.SUBMITTED}', task_id = %(task_id)s
            FROM settled
            WHERE r.campaign_id = settled.campaign_id {same_text}
              AND r.id BETWEEN coalesce(settled.first_id, 0) AND coalesce(settled.last_id, {2**63 - 1})
              AND r.batch_id = settled.id AND r.status = '{RecipientStatus.PENDING}'
            RETURNING r.id
        )
        {counted}
        RETURNING campaign_id
    """  # noqa: S608


def _take_statement() -> str:
    batches, campaigns = tables(Batch, Campaign)
    # The state is a condition on the batch row itself, which PostgreSQL checks again once
    # another worker's lock on it is gone (a join's would not be): one taker.
    return f"""
        UPDATE {batches} AS b SET state = '{BatchState.CLAIMED}', claimed_by = %(worker)s, claimed_at = %(now)s
        WHERE b.id = %(batch_id)s AND b.state = '{BatchState.QUEUED}'
          AND EXISTS (
              SELECT 1 FROM {campaigns} AS c WHERE c.id = b.campaign_id AND c.status = '{CampaignStatus.SENDING}'
          )
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
        "state": "text",
    },
)
TAKE = Statement("veesing_take_batch", _take_statement, {"batch_id": "bigint", "worker": "text", "now": "timestamptz"})
EARLY = Statement("veesing_early_receipts", _early_statement, {"task_id": "text"})
SETTLEMENT_TYPES = {
    "batch_id": "bigint",
    "task_id": "text",
    "success_count": "integer",
    "remain_point": "bigint",
    "message": "text",
    "now": "timestamptz",
}
SETTLE = Statement("veesing_settle_batch", _settle_statement, SETTLEMENT_TYPES)
SETTLE_TEXT = Statement("veesing_settle_text_batch", partial(_settle_statement, by_text=True), SETTLEMENT_TYPES)
