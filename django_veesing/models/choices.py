"""The statuses and kinds the models' fields choose from."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CampaignKind(models.TextChoices):
    MARKETING = "marketing", _("marketing")
    NOTIFICATION = "notification", _("notification")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SCHEDULED = "scheduled", _("scheduled")
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    CANCELLED = "cancelled", _("cancelled")


class RecipientStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SUBMITTED = "submitted", _("submitted")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")
    SKIPPED = "skipped", _("skipped (opted out)")
    EXPIRED = "expired", _("expired (no receipt)")


class MessageStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    SUBMITTED = "submitted", _("submitted")
    DELIVERED = "delivered", _("delivered")
    FAILED = "failed", _("failed")
    UNCERTAIN = "uncertain", _("uncertain (the answer was lost)")
    EXPIRED = "expired", _("expired (no receipt)")
    SKIPPED = "skipped", _("skipped (opted out)")


class BatchState(models.TextChoices):
    QUEUED = "queued", _("waiting to be sent")
    CLAIMED = "claimed", _("claimed")
    SUBMITTED = "submitted", _("submitted")
    REFUSED = "refused", _("refused")
    UNCERTAIN = "uncertain", _("uncertain")
    RELEASED = "released", _("released (not sent)")
    RESENT = "resent", _("resent by an operator")


class TrialState(models.TextChoices):
    SENDING = "sending", _("sending")
    SUBMITTED = "submitted", _("submitted")
    FAILED = "failed", _("failed")
    UNCERTAIN = "uncertain", _("uncertain (the answer was lost)")


class VerificationState(models.TextChoices):
    SENDING = "sending", _("sending")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed (not sent)")
    UNCERTAIN = "uncertain", _("uncertain (the answer was lost)")


class OptOutSource(models.TextChoices):
    REPLY = "reply", _("reply")
    ADMIN = "admin", _("admin")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("importing")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")
