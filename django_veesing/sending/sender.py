"""The only code that joins models and the client: claims work and sends it in batches.

Never twice. Each batch is claimed in the database (committed) before its HTTP call and
settled in one transaction right after:

- accepted → the batch is ``submitted``, its numbers too;
- the connection could not be made (``maybe_sent`` False) → the batch is ``released``
  and its numbers go out on a later run;
- no readable answer (timeout, 5xx, garbage) → the batch is ``uncertain``: the provider
  may have sent it, so it is never resent without an operator's word
  (``backlog.resend_uncertain``);
- a refusal about the numbers → those numbers fail, the campaign goes on;
- a refusal about the account or the request → the campaign fails, nothing is submitted.

A worker that dies between claim and settlement leaves a ``claimed`` batch; the next run
turns it ``uncertain`` (when its worker is known dead, or the claim is older than any call
could take).

A claim takes the next pending numbers after the campaign's cursor, under a lock on the
campaign's row: it moves the cursor, records the batch (with the id range it took) and
links those numbers to it, so a number in flight reads ``pending`` with its ``batch``.
Once the provider accepts it, its numbers read ``submitted`` with the batch's task id;
a refusal marks them ``failed``; an uncertain batch keeps them pending with their batch.
Numbers to send again wait in ``queued`` batches (and so does a batch claimed ahead
while a call is in flight); a worker takes one with a conditional UPDATE of its row just
before its call, so exactly one worker sends it. So any number of workers can share a
campaign on PostgreSQL without two claiming one number. There, a claim, a take and a
settlement are one prepared statement each (``statements``); a claim and a settlement
are each one UPDATE of the batch's rows. A
personalised campaign's claim takes the first number not claimed yet and the next numbers
with the same rendered text (``_next_text_batch``); its batch carries that text. How
a batch is settled is ``settling``; the numbers still to send and those put back are
``backlog``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from .. import clock, signals
from ..conf import veesing_settings
from ..db import prepared
from ..db.cursors import AfterCursor
from ..db.routing import connection_for
from ..exceptions import ConfigurationError, InvalidRequest, ProviderError, TransportError
from ..models import (
    Batch,
    BatchState,
    Campaign,
    CampaignKind,
    CampaignStatus,
    CampaignText,
    OptOut,
    Recipient,
    RecipientStatus,
    move_counts,
)
from ..provider.client import SendResult, VeesingClient
from ..rules.schedule import in_quiet_hours
from . import statements
from .backlog import skip_opted_out, unclaimed
from .clients import Clients
from .message_sender import MessageSender
from .schedule import provider_send_time, waits_for
from .settling import fail_numbers, mark_uncertain, release, settle_accepted
from .workers import abandoned_message, claim_abandoned, worker_name

logger = logging.getLogger(__name__)


@dataclass
class SendReport:
    """What one run did to one campaign."""

    campaign_id: int
    status: str = ""
    batches: int = 0
    submitted: int = 0
    failed: int = 0
    skipped: int = 0
    uncertain: int = 0
    message: str = ""
    waiting: str | None = None  # why a due campaign did not start, if it did not

    @property
    def campaign_failed(self) -> bool:
        return self.status == CampaignStatus.FAILED


class Sender:
    """Sends campaigns. One per worker process; holds one client (one keep-alive session)."""

    client_class = VeesingClient

    def __init__(
        self,
        client: VeesingClient | None = None,
        *,
        worker: str | None = None,
    ) -> None:
        self.clients = Clients(client, self.client_class)
        self.client = self.clients()  # the default account's: ConfigurationError at once if it is not set up
        self.worker = worker or worker_name()
        #: Set to stop: the run ends once the batch in flight is settled (no new claim).
        self.stop = threading.Event()
        self.messages = MessageSender(self.clients, self.worker, self.stop)  # the messages from code
        # The provider's calls run on a thread of their own, so the next batch's claim
        # overlaps them (``_send_batches``).
        self._calls = ThreadPoolExecutor(max_workers=1, thread_name_prefix="veesing-call")

    # -- what is due --------------------------------------------------------------------

    def due_campaigns(self) -> list[Campaign]:
        """Scheduled campaigns whose time has come, and campaigns already sending."""
        now = clock.now()
        candidates = Campaign.objects.filter(status__in=[CampaignStatus.SCHEDULED, CampaignStatus.SENDING]).order_by(
            "send_at", "id"
        )
        return [c for c in candidates if c.status == CampaignStatus.SENDING or not waits_for(c, now)]

    def send_due(self) -> list[SendReport]:
        reports = []
        for campaign in self.due_campaigns():
            if self.stop.is_set():
                break
            reports.append(self.send(campaign))
        return reports

    # -- one campaign -------------------------------------------------------------------

    def send(self, campaign: Campaign) -> SendReport:
        """Send what remains of ``campaign``, batch after batch, until done or stopped. A
        campaign deleted before or while it sends ends its run: ``status`` empty, the
        message saying so (a worker's list of due campaigns can be minutes old)."""
        report = SendReport(campaign.pk)
        try:
            self._send(campaign, report)
        except Campaign.DoesNotExist:
            report.status = ""
            report.message = _("The campaign was deleted.")
            logger.info("Campaign %s was deleted; its run ends", campaign.pk)
        return report

    def _send(self, campaign: Campaign, report: SendReport) -> None:
        if not self._start(campaign, report):
            report.status = Campaign.objects.get(pk=campaign.pk).status
            return
        self._settle_abandoned(campaign)
        if self._send_batches(campaign, report):
            self._finish_if_done(campaign)
        campaign.refresh_from_db()
        report.status = campaign.status
        report.message = report.message or campaign.last_message

    def _start(self, campaign: Campaign, report: SendReport) -> bool:
        campaign.refresh_from_db()
        if campaign.status == CampaignStatus.SENDING:
            return True
        if campaign.status != CampaignStatus.SCHEDULED:
            return False
        now = clock.now()
        report.waiting = waits_for(campaign, now)
        if report.waiting:
            return False
        refused = campaign.prepare_texts()  # a text changed since it was scheduled
        if refused:
            message = _("%(count)s number(s) have values that do not fit the text, e.g. %(entry)s: %(reason)s") % {
                "count": len(refused),
                "entry": refused[0].entry,
                "reason": refused[0].reason,
            }
            self._fail(campaign, message)
            report.message = message
            return False
        if campaign.is_marketing:
            report.skipped += skip_opted_out(campaign)
        if not self._balance_covers(campaign, report):
            return False
        started = Campaign.objects.filter(pk=campaign.pk, status=CampaignStatus.SCHEDULED).update(
            status=CampaignStatus.SENDING, started_at=now, last_message=""
        )
        if started:
            campaign.refresh_from_db()
            logger.info("Campaign %s started by %s", campaign.pk, self.worker)
            signals.send_on_commit(signals.campaign_started, Campaign, campaign=campaign)
        return True

    def _balance_covers(self, campaign: Campaign, report: SendReport) -> bool:
        if not veesing_settings.CHECK_BALANCE:
            return True
        campaign.refresh_from_db(fields=["pending_count"])
        needed = campaign.billed_messages
        try:
            balance = self.clients.for_kind(campaign.kind).balance()
        except ProviderError as error:
            self._fail(campaign, error.message)
            report.message = error.message
            return False
        except TransportError as error:
            report.message = _("Could not ask the provider for the balance: %(error)s") % {"error": error}
            return False
        except ConfigurationError as error:
            self._fail(campaign, error.message)
            report.message = error.message
            return False
        if balance < needed:
            message = _(
                "The balance (%(balance)s messages) does not cover this campaign (%(needed)s messages); "
                "top up the account, then schedule it again."
            ) % {"balance": balance, "needed": needed}
            self._fail(campaign, message)
            report.message = message
            return False
        return True

    def _still_sending(self, campaign: Campaign, report: SendReport) -> bool:
        """False when quiet hours begin (a cancelled campaign stops at its next claim)."""
        if campaign.kind == CampaignKind.MARKETING and in_quiet_hours(clock.now()):
            report.waiting = "quiet_hours"
            return False
        return True

    # -- the pipeline ---------------------------------------------------------------------

    def _send_batches(self, campaign: Campaign, report: SendReport) -> bool:
        """Claim, call and settle batch after batch; True when no work is left (or the
        campaign stopped sending), False when this run stopped early.

        Each batch is settled as soon as its answer comes, before the next call starts,
        so a worker that dies mid-call leaves one batch unsettled, never two. For a
        notification campaign the next batch is claimed while a call is in flight, so
        that part of the database's work hides behind the provider's latency; it waits
        as ``queued`` and is taken (``claimed``, committed) just before its own call, so
        a worker that dies leaves it queued for the next worker, not uncertain. A
        marketing campaign claims after each answer, so an opt-out that comes while a
        batch is out holds for the next one. Once ``stop`` is set nothing more is
        claimed or taken: the batch in flight is settled, one claimed ahead stays queued.
        """
        ahead = not campaign.is_marketing
        try:
            client = self.clients.for_kind(campaign.kind)
        except ConfigurationError as error:
            self._fail(campaign, error.message)
            report.message = error.message
            return False
        claim = self._next_claim(campaign, report)
        while claim is not None:
            batch, phones = claim
            if batch.state == BatchState.QUEUED:
                if self.stop.is_set():
                    return False  # the worker stops: the batch waits, queued, for the next one
                if not self._take(batch):
                    claim = self._next_claim(campaign, report)  # another worker took it, or sending stopped
                    continue
            call = self._calls.submit(
                client.send, phones, _text_of(campaign, batch), send_time=provider_send_time(campaign, clock.now())
            )
            if ahead:  # the next batch, while this call is in flight
                claim = self._next_claim(campaign, report, state=BatchState.QUEUED)
            if not self._answer(campaign, batch, phones, call, report):
                return False
            if not ahead:
                claim = self._next_claim(campaign, report)
        return report.waiting is None and not self.stop.is_set()

    def _next_claim(
        self, campaign: Campaign, report: SendReport, state: str = BatchState.CLAIMED
    ) -> tuple[Batch, list[str]] | None:
        """The next batch to send, or None when there is none, sending must pause or the
        worker stops."""
        while not self.stop.is_set() and self._still_sending(campaign, report):
            claim = self._claim(campaign, report, state)
            if claim is None:
                return None
            batch, phones = claim
            if batch is not None:
                return batch, phones
            # every number of that chunk had opted out: the next chunk
        return None

    def _take(self, batch: Batch) -> bool:
        """Claim a batch that waited as queued, committed before its call; False when
        another worker took it first or the campaign stopped sending."""
        now = clock.now()
        if prepared.usable(Batch):
            taken = statements.take_queued(batch.pk, self.worker, now)
        else:
            # The state is a condition on the batch row itself, checked again once another
            # worker's lock on it is gone (a join's would not be): one taker.
            sending = _campaigns().filter(pk=OuterRef("campaign_id"), status=CampaignStatus.SENDING)
            queued = Batch.objects.filter(Exists(sending), pk=batch.pk, state=BatchState.QUEUED)
            taken = queued.update(state=BatchState.CLAIMED, claimed_by=self.worker, claimed_at=now) == 1
        if taken:
            batch.state, batch.claimed_by, batch.claimed_at = BatchState.CLAIMED, self.worker, now
        return taken

    # -- claim, call, settle -------------------------------------------------------------

    def _claim(
        self, campaign: Campaign, report: SendReport, state: str = BatchState.CLAIMED
    ) -> tuple[Batch | None, list[str]] | None:
        """Claim the next batch (as ``state``: claimed, or queued until its call): None
        when no work is left or the campaign stopped sending, (None, []) when every number
        of the chunk had opted out.

        The next numbers after the campaign's cursor go first, taken under a lock on the
        campaign row: claiming writes one batch row (and the cursor) and links its numbers
        in one UPDATE. Then numbers waiting in a queued batch, which stays queued until it
        is taken just before its call.
        """
        alone = self._claims_alone(campaign)
        with nullcontext() if alone else transaction.atomic():
            status, batch, phones = self._next_batch(campaign, state)
            if status != CampaignStatus.SENDING:
                return None
            if batch is None:  # nothing left after the cursor: numbers to send again, if any
                queued = self._queued(campaign)
                if queued is None:
                    return None
                batch, phones = queued
            phones = self._without_opt_outs(campaign, batch, phones, report)
            if not phones:  # nothing left to send in it (unless another worker has taken it)
                Batch.objects.filter(pk=batch.pk, state=batch.state).delete()
                return None, []
            if len(phones) != batch.size:
                batch.size = len(phones)
                batch.save(update_fields=["size"])
        return batch, phones

    @staticmethod
    def _claims_alone(campaign: Campaign) -> bool:
        """Whether a claim is one statement committed on its own: a notification's, on
        PostgreSQL, outside a transaction. (A marketing claim also skips opt-outs, in the
        same transaction.)"""
        return (
            prepared.usable(Batch)
            and connection_for(Batch).get_autocommit()
            and not campaign.is_marketing
            and not campaign.is_personalised
        )

    @staticmethod
    def _queued(campaign: Campaign) -> tuple[Batch, list[str]] | None:
        """The campaign's oldest queued batch, with its phones. It stays queued until it is
        taken just before its call (``_take``): whichever worker takes it first sends it."""
        batch = Batch.objects.filter(campaign_id=campaign.pk, state=BatchState.QUEUED).order_by("id").first()
        if batch is None:
            return None
        return batch, list(batch.pending_recipients().order_by("id").values_list("phone", flat=True))

    def _next_batch(self, campaign: Campaign, state: str) -> tuple[str | None, Batch | None, list[str]]:
        """The campaign's status and, while it is sending, a new batch of the pending
        numbers after its cursor with their phones, the cursor moved past them and the
        numbers linked to the batch (one statement on PostgreSQL: ``statements``). No batch
        when none is left after it."""
        size, now = veesing_settings.BATCH_SIZE, clock.now()
        if campaign.is_personalised:
            return self._next_text_batch(campaign, state)
        if prepared.usable(Batch):
            status, claimed = statements.claim_range(campaign.pk, size, self.worker, now, state)
            if claimed is None:
                return status, None, []
            batch = Batch(
                pk=claimed.batch_id,
                campaign_id=campaign.pk,
                state=state,
                size=len(claimed.phones),
                claimed_by=self.worker,
                claimed_at=now,
                first_id=claimed.first_id,
                last_id=claimed.last_id,
            )
            return status, batch, claimed.phones
        status, cursor = _locked(campaign)
        if status != CampaignStatus.SENDING:
            return status, None, []
        after = _unclaimed(campaign).filter(AfterCursor(campaign.pk, cursor))
        rows = list(after.order_by("id").values_list("id", "phone")[:size])
        if not rows:
            return status, None, []
        first, last = rows[0][0], rows[-1][0]
        _campaigns().filter(pk=campaign.pk).update(claimed_through=last)
        batch = self._new_batch(campaign, state, rows, now)
        # Under the campaign's lock the rows of that id range still pending and unlinked are
        # exactly the ones taken.
        Recipient.objects.filter(
            campaign_id=campaign.pk, status=RecipientStatus.PENDING, batch__isnull=True, id__range=(first, last)
        ).update(batch=batch)
        return status, batch, [phone for _id, phone in rows]

    def _next_text_batch(self, campaign: Campaign, state: str) -> tuple[str | None, Batch | None, list[str]]:
        """A personalised campaign's next batch: the first number not claimed yet and the
        next ones with the same rendered text, up to ``BATCH_SIZE`` (found on the index of
        each text's numbers). The cursor moves to that first number: every one before it
        is claimed; later numbers already taken with an earlier text carry their batch."""
        size, now = veesing_settings.BATCH_SIZE, clock.now()
        status, cursor = _locked(campaign)
        if status != CampaignStatus.SENDING:
            return status, None, []
        after = _unclaimed(campaign).filter(AfterCursor(campaign.pk, cursor))
        first = after.order_by("id").select_related("text").only("id", "text").first()  # its text, for the call
        if first is None:
            return status, None, []
        same = _unclaimed(campaign).filter(text_id=first.text_id, id__gte=first.pk)
        rows = list(same.order_by("id").values_list("id", "phone")[:size])
        _campaigns().filter(pk=campaign.pk).update(claimed_through=first.pk)
        batch = self._new_batch(campaign, state, rows, now, text=first.text)
        same.filter(id__lte=batch.last_id).update(batch=batch)  # under the campaign's lock: exactly those taken
        return status, batch, [phone for _id, phone in rows]

    def _new_batch(
        self,
        campaign: Campaign,
        state: str,
        rows: list[tuple[int, str]],
        now: dt.datetime,
        text: CampaignText | None = None,
    ) -> Batch:
        """The batch of ``rows`` (id, phone; in id order) claimed by this worker."""
        return Batch.objects.create(
            campaign_id=campaign.pk,
            state=state,
            size=len(rows),
            claimed_by=self.worker,
            claimed_at=now,
            first_id=rows[0][0],
            last_id=rows[-1][0],
            text=text,
        )

    @staticmethod
    def _without_opt_outs(campaign: Campaign, batch: Batch, phones: list[str], report: SendReport) -> list[str]:
        """The phones to send: a marketing campaign skips those who opted out."""
        if not campaign.is_marketing:
            return phones
        opted_out = set(OptOut.objects.filter(phone__in=phones).values_list("phone", flat=True))
        if not opted_out:
            return phones
        skipped = (
            batch.pending_recipients().filter(phone__in=opted_out).update(status=RecipientStatus.SKIPPED, batch=None)
        )
        move_counts(campaign.pk, pending=-skipped, skipped=skipped)
        report.skipped += skipped
        return [phone for phone in phones if phone not in opted_out]

    def _answer(
        self, campaign: Campaign, batch: Batch, phones: list[str], call: Future[SendResult], report: SendReport
    ) -> bool:
        """Wait for one batch's call and settle the batch by its answer. False when this
        run should stop."""
        report.batches += 1
        try:
            result = call.result()
        except TransportError as error:
            if error.maybe_sent:
                mark_uncertain(batch, error.message)
                report.uncertain += 1
            else:
                release(batch, error.message)
            _note(campaign, error.message)
            report.message = error.message
            return False
        except ProviderError as error:
            if error.scope == "numbers":
                fail_numbers(batch, error.message)
                report.failed += len(phones)
                _note(campaign, error.message)
                return True
            release(batch, error.message, state=BatchState.REFUSED)
            self._fail(campaign, error.message)
            report.message = error.message
            return False
        except InvalidRequest as error:
            fail_numbers(batch, error.message)
            report.failed += len(phones)
            return True
        report.submitted += len(phones)
        settlement = statements.Settlement(
            batch.pk, result.task_id, result.success_count, result.remain_point, result.message, clock.now()
        )
        settle_accepted(batch, settlement)
        return True

    def _fail(self, campaign: Campaign, message: str) -> None:
        _campaigns().filter(pk=campaign.pk).exclude(status=CampaignStatus.CANCELLED).update(
            status=CampaignStatus.FAILED, last_message=message, finished_at=clock.now()
        )
        logger.warning("Campaign %s failed: %s", campaign.pk, message)

    def _finish_if_done(self, campaign: Campaign) -> None:
        self._settle_abandoned(campaign)
        if Batch.objects.filter(campaign_id=campaign.pk, state__in=[BatchState.CLAIMED, BatchState.QUEUED]).exists():
            return  # another worker is still sending a batch
        if unclaimed(campaign).exists():
            return
        finished = (
            _campaigns()
            .filter(pk=campaign.pk, status=CampaignStatus.SENDING)
            .update(status=CampaignStatus.SENT, finished_at=clock.now())
        )
        if finished:
            campaign.refresh_from_db()
            logger.info("Campaign %s sent", campaign.pk)
            signals.send_on_commit(signals.campaign_finished, Campaign, campaign=campaign)

    def _settle_abandoned(self, campaign: Campaign) -> None:
        """Claimed batches whose worker died are uncertain: they may have reached the provider."""
        now = clock.now()
        for batch in Batch.objects.filter(campaign_id=campaign.pk, state=BatchState.CLAIMED).exclude(
            claimed_by=self.worker
        ):
            if claim_abandoned(batch.claimed_by, batch.claimed_at, now):
                mark_uncertain(batch, abandoned_message(batch.claimed_by))


def _campaigns() -> QuerySet[Campaign]:
    """Campaign rows without the counts ``Campaign.objects`` annotates, which a claim or a
    status change never reads: built for every batch, those subqueries were a quarter of
    the worker's own time (sampled with py-spy; 200,000 numbers took the worker 1.5–1.65 s
    of CPU with them, 0.65–1.0 s without)."""
    return Campaign._base_manager.all()


def _locked(campaign: Campaign) -> tuple[str, int]:
    """The campaign's status and cursor, its row locked until the transaction ends."""
    locked = _campaigns().select_for_update().filter(pk=campaign.pk).values_list("status", "claimed_through")
    return locked.get()


def _unclaimed(campaign: Campaign) -> QuerySet[Recipient]:
    """The campaign's numbers pending and in no batch (read under the campaign's lock)."""
    return Recipient.objects.filter(campaign_id=campaign.pk, status=RecipientStatus.PENDING, batch__isnull=True)


def _text_of(campaign: Campaign, batch: Batch) -> str:
    """The text a batch's numbers get: its own rendered text (read with the claim, or
    else now), or the campaign's."""
    text = batch.text
    return campaign.text if text is None else text.text


def _note(campaign: Campaign, message: str) -> None:
    _campaigns().filter(pk=campaign.pk).update(last_message=message)
