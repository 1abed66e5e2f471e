"""A receipt for a known task, applied in one PostgreSQL statement.

The ORM path (``receipts.take_receipt``) takes ten round trips a push: begin, find the
batch, lock the recipient, a savepoint, the insert, its release, the count of its second,
the recipient's update, the campaign's counts, commit, and one more for a failed number's
reason (``tests/test_callback.py`` counts them on both paths). On PostgreSQL a receipt
whose task id is already committed (nearly all of them) goes in one statement instead,
committed on its own: the batch found by its task id, the recipient row it sent to
locked, the receipt inserted unless its fingerprint is stored, the recipient moved unless
a newer receipt was applied, the campaign's counts moved (in this connection's
``CampaignCount`` slot), its failed numbers by reason moved (``FailureCount``) and the
receipt counted in its second (``ReceiptArrivals``), with exactly the rules of the ORM
path. A receipt whose task id is not known yet is left to the ORM path, which handles a
receipt that beats its batch's commit.

The statement is prepared once per connection (``prepared``), which halves its cost.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from .. import clock
from ..db.prepared import Statement, tables
from ..db.routing import connection_for
from ..models import (
    Batch,
    Receipt,
    Recipient,
    RecipientStatus,
    count_slot,
    upsert_arrivals,
    upsert_counts,
    upsert_failures,
)

#: The statement's parameters, with their types for ``PREPARE``.
PARAMETERS = {
    "task_id": "text",
    "phone": "text",
    "fingerprint": "text",
    "delivered": "boolean",
    "code": "text",
    "received_at": "timestamptz",
    "raw": "jsonb",
    "now": "timestamptz",
}

#: Statuses a receipt may move a recipient from (as ``receipts.SETTLEABLE``).
SETTLEABLE = (
    RecipientStatus.SUBMITTED,
    RecipientStatus.DELIVERED,
    RecipientStatus.FAILED,
    RecipientStatus.EXPIRED,
)


@dataclass(frozen=True)
class Outcome:
    recipient_id: int | None  # None: the task id and phone named no recipient, nothing done
    receipt_id: int | None  # None: stored already (a duplicate), or not matched


def apply_receipt(
    *, fingerprint: str, task_id: str, phone: str, delivered: bool, code: str, received_at: dt.datetime, raw: Any
) -> Outcome:
    params = {
        "fingerprint": fingerprint,
        "task_id": task_id,
        "phone": phone,
        "delivered": delivered,
        "code": code,
        "received_at": received_at,
        "raw": json.dumps(raw),  # the jsonb column parses it
        "now": clock.now(),
    }
    with connection_for(Receipt).cursor() as cursor:
        APPLY.execute(cursor, params)
        recipient_id, receipt_id = cursor.fetchone()
    return Outcome(recipient_id, receipt_id)


def _statement() -> str:
    recipients, receipts, batches = tables(Recipient, Receipt, Batch)
    new = f"(CASE WHEN %(delivered)s THEN '{RecipientStatus.DELIVERED}' ELSE '{RecipientStatus.FAILED}' END)"
    settleable = ", ".join(f"'{status}'" for status in SETTLEABLE)
    moves = ", ".join(f"({new} = '{status}')::int - (moved.old = '{status}')::int" for status in SETTLEABLE)
    counted = upsert_counts(SETTLEABLE).format(
        values=f"SELECT moved.campaign_id, {count_slot()}, {moves} FROM moved WHERE moved.old <> {new}"  # noqa: S608
    )
    # A failed number's reason is its receipt's code, else its error (``reason_of``): the
    # old reason out, the new one in, added up (one row a reason in the upsert).
    failed = f"'{RecipientStatus.FAILED}'"
    reasons = upsert_failures().format(
        values=f"""
            SELECT campaign_id, {count_slot()}, code, error, sum(n) FROM (
                SELECT moved.campaign_id, moved.old_code AS code,
                       CASE WHEN moved.old_code = '' THEN moved.old_error ELSE '' END AS error, -1 AS n
                FROM moved WHERE moved.old = {failed}
                UNION ALL
                SELECT moved.campaign_id, %(code)s, CASE WHEN %(code)s = '' THEN moved.old_error ELSE '' END, 1
                FROM moved WHERE {new} = {failed}
            ) AS changed
            GROUP BY campaign_id, code, error HAVING sum(n) <> 0
        """  # noqa: S608
    )
    arrived = upsert_arrivals().format(
        values=f"SELECT target.campaign_id, date_trunc('second', %(now)s), {count_slot()}, 1 "  # noqa: S608
        "FROM target WHERE EXISTS (SELECT 1 FROM stored)"
    )
    # Only the models' table and column names and the app's own statuses are formatted in;
    # every value is bound.
    # The parts of one statement share a snapshot; ``target`` locks the row first.
    return f"""
        WITH sent AS (
            SELECT id, campaign_id FROM {batches}
            WHERE task_id = %(task_id)s
            ORDER BY id LIMIT 1
        ),
        target AS (
            SELECT r.id, r.campaign_id, r.receipt_at, r.status, r.receipt_code, r.error
            FROM {recipients} AS r JOIN sent ON r.campaign_id = sent.campaign_id
            WHERE r.phone = %(phone)s AND r.batch_id = sent.id
            FOR UPDATE OF r
        ),
        stored AS (
            INSERT INTO {receipts}
                (fingerprint, task_id, phone, delivered, code, received_at, recipient_id, raw, created_at)
            SELECT %(fingerprint)s, %(task_id)s, %(phone)s, %(delivered)s, %(code)s, %(received_at)s,
                   target.id, %(raw)s, %(now)s
            FROM target
            ON CONFLICT (fingerprint) DO NOTHING
            RETURNING id
        ),
        moved AS (
            UPDATE {recipients} AS r
            SET status = {new}, receipt_code = %(code)s, receipt_at = %(received_at)s, task_id = %(task_id)s
            FROM target
            WHERE r.id = target.id
              AND EXISTS (SELECT 1 FROM stored)
              AND target.status IN ({settleable})
              AND (target.receipt_at IS NULL OR target.receipt_at < %(received_at)s)
            RETURNING target.status AS old, target.campaign_id, target.receipt_code AS old_code,
                      target.error AS old_error
        ),
        counted AS ({counted}),
        reasons AS ({reasons}),
        arrived AS ({arrived})
        SELECT (SELECT id FROM target), (SELECT id FROM stored)
    """  # noqa: S608


APPLY = Statement("veesing_apply_receipt", _statement, PARAMETERS)
