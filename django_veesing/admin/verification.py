"""Verification codes sent: a list to follow, never the code (only its hash is stored)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ..models import VerificationCode
from .common import WorkerBannerMixin
from .records import ExactSearchMixin, ReadOnlyMixin


@admin.register(VerificationCode)
class VerificationCodeAdmin(WorkerBannerMixin, ExactSearchMixin, ReadOnlyMixin, admin.ModelAdmin):
    """Codes sent, never the code: its number, purpose, times, tries and the provider's answer."""

    list_display = ("phone", "purpose", "state", "created_at", "expires_at", "tries", "used_at", "message")
    list_filter = ("state", "purpose", ("created_at", admin.DateFieldListFilter))
    search_fields = ("phone",)
    fields = (
        "phone",
        "purpose",
        "state",
        "account",
        "client_ip",
        "created_at",
        "expires_at",
        "tries",
        "used_at",
        "task_id",
        "message",
    )
    readonly_fields = fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
