"""Personalised campaigns: each number's text rendered from the campaign's text and the
values that came with the number, checked against the content rules and stored once per
distinct text (``CampaignText``).

Imports render as they go (``Renderer``); a text changed after its numbers were loaded is
rendered again for every number still to send by ``prepare_texts``, all or nothing, before
the campaign can be scheduled or starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from ..conf import veesing_settings
from ..db import bulk
from ..rules import content as content_rules
from ..rules import fields
from ..rules.segments import segments
from .choices import RecipientStatus
from .imported import MAX_INVALID_KEPT, InvalidEntry
from .recipient import Recipient
from .texts import CampaignText

if TYPE_CHECKING:
    from .campaign import Campaign

#: Distinct texts whose check is remembered during one import (bounds its memory).
CHECKED_KEPT = 50_000
READ_CHUNK = 5_000


class Renderer:
    """One campaign's texts: rendered from values, checked, stored.

    The campaign's text (with the default signature, if it had none) is checked once by the
    content rules; each number's text is then checked for what its values can break
    (``content.filled_problems``). A template that itself breaks a rule, or holds a
    placeholder in its signature, has every distinct text checked whole instead."""

    def __init__(self, campaign: Campaign) -> None:
        self.campaign_id = campaign.pk
        self.content = campaign.content
        self.marketing = campaign.is_marketing
        self.opt_out_phrases = veesing_settings.OPT_OUT_PHRASES  # read once: a setting costs a look-up
        self.template = content_rules.with_signature(campaign.content, veesing_settings.SIGNATURE)
        self.filling = fields.template(self.template)
        signature = content_rules.signature_of(self.template) or ""
        report = content_rules.check(self.template, marketing=self.marketing, opt_out_phrases=self.opt_out_phrases)
        self.whole = not report.ok or bool(fields.PLACEHOLDER.search(signature))
        self._checked: dict[str, str] = {}  # text → its problems ("" when it obeys every rule)

    def text_for(self, values: dict[str, Any] | None) -> str:
        """The text the number with ``values`` gets; ``FieldProblem`` saying what is wrong."""
        used = self.filling.values_of(values or {})
        text = self.filling.join(used)
        if self.whole:
            problems = self._whole_check(text)
        else:
            problems = " ".join(
                content_rules.filled_problems(
                    text, used, marketing=self.marketing, opt_out_phrases=self.opt_out_phrases
                )
            )
        if problems:
            raise fields.FieldProblem(problems)
        return text

    def _whole_check(self, text: str) -> str:
        problems = self._checked.get(text)
        if problems is None:
            report = content_rules.check(text, marketing=self.marketing, opt_out_phrases=self.opt_out_phrases)
            problems = " ".join(report.messages())
            if len(self._checked) >= CHECKED_KEPT:
                self._checked.clear()
            self._checked[text] = problems
        return problems

    def store(self, texts: Iterable[str]) -> dict[str, int]:
        """The ids of ``texts``, stored where new."""
        distinct = {text: (len(text), segments(text)) for text in texts}
        return bulk.insert_texts(CampaignText, self.campaign_id, distinct)


def prepare_texts(campaign: Campaign) -> list[InvalidEntry]:
    """Render every number's text again if the campaign's text changed since they were
    rendered; the numbers whose values do not fit it (the first ``MAX_INVALID_KEPT``), in
    which case nothing changed. A campaign with no placeholders links to no texts."""
    if campaign.texts_from == campaign.content:
        return []
    problems: list[InvalidEntry] = []
    with transaction.atomic():
        # Numbers sent, or waiting in a batch with its text, keep the text they got or will get.
        rows = Recipient.objects.filter(campaign_id=campaign.pk, status=RecipientStatus.PENDING, batch__isnull=True)
        if not campaign.is_personalised:
            rows.filter(text__isnull=False).update(text=None)
        else:
            renderer = Renderer(campaign)
            chunk: list[tuple[int, str]] = []
            for pk, phone, values in rows.order_by("id").values_list("id", "phone", "values").iterator(READ_CHUNK):
                try:
                    chunk.append((pk, renderer.text_for(values)))
                except fields.FieldProblem as problem:
                    if len(problems) < MAX_INVALID_KEPT:
                        problems.append(InvalidEntry(phone, str(problem)))
                if len(chunk) >= READ_CHUNK:
                    _link(renderer, chunk)
                    chunk = []
            _link(renderer, chunk)
            if problems:
                transaction.set_rollback(True)
                return problems
        unused = CampaignText.objects.filter(campaign_id=campaign.pk, recipients__isnull=True, batches__isnull=True)
        unused.delete()
        type(campaign).objects.filter(pk=campaign.pk).update(texts_from=campaign.content)
    campaign.texts_from = campaign.content
    return problems


def _link(renderer: Renderer, chunk: list[tuple[int, str]]) -> None:
    ids = renderer.store(text for _pk, text in chunk)
    Recipient.objects.bulk_update(
        [Recipient(pk=pk, text_id=ids[text]) for pk, text in chunk], ["text"], batch_size=1_000
    )


def missing_columns_message(content: str, columns: Iterable[str]) -> str:
    """Why numbers with ``columns`` cannot fill ``content`` (empty when they can)."""
    columns = list(columns)
    absent = fields.missing(content, columns)
    if not absent:
        return ""
    if not columns:
        return _(
            "The text uses %(fields)s, but the numbers came without values: load a file (or paste lines) "
            "whose first line names the columns, e.g. 手机号,%(first)s."
        ) % {"fields": "、".join(f"{{{name}}}" for name in absent), "first": absent[0]}
    return _("The text uses %(fields)s, but the numbers' columns are %(columns)s.") % {
        "fields": "、".join(f"{{{name}}}" for name in absent),
        "columns": "、".join(columns),
    }
