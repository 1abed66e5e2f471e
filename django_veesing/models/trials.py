"""Trial sends: a campaign's text sent to an operator's own numbers before the real send."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import clock
from .choices import TrialState


class TrialSend(models.Model):
    """One trial send, written before its call (``sending``) and settled after it: the
    provider took it (``submitted``), refused it (``failed``) or its answer was lost
    (``uncertain``: the numbers may have the text). Its numbers are never the campaign's
    recipients and never counted with them; receipts for its task stay unmatched."""

    campaign = models.ForeignKey(
        "django_veesing.Campaign", models.CASCADE, related_name="trials", verbose_name=_("campaign")
    )
    phones = models.TextField(_("numbers"), help_text=_("The 11-digit numbers, separated by commas."))
    text = models.TextField(_("text as sent"))
    state = models.CharField(_("state"), max_length=16, choices=TrialState.choices, default=TrialState.SENDING)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    message = models.TextField(_("provider's message"), blank=True)
    requested_by = models.CharField(_("requested by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("trial send")
        verbose_name_plural = _("trial sends")
        ordering = ["-id"]

    def __str__(self) -> str:
        return gettext("trial send %(id)s (%(state)s)") % {"id": self.pk, "state": self.get_state_display()}
