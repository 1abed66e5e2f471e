"""Messages from code: one text to one number (``send_message``), sent in batches of the
same text, with the fate of each kept on its row; and the accounts whose sending stopped."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import clock
from .batch import ProviderCall
from .choices import CampaignKind, MessageStatus


class MessageBatch(ProviderCall):
    """One call to the provider for messages of one text, kind and account: claimed in the
    database before it, settled right after (as a campaign's ``Batch``)."""

    account = models.CharField(_("account"), max_length=64)
    kind = models.CharField(_("kind"), max_length=16, choices=CampaignKind.choices)
    text = models.TextField(_("text as sent"))

    class Meta:
        verbose_name = _("message batch")
        verbose_name_plural = _("message batches")
        ordering = ["id"]
        indexes = [models.Index(fields=["state"], name="veesing_msgbatch_state")]

    def __str__(self) -> str:
        return gettext("message batch %(id)s (%(state)s)") % {"id": self.pk, "state": self.get_state_display()}


class Message(models.Model):
    """One text to one number, stored by ``django_veesing.send_message`` and sent by the
    worker. ``status`` is its fate: ``pending`` until the provider accepts it (with its
    ``batch`` while the call is in flight), then ``submitted`` with the ``task_id``, and
    ``delivered`` or ``failed`` by its receipt; ``uncertain`` when the provider's answer was
    lost (never sent again without an operator), ``expired`` when no receipt came,
    ``skipped`` when a marketing text's number had opted out."""

    phone = models.CharField(_("phone"), max_length=11)
    text = models.TextField(_("text as sent"))
    kind = models.CharField(_("kind"), max_length=16, choices=CampaignKind.choices, default=CampaignKind.NOTIFICATION)
    account = models.CharField(_("account"), max_length=64)
    key = models.CharField(
        _("idempotency key"),
        max_length=200,
        unique=True,
        null=True,
        blank=True,
        help_text=_("The caller's own name for this message; a second call with it sends nothing more."),
    )
    status = models.CharField(_("status"), max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING)
    send_at = models.DateTimeField(_("send at"), null=True, blank=True)
    metadata = models.JSONField(_("metadata"), default=dict, blank=True)
    # Indexed with the phone below: a receipt finds its message by (batch, phone).
    batch = models.ForeignKey(
        MessageBatch,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("batch"),
        db_index=False,
    )
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    receipt_code = models.CharField(_("receipt code"), max_length=32, blank=True)
    receipt_at = models.DateTimeField(_("receipt time"), null=True, blank=True)
    error = models.TextField(_("provider's message"), blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)

    class Meta:
        verbose_name = _("text message")
        verbose_name_plural = _("text messages")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["batch", "phone"], name="veesing_message_batch"),
            models.Index(fields=["phone"], name="veesing_message_phone"),
            models.Index(fields=["created_at"], name="veesing_message_created"),
            # The messages waiting for a claim, oldest first.
            models.Index(
                fields=["id"],
                name="veesing_message_due",
                condition=models.Q(status="pending", batch__isnull=True),
            ),
            models.Index(fields=["submitted_at"], name="veesing_message_submitted"),
        ]

    def __str__(self) -> str:
        return gettext("message %(id)s to %(phone)s (%(status)s)") % {
            "id": self.pk,
            "phone": self.phone,
            "status": self.get_status_display(),
        }


class AccountHold(models.Model):
    """An account the provider refused (balance, locked, credentials): no message goes
    out through it until an operator resumes it (deleting the hold)."""

    account = models.CharField(_("account"), max_length=64, unique=True)
    reason = models.TextField(_("reason"))
    since = models.DateTimeField(_("since"), default=clock.now)

    class Meta:
        verbose_name = _("stopped account")
        verbose_name_plural = _("stopped accounts")
        ordering = ["account"]

    def __str__(self) -> str:
        return self.account
