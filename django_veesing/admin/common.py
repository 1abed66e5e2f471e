"""Pieces every screen of the app's admin shares."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from django.contrib import messages
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Q
from django.http import HttpRequest
from django.utils.functional import cached_property
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from .. import clock
from ..conf import DEFAULT_ACCOUNT, veesing_settings
from ..exceptions import VeesingError
from ..models import AccountHold, Campaign, CampaignStatus, ImportJob, ImportStatus, Message, MessageStatus
from ..provider.client import VeesingClient
from ..sending.workers import worker_seen_since

SEND_PERMISSION = "django_veesing.send_campaign"
BALANCE_CACHE_KEY = "django_veesing:balance"
BALANCE_SECONDS = 60
WORKER_GRACE = dt.timedelta(minutes=3)


def can_send(request: HttpRequest) -> bool:
    return request.user.has_perm(SEND_PERMISSION)


class Balance(NamedTuple):
    value: int | None  # messages left, or None when it could not be read
    error: str  # why not, for a person; "" when read
    read_at: dt.datetime | None  # when the provider was asked


def balance(refresh: bool = False, since: dt.datetime | None = None, account: str = DEFAULT_ACCOUNT) -> Balance:
    """An account's balance, asked from the provider at most once a minute, and again when
    the reading is older than ``since`` (a campaign's last send) or ``refresh`` is set."""
    key = f"{BALANCE_CACHE_KEY}:{account}"
    cached = None if refresh else cache.get(key)
    if isinstance(cached, tuple) and not (since is not None and cached[1] < since):
        return Balance(cached[0], "", cached[1])
    try:
        with VeesingClient.from_settings(account) as client:
            value = client.balance()
    except VeesingError as error:
        return Balance(None, str(error), None)
    read_at = clock.now()
    cache.set(key, (value, read_at), BALANCE_SECONDS)
    return Balance(value, "", read_at)


def money(messages: int) -> str:
    """What ``messages`` billed messages cost at ``PRICE_PER_MESSAGE``, for a person ("about
    92.12 yuan at 0.045 a message"); "" when no price is set."""
    price = veesing_settings.PRICE_PER_MESSAGE
    if price is None:
        return ""
    amount = (price * messages).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return _("about %(amount)s yuan (%(price)s yuan a message)") % {"amount": f"{amount:,}", "price": price}


def csv_safe(value: object) -> str:
    """A cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class EstimatedCountPaginator(Paginator):
    """Uses PostgreSQL's row estimate for an unfiltered list of a big table (no COUNT(*)),
    or a count the admin knows exactly already (``known_count``)."""

    known_count: int | None = None

    @cached_property
    def count(self) -> int:
        if self.known_count is not None:
            return self.known_count
        queryset: Any = self.object_list
        query = getattr(queryset, "query", None)
        if query is not None and not query.where and connections[queryset.db].vendor == "postgresql":
            with connections[queryset.db].cursor() as cursor:
                cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [queryset.model._meta.db_table])
                row = cursor.fetchone()
            if row and row[0] > 100_000:
                return int(row[0])
        return super().count


class WorkerBannerMixin:
    """Warns on every screen when due work waits and no sending worker was seen lately,
    and when the provider refused an account (its messages wait for an operator)."""

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        warn_if_no_worker(request)
        warn_of_stopped_accounts(request)
        return super().changelist_view(request, extra_context)  # type: ignore[misc]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        if request.method == "GET":
            warn_if_no_worker(request)
            warn_of_stopped_accounts(request)
        return super().change_view(request, object_id, form_url, extra_context)  # type: ignore[misc]


def warn_of_stopped_accounts(request: HttpRequest) -> None:
    for hold in AccountHold.objects.all():
        messages.error(
            request,
            _(
                "Sending through the account %(account)s stopped at %(since)s: %(reason)s "
                "Its messages wait; once it is fixed, resume it under “Stopped accounts”."
            )
            % {
                "account": hold.account,
                "since": localtime(hold.since).strftime("%Y-%m-%d %H:%M"),
                "reason": hold.reason,
            },
        )


def warn_if_no_worker(request: HttpRequest) -> None:
    now = clock.now()
    due = Q(status=CampaignStatus.SENDING) | Q(status=CampaignStatus.SCHEDULED) & (
        Q(send_at__isnull=True) | Q(send_at__lte=now)
    )
    waiting = (
        Campaign.objects.filter(due).exists()
        or ImportJob.objects.filter(status=ImportStatus.QUEUED).exists()
        or Message.objects.filter(status=MessageStatus.PENDING, batch__isnull=True).exists()
    )
    if waiting and not worker_seen_since(now - WORKER_GRACE):
        messages.warning(
            request,
            _(
                "No sending worker has been seen for a few minutes, and work is waiting. "
                "Start one with: python manage.py veesing_send --loop"
            ),
        )
