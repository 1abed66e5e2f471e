"""The campaign screens: list with progress, the page with its funnel, timeline and batches."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import clock
from ..conf import veesing_settings
from ..models import Batch, BatchState, Campaign, CampaignStatus, ImportJob
from ..rules import content as content_rules
from ..rules.schedule import in_quiet_hours, quiet_hours_end
from ..sending.backlog import opted_out_waiting, plan
from ..sending.schedule import waits_for
from ..sending.trials import default_trial_numbers
from . import screens
from .common import WorkerBannerMixin, balance, can_send, money
from .deletion import Summary, deleted_summary
from .progress import STATUS_COLOURS, delivery, phase, status_labels

DELIVERY_TEMPLATE = "admin/django_veesing/campaign/delivery.html"
#: Trial sends listed on the campaign page, newest first.
SHOWN_TRIALS = 5


#: The campaign page lists this many of its batches, the latest first: a campaign of a
#: million numbers has a thousand, a personalised one up to a batch a number (listed
#: whole, 1,000 batches took the page 3.5 s and 2.2 MB; 10,000 took 27 s). Each row
#: costs the page about 1.4 ms of rendering (measured at 50: 126 ms against 54).
SHOWN_BATCHES = 20


class LatestBatches(BaseInlineFormSet):
    def get_queryset(self) -> QuerySet[Batch]:
        if not hasattr(self, "_queryset"):
            self._queryset = super().get_queryset()[:SHOWN_BATCHES]
        return self._queryset


class BatchInline(admin.TabularInline):
    model = Batch
    formset = LatestBatches
    fields = (
        "id",
        "state",
        "size",
        "task_id",
        "success_count",
        "remain_point",
        "message",
        "text",
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
        return super().get_queryset(request).select_related("text").order_by("-id")

    def get_formset(self, request: HttpRequest, obj: Campaign | None = None, **kwargs: Any) -> Any:
        # An inline is made afresh for each request: its heading may say what it leaves out.
        if obj is not None and obj.batches.order_by("-id").values_list("pk")[SHOWN_BATCHES : SHOWN_BATCHES + 1]:
            self.verbose_name_plural = _("batches (the latest %(shown)d)") % {"shown": SHOWN_BATCHES}
        return super().get_formset(request, obj, **kwargs)


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
        "status_now",
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

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Summary:
        return deleted_summary(self, request, objs)

    def has_send_permission(self, request: HttpRequest) -> bool:
        return can_send(request)

    def has_change_permission(self, request: HttpRequest, obj: Campaign | None = None) -> bool:
        editable = obj is None or obj.status in (CampaignStatus.DRAFT, CampaignStatus.FAILED)
        return editable and super().has_change_permission(request, obj)

    def may_load_numbers(self, request: HttpRequest, campaign: Campaign) -> bool:
        """Numbers go into a draft or scheduled campaign, by a user who may change campaigns."""
        loadable = campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED)
        return loadable and super().has_change_permission(request, campaign)

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_now(self, campaign: Campaign) -> str:
        return phase(campaign)

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, campaign: Campaign) -> str:
        total = campaign.total_count or 1
        parts = format_html_join(
            "",
            '<span title="{}: {}" style="display:inline-block;height:10px;width:{}%;background:{}"></span>',
            (
                (label, count, round(100 * count / total, 2), STATUS_COLOURS[status])
                for status, label in status_labels()
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
            path("<int:pk>/trial/", wrap(screens.trial_send(self)), name="django_veesing_campaign_trial"),
            path("<int:pk>/resend/", wrap(screens.confirm_resend(self)), name="django_veesing_campaign_resend"),
            path("<int:pk>/export.csv", wrap(screens.export_csv(self)), name="django_veesing_campaign_export"),
            path("balance/", wrap(screens.refresh_balance(self)), name="django_veesing_balance"),
            path("counter/", self.admin_site.admin_view(self.counter_view), name="django_veesing_campaign_counter"),
            path(
                "<int:pk>/delivery/",
                self.admin_site.admin_view(self.delivery_view),
                name="django_veesing_campaign_delivery",
            ),
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
        recipients, opted_out = 0, 0
        if found is not None and found.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            found.kind = kind
            opted_out = opted_out_waiting(found)
            recipients = found.pending_count - opted_out
        draft = Campaign(content=request.GET.get("content", ""), kind=kind)
        lines, warnings = content_rules.summary(report, recipients, opted_out), []
        if draft.is_personalised:
            lines = [*lines[:1], *field_lines(draft.field_names)]
            warnings = unknown_fields(draft.field_names, found.columns if found else [])
        return JsonResponse(
            {
                "lines": lines,
                "warnings": warnings,
                "problems": report.messages(),
                "length": report.length,
                "segments": report.segments,
            }
        )

    def delivery_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        """The delivery panel, fresh, for the campaign page to swap in while numbers are in
        flight (``{"html": …, "in_flight": …}``): figures move without a reload that would
        lose what the operator typed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        campaign = get_object_or_404(self.get_queryset(request), pk=pk)
        panel = delivery(campaign)
        html = render_to_string(DELIVERY_TEMPLATE, {"veesing_delivery": panel}, request=request)
        return JsonResponse({"html": html, "in_flight": panel["in_flight"]})

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


def field_lines(names: list[str]) -> list[str]:
    """What the counter says of a personalised text: the fields it uses, and that each
    number's length (so its cost) depends on its values."""
    return [
        _("Fields: %(fields)s (each number's own value)") % {"fields": "、".join(f"{{{name}}}" for name in names)},
        _("The length above counts the placeholders as written; each number's text is counted with its values."),
    ]


def unknown_fields(names: list[str], columns: list[str]) -> list[str]:
    """A warning for each field no loaded number has a value for."""
    known = set(columns)
    if not known:
        return [
            _("No numbers with values are loaded yet: load a file whose heading names %(fields)s.")
            % {"fields": "、".join(names)}
        ]
    return [
        _("No loaded number has a value for {%(field)s}; the numbers' columns are %(columns)s.")
        % {"field": name, "columns": "、".join(columns)}
        for name in names
        if name not in known
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
    sent = [moment for moment in (campaign.started_at, campaign.finished_at) if moment]
    account = veesing_settings.account_for_kind(campaign.kind)
    reading = balance(since=max(sent, default=None), account=account)  # read again after a send
    numbers = plan(campaign) if campaign.status in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED) else None
    return {
        **counter_context(campaign),
        "veesing_campaign": campaign,
        "veesing_can_send": can_send(request),
        "veesing_can_add": admin.has_add_permission(request),
        "veesing_can_load": admin.may_load_numbers(request, campaign),
        "veesing_state_changes": ["cancel", "retry", "duplicate"],
        "veesing_balance": reading.value,
        "veesing_balance_error": reading.error,
        "veesing_balance_read_at": reading.read_at,
        "veesing_plan": numbers,
        "veesing_plan_money": money(numbers["messages"]) if numbers else "",
        "veesing_delivery": delivery(campaign),
        "veesing_uncertain": campaign.batches.filter(state=BatchState.UNCERTAIN).count(),
        "veesing_trials": list(campaign.trials.order_by("-id")[:SHOWN_TRIALS]),
        "veesing_trial_numbers": default_trial_numbers(),
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
