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

from ..conf import veesing_settings
from .routing import connection_for

#: A ``%(name)s`` placeholder.
PLACEHOLDER = re.compile(r"%\((\w+)\)s")

#: Per psycopg connection, the names of the statements prepared on it.
_prepared_on: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


class Statement:
    """One SQL statement with ``%(name)s`` placeholders, whose types ``PREPARE`` needs."""

    def __init__(self, name: str, build: Callable[[], str], types: dict[str, str]) -> None:
        self.base_name, self._build, self.types = name, build, types
        self._calls: dict[tuple[bool, str], str] = {}  # (prepared?, prefix) -> the SQL that runs it

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
        body = PLACEHOLDER.sub(lambda match: f"${order.index(match.group(1)) + 1}", self.sql)
        return f"PREPARE {self.name} ({', '.join(self.types.values())}) AS {body}"

    def execute(self, cursor: Any, params: dict[str, Any]) -> None:
        cursor.execute(*self.call(cursor, params))

    def call(self, cursor: Any, params: dict[str, Any], prefix: str = "") -> tuple[str, dict[str, Any]]:
        """The SQL that runs the statement with ``params``, and its parameters (their
        names prefixed with ``prefix``); prepares it on the connection first if need be."""
        prepare = veesing_settings.PREPARED_STATEMENTS
        if prepare:
            self._prepare(cursor)
        sql = self._calls.get((prepare, prefix))
        if sql is None:
            sql = self._calls[prepare, prefix] = self._call_sql(prepare, prefix)
        return sql, {prefix + name: params[name] for name in self.types}

    def _call_sql(self, prepare: bool, prefix: str) -> str:
        if prepare:
            return f"EXECUTE {self.name} ({', '.join(f'%({prefix}{name})s' for name in self.types)})"
        return PLACEHOLDER.sub(lambda match: f"%({prefix}{match.group(1)})s", self.sql)

    def _prepare(self, cursor: Any) -> None:
        raw = cursor.db.connection  # the psycopg connection under Django's cursor
        names = _prepared_on.setdefault(raw, set())
        if self.name in names:
            return
        cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [self.name])
        if cursor.fetchone() is None:
            cursor.execute(self.prepare_sql)
        names.add(self.name)


def tables(*models: Any) -> tuple[str, ...]:
    """The quoted table names of ``models``, to format into a statement."""
    return tuple(connection_for(model).ops.quote_name(model._meta.db_table) for model in models)


def usable(model: Any) -> bool:
    """Whether the prepared statements' path applies to ``model``: its database is PostgreSQL."""
    return connection_for(model).vendor == "postgresql"


def forget() -> None:
    """Forget which statements are prepared (the next use looks again)."""
    _prepared_on.clear()
