"""Recipients, receipts, replies, opt-outs and rejected pushes: lists to follow and search."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import clock
from ..models import (
    Batch,
    Campaign,
    OptOut,
    OptOutSource,
    Receipt,
    Recipient,
    RecipientStatus,
    RejectedPush,
    Reply,
)
from ..receiving.parsing import PushRejected
from ..receiving.pushes import take_body
from ..rules.phones import MAINLAND_MOBILE_PATTERN, InvalidPhone, normalise
from ..rules.receipt_codes import reason
from .common import EstimatedCountPaginator, WorkerBannerMixin


class ExactSearchMixin:
    """Search a phone (in any pasted format) or a task id by exact match, on their indexes.

    The admin's own ``=field`` search is case-insensitive (``UPPER(phone) = …``) and so
    scans the whole table; a million recipients deserve an index lookup.
    """

    text_search: str | None = None  # a further field searched by substring, on small tables

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            return queryset.filter(phone=normalise(term)), False
        except InvalidPhone:
            pass
        if hasattr(queryset.model, "task_id") and " " not in term:
            matches = queryset.filter(task_id=term)
            if self.text_search is None or matches.exists():
                return matches, False
        if self.text_search:
            return queryset.filter(**{f"{self.text_search}__icontains": term}), False
        return queryset.none(), False


class ReadOnlyMixin:
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReceiptInline(ReadOnlyMixin, admin.TabularInline):
    model = Receipt
    fields = ("task_id", "delivered", "code", "received_at", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


def values_text(values: dict[str, Any] | None) -> str:
    """A number's values as one line: 姓名=张三；积分=1200."""
    return "；".join(f"{name}={value}" for name, value in (values or {}).items())


def code_with_reason(code: str) -> str:
    """A receipt code with its readable reason beside it, when one is known."""
    found = reason(code) if code else ""
    return f"{code} — {found}" if found else code


@admin.register(Recipient)
class RecipientAdmin(WorkerBannerMixin, ExactSearchMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "phone",
        "campaign",
        "status",
        "task_id",
        "receipt",
        "receipt_at",
        "error",
        "shown_values",
        "sent_text",
    )
    list_filter = ("status", "campaign")  # not RelatedOnlyFieldListFilter: it scans every row
    search_fields = ("phone",)  # searched exactly: see ExactSearchMixin
    list_select_related = ("campaign", "text")
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    readonly_fields = (
        "campaign",
        "phone",
        "shown_values",
        "sent_text",
        "status",
        "batch",
        "task_id",
        "receipt",
        "receipt_at",
        "error",
    )
    fields = readonly_fields
    inlines = [ReceiptInline]
    raw_id_fields = ("campaign", "batch")

    @admin.display(description=gettext_lazy("receipt code"), ordering="receipt_code")
    def receipt(self, recipient: Recipient) -> str:
        return code_with_reason(recipient.receipt_code)

    @admin.display(description=gettext_lazy("values"))
    def shown_values(self, recipient: Recipient) -> str:
        return values_text(recipient.values)

    @admin.display(description=gettext_lazy("text"))
    def sent_text(self, recipient: Recipient) -> str:
        """The text this number gets: its own (a personalised campaign's) or the campaign's."""
        return recipient.text.text if recipient.text is not None else recipient.campaign.text

    def get_paginator(self, request: HttpRequest, queryset: QuerySet[Any], per_page: int, *args: Any) -> Any:
        paginator = self.paginator(queryset, per_page, *args)
        paginator.known_count = counted_by_campaign(request)
        return paginator

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        term = search_term.strip()
        batch = Batch.objects.filter(task_id=term).first() if term and " " not in term else None
        if batch is not None:  # a task id: the numbers its batch went to
            return queryset & batch.rows(), False
        return super().get_search_results(request, queryset, search_term)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Recipient]) -> None:
        campaigns = set(queryset.values_list("campaign_id", flat=True))
        super().delete_queryset(request, queryset)
        for campaign in Campaign.objects.filter(pk__in=campaigns):
            campaign.recount()

    def delete_model(self, request: HttpRequest, obj: Recipient) -> None:
        campaign = obj.campaign
        super().delete_model(request, obj)
        campaign.recount()


