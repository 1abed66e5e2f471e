"""A personalised campaign's texts as the phones will show them, each stored once.

Every recipient of a campaign whose text holds ``{field}`` placeholders links to its
rendered text (``Recipient.text``); recipients whose texts are identical link to the same
row, so they can share provider calls (``Batch.text``). Rows are written when numbers are
imported and again, all at once, when the campaign's text changed since
(``Campaign.prepare_texts``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Count, F, Max, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _


class CampaignText(models.Model):
    # No database constraint (checked at commit, one look-up a text, with the recipients'
    # link a third of an import): texts are stored only by the import holding the
    # campaign's row; Django cascades deletes.
    campaign = models.ForeignKey(
        "django_veesing.Campaign",
        models.CASCADE,
        related_name="texts",
        verbose_name=_("campaign"),
        db_index=False,
        db_constraint=False,
    )
    text = models.TextField(_("text"))
    length = models.PositiveIntegerField(_("characters"))
    segments = models.PositiveIntegerField(_("messages per number"))

    class Meta:
        verbose_name = _("rendered text")
        verbose_name_plural = _("rendered texts")
        constraints = [models.UniqueConstraint(fields=["campaign", "text"], name="veesing_text_unique")]

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class TextTotals:
    """What sending some recipients of a personalised campaign takes."""

    numbers: int
    billed: int  # each number's text's segments, summed
    calls: int  # one call per distinct text per ``batch_size`` numbers
    longest: int  # characters of the longest text
    segments: int  # messages per number of the longest text
    texts: int  # distinct texts


def totals(recipients: models.QuerySet, batch_size: int) -> TextTotals:
    """The totals of ``recipients`` (a queryset of one campaign's rows); two aggregate queries."""
    whole = recipients.aggregate(
        numbers=Count("id"),
        billed=Coalesce(Sum("text__segments"), 0),
        longest=Coalesce(Max("text__length"), 0),
        segments=Coalesce(Max("text__segments"), 0),
    )
    grouped = (
        recipients.order_by()
        .values("text_id")
        .annotate(n=Count("id"))
        .aggregate(texts=Count("text_id"), calls=Coalesce(Sum((F("n") + batch_size - 1) / batch_size), 0))
    )
    return TextTotals(
        whole["numbers"], whole["billed"], grouped["calls"], whole["longest"], whole["segments"], grouped["texts"]
    )
