"""The campaign's own screens: confirm a send, load numbers, change state, export.

Each is a closure over the ModelAdmin (for its permissions and its admin site), wrapped by
``admin_view`` (login and CSRF). Every change of state is a POST and needs the
``send_campaign`` permission; each calls the model or ``sending``, never the client.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .. import clock
from ..conf import veesing_settings
from ..exceptions import CampaignStateError, ContentError, ValuesError
from ..imports.jobs import INLINE_LIMIT
from ..imports.readers import Numbers, UnreadableFile, precheck, read_file, read_pasted
from ..models import (
    BatchState,
    Campaign,
    CampaignStatus,
    ImportJob,
    ImportStatus,
    Recipient,
    RecipientStatus,
    TrialState,
    rows_of,
)
from ..models.imported import values_error
from ..rules.phones import InvalidPhone, normalise
from ..sending.backlog import plan, resend_uncertain, retry_failed, sample_texts, unclaimed
from ..sending.estimate import estimate
from ..sending.trials import send_trial
from .common import balance, can_send, csv_safe, money

View = Callable[..., HttpResponseBase]
#: Invalid entries listed on the page after an import; the CSV download has them all.
SHOWN_INVALID = 20
#: A personalised campaign's texts shown before it is sent, as the phones will show them.
SHOWN_TEXTS = 3
SCHEDULABLE = (CampaignStatus.DRAFT, CampaignStatus.FAILED, CampaignStatus.SCHEDULED)


def _page(request: HttpRequest, admin: Any, campaign: Campaign, template: str, **context: Any) -> TemplateResponse:
    opts = Campaign._meta
    return TemplateResponse(
        request,
        f"admin/django_veesing/campaign/{template}",
        {
            **admin.admin_site.each_context(request),
            "opts": opts,
            "app_label": opts.app_label,
            "original": campaign,
            "campaign": campaign,
            "title": context.pop("title"),
            **context,
        },
    )


def _back(campaign: Campaign) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:django_veesing_campaign_change", args=[campaign.pk]))


def _require_send(request: HttpRequest) -> None:
    if not can_send(request):
        raise PermissionDenied(_("Only users allowed to send campaigns can do this."))


def refusing(admin: Any, view: View, *, campaign_page: bool = True) -> View:
    """``view``, with a refusal shown as a page of the admin (translated, with a way back
    to the campaign or the list) instead of a bare "403 Forbidden"."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as refusal:
            pk = kwargs.get("pk") if campaign_page else None
            back = (
                reverse("admin:django_veesing_campaign_change", args=[pk])
                if pk is not None and Campaign.objects.filter(pk=pk).exists()
                else reverse("admin:django_veesing_campaign_changelist")
            )
            context = {
                **admin.admin_site.each_context(request),
                "title": _("Not allowed"),
                "message": str(refusal) or _("You are not allowed to do this."),
                "back": back,
            }
            return TemplateResponse(request, "admin/django_veesing/campaign/refused.html", context, status=403)

    return guarded


