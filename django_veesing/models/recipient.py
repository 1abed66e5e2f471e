"""A campaign's recipients, and the numbers that asked for no more marketing texts."""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .. import clock
from ..rules.phones import MAINLAND_MOBILE_PATTERN
from .choices import OptOutSource, RecipientStatus


class Recipient(models.Model):
    # Indexed by the (campaign, phone) unique constraint below.
    campaign = models.ForeignKey(
        "django_veesing.Campaign", models.CASCADE, related_name="recipients", verbose_name=_("campaign"), db_index=False
    )
    phone = models.CharField(_("phone"), max_length=11)
    status = models.CharField(
        _("status"), max_length=16, choices=RecipientStatus.choices, default=RecipientStatus.PENDING
    )
    # A claim sets it on every row of a batch, so nothing may make that update costly
    # (measured per row, docs/performance.rst): no index (a batch finds its rows by its
    # id range, ``Batch.rows``) and no database constraint, whose deferred check ran one
    # look-up of the batch per row (5 of the 9.5 µs a claim and its settlement took a row). Django still applies
    # ``SET_NULL`` itself when a batch is deleted, and only the app writes this column.
    batch = models.ForeignKey(
        "django_veesing.Batch",
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="recipients",
        verbose_name=_("batch"),
        db_index=False,
        db_constraint=False,
    )
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    #: The values that came with the number, by column name (a personalised text's fields).
    values = models.JSONField(_("values"), null=True, blank=True)
    #: A personalised campaign's text for this number (``CampaignText``); none for one text to all.
    #: No database constraint either: an import links every number to its text, and the
    #: constraint's deferred check looked each text up again at commit (measured: a third
    #: of a personalised import's time, docs/performance.rst). Only the app writes it, in
    #: the transaction that stores the text. Django applies ``RESTRICT``: a text its numbers
    #: still use cannot be deleted, except with its campaign (which deletes them too).
    text = models.ForeignKey(
        "django_veesing.CampaignText",
        models.RESTRICT,
        null=True,
        blank=True,
        related_name="recipients",
        verbose_name=_("rendered text"),
        db_index=False,
        db_constraint=False,
    )
    receipt_code = models.CharField(_("receipt code"), max_length=32, blank=True)
    receipt_at = models.DateTimeField(_("receipt time"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        constraints = [models.UniqueConstraint(fields=["campaign", "phone"], name="veesing_recipient_unique")]
        # No index holds (or is conditioned on) ``batch``, ``status`` or ``task_id``: a
        # claim, its settlement, receipts and expiry change them on every row, and with no
        # index to update (and room left on each page: the table's fillfactor, set by the migration) PostgreSQL
        # rewrites the row in place (a HOT update), at a fraction of the cost. A claim
        # takes the next rows after the campaign's cursor in (campaign, id) order.
        indexes = [
            models.Index(fields=["campaign", "id"], name="veesing_recipient_order"),
            models.Index(fields=["phone"], name="veesing_recipient_phone"),
            # A personalised campaign claims the numbers of one text together. ``text`` is
            # written only by imports and ``prepare_texts``, never while sending.
            models.Index(
                fields=["campaign", "text", "id"],
                name="veesing_recipient_text",
                condition=models.Q(text__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.phone


class OptOut(models.Model):
    """A number that asked for no more marketing texts; stored as 11 digits, or it would
    never match a recipient (``full_clean`` and the admin's form check it)."""

    phone = models.CharField(
        _("phone"),
        max_length=11,
        unique=True,
        validators=[RegexValidator(MAINLAND_MOBILE_PATTERN, _("Enter an 11-digit mainland mobile number."))],
    )
    source = models.CharField(_("source"), max_length=16, choices=OptOutSource.choices, default=OptOutSource.ADMIN)
    created_at = models.DateTimeField(_("time"), default=clock.now, editable=False)

    class Meta:
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.phone
