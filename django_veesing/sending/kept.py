"""Figures of a campaign not yet sent, kept in the cache while its numbers stay as they are.

Adding up a personalised campaign's texts (the bill, the calls by text, the longest text)
reads every number it has: 245 ms at 200,000, and its page and its confirmation page both
need them. Until one of its numbers is claimed (``backlog.untouched``), its numbers still
to send are its pending ones, and the app changes them only by adding numbers (its
counts and its latest number change), removing some (its counts change) or rendering its
texts again (``texts_from`` changes); what they are kept under is made of those, and of
whatever else the caller names (the numbers opted out, which change at any time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable
from typing import TypeVar

from django.core.cache import cache

from ..conf import veesing_settings
from ..models import Campaign, Recipient

#: How long figures are kept: what they depend on is in their key, so this only bounds
#: how long one nobody looks at again stays in the cache.
KEPT_SECONDS = 600

T = TypeVar("T")


def kept(campaign: Campaign, name: str, compute: Callable[[], T], *depends: Hashable) -> T:
    """``compute()`` for ``campaign``, not yet sent, from the cache when its numbers and
    ``depends`` are as they were when it was computed."""
    latest = Recipient.objects.filter(campaign_id=campaign.pk).order_by("-id").values_list("id", flat=True).first()
    counts = tuple(sorted(campaign.counts().items()))
    state = (campaign.pk, name, latest, campaign.texts_from, veesing_settings.BATCH_SIZE, counts, depends)
    key = f"django_veesing:kept:{campaign.pk}:{name}:" + hashlib.sha256(repr(state).encode()).hexdigest()
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, KEPT_SECONDS)
    return found
