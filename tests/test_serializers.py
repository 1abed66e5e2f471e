"""The quick reading of a plain receipt agrees with the DRF serializer it stands in for."""

from __future__ import annotations

import datetime as dt
import random

from django_veesing.receiving.events import ReceiptEvent, ReplyEvent
from django_veesing.receiving.parsing import ReceiptSerializer, plain_receipt, read_event, validate
from django_veesing.rules.schedule import CHINA

PLAIN = {
    "mobile": "13800138000",
    "taskid": "N2IBXNAH3X6HBM87ARZAXDS5OHZRLTP6",
    "status": "1",
    "code": "DELIVRD",
    "receivetime": "2026-11-26 12:00:05",
}

# Values each field may take: the provider's usual ones and the odd ones a push may carry.
CHOICES = {
    "mobile": ["13800138000", " 13800138000", "13800138000 ", "12800138000", "1380013800", "138001380001", 13800138000,
               "１３８００１３８０００", "", None, True, ["13800138000"]],
    "taskid": ["T", "A" * 64, "A" * 65, " A", "A ", "", "   ", 12345, None, False, "任务", "A\x00B", "A\ud800"],
    "status": ["0", "1", "2", " 1", "1 ", "", 1, 0, True, None, "01"],
    "code": ["DELIVRD", "", "X" * 32, "X" * 33, " UNDELIV", "UNDELIV ", 0, None, "MK:0001"],
    "receivetime": ["2026-11-26 12:00:05", "2026-11-26 12:00", "2026/11/26 12:00:05", "2013-9-17 17:38:08",
                    " 2026-11-26 12:00:05", "2026-11-26T12:00:05", "2026-13-01 00:00:00", "", None, 20261126],
}  # fmt: skip


def serializer_result(event):
    serializer = ReceiptSerializer(data=event)
    return dict(serializer.validated_data) if serializer.is_valid() else None


def test_the_providers_receipt_is_read_without_a_serializer():
    assert plain_receipt(PLAIN) == {
        **PLAIN,
        "receivetime": dt.datetime(2026, 11, 26, 12, 0, 5, tzinfo=CHINA),
    }
    assert plain_receipt({key: value for key, value in PLAIN.items() if key != "code"})["code"] == ""
    assert validate(PLAIN) == ("receipt", plain_receipt(PLAIN))


def test_a_push_becomes_an_event_in_the_apps_own_names():
    at = dt.datetime(2026, 11, 26, 12, 0, 5, tzinfo=CHINA)
    receipt = read_event({**PLAIN, "status": "0", "code": "MK:0011"})
    assert receipt == ReceiptEvent(
        task_id=PLAIN["taskid"], phone="13800138000", delivered=False, code="MK:0011", received_at=at
    )
    assert receipt.raw["status"] == "0"  # kept as pushed, for the stored receipt
    reply = read_event({"mobile": "13800138000", "content": "退订", "receivetime": "2026-11-26 12:00:05"})
    assert reply == ReplyEvent(task_id="", phone="13800138000", content="退订", received_at=at)


def test_whatever_it_takes_the_serializer_takes_the_same_way():
    rng = random.Random(20261126)
    taken = 0
    for _ in range(3000):
        event = {}
        for key, values in CHOICES.items():
            roll = rng.random()
            if roll < 0.05:
                continue  # the field is missing
            event[key] = PLAIN[key] if roll < 0.6 else rng.choice(values)
        if rng.random() < 0.1:
            event["extra"] = "ignored"
        quick = plain_receipt(event)
        if quick is not None:
            taken += 1
            assert quick == serializer_result(event), event
    assert taken > 50  # the comparison did cover the accepted case


def test_every_field_value_alone_agrees_with_the_serializer():
    for key, values in CHOICES.items():
        for value in [*values, "missing"]:
            event = dict(PLAIN)
            if value == "missing":
                del event[key]
            else:
                event[key] = value
            quick = plain_receipt(event)
            if quick is not None:
                assert quick == serializer_result(event), event
            else:  # what it leaves goes to the serializer: validate() still gives its answer
                expected = serializer_result(event)
                if expected is not None:
                    assert validate(event, "receipt") == ("receipt", expected)
