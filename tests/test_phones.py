import random

import phonenumbers
import pytest

from django_veesing.rules.phones import InvalidPhone, is_allocated_mobile_block, normalise


@pytest.mark.parametrize(
    "raw",
    [
        "13800138000",
        "+8613800138000",
        "+86 138 0013 8000",
        "008613800138000",
        "0086-138-0013-8000",
        "8613800138000",
        "138-0013-8000",
        " 138 0013 8000 ",
        "１３８００１３８０００",  # full-width digits
        "＋８６ １３８００１３８０００",
        "(+86) 138.0013.8000",
        "138—0013—8000",
    ],
)
def test_formats_people_paste(raw):
    assert normalise(raw) == "13800138000"


@pytest.mark.parametrize(
    "raw,reason",
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1380013800", "10 digits"),
        ("138001380001", "12 digits"),
        ("138OO138000", "not digits"),
        ("+1 415 555 0100", r"\+86"),
        ("010-12345678", "not a mainland mobile"),
        ("12000000000", "no such mobile block"),
        ("01380013800", "no such mobile block"),
    ],
)
def test_invalid_entries_say_why(raw, reason):
    with pytest.raises(InvalidPhone, match=reason):
        normalise(raw)


def test_block_cache_agrees_with_phonenumbers_on_whole_numbers():
    rng = random.Random(5)
    for _ in range(3000):
        number = "1" + "".join(rng.choice("0123456789") for _ in range(10))
        parsed = phonenumbers.parse(number, "CN")
        whole = phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        )
        assert is_allocated_mobile_block(number[:7]) == whole, number
