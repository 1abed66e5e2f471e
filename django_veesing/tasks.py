"""Celery tasks (``pip install django-veesing[celery]``), on the same claim-in-the-database
pipeline as ``veesing_send``: Celery workers and ``veesing_send`` workers can run side by
side, and a task delivered twice cannot send a number twice.

Schedule ``django_veesing.send_due`` with Celery beat (every few seconds or a minute): it
hands each due campaign to ``CELERY_FAN_OUT`` ``django_veesing.send_campaign`` tasks, which
share the campaign's batches across the workers, and the messages from code to a
``django_veesing.send_messages`` task.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from celery import shared_task

from .conf import veesing_settings
from .imports.jobs import run_queued_imports
from .models import Campaign
from .sending.sender import Sender
from .sending.workers import beat


@shared_task(name="django_veesing.send_due", ignore_result=True)
def send_due(fan_out: int | None = None) -> list[int]:
    """Fan every due campaign out to ``fan_out`` sending tasks; also run queued imports."""
    sender = Sender()
    beat(f"celery:{sender.worker}")
    run_queued_imports()
    campaigns = [campaign.pk for campaign in sender.due_campaigns()]
    for campaign_id in campaigns:
        for _ in range(fan_out or veesing_settings.CELERY_FAN_OUT):
            send_campaign.delay(campaign_id)
    send_messages.delay()
    return campaigns


@shared_task(name="django_veesing.send_campaign")
def send_campaign(campaign_id: int) -> dict[str, Any]:
    """Send batches of one campaign until none is left (several may run at once)."""
    # ``send`` reads the campaign afresh, and reports one deleted since it was fanned out.
    return asdict(Sender().send(Campaign(pk=campaign_id)))


@shared_task(name="django_veesing.send_messages")
def send_messages() -> dict[str, Any]:
    """Send the messages from code that are due (several may run at once: each claims its own)."""
    return asdict(Sender().messages.send_due())
