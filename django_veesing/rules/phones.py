"""Mainland China mobile numbers: reading what people paste, and the shape the provider takes.

``normalise`` turns ``+86 138-0013-8000``, ``0086 13800138000``, full-width digits and the
like into the 11 digits the provider takes, and asks phonenumbers whether the number is a
mainland mobile. phonenumbers stays the authority on validity; since a Chinese mobile
number's validity is decided by its first seven digits (the 号段 block), its answer is
cached per block, which makes it cheap for a million numbers.

Imports nothing from Django's ORM, so the client can use it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache

import phonenumbers
from django.utils.translation import gettext, gettext_noop

from ..exceptions import VeesingError

#: An 11-digit mainland mobile number as the provider takes it: 1, then 3–9, then 9 digits.
MAINLAND_MOBILE_PATTERN = r"^1[3-9][0-9]{9}$"
MAINLAND_MOBILE = re.compile(MAINLAND_MOBILE_PATTERN)
#: The same numbers joined by commas, as a request carries them; one match checks a batch.
MOBILE_LIST = re.compile(r"1[3-9][0-9]{9}(?:,1[3-9][0-9]{9})*")
#: Words that name a phone column (a heading, a dict key), compared in lower case.
PHONE_WORDS = ("手机", "电话", "号码", "mobile", "phone")


def names_phones(heading: str) -> bool:
    """Whether a column's heading says it holds phone numbers."""
    return any(word in heading.lower() for word in PHONE_WORDS)


#: What people put between digits: spaces, dashes of every width, dots, brackets.
SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−.·()/]")
MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


class InvalidPhone(VeesingError, ValueError):
    """``str()`` is a reason a person can act on, translated only when asked for: an
    import of a million bad lines must not pay for a million translations."""

    REASONS = {
        "empty": gettext_noop("empty"),
        "not_china": gettext_noop("not a mainland China number (it does not start with +86)"),
        "not_digits": gettext_noop("contains characters that are not digits"),
        "length": gettext_noop("has %(count)d digits; a mainland mobile number has 11"),
        "no_block": gettext_noop("is not a mainland mobile number (no such mobile block)"),
    }

    def __init__(self, code: str, **params: int) -> None:
        Exception.__init__(self, code)  # not VeesingError's: its message is read when asked for
        self.code = code
        self.params = params
        self.response = None

    @property
    def message(self) -> str:  # type: ignore[override]
        return gettext(self.REASONS[self.code]) % self.params

    def __str__(self) -> str:
        return self.message


def is_mainland_mobile(number: str) -> bool:
    return isinstance(number, str) and MAINLAND_MOBILE.fullmatch(number) is not None


def malformed(numbers: Iterable[str]) -> list[str]:
    """The entries of ``numbers`` that are not 11-digit mainland mobiles, in order."""
    return [number for number in numbers if not is_mainland_mobile(number)]


def normalise(raw: str) -> str:
    """The 11-digit mainland mobile number in ``raw``, or ``InvalidPhone`` saying why not."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise InvalidPhone("empty")
    digits = SEPARATORS.sub("", text)
    if digits.startswith("+"):
        if not digits.startswith("+86"):
            raise InvalidPhone("not_china")
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if not (digits.isascii() and digits.isdigit()):
        raise InvalidPhone("not_digits")
    if len(digits) != 11:
        raise InvalidPhone("length", count=len(digits))
    if not is_allocated_mobile_block(digits[:7]):
        raise InvalidPhone("no_block")
    return digits


@cache
def is_allocated_mobile_block(prefix: str) -> bool:
    """Whether phonenumbers takes 11-digit numbers starting with this 7-digit block as mobiles."""
    try:
        number = phonenumbers.parse(prefix + "0000", "CN")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in MOBILE_TYPES
