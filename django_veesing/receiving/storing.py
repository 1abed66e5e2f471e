"""Storing a pushed event once: its fingerprint is unique."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db import IntegrityError, transaction

from ..models import Receipt, Reply


def fingerprint(*parts: object) -> str:
    return hashlib.sha1("\x1f".join(str(p) for p in parts).encode("utf-8"), usedforsecurity=False).hexdigest()


def insert_once(model: type[Receipt] | type[Reply], **fields: Any) -> Any:
    """Insert a row unless its fingerprint is stored already (then None)."""
    try:
        with transaction.atomic():
            return model.objects.create(**fields)
    except IntegrityError:
        if model.objects.filter(fingerprint=fields["fingerprint"]).exists():
            return None
        raise
