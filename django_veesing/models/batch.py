"""Batches: one call to the provider each, claimed before it and settled after it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import clock
from .choices import BatchState, RecipientStatus
from .recipient import Recipient


class ProviderCall(models.Model):
    """What every batch records of its one call to the provider: its state, how many
    numbers, who claimed it when, and what the provider answered."""

    state = models.CharField(_("state"), max_length=16, choices=BatchState.choices, default=BatchState.CLAIMED)
    size = models.PositiveIntegerField(_("numbers"), default=0)
    task_id = models.CharField(_("task id"), max_length=64, blank=True, db_index=True)
    success_count = models.PositiveIntegerField(_("accepted by the provider"), null=True, blank=True)
    remain_point = models.BigIntegerField(_("balance after"), null=True, blank=True)
    message = models.TextField(_("provider's message"), blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True)
    claimed_at = models.DateTimeField(_("claimed"), default=clock.now)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        abstract = True


class Batch(ProviderCall):
    """One call to the provider: claimed in the database before it, settled right after.

    Its numbers are the recipients linked to it (``recipients``), all with ids from
    ``first_id`` to ``last_id``: a batch claimed from the campaign's cursor took the pending
    numbers of that range, a ``queued`` batch (numbers to send again) spans the ids it was
    given. While its call is in flight they read ``pending`` with this batch, and once the
    provider accepts it ``submitted`` with its ``task_id``. No index holds the recipients'
    ``batch`` (see ``Recipient``): ``rows()`` finds them by that range.
    """

    # Indexed by (campaign, state) below.
    campaign = models.ForeignKey(
        "django_veesing.Campaign", models.CASCADE, related_name="batches", verbose_name=_("campaign"), db_index=False
    )
    first_id = models.BigIntegerField(_("first recipient id"), null=True, blank=True, editable=False)
    last_id = models.BigIntegerField(_("last recipient id"), null=True, blank=True, editable=False)
    #: A personalised campaign's batch: the one text all its numbers get (else the campaign's).
    #: Like ``Recipient.text``, deleted only with its campaign.
    text = models.ForeignKey(
        "django_veesing.CampaignText",
        models.RESTRICT,
        null=True,
        blank=True,
        related_name="batches",
        verbose_name=_("rendered text"),
        db_index=False,
    )

    class Meta:
        verbose_name = _("batch")
        verbose_name_plural = _("batches")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["campaign", "state"], name="veesing_batch_state"),
            models.Index(fields=["campaign", "first_id"], name="veesing_batch_range"),
            # The campaign page's latest batches: by the primary key, an older campaign's
            # were found by walking every newer batch (121 ms past 300,000; 0.1 ms so).
            models.Index(fields=["campaign", "id"], name="veesing_batch_latest"),
        ]

    def __str__(self) -> str:
        return gettext("batch %(id)s (%(state)s)") % {"id": self.pk, "state": self.get_state_display()}

    def rows(self) -> models.QuerySet[Recipient]:
        """The batch's numbers: the same as ``recipients``, found by the batch's id range
        (a batch made by hand without one is found by the link alone, by a scan)."""
        return Recipient.objects.filter(self.rows_q())

    def rows_q(self) -> models.Q:
        linked = models.Q(batch_id=self.pk)
        if self.text_id is not None:  # found on the index of its text's numbers
            linked &= models.Q(campaign_id=self.campaign_id, text_id=self.text_id)
        if self.first_id is None or self.last_id is None:
            return linked
        return linked & models.Q(campaign_id=self.campaign_id, id__range=(self.first_id, self.last_id))

    def pending_recipients(self) -> models.QuerySet[Recipient]:
        """The batch's numbers not settled yet."""
        return self.rows().filter(status=RecipientStatus.PENDING)


def rows_of(batches: models.QuerySet[Batch]) -> models.QuerySet[Recipient]:
    """The numbers of ``batches`` (a few: the uncertain or queued ones of a campaign), each
    batch's found by its id range."""
    ranged = models.Q()
    for batch in batches.only("id", "campaign_id", "first_id", "last_id", "text_id"):
        ranged |= batch.rows_q()
    return Recipient.objects.filter(ranged) if ranged else Recipient.objects.none()
