"""Statements prepared once per PostgreSQL connection, for the paths taken per push and per batch.

Django never prepares its own queries (its psycopg cursors bind on the client), so each
is parsed and planned on every run. The few statements the app runs for every receipt
and every batch are written in SQL here and ``PREPARE``d once per connection, then run
with ``EXECUTE`` through Django's cursor, so query logging and execute wrappers still see
them. Prepared statements outlive transactions, rolled back or not, and end with the
connection. Behind PgBouncer in transaction pooling a session's prepared statements are
not kept: set ``VEESING["PREPARED_STATEMENTS"] = False`` there, and each statement is sent
whole instead.
"""

from __future__ import annotations

import hashlib
import re
import weakref
from collections.abc import Callable
from functools import cached_property
from typing import Any

from django.db import connection

from .conf import veesing_settings

#: Per psycopg connection, the names of the statements prepared on it.
_prepared_on: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


class Statement:
    """One SQL statement with ``%(name)s`` placeholders, whose types ``PREPARE`` needs."""

    def __init__(self, name: str, build: Callable[[], str], types: dict[str, str]) -> None:
        self.base_name, self._build, self.types = name, build, types

    @cached_property
    def sql(self) -> str:
        return self._build()

    @cached_property
    def name(self) -> str:
        """The name, with a digest of the SQL: another version of the app sharing the
        connection (through a pooler) never runs this one's statement, nor this its."""
        return f"{self.base_name}_{hashlib.sha1(self.sql.encode(), usedforsecurity=False).hexdigest()[:10]}"

    @cached_property
    def prepare_sql(self) -> str:
        order = list(self.types)
        body = re.sub(r"%\((\w+)\)s", lambda match: f"${order.index(match.group(1)) + 1}", self.sql)
        return f"PREPARE {self.name} ({', '.join(self.types.values())}) AS {body}"

    def execute(self, cursor: Any, params: dict[str, Any]) -> None:
        if not veesing_settings.PREPARED_STATEMENTS:
            cursor.execute(self.sql, params)
            return
        self._prepare(cursor)
        placeholders = ", ".join(["%s"] * len(self.types))
        cursor.execute(f"EXECUTE {self.name} ({placeholders})", [params[name] for name in self.types])

    def _prepare(self, cursor: Any) -> None:
        raw = connection.connection
        names = _prepared_on.setdefault(raw, set())
        if self.name in names:
            return
        cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [self.name])
        if cursor.fetchone() is None:
            cursor.execute(self.prepare_sql)
        names.add(self.name)


def usable() -> bool:
    """Whether the prepared statements' path applies: the database is PostgreSQL."""
    return connection.vendor == "postgresql"


def forget() -> None:
    """Forget which statements are prepared (the next use looks again)."""
    _prepared_on.clear()
