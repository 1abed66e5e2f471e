"""Sending the messages from code (``send_message``), with the campaigns' discipline.

Due messages of one text, kind and account go out together, up to ``BATCH_SIZE``
numbers a call. Each batch is claimed in the database (committed) before its call and
settled right after:

- accepted → the messages are ``submitted`` with the task id;
- the connection could not be made → the batch is ``released``, its messages wait again;
- no readable answer → the messages are ``uncertain``: never sent again without an
  operator (``resend_uncertain_messages``);
- a refusal of the account (balance, locked, credentials) → its messages wait and the
  account is stopped (``AccountHold``) until an operator resumes it;
- any other refusal → the batch's messages fail with the provider's text.

A number gets one message a minute at most (the provider refuses a second one within a
minute, and would refuse the whole batch with it): a message to a number sent to less
than a minute ago, or in flight, waits for the next claim. Marketing messages wait out
quiet hours and skip numbers that opted out. A claim takes its rows with ``SKIP LOCKED``
where the database has it, so workers share the queue; the conditional link of the rows
to the batch keeps each in one batch on any database.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass, field

from django.db import connections, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .. import clock, signals
from ..conf import veesing_settings
from ..exceptions import ConfigurationError, InvalidRequest, ProviderError, TransportError
from ..models import AccountHold, BatchState, CampaignKind, Message, MessageBatch, MessageStatus, OptOut
from ..provider.client import SendResult
from ..receiving.receipts import link_early_message_receipts
from ..rules.schedule import in_quiet_hours
from ..rules.segments import cost
from .clients import Clients
from .workers import abandoned_message, claim_abandoned

logger = logging.getLogger(__name__)

#: The provider takes one message a minute to a number.
ONE_A_MINUTE = dt.timedelta(seconds=60)


@dataclass
class MessageReport:
    """What one run did to the messages."""

    batches: int = 0
    submitted: int = 0
    failed: int = 0
    skipped: int = 0
    uncertain: int = 0
    stopped_accounts: list[str] = field(default_factory=list)
    message: str = ""


class MessageSender:
    """Sends the due messages, batch after batch, until none is left or a call's answer is lost."""

    def __init__(self, clients: Clients, worker: str, stop: threading.Event | None = None) -> None:
        self.clients = clients
        self.worker = worker
        self.stop = stop or threading.Event()  # set: no claim after the batch in flight
        self._balances: dict[str, int] = {}  # what each account's last answer said is left

    def send_due(self) -> MessageReport:
        report = MessageReport()
        settle_abandoned(self.worker)
        held = set(AccountHold.objects.values_list("account", flat=True))
        while not self.stop.is_set():
            claim = self._claim(held, report)
            if claim is None:
                return report
            batch, phones = claim
            if not phones:
                continue  # every number of it had opted out
            if not self._covered(batch, phones, held, report):
                if report.message:
                    return report
                continue
            if not self._send(batch, phones, held, report):
                return report
        return report

    # -- claim --------------------------------------------------------------------------

    def _claim(self, held: set[str], report: MessageReport) -> tuple[MessageBatch, list[str]] | None:
        now = clock.now()
        with transaction.atomic():
            due = self._locking(_due(now, held))
            group = due.order_by("id").values("account", "kind", "text").first()
            if group is None:
                return None
            picked: dict[str, int] = {}
            for pk, phone in (
                due.filter(**group).order_by("id").values_list("id", "phone")[: veesing_settings.BATCH_SIZE]
            ):
                picked.setdefault(phone, pk)  # one message a number a batch; the next waits
            batch = MessageBatch.objects.create(
                **group, state=BatchState.CLAIMED, size=len(picked), claimed_by=self.worker, claimed_at=now
            )
            pending = Message.objects.filter(status=MessageStatus.PENDING, batch__isnull=True)
            taken = pending.filter(id__in=picked.values()).update(batch=batch)
            phones = list(picked) if taken == len(picked) else _phones(batch)
            if group["kind"] == CampaignKind.MARKETING:
                phones = self._without_opt_outs(batch, phones, report)
            if len(phones) != batch.size:
                MessageBatch.objects.filter(pk=batch.pk).update(size=len(phones))
            if not phones:
                MessageBatch.objects.filter(pk=batch.pk).delete()
        return batch, phones

    @staticmethod
    def _locking(due: QuerySet[Message]) -> QuerySet[Message]:
        if connections[due.db].features.has_select_for_update_skip_locked:
            return due.select_for_update(skip_locked=True)
        return due  # SQLite: one writer at a time; the conditional link decides

    @staticmethod
    def _without_opt_outs(batch: MessageBatch, phones: list[str], report: MessageReport) -> list[str]:
        opted_out = set(OptOut.objects.filter(phone__in=phones).values_list("phone", flat=True))
        if opted_out:
            report.skipped += batch.messages.filter(phone__in=opted_out).update(
                status=MessageStatus.SKIPPED, batch=None
            )
        return [phone for phone in phones if phone not in opted_out]

    # -- balance ------------------------------------------------------------------------

    def _covered(self, batch: MessageBatch, phones: list[str], held: set[str], report: MessageReport) -> bool:
        """Whether the account's balance covers the batch (asked once a run, then known from
        each answer); if not, the account stops and the batch's messages wait."""
        if not veesing_settings.CHECK_BALANCE:
            return True
        needed = cost(batch.text, len(phones))
        if batch.account not in self._balances:
            try:
                self._balances[batch.account] = self.clients(batch.account).balance()
            except ProviderError as error:
                if error.scope == "account":
                    return self._stop_account(batch, error.message, held, report)
                release(batch, error.message)  # nothing was sent: the batch waits for the next run
                report.message = _("Could not ask the provider for the balance: %(error)s") % {"error": error}
                return False
            except (TransportError, ConfigurationError) as error:
                release(batch, str(error))
                report.message = _("Could not ask the provider for the balance: %(error)s") % {"error": error}
                return False
        balance = self._balances[batch.account]
        if balance >= needed:
            return True
        reason = _(
            "The balance (%(balance)s messages) does not cover the next messages (%(needed)s); "
            "top up the account, then resume it."
        ) % {"balance": balance, "needed": needed}
        return self._stop_account(batch, reason, held, report)

    def _stop_account(self, batch: MessageBatch, reason: str, held: set[str], report: MessageReport) -> bool:
        release(batch, reason, state=BatchState.REFUSED)
        AccountHold.objects.update_or_create(account=batch.account, defaults={"reason": reason, "since": clock.now()})
        logger.warning("Account %s stopped: %s", batch.account, reason)
        held.add(batch.account)
        report.stopped_accounts.append(batch.account)
        return False

    # -- call and settle ----------------------------------------------------------------

    def _send(self, batch: MessageBatch, phones: list[str], held: set[str], report: MessageReport) -> bool:
        """Call the provider for one batch and settle it; False when this run should stop."""
        report.batches += 1
        try:
            result = self.clients(batch.account).send(phones, batch.text)
        except TransportError as error:
            if error.maybe_sent:
                mark_uncertain(batch, error.message)
                report.uncertain += len(phones)
            else:
                release(batch, error.message)
            report.message = error.message
            return False
        except ConfigurationError as error:
            self._stop_account(batch, error.message, held, report)
            return True
        except ProviderError as error:
            if error.scope == "account":
                self._stop_account(batch, error.message, held, report)
                return True
            report.failed += fail(batch, error.message)
            return True
        except InvalidRequest as error:
            report.failed += fail(batch, error.message)
            return True
        report.submitted += settle_accepted(batch, result)
        if result.remain_point is not None:
            self._balances[batch.account] = result.remain_point
        else:
            self._balances.pop(batch.account, None)
        return True


