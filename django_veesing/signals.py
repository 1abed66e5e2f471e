"""Signals of the app. Each is sent after the change it reports is committed.

- ``campaign_started(sender=Campaign, campaign)``
- ``batch_submitted(sender=Batch, batch)``
- ``campaign_finished(sender=Campaign, campaign)``
"""

from django.dispatch import Signal

campaign_started = Signal()
batch_submitted = Signal()
campaign_finished = Signal()
