"""One transaction at a time through a section, by name: PostgreSQL's advisory locks."""

from __future__ import annotations

import zlib

from django.db import models

from .routing import connection_for


def serialise(model: type[models.Model], name: str) -> None:
    """Inside a transaction, wait until no other transaction holds ``name`` and hold it
    until this one ends (PostgreSQL: ``pg_advisory_xact_lock``). On other databases this
    does nothing: run concurrent callers on PostgreSQL."""
    connection = connection_for(model)
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [zlib.crc32(name.encode("utf-8"))])