def _due(now: dt.datetime, held: set[str]) -> QuerySet[Message]:
    """Messages waiting for a claim now: due, through a running account, to a number not
    sent to in the last minute nor in flight, marketing outside quiet hours."""
    busy = Message.objects.filter(
        Q(status=MessageStatus.PENDING, batch__isnull=False) | Q(submitted_at__gt=now - ONE_A_MINUTE)
    ).values("phone")
    due = Message.objects.filter(status=MessageStatus.PENDING, batch__isnull=True)
    due = due.filter(Q(send_at__isnull=True) | Q(send_at__lte=now)).exclude(phone__in=busy)
    if held:
        due = due.exclude(account__in=held)
    if in_quiet_hours(now):
        due = due.exclude(kind=CampaignKind.MARKETING)
    return due


def _phones(batch: MessageBatch) -> list[str]:
    return list(batch.messages.order_by("id").values_list("phone", flat=True))


def settle_accepted(batch: MessageBatch, result: SendResult) -> int:
    """The provider accepted ``batch``: it and its messages are submitted; returns how many."""
    now = clock.now()
    with transaction.atomic():
        settled = MessageBatch.objects.filter(pk=batch.pk, state__in=[BatchState.CLAIMED, BatchState.UNCERTAIN])
        if not settled.update(
            state=BatchState.SUBMITTED,
            task_id=result.task_id,
            success_count=result.success_count,
            remain_point=result.remain_point,
            message=result.message,
            sent_at=now,
        ):
            return 0
        moving = batch.messages.filter(status__in=[MessageStatus.PENDING, MessageStatus.UNCERTAIN])
        moved = moving.update(status=MessageStatus.SUBMITTED, task_id=result.task_id, submitted_at=now, error="")
        link_early_message_receipts(result.task_id)
        _signal(signals.message_submitted, batch)
    return moved


