"""Signals of the app. Each is sent after the change it reports is committed.

- ``campaign_started(sender=Campaign, campaign)``
- ``batch_submitted(sender=Batch, batch)``
- ``campaign_finished(sender=Campaign, campaign)``
- ``receipt_received(sender=Receipt, receipt)``: a new receipt was stored (not a duplicate)
- ``reply_received(sender=Reply, reply)``
- ``opted_out(sender=OptOut, opt_out, reply)``: a reply added a number to the opt-outs
"""

from django.dispatch import Signal

campaign_started = Signal()
batch_submitted = Signal()
campaign_finished = Signal()
receipt_received = Signal()
reply_received = Signal()
opted_out = Signal()
