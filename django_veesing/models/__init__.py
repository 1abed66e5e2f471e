"""The app's models, by what they hold; every one importable from here, as Django expects.

``campaign``: campaigns; ``counts``: their counts by status; ``arrivals``: their receipts
a second; ``failures``: their failed numbers by reason; ``recipient``: their numbers
and the opt-outs; ``batch``: the provider calls; ``pushes``: receipts, replies, rejected
pushes; ``jobs``: imports and worker heartbeats; ``trials``: trial sends; ``messages``:
messages from code and stopped accounts; ``verification``: codes; ``texts`` and ``personal``:
personalised campaigns' rendered texts; ``choices``: the statuses.
"""

from .arrivals import ReceiptArrivals, count_arrival, upsert_arrivals
from .batch import Batch, rows_of
from .campaign import Campaign
from .choices import (
    BatchState,
    CampaignKind,
    CampaignStatus,
    ImportStatus,
    MessageStatus,
    OptOutSource,
    RecipientStatus,
    TrialState,
    VerificationState,
)
from .counts import COUNT_SLOTS, COUNTED, CampaignCount, CampaignManager, count_slot, move_counts, upsert_counts
from .failures import FailureCount, Reason, move_failures, reason_of, upsert_failures
from .imported import MAX_INVALID_KEPT, ImportResult, InvalidEntry
from .jobs import ImportJob, WorkerHeartbeat
from .messages import AccountHold, Message, MessageBatch
from .pushes import Receipt, RejectedPush, Reply
from .recipient import OptOut, Recipient
from .texts import CampaignText, TextTotals, totals
from .trials import TrialSend
from .verification import VerificationCode

__all__ = [
    "COUNTED",
    "COUNT_SLOTS",
    "MAX_INVALID_KEPT",
    "AccountHold",
    "Batch",
    "BatchState",
    "Campaign",
    "CampaignCount",
    "CampaignKind",
    "CampaignManager",
    "CampaignStatus",
    "CampaignText",
    "FailureCount",
    "ImportJob",
    "ImportResult",
    "ImportStatus",
    "InvalidEntry",
    "Message",
    "MessageBatch",
    "MessageStatus",
    "OptOut",
    "OptOutSource",
    "Reason",
    "Receipt",
    "ReceiptArrivals",
    "Recipient",
    "RecipientStatus",
    "RejectedPush",
    "Reply",
    "TextTotals",
    "TrialSend",
    "TrialState",
    "VerificationCode",
    "VerificationState",
    "WorkerHeartbeat",
    "count_arrival",
    "count_slot",
    "move_counts",
    "move_failures",
    "reason_of",
    "rows_of",
    "totals",
    "upsert_arrivals",
    "upsert_counts",
    "upsert_failures",
]
