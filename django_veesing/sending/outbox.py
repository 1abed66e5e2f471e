"""``send_message``: one text to one number from code, stored for the worker to send.

Nothing is sent here: the message is checked (number, text, kind, account) and stored,
and a sending worker (``veesing_send``, the Celery tasks) sends it within seconds, in a
batch with the other messages of the same text, kind and account that are due
(``message_sender``). A ``key`` makes a second call return the first message.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..conf import veesing_settings
from ..exceptions import ContentError, InvalidRequest, UnknownKindError
from ..models import CampaignKind, Message
from ..rules import content
from ..rules.phones import normalise

MAX_KEY_LENGTH = 200


def send_message(
    phone: str,
    text: str,
    *,
    key: str | None = None,
    kind: str = CampaignKind.NOTIFICATION,
    send_at: dt.datetime | None = None,
    metadata: dict[str, Any] | None = None,
    account: str | None = None,
) -> Message:
    """Store a message of ``text`` to ``phone`` for the worker to send, and return it.

    ``key`` (e.g. ``f"order-{order.pk}-shipped"``) names the message: a call with a key
    stored already returns that message and stores nothing. ``kind`` is ``"notification"``
    or ``"marketing"`` (opt-outs and quiet hours apply); ``send_at`` holds it until then;
    ``metadata`` (JSON) comes back on the message in signals; ``account`` overrides the
    kind's account (``VEESING['KIND_ACCOUNTS']``).

    Raises ``InvalidPhone`` for a number that is not an 11-digit mainland mobile,
    ``ContentError`` for a text that breaks the content rules, ``UnknownKindError``,
    ``UnknownAccountError``, or ``InvalidRequest`` (naive ``send_at``, metadata that is not
    JSON, a key too long); nothing is stored then.
    """
    if key is not None:
        existing = Message.objects.filter(key=key).first()
        if existing is not None:
            return existing
    fields = _checked(phone, text, key=key, kind=kind, send_at=send_at, metadata=metadata, account=account)
    try:
        with transaction.atomic():
            return Message.objects.create(**fields)
    except IntegrityError:
        if key is None:
            raise
        # Another call with the same key stored it first (its insert held ours until it
        # committed): that one is the message.
        return Message.objects.get(key=key)


def _checked(
    phone: str,
    text: str,
    *,
    key: str | None,
    kind: str,
    send_at: dt.datetime | None,
    metadata: dict[str, Any] | None,
    account: str | None,
) -> dict[str, Any]:
    """The message's fields, or the typed error of the first thing wrong with them."""
    if kind not in CampaignKind.values:
        raise UnknownKindError(
            _("Unknown kind %(kind)s: use one of %(kinds)s.")
            % {"kind": repr(kind), "kinds": ", ".join(CampaignKind.values)}
        )
    account = account or veesing_settings.account_for_kind(kind)
    veesing_settings.account(account)  # UnknownAccountError for a name the settings lack
    number = normalise(phone)
    report = content.check(
        text,
        marketing=kind == CampaignKind.MARKETING,
        default_signature=veesing_settings.SIGNATURE,
        opt_out_phrases=veesing_settings.OPT_OUT_PHRASES,
    )
    if not report.ok:
        raise ContentError(report.messages())
    if send_at is not None and timezone.is_naive(send_at):
        raise InvalidRequest(_("send_at must carry a time zone (an aware datetime), not a naive one."))
    if key is not None and (not key or len(key) > MAX_KEY_LENGTH):
        raise InvalidRequest(_("A key has 1 to %(max)d characters.") % {"max": MAX_KEY_LENGTH})
    try:
        json.dumps(metadata or {})
    except (TypeError, ValueError) as error:
        raise InvalidRequest(_("The metadata cannot be stored as JSON: %(error)s") % {"error": error}) from None
    return {
        "phone": number,
        "text": report.text,
        "kind": kind,
        "account": account,
        "key": key,
        "send_at": send_at,
        "metadata": metadata or {},
    }