def mark_uncertain(batch: MessageBatch, reason: str) -> None:
    with transaction.atomic():
        if MessageBatch.objects.filter(pk=batch.pk, state=BatchState.CLAIMED).update(
            state=BatchState.UNCERTAIN, message=reason
        ):
            batch.messages.filter(status=MessageStatus.PENDING).update(status=MessageStatus.UNCERTAIN, error=reason)
    logger.warning("Message batch %s is uncertain: %s", batch.pk, reason)


def release(batch: MessageBatch, reason: str, state: str = BatchState.RELEASED) -> None:
    """Nothing was sent: the batch's messages wait for a later claim."""
    with transaction.atomic():
        batch.messages.filter(status=MessageStatus.PENDING).update(batch=None)
        MessageBatch.objects.filter(pk=batch.pk).update(state=state, message=reason)


def fail(batch: MessageBatch, reason: str) -> int:
    """The provider refused the batch's messages: they fail with its text; returns how many."""
    with transaction.atomic():
        failed = batch.messages.filter(status=MessageStatus.PENDING).update(status=MessageStatus.FAILED, error=reason)
        MessageBatch.objects.filter(pk=batch.pk).update(state=BatchState.REFUSED, message=reason)
        _signal(signals.message_failed, batch, status=MessageStatus.FAILED)
    return failed


def _signal(signal: signals.Signal, batch: MessageBatch, status: str = MessageStatus.SUBMITTED) -> None:
    """Send ``signal`` for each of the batch's messages now in ``status`` (after the commit);
    the rows are read only when someone listens."""
    if signal.has_listeners(Message):
        for message in batch.messages.filter(status=status).order_by("id"):
            signals.send_on_commit(signal, Message, message=message)


def settle_abandoned(worker: str) -> int:
    """Claimed message batches whose worker died are uncertain: they may have reached the provider."""
    now = clock.now()
    abandoned = 0
    for batch in MessageBatch.objects.filter(state=BatchState.CLAIMED).exclude(claimed_by=worker):
        if claim_abandoned(batch.claimed_by, batch.claimed_at, now):
            mark_uncertain(batch, abandoned_message(batch.claimed_by))
            abandoned += 1
    return abandoned


def resend_uncertain_messages(messages: QuerySet[Message]) -> int:
    """An operator's word: send the uncertain ``messages`` again (they may arrive twice)."""
    return messages.filter(status=MessageStatus.UNCERTAIN).update(status=MessageStatus.PENDING, batch=None, error="")


def resume_account(account: str) -> bool:
    """An operator's word: the account may send again (after a top-up, say)."""
    deleted, _rows = AccountHold.objects.filter(account=account).delete()
    return bool(deleted)
