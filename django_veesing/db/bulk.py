"""Inserting many recipients at once, and counting exactly how many were new.

On PostgreSQL (psycopg 3) the numbers are streamed with COPY into a temporary table and
moved with one ``INSERT … SELECT … ON CONFLICT DO NOTHING``, whose row count is the number
of new recipients: no model object per number, no IN list. Elsewhere, a look-up of the
numbers already there and ``bulk_create``.
"""

from __future__ import annotations

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Model

from .routing import connection_for

CHUNK_POSTGRESQL = 20_000
CHUNK_OTHER = 2_000  # under SQLite's limit of bound variables


def chunk_size(recipients: type[Model]) -> int:
    return CHUNK_POSTGRESQL if _can_copy(connection_for(recipients)) else CHUNK_OTHER


def insert_new(recipients: type[Model], campaign_id: int, numbers: list[str]) -> int:
    """Insert the numbers the campaign does not have yet as rows of ``recipients`` (the
    ``Recipient`` model, with its defaults); how many were inserted.

    Call inside a transaction; ``numbers`` holds no duplicates.
    """
    if not numbers:
        return 0
    if _can_copy(connection_for(recipients)):
        return _insert_with_copy(recipients, campaign_id, numbers)
    return _insert_with_orm(recipients, campaign_id, numbers)


def _can_copy(connection: BaseDatabaseWrapper) -> bool:
    if connection.vendor != "postgresql":
        return False
    connection.ensure_connection()
    return hasattr(connection.connection, "cursor") and hasattr(connection.connection.cursor(), "copy")


def _insert_with_copy(recipients: type[Model], campaign_id: int, numbers: list[str]) -> int:
    connection = connection_for(recipients)
    table = connection.ops.quote_name(recipients._meta.db_table)
    status = recipients().status  # type: ignore[attr-defined]  # the model's default
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS veesing_new_numbers (phone varchar(11)) ON COMMIT DELETE ROWS"
        )
        with cursor.cursor.copy("COPY veesing_new_numbers (phone) FROM STDIN") as copy:
            copy.write("\n".join(numbers) + "\n")
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, phone, status, task_id, receipt_code, error) "  # noqa: S608
            "SELECT %s, phone, %s, '', '', '' FROM veesing_new_numbers "
            "ON CONFLICT (campaign_id, phone) DO NOTHING",
            [campaign_id, status],
        )
        inserted = cursor.rowcount
        cursor.execute("DELETE FROM veesing_new_numbers")
    return inserted


def _insert_with_orm(recipients: type[Model], campaign_id: int, numbers: list[str]) -> int:
    existing = set(
        recipients._default_manager.filter(campaign_id=campaign_id, phone__in=numbers).values_list("phone", flat=True)
    )
    new = [number for number in numbers if number not in existing]
    recipients._default_manager.bulk_create(
        [recipients(campaign_id=campaign_id, phone=number) for number in new], ignore_conflicts=True
    )
    return len(new)
