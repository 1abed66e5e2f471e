"""Which database a model's raw SQL runs on: the one Django's routers give for writing it."""

from __future__ import annotations

from typing import Any

from django.db import connections, router
from django.db.backends.base.base import BaseDatabaseWrapper


def connection_for(model: Any) -> BaseDatabaseWrapper:
    """The connection of the database ``model`` is written to (``DATABASE_ROUTERS``)."""
    return connections[router.db_for_write(model)]