@admin.register(Receipt)
class ReceiptAdmin(WorkerBannerMixin, ExactSearchMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = (
        "phone",
        "task_id",
        "delivered",
        "code_and_reason",
        "received_at",
        "recipient_campaign",
        "created_at",
    )
    list_filter = ("delivered",)
    search_fields = ("phone",)  # searched exactly: see ExactSearchMixin
    list_select_related = ("recipient__campaign",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    raw_id_fields = ("recipient",)

    @admin.display(description=gettext_lazy("code"), ordering="code")
    def code_and_reason(self, receipt: Receipt) -> str:
        return code_with_reason(receipt.code)

    @admin.display(description=gettext_lazy("campaign"))
    def recipient_campaign(self, receipt: Receipt) -> str:
        return str(receipt.recipient.campaign) if receipt.recipient else _("(not matched yet)")


@admin.register(Reply)
class ReplyAdmin(WorkerBannerMixin, ExactSearchMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("phone", "content", "campaign", "opt_out", "received_at", "created_at")
    list_filter = ("opt_out", "campaign")
    search_fields = ("phone",)  # searched exactly: see ExactSearchMixin
    text_search = "content"
    list_select_related = ("campaign",)
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    raw_id_fields = ("recipient", "campaign")


class OptOutForm(forms.ModelForm):
    """An opt-out typed by hand, read as imports read numbers: stored as 11 digits, or
    refused with the reason (an opt-out that never matches would let marketing through)."""

    phone = forms.CharField(
        label=gettext_lazy("phone"),
        max_length=40,  # room for "+86 186-0000-1234": the browser must not cut it to 11
        help_text=gettext_lazy("A mainland mobile number in any usual form (+86 186-0000-1234); stored as 11 digits."),
    )

    class Meta:
        model = OptOut
        fields = ("phone",)

    def clean_phone(self) -> str:
        try:
            return normalise(self.cleaned_data["phone"])
        except InvalidPhone as reason:
            raise forms.ValidationError(
                _("Not a mainland mobile number: %(reason)s.") % {"reason": reason}, code="invalid"
            ) from None


class NotAMobileFilter(admin.SimpleListFilter):
    """Opt-outs stored before they were checked that are not numbers (a development
    version's migration kept and reported them): an operator finds and fixes them here."""

    title = gettext_lazy("number")
    parameter_name = "number"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("invalid", _("not a mobile number"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[OptOut]) -> QuerySet[OptOut]:
        if self.value() == "invalid":
            return queryset.exclude(phone__regex=MAINLAND_MOBILE_PATTERN)
        return queryset


@admin.register(OptOut)
class OptOutAdmin(WorkerBannerMixin, ExactSearchMixin, admin.ModelAdmin):
    form = OptOutForm
    list_display = ("phone", "source", "created_at")
    list_filter = ("source", NotAMobileFilter)
    search_fields = ("phone",)  # searched exactly: see ExactSearchMixin
    fields = ("phone",)
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: OptOut, form: Any, change: bool) -> None:
        if not change:
            obj.source = OptOutSource.ADMIN
        super().save_model(request, obj, form, change)


@admin.action(description=gettext_lazy("Replay the selected pushes"), permissions=["replay"])
def replay(modeladmin: RejectedPushAdmin, request: HttpRequest, queryset: QuerySet[RejectedPush]) -> None:
    done, failed = 0, []
    for push in queryset.filter(replayed_at__isnull=True, truncated=False):
        try:
            take_body(push.body.encode("utf-8"), push.content_type, push.kind or None)
        except PushRejected as rejected:
            failed.append(f"{push.pk}: {rejected.errors}")
            continue
        RejectedPush.objects.filter(pk=push.pk).update(replayed_at=clock.now())
        done += 1
    modeladmin.message_user(request, _("%(count)d push(es) replayed.") % {"count": done})
    if failed:
        modeladmin.message_user(request, _("Still rejected: %(list)s") % {"list": "; ".join(failed)}, messages.WARNING)


@admin.register(RejectedPush)
class RejectedPushAdmin(WorkerBannerMixin, ReadOnlyMixin, admin.ModelAdmin):
    list_display = ("created_at", "reason", "remote_addr", "kind", "truncated", "replayed_at")
    list_filter = ("truncated", "kind")
    search_fields = ("reason", "body")
    readonly_fields = (
        "created_at",
        "reason",
        "body",
        "truncated",
        "content_type",
        "kind",
        "remote_addr",
        "replayed_at",
    )
    actions = [replay]

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("django_veesing.change_rejectedpush")


def counted_by_campaign(request: HttpRequest) -> int | None:
    """For a list of one campaign's numbers of one status, the campaign's own count of them
    (kept exact as rows change; ``Campaign.recount`` rebuilds it): no index on ``status``
    needed to count a million rows. None for any other list."""
    params = {key: str(value) for key, value in request.GET.items() if key not in ("p", "o")}  # page, order
    campaign, status = params.get("campaign__id__exact", ""), params.get("status__exact")
    if set(params) != {"campaign__id__exact", "status__exact"} or status not in RecipientStatus.values:
        return None
    if not campaign.isdigit():
        return None
    return Campaign.objects.filter(pk=int(campaign)).values_list(f"{status}_count", flat=True).first()
