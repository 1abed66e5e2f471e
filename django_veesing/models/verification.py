"""Verification codes (验证码): one row a code sent, holding a keyed hash of it, never the code."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import clock
from .choices import VerificationState


class VerificationCode(models.Model):
    """A code sent to ``phone`` for ``purpose``: written before the provider's call
    (``sending``), then ``sent``, ``failed`` (nothing reached the phone) or ``uncertain``
    (the answer was lost: the phone may have it). It checks at most once (``used_at``),
    before ``expires_at``, and dies after too many wrong tries. ``digest`` is an HMAC of
    the code keyed from ``SECRET_KEY``: the code itself is never stored."""

    phone = models.CharField(_("phone"), max_length=11)
    purpose = models.CharField(_("purpose"), max_length=32, default="login")
    digest = models.CharField(_("digest"), max_length=64, editable=False)
    client_ip = models.GenericIPAddressField(_("client address"), null=True, blank=True)
    account = models.CharField(_("account"), max_length=64)
    state = models.CharField(
        _("state"), max_length=16, choices=VerificationState.choices, default=VerificationState.SENDING
    )
    task_id = models.CharField(_("task id"), max_length=64, blank=True)
    message = models.TextField(_("provider's message"), blank=True)
    tries = models.PositiveSmallIntegerField(_("wrong tries"), default=0)
    created_at = models.DateTimeField(_("created"), default=clock.now, editable=False)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("verification code")
        verbose_name_plural = _("verification codes")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["phone", "purpose", "id"], name="veesing_code_phone"),
            models.Index(fields=["client_ip", "created_at"], name="veesing_code_ip"),
            models.Index(fields=["created_at"], name="veesing_code_created"),
        ]

    def __str__(self) -> str:
        return gettext("code for %(phone)s (%(purpose)s)") % {"phone": self.phone, "purpose": self.purpose}
