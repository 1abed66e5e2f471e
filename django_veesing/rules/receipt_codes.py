"""Readable reasons beside the codes delivery receipts carry (no ORM, no HTTP).

A receipt's ``code`` is either one of the final states every SMS gateway reports (SMPP's
``DELIVRD``, ``UNDELIV`` …) or a carrier's own code, ``XX:nnnn``, whose family (the two
letters) says where delivery stopped. Codes seen from Veesing: ``DELIVRD``, ``MA:0001``,
``MK:0011`` (see PROTOCOL.md). A code with no entry here is shown as it came.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

STATES = {
    "DELIVRD": gettext_noop("delivered to the phone"),
    "EXPIRED": gettext_noop("not delivered in time: the phone stayed off or out of coverage"),
    "UNDELIV": gettext_noop("undeliverable: vacant, suspended or unreachable number"),
    "REJECTD": gettext_noop("rejected by the carrier"),
    "DELETED": gettext_noop("deleted by the carrier before delivery"),
    "UNKNOWN": gettext_noop("the carrier does not know what became of it"),
    "BLACK": gettext_noop("the number is on a blacklist"),
}

#: Carrier code families (China Mobile's CMPP gateways and those modelled on them).
FAMILIES = {
    "MK": gettext_noop("the carrier's SMS centre could not hand it to the phone (often off, vacant or suspended)"),
    "MA": gettext_noop("refused inside the carrier's SMS centre"),
    "MI": gettext_noop("lost between carriers' gateways"),
}


def reason(code: str) -> str:
    """A translated reason for ``code``, or "" when none is known."""
    code = code.strip().upper()
    text = STATES.get(code) or FAMILIES.get(code.partition(":")[0] if ":" in code else "")
    return gettext(text) if text else ""
