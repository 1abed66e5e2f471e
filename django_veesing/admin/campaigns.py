"""The campaign screens: list with progress, the page with its funnel, timeline and batches."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.db.models.functions import Trunc
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import clock
from ..conf import veesing_settings
from ..models import Batch, BatchState, Campaign, CampaignStatus, ImportJob, Receipt, Reply
from ..rules import content as content_rules
from ..rules.schedule import CHINA, in_quiet_hours, quiet_hours_end
from ..sending.backlog import plan
from ..sending.schedule import waits_for
from . import screens
from .common import WorkerBannerMixin, balance, can_send

STATUS_COLOURS = {
    "delivered": "#2e7d32",
    "submitted": "#1976d2",
    "failed": "#c62828",
    "expired": "#8d6e63",
    "skipped": "#9e9e9e",
    "pending": "#e0e0e0",
}


class BatchInline(admin.TabularInline):
    model = Batch
    fields = (
        "id",
        "state",
        "size",
        "task_id",
        "success_count",
        "remain_point",
        "message",
        "claimed_by",
        "claimed_at",
        "sent_at",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ("-id",)
    max_num = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[Batch]:
        return super().get_queryset(request).order_by("-id")


class ImportJobInline(admin.TabularInline):
    model = ImportJob
    fields = ("filename", "status", "processed", "added", "duplicates", "invalid_count", "message", "invalid_link")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    verbose_name_plural = gettext_lazy("imports of numbers")

    @admin.display(description=gettext_lazy("invalid entries"))
    def invalid_link(self, job: ImportJob) -> str:
        if not job.invalid_count:
            return "—"
        url = reverse("admin:django_veesing_import_invalid", args=[job.pk])
        return format_html('<a href="{}">{}</a>', url, _("download CSV"))


@admin.action(description=gettext_lazy("Send the selected campaign…"), permissions=["send"])
def send_action(modeladmin: CampaignAdmin, request: HttpRequest, queryset: QuerySet[Campaign]) -> Any:
    if queryset.count() != 1:
        modeladmin.message_user(request, _("Choose one campaign to send at a time."), messages.WARNING)
        return None
    return HttpResponseRedirect(reverse("admin:django_veesing_campaign_send", args=[queryset.get().pk]))


@admin.action(description=gettext_lazy("Cancel the selected campaigns"), permissions=["send"])
def cancel_action(modeladmin: CampaignAdmin, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
    cancelled = sum(campaign.cancel() for campaign in queryset)
    modeladmin.message_user(request, _("%(count)d campaign(s) cancelled.") % {"count": cancelled})


@admin.action(description=gettext_lazy("Duplicate the selected campaigns"), permissions=["add"])
def duplicate_action(modeladmin: CampaignAdmin, request: HttpRequest, queryset: QuerySet[Campaign]) -> None:
    copies = [campaign.duplicate() for campaign in queryset]
    modeladmin.message_user(request, _("%(count)d campaign(s) duplicated as drafts.") % {"count": len(copies)})


@admin.register(Campaign)
class CampaignAdmin(WorkerBannerMixin, admin.ModelAdmin):
    list_display = (
        "name",
        "kind",
        "status",
        "progress",
        "total_count",
        "delivered_count",
        "failed_count",
        "send_at",
        "created_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("name",)
    date_hierarchy = "created_at"
    actions = [send_action, cancel_action, duplicate_action]
    show_full_result_count = False
    fieldsets = (
        (None, {"fields": ("name", "kind", "content", "send_at", "schedule_at_provider")}),
        (
            gettext_lazy("Progress"),
            {
                "fields": (
                    "status",
                    "last_message",
                    ("total_count", "pending_count", "submitted_count", "delivered_count"),
                    ("failed_count", "skipped_count", "expired_count"),
                    ("created_at", "started_at", "finished_at"),
                )
            },
        ),
    )
    readonly_fields = (
        "status",
        "last_message",
        "total_count",
        "pending_count",
        "submitted_count",
        "delivered_count",
        "failed_count",
        "skipped_count",
        "expired_count",
        "created_at",
        "started_at",
        "finished_at",
    )
    inlines = [ImportJobInline, BatchInline]

    def has_send_permission(self, request: HttpRequest) -> bool:
        return can_send(request)

    def has_change_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        editable = obj is None or obj.status in (CampaignStatus.DRAFT, CampaignStatus.FAILED)
        return editable and super().has_change_permission(request, obj)

    def may_load_numbers(self, request: HttpRequest, campaign: Campaign) -> bool:
        """Numbers go into a draft or scheduled campaign, by a user who may change campaigns."""
        loadable = campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
        return loadable and super().has_change_permission(request, campaign)

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, campaign: Campaign) -> str:
        total = campaign.total_count or 1
        parts = format_html_join(
            "",
            '<span title="{}: {}" style="display:inline-block;height:10px;width:{}%;background:{}"></span>',
            (
                (label, count, round(100 * count / total, 2), STATUS_COLOURS[status])
                for status, label in _status_labels()
                for count in [getattr(campaign, f"{status}_count")]
            ),
        )
        return format_html(
            '<span class="veesing-progress" style="display:inline-flex;width:160px;background:#f5f5f5">{}</span>', parts
        )

    def get_urls(self) -> list[Any]:
        def wrap(view: Any, campaign_page: bool = True) -> Any:
            return self.admin_site.admin_view(screens.refusing(self, view, campaign_page=campaign_page))

        return [
            path("<int:pk>/send/", wrap(screens.confirm_send(self)), name="django_veesing_campaign_send"),
            path("<int:pk>/load/", wrap(screens.load_numbers(self)), name="django_veesing_campaign_load"),
            path(
                "<int:pk>/state/<str:change>/", wrap(screens.change_state(self)), name="django_veesing_campaign_state"
            ),
            path("<int:pk>/resend/", wrap(screens.confirm_resend(self)), name="django_veesing_campaign_resend"),
            path("<int:pk>/export.csv", wrap(screens.export_csv(self)), name="django_veesing_campaign_export"),
            path("balance/", wrap(screens.refresh_balance(self)), name="django_veesing_balance"),
            path("counter/", self.admin_site.admin_view(self.counter_view), name="django_veesing_campaign_counter"),
            path(
                "imports/<int:pk>/invalid.csv",
                wrap(screens.invalid_csv(self), campaign_page=False),
                name="django_veesing_import_invalid",
            ),
            *super().get_urls(),
        ]

    def counter_view(self, request: HttpRequest) -> JsonResponse:
        """The live counter's answer for a text being written (``?content=…&kind=…&campaign=id``):
        the content rules' own report (``rules.content``), so no rule or message is repeated
        in the page's script."""
        if not (self.has_view_permission(request) or self.has_add_permission(request)):
            raise PermissionDenied
        found = None
        if request.GET.get("campaign", "").isdigit():
            found = self.get_queryset(request).filter(pk=int(request.GET["campaign"])).first()
        kind = request.GET.get("kind") or (found.kind if found else Campaign._meta.get_field("kind").default)
        report = Campaign(content=request.GET.get("content", ""), kind=kind).content_report()
        recipients = found.pending_count if found else 0
        return JsonResponse(
            {
                "lines": content_rules.summary(report, recipients),
                "problems": report.messages(),
                "length": report.length,
                "segments": report.segments,
            }
        )

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        campaign = self.get_object(request, object_id)
        extra = dict(extra_context or {})
        if campaign is not None:
            extra.update(campaign_context(self, request, campaign))
        return super().change_view(request, object_id, form_url, extra)

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        extra = dict(extra_context or {})
        extra.update(counter_context(None))
        return super().add_view(request, form_url, extra)


