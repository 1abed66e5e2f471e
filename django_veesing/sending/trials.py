"""Trial sends: the campaign's text (a personalised campaign's first number's) to a few
numbers of the operator's own, before the real send, through the same discipline as a
batch: recorded before the call, settled after it, an answer lost left ``uncertain``
(never retried by itself). The numbers are never the
campaign's recipients, so nothing of the campaign counts them."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from .. import clock
from ..conf import veesing_settings
from ..exceptions import CampaignStateError, ContentError, TransportError, VeesingError
from ..models import Campaign, TrialSend, TrialState
from ..provider.client import VeesingClient
from ..rules.phones import InvalidPhone, normalise

#: The most numbers one trial send takes: it is a check, not a campaign.
MAX_TRIAL_NUMBERS = 10


def trial_numbers(entries: Iterable[str]) -> list[str]:
    """The entries as 11-digit numbers, in order, once each; ``InvalidPhone``-worded
    ``CampaignStateError`` for the first that is not one, or for too many."""
    numbers: dict[str, None] = {}
    for entry in entries:
        try:
            numbers[normalise(entry)] = None
        except InvalidPhone as reason:
            raise CampaignStateError(_("“%(entry)s” %(reason)s.") % {"entry": entry, "reason": reason}) from None
    if not numbers:
        raise CampaignStateError(_("Give at least one number for the trial send."))
    if len(numbers) > MAX_TRIAL_NUMBERS:
        raise CampaignStateError(_("A trial send takes at most %(limit)d numbers.") % {"limit": MAX_TRIAL_NUMBERS})
    return list(numbers)


def send_trial(campaign: Campaign, phones: Iterable[str], *, requested_by: str = "") -> TrialSend:
    """Send the campaign's text to ``phones`` now and return the settled ``TrialSend``.

    Raises ``ContentError`` when the text breaks a content rule and ``CampaignStateError``
    for numbers that cannot take it; a refusal or a lost answer is recorded on the trial.
    """
    numbers = trial_numbers(phones)
    report = campaign.content_report()
    if not report.ok:
        raise ContentError(report.messages())
    text = _trial_text(campaign, report.text)
    trial = TrialSend.objects.create(
        campaign=campaign, phones=",".join(numbers), text=text, requested_by=requested_by
    )  # committed before the call: a crash during it leaves the trial "sending", never lost
    try:
        with VeesingClient.from_settings() as client:
            result = client.send(numbers, text)
    except TransportError as error:
        state = TrialState.UNCERTAIN if error.maybe_sent else TrialState.FAILED
        _settle(trial, state, message=str(error))
    except VeesingError as error:
        _settle(trial, TrialState.FAILED, message=str(error))
    else:
        _settle(trial, TrialState.SUBMITTED, message=result.message, task_id=result.task_id)
    return trial


def _settle(trial: TrialSend, state: str, **fields: str) -> None:
    for name, value in {"state": state, "sent_at": clock.now(), **fields}.items():
        setattr(trial, name, value)
    trial.save(update_fields=["state", "sent_at", *fields])


def default_trial_numbers() -> str:
    """The numbers the trial form offers: ``VEESING["TRIAL_NUMBERS"]``, comma-joined."""
    return ", ".join(veesing_settings.TRIAL_NUMBERS)


def _trial_text(campaign: Campaign, text: str) -> str:
    """The text to try: a personalised campaign's first number's, as that phone will show it."""
    if not campaign.is_personalised:
        return text
    refused = campaign.prepare_texts()
    if refused:
        raise ContentError([f"{refused[0].entry}: {refused[0].reason}"])
    samples = campaign.sample_texts(1)
    if not samples:
        raise CampaignStateError(_("A personalised text is tried with a number's values: load the numbers first."))
    return samples[0][1]