class SendForm(forms.Form):
    send_at = forms.DateTimeField(
        label=gettext_lazy("Send at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        help_text=gettext_lazy("Empty: as soon as a worker sees it."),
    )
    at_provider = forms.BooleanField(
        label=gettext_lazy("Let the provider schedule it (30 minutes or more ahead)"), required=False
    )


def confirm_send(admin: Any) -> View:
    def view(request: HttpRequest, pk: int) -> HttpResponseBase:
        _require_send(request)
        campaign = get_object_or_404(Campaign, pk=pk)
        form = SendForm(request.POST or None)
        refused = campaign.prepare_texts() if campaign.status in SCHEDULABLE else []  # a text edited since
        numbers = plan(campaign)
        if request.method == "POST" and form.is_valid():
            try:
                if refused:
                    raise ContentError([values_error(refused, len(refused)).message])
                if not numbers["numbers"]:
                    raise CampaignStateError(_("There is no number to send."))
                campaign.schedule(form.cleaned_data["send_at"], at_provider=form.cleaned_data["at_provider"])
            except (ContentError, CampaignStateError) as refusal:
                form.add_error(None, str(refusal))
            else:
                when = campaign.send_at
                message = (
                    _("Scheduled for %(when)s.") % {"when": timezone.localtime(when).strftime("%Y-%m-%d %H:%M")}
                    if when
                    else _("Approved: a worker sends it now.")
                )
                admin.message_user(request, message, messages.SUCCESS)
                return _back(campaign)
        reading = balance(account=veesing_settings.account_for_kind(campaign.kind))
        report = campaign.content_report()
        window = veesing_settings.QUIET_HOURS if campaign.is_marketing else None
        return _page(
            request,
            admin,
            campaign,
            "confirm_send.html",
            title=_("Send “%(name)s”?") % {"name": campaign.name},
            form=form,
            plan=numbers,
            plan_money=money(numbers["messages"]),
            plan_time=estimate(numbers["batches"]) if numbers["numbers"] else "",
            samples=sample_texts(campaign, SHOWN_TEXTS),
            longest=numbers.get("longest_text", ""),
            refused=refused[:SHOWN_INVALID],
            report=report,
            balance=reading.value,
            balance_error=reading.error,
            quiet_hours=f"{window[0]:%H:%M}–{window[1]:%H:%M}" if window else "",
        )

    return view


def confirm_resend(admin: Any) -> View:
    def view(request: HttpRequest, pk: int) -> HttpResponseBase:
        _require_send(request)
        campaign = get_object_or_404(Campaign, pk=pk)
        uncertain_batches = campaign.batches.filter(state=BatchState.UNCERTAIN)
        uncertain = rows_of(uncertain_batches).filter(status=RecipientStatus.PENDING).count()
        if request.method == "POST":
            numbers = resend_uncertain(campaign)
            admin.message_user(
                request, _("%(numbers)d numbers of uncertain batches will be sent again.") % {"numbers": numbers}
            )
            return _back(campaign)
        return _page(
            request,
            admin,
            campaign,
            "confirm_resend.html",
            title=_("Resend the uncertain batches of “%(name)s”?") % {"name": campaign.name},
            uncertain=uncertain,
        )

    return view


def change_state(admin: Any) -> View:
    """POST-only: cancel, duplicate, retry failed numbers."""

    def view(request: HttpRequest, pk: int, change: str) -> HttpResponseBase:
        if request.method != "POST":
            raise PermissionDenied(_("This address only takes a button of the campaign page."))
        campaign = get_object_or_404(Campaign, pk=pk)
        if change == "duplicate":
            if not admin.has_add_permission(request):
                raise PermissionDenied(_("Only users allowed to add campaigns can duplicate one."))
            copy = campaign.duplicate()
            admin.message_user(request, _("Duplicated as a new draft."))
            return _back(copy)
        _require_send(request)
        if change == "cancel":
            done = campaign.cancel()
            admin.message_user(
                request,
                _("Cancelled.") if done else _("The campaign had already finished."),
                messages.SUCCESS if done else messages.WARNING,
            )
        elif change == "retry":
            numbers = retry_failed(campaign)
            admin.message_user(request, _("%(numbers)d failed numbers will be sent again.") % {"numbers": numbers})
        else:
            raise Http404
        return _back(campaign)

    return view


def trial_send(admin: Any) -> View:
    """POST-only: the campaign's text to the numbers typed beside the button, now."""

    def view(request: HttpRequest, pk: int) -> HttpResponseBase:
        if request.method != "POST":
            raise PermissionDenied(_("This address only takes a button of the campaign page."))
        _require_send(request)
        campaign = get_object_or_404(Campaign, pk=pk)
        try:
            trial = send_trial(
                campaign, read_pasted(request.POST.get("phones", "")), requested_by=request.user.get_username()
            )
        except (ContentError, CampaignStateError) as refused:
            admin.message_user(request, _("No trial send: %(reason)s") % {"reason": refused}, messages.ERROR)
            return _back(campaign)
        said = {"numbers": trial.phones, "message": trial.message}
        if trial.state == TrialState.SUBMITTED:
            admin.message_user(request, _("Trial send to %(numbers)s handed to the provider.") % said, messages.SUCCESS)
        elif trial.state == TrialState.UNCERTAIN:
            admin.message_user(
                request,
                _("The provider's answer for the trial send to %(numbers)s was lost: it may have gone out. %(message)s")
                % said,
                messages.WARNING,
            )
        else:
            admin.message_user(
                request, _("The trial send to %(numbers)s was refused: %(message)s") % said, messages.ERROR
            )
        return _back(campaign)

    return view


def refresh_balance(admin: Any) -> View:
    def view(request: HttpRequest) -> HttpResponseBase:
        if request.method != "POST":
            raise PermissionDenied(_("This address only takes a button of the campaign page."))
        reading = balance(refresh=True)
        if reading.error:
            admin.message_user(
                request, _("Could not read the balance: %(error)s") % {"error": reading.error}, messages.ERROR
            )
        else:
            admin.message_user(request, _("Balance: %(balance)s messages.") % {"balance": reading.value})
        return HttpResponseRedirect(request.POST.get("next") or reverse("admin:django_veesing_campaign_changelist"))

    return view


class LoadForm(forms.Form):
    pasted = forms.CharField(
        label=gettext_lazy("Paste numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 60}),
        help_text=gettext_lazy(
            "One per line, or several on a line separated by commas, semicolons or tabs; +86, 0086, spaces and"
            " dashes inside a number are fine. Under a heading line (手机号,姓名,积分) the other columns are each"
            " number's values, which a personalised text uses as {姓名}."
        ),
    )
    file = forms.FileField(
        label=gettext_lazy("Or upload a file"),
        required=False,
        help_text=gettext_lazy(
            "CSV, TXT or XLSX, up to 1,000,000 numbers; large files are imported in the background."
        ),
    )
    remove = forms.CharField(
        label=gettext_lazy("Remove numbers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("Numbers to take out of the campaign (only those not sent yet)."),
    )


def load_numbers(admin: Any) -> View:
    def view(request: HttpRequest, pk: int) -> HttpResponseBase:
        campaign = get_object_or_404(Campaign, pk=pk)
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.SCHEDULED):
            admin.message_user(
                request, _("Numbers can only be loaded into a draft or scheduled campaign."), messages.WARNING
            )
            return _back(campaign)
        if not admin.may_load_numbers(request, campaign):
            raise PermissionDenied(_("Only users allowed to change campaigns can load numbers."))
        form = LoadForm(request.POST or None, request.FILES or None)
        job = None
        if request.method == "POST" and form.is_valid():
            try:
                job = _load(request, admin, campaign, form.cleaned_data)
            except UnreadableFile as error:
                form.add_error("file", str(error))
            else:
                if job is None or job.status == ImportStatus.QUEUED:
                    return _back(campaign)
        return _page(
            request,
            admin,
            campaign,
            "load_numbers.html",
            title=_("Numbers of “%(name)s”") % {"name": campaign.name},
            form=form,
            job=job,
            invalid=list(itertools.islice(job.invalid_rows(), SHOWN_INVALID)) if job else [],
        )

    return view


def _load(request: HttpRequest, admin: Any, campaign: Campaign, data: dict[str, Any]) -> ImportJob | None:
    if data["remove"]:
        removed = remove_numbers(campaign, data["remove"])
        admin.message_user(request, _("%(count)d numbers removed.") % {"count": removed})
    upload = data["file"]
    if upload is not None:
        content = upload.read()
        if len(content) > INLINE_LIMIT:
            precheck(upload.name, content)
            job = ImportJob.objects.create(campaign=campaign, filename=upload.name, data=content)
            admin.message_user(
                request,
                _("The file is being imported in the background; its progress shows on the campaign page."),
            )
            return job
        return _import_now(campaign, upload.name, read_file(upload.name, content))
    if data["pasted"]:
        return _import_now(campaign, _("pasted"), read_pasted(data["pasted"]))
    return None


def _import_now(campaign: Campaign, name: str, entries: Numbers) -> ImportJob:
    try:
        result = campaign.add_recipients(entries)
    except ValuesError as refused:  # nothing was stored: the rows to correct, with their lines
        return ImportJob.objects.create(
            campaign=campaign,
            filename=name,
            data=b"",
            status=ImportStatus.FAILED,
            invalid_count=refused.count,
            invalid=ImportJob.invalid_text(refused.rows),
            message=refused.message,
            finished_at=clock.now(),
        )
    return ImportJob.objects.create(
        campaign=campaign,
        filename=name,
        data=b"",
        status=ImportStatus.DONE,
        processed=result.added + result.duplicates + result.invalid_count,
        added=result.added,
        duplicates=result.duplicates,
        invalid_count=result.invalid_count,
        invalid=ImportJob.invalid_text(result.invalid),
        message=entries.note,
        finished_at=clock.now(),
    )


def remove_numbers(campaign: Campaign, text: str) -> int:
    numbers = []
    for entry in read_pasted(text):
        try:
            numbers.append(normalise(entry))
        except InvalidPhone:
            continue
    removed, _detail = unclaimed(campaign).filter(phone__in=numbers).delete()
    if removed:
        campaign.recount()
    return removed


class _Echo:
    def write(self, value: str) -> str:
        return value


def _stream(rows: Iterator[list[Any]], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        ("\ufeff" if i == 0 else "") + writer.writerow([csv_safe(cell) for cell in row]) for i, row in enumerate(rows)
    )
    response["Content-Type"] = "text/csv; charset=utf-8"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def export_csv(admin: Any) -> View:
    def view(request: HttpRequest, pk: int) -> HttpResponseBase:
        if not admin.has_view_permission(request):
            raise PermissionDenied(_("Only users allowed to view campaigns can export them."))
        campaign = get_object_or_404(Campaign, pk=pk)
        recipients = (
            Recipient.objects.filter(campaign=campaign)
            .order_by("id")
            .values_list("phone", "status", "task_id", "receipt_code", "receipt_at", "error", "values", "text__text")
        )
        columns = campaign.columns  # each value in a column of its own, then the number's text
        personalised = campaign.is_personalised

        def rows() -> Iterator[list[Any]]:
            heading = [_("phone"), _("status"), _("task id"), _("receipt code"), _("receipt time"), _("error")]
            yield [*heading, *columns, *([_("text")] if personalised else [])]
            labels = dict(RecipientStatus.choices)
            for phone, status, task_id, code, at, error, values, text in recipients.iterator(chunk_size=2000):
                when = timezone.localtime(at).strftime("%Y-%m-%d %H:%M:%S") if at else ""
                row = [phone, labels.get(status, status), task_id, code, when, error]
                row += [(values or {}).get(name, "") for name in columns]
                yield row + ([text or ""] if personalised else [])

        return _stream(rows(), f"campaign-{campaign.pk}-{timezone.localdate(clock.now()):%Y%m%d}.csv")

    return view


def invalid_csv(admin: Any) -> View:
    def view(request: HttpRequest, pk: int) -> HttpResponseBase:
        if not admin.has_view_permission(request):
            raise PermissionDenied(_("Only users allowed to view campaigns can export them."))
        job = get_object_or_404(ImportJob, pk=pk)

        def rows() -> Iterator[list[Any]]:
            yield [_("line"), _("entry"), _("reason")]
            yield from ([line, entry, reason] for line, entry, reason in job.invalid_rows())

        return _stream(rows(), f"invalid-{job.pk}.csv")

    return view
