"""The recipients' table is shaped for rows rewritten in place (its fillfactor and indexes).

A claim, its settlement, a receipt and expiry each rewrite every row of a batch. An index
holding (or conditioned on) a column they change, or a constraint checked on it, costs
each of those row updates an index entry or a look-up (docs/performance.rst): none may
come back unnoticed.
"""

from __future__ import annotations

import pytest
from django.db import connection

from django_veesing.models import Recipient

pytestmark = pytest.mark.django_db

REWRITTEN = {"batch_id", "status", "task_id", "receipt_code", "receipt_at", "error"}


def constraints() -> dict[str, dict]:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, Recipient._meta.db_table)


def test_no_index_or_foreign_key_holds_a_column_sending_rewrites():
    for name, constraint in constraints().items():
        assert not REWRITTEN & set(constraint["columns"]), name


@pytest.mark.skipif(connection.vendor != "postgresql", reason="index conditions and fillfactor: PostgreSQL")
def test_no_index_condition_reads_one_and_pages_leave_room_for_new_versions():
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [Recipient._meta.db_table])
        for name, definition in cursor.fetchall():
            where = definition.partition(" WHERE ")[2]
            assert not any(column in where for column in REWRITTEN), name
        cursor.execute("SELECT reloptions FROM pg_class WHERE relname = %s", [Recipient._meta.db_table])
        assert "fillfactor=40" in cursor.fetchone()[0]
