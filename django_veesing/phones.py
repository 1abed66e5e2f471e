"""Mainland China mobile numbers: the shape the provider takes.

Imports nothing from Django's ORM, so the client can use it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

#: An 11-digit mainland mobile number as the provider takes it: 1, then 3–9, then 9 digits.
MAINLAND_MOBILE = re.compile(r"1[3-9][0-9]{9}")
#: The same numbers joined by commas, as a request carries them; one match checks a batch.
MOBILE_LIST = re.compile(r"1[3-9][0-9]{9}(?:,1[3-9][0-9]{9})*")


def is_mainland_mobile(number: str) -> bool:
    return isinstance(number, str) and MAINLAND_MOBILE.fullmatch(number) is not None


def malformed(numbers: Iterable[str]) -> list[str]:
    """The entries of ``numbers`` that are not 11-digit mainland mobiles, in order."""
    return [number for number in numbers if not is_mainland_mobile(number)]
