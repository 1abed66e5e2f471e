"""Messages from code and the accounts the provider refused: lists to follow, read-only but
for an operator's two words (send uncertain messages again; resume an account)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..conf import veesing_settings
from ..models import AccountHold, CampaignKind, Message, MessageStatus
from ..sending.message_sender import resend_uncertain_messages, resume_account
from .common import EstimatedCountPaginator, WorkerBannerMixin, balance, can_send
from .records import ExactSearchMixin, ReadOnlyMixin, ReceiptInline, code_with_reason


class SendPermissionMixin:
    def has_send_permission(self, request: HttpRequest) -> bool:
        return can_send(request)


@admin.register(Message)
class MessageAdmin(SendPermissionMixin, WorkerBannerMixin, ExactSearchMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "phone",
        "kind",
        "status",
        "short_text",
        "account",
        "created_at",
        "submitted_at",
        "receipt",
        "error",
    )
    list_filter = ("status", "kind", "account", ("created_at", admin.DateFieldListFilter))
    search_fields = ("phone",)  # a phone or a task id exactly, or part of a key: see ExactSearchMixin
    text_search = "key"
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    readonly_fields = (
        "phone",
        "kind",
        "account",
        "status",
        "text",
        "key",
        "send_at",
        "metadata",
        "batch",
        "task_id",
        "receipt",
        "receipt_at",
        "error",
        "created_at",
        "submitted_at",
    )
    fields = readonly_fields
    inlines = [ReceiptInline]
    actions = ["resend_uncertain"]
    change_list_template = "admin/django_veesing/message/change_list.html"

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("text"))
    def short_text(self, message: Message) -> str:
        return message.text if len(message.text) <= 30 else message.text[:29] + "…"

    @admin.display(description=gettext_lazy("receipt code"), ordering="receipt_code")
    def receipt(self, message: Message) -> str:
        return code_with_reason(message.receipt_code)

    @admin.action(description=gettext_lazy("Send the selected uncertain messages again"), permissions=["send"])
    def resend_uncertain(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = resend_uncertain_messages(queryset)
        if not count:
            self.message_user(request, _("None of the selected messages is uncertain."), messages.WARNING)
            return
        self.message_user(
            request,
            ngettext(
                "%(count)d message will be sent again; its number may receive it twice.",
                "%(count)d messages will be sent again; their numbers may receive them twice.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        context = {**(extra_context or {}), "veesing_accounts": account_rows()}
        return super().changelist_view(request, context)


def account_rows() -> list[dict[str, Any]]:
    """Each account with its balance, the kinds it sends and whether it is stopped."""
    holds = {hold.account: hold for hold in AccountHold.objects.all()}
    kinds: dict[str, list[str]] = {}
    for kind, label in CampaignKind.choices:
        kinds.setdefault(veesing_settings.account_for_kind(kind), []).append(str(label))
    rows = []
    for name in veesing_settings.ACCOUNTS:
        reading = balance(account=name)
        rows.append(
            {
                "name": name,
                "kinds": ", ".join(kinds.get(name, [])),
                "balance": reading.value,
                "error": reading.error,
                "read_at": reading.read_at,
                "hold": holds.get(name),
            }
        )
    return rows


@admin.register(AccountHold)
class AccountHoldAdmin(SendPermissionMixin, WorkerBannerMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("account", "reason", "since", "waiting")
    readonly_fields = ("account", "reason", "since")
    actions = ["resume"]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("messages waiting"))
    def waiting(self, hold: AccountHold) -> int:
        return Message.objects.filter(account=hold.account, status=MessageStatus.PENDING).count()

    @admin.action(description=gettext_lazy("Resume sending through the selected accounts"), permissions=["send"])
    def resume(self, request: HttpRequest, queryset: QuerySet[AccountHold]) -> None:
        names = [name for name in queryset.values_list("account", flat=True) if resume_account(name)]
        self.message_user(
            request, _("Sending resumed through: %(accounts)s.") % {"accounts": ", ".join(names)}, messages.SUCCESS
        )
