"""What the provider pushes: receipts and replies, and the pushes that could not be read."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import clock


class Receipt(models.Model):
    """A delivery receipt pushed by the provider, stored as it came and as parsed."""

    fingerprint = models.CharField(_("fingerprint"), max_length=40, unique=True, editable=False)
    task_id = models.CharField(_("task id"), max_length=64)
    phone = models.CharField(_("phone"), max_length=11)
    delivered = models.BooleanField(_("delivered"))
    code = models.CharField(_("code"), max_length=32, blank=True)
    received_at = models.DateTimeField(_("receipt time"))
    recipient = models.ForeignKey(
        "django_veesing.Recipient",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="receipts",
        verbose_name=_("recipient"),
    )
    message = models.ForeignKey(
        "django_veesing.Message",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="receipts",
        verbose_name=_("text message"),
    )
    raw = models.JSONField(_("as pushed"), default=dict)
    created_at = models.DateTimeField(_("stored"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["task_id", "phone"], name="veesing_receipt_task"),
            models.Index(
                fields=["task_id"],
                name="veesing_receipt_unmatched",
                condition=models.Q(recipient__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.phone} {self.code or ('1' if self.delivered else '0')}"


class Reply(models.Model):
    """A recipient's answer, pushed by the provider."""

    fingerprint = models.CharField(_("fingerprint"), max_length=40, unique=True, editable=False)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    phone = models.CharField(_("phone"), max_length=11, db_index=True)
    content = models.TextField(_("content"))
    received_at = models.DateTimeField(_("reply time"))
    recipient = models.ForeignKey(
        "django_veesing.Recipient",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("recipient"),
    )
    message = models.ForeignKey(
        "django_veesing.Message",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("text message"),
    )
    campaign = models.ForeignKey(
        "django_veesing.Campaign",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("campaign"),
    )
    opt_out = models.BooleanField(_("opt-out"), default=False)
    raw = models.JSONField(_("as pushed"), default=dict)
    created_at = models.DateTimeField(_("stored"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("reply")
        verbose_name_plural = _("replies")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.phone}: {self.content[:20]}"


class RejectedPush(models.Model):
    """A push the callback refused (malformed, too large): kept so nothing is silently lost."""

    reason = models.TextField(_("reason"))
    body = models.TextField(_("body"), blank=True)
    truncated = models.BooleanField(_("truncated"), default=False)
    content_type = models.CharField(_("content type"), max_length=200, blank=True)
    kind = models.CharField(_("address"), max_length=16, blank=True)
    remote_addr = models.GenericIPAddressField(_("remote address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=clock.now, editable=False)
    replayed_at = models.DateTimeField(_("replayed"), null=True, blank=True)

    class Meta:
        verbose_name = _("rejected push")
        verbose_name_plural = _("rejected pushes")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.reason[:60]}"