def _status_labels() -> list[tuple[str, str]]:
    return [
        ("delivered", _("delivered")),
        ("submitted", _("submitted")),
        ("failed", _("failed")),
        ("expired", _("expired")),
        ("skipped", _("skipped")),
        ("pending", _("pending")),
    ]


def counter_context(campaign: Campaign | None) -> dict[str, Any]:
    """Where the live counter of the content field asks (``CampaignAdmin.counter_view``)."""
    return {
        "veesing_counter": {
            "url": reverse("admin:django_veesing_campaign_counter"),
            "campaign": campaign.pk if campaign else None,
        }
    }


def campaign_context(admin: CampaignAdmin, request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    value, error = balance()
    counts = campaign.counts()
    total = campaign.total_count or 1
    handed = counts["submitted"] + counts["delivered"] + counts["failed"] + counts["expired"]
    funnel = [
        (_("recipients"), campaign.total_count),
        (_("handed to the provider"), handed),
        (_("delivered"), counts["delivered"]),
    ]
    return {
        **counter_context(campaign),
        "veesing_campaign": campaign,
        "veesing_can_send": can_send(request),
        "veesing_can_add": admin.has_add_permission(request),
        "veesing_can_load": admin.may_load_numbers(request, campaign),
        "veesing_state_changes": ["cancel", "retry", "duplicate"],
        "veesing_balance": value,
        "veesing_balance_error": error,
        "veesing_plan": plan(campaign) if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED) else None,
        "veesing_funnel": [(label, n, round(100 * n / total, 1)) for label, n in funnel],
        "veesing_breakdown": [
            (label, counts[status], round(100 * counts[status] / total, 2), STATUS_COLOURS[status])
            for status, label in _status_labels()
        ],
        "veesing_timeline": timeline(campaign),
        "veesing_uncertain": campaign.batches.filter(state=BatchState.UNCERTAIN).count(),
        "veesing_waiting": quiet_hours_notice(campaign),
    }


def quiet_hours_notice(campaign: Campaign) -> str:
    """A sentence for a due marketing campaign held by the quiet hours; "" otherwise."""
    now = clock.now()
    if campaign.status == CampaignStatus.SCHEDULED:
        held = waits_for(campaign, now) == "quiet_hours"
    else:
        held = campaign.status == CampaignStatus.SENDING and campaign.is_marketing and in_quiet_hours(now)
    resume = quiet_hours_end(now) if held else None
    window = veesing_settings.QUIET_HOURS
    if resume is None or window is None:
        return ""
    return _(
        "Waiting for the quiet hours (%(start)s–%(end)s China time) to end: marketing texts go out "
        'from %(resume)s China time. The setting VEESING["QUIET_HOURS"] sets the window; None turns it off.'
    ) % {"start": f"{window[0]:%H:%M}", "end": f"{window[1]:%H:%M}", "resume": f"{resume:%Y-%m-%d %H:%M}"}


def timeline(campaign: Campaign, buckets: int = 24) -> list[dict[str, Any]]:
    """Receipts and replies per hour (or minute, for a young campaign), newest last."""
    kind = (
        "minute"
        if campaign.finished_at is None
        or (campaign.finished_at - (campaign.started_at or campaign.finished_at)).total_seconds() < 3600
        else "hour"
    )
    receipts = _per_bucket(Receipt.objects.filter(recipient__campaign=campaign), kind)
    replies = _per_bucket(Reply.objects.filter(campaign=campaign), kind)
    keys = sorted(set(receipts) | set(replies))[-buckets:]
    peak = max([receipts.get(k, 0) + replies.get(k, 0) for k in keys] or [1])
    return [
        {
            "label": key.astimezone(CHINA).strftime("%H:%M"),
            "receipts": receipts.get(key, 0),
            "replies": replies.get(key, 0),
            "receipts_height": round(100 * receipts.get(key, 0) / peak),
            "replies_height": round(100 * replies.get(key, 0) / peak),
        }
        for key in keys
    ]


def _per_bucket(queryset: QuerySet[Any], kind: str) -> dict[Any, int]:
    rows = queryset.annotate(bucket=Trunc("created_at", kind)).values("bucket").annotate(n=Count("id"))
    return {row["bucket"]: row["n"] for row in rows.order_by("-bucket")[:48]}
