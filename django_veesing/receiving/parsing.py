"""Reading a pushed body into events (``events``), and DRF serializers that validate each event.

The provider posts one form-encoded event per request; other push clients send the same
fields as multipart/form-data, as a JSON object or list of events, or in the query string
of an empty POST, so every one of those is read. Times carry no zone: they are
China time, written ``2019-07-23 17:00:00``, unpadded (``2013-9-17 17:38:08``) or with
slashes (``2016/1/26 11:02:08``).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from ..exceptions import VeesingError
from ..rules.phones import MAINLAND_MOBILE
from ..rules.schedule import CHINA
from .events import PushEvent, ReceiptEvent, ReplyEvent

TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M")
RECEIPT, REPLY = "receipt", "reply"
MAX_EVENTS = 1000
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")  # PostgreSQL stores neither NUL nor lone surrogates


class PushRejected(VeesingError):
    """The body cannot be taken; ``errors`` says why, field by field where it can."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(json.dumps(errors, ensure_ascii=False, default=str))
        self.errors = errors


def parse_body(raw: bytes, content_type: str, query: str = "") -> list[dict[str, Any]]:
    """The events of a push: a url-encoded or multipart form, a JSON object, a JSON list of
    objects, or (for an empty body) the fields of the query string ``query``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PushRejected({"body": [_("The body is not UTF-8 text.")]}) from None
    stripped = text.lstrip()
    if content_type.lower().startswith("multipart/"):
        events = [_multipart_event(raw, content_type)]
    elif "json" in content_type.lower() or stripped[:1] in ("{", "["):
        events = _json_events(stripped)
    else:
        events = [dict(parse_qsl(text, keep_blank_values=True))]
    if events == [{}] and query.strip():  # an empty body (or empty form): the fields came in the URL
        events = [dict(parse_qsl(query, keep_blank_values=True))]
    if events == [{}]:
        raise PushRejected({"body": [_("The body is empty.")]})
    if not all(_storable(event) for event in events):
        raise PushRejected({"body": [_("The body holds NUL or unpaired surrogate characters.")]})
    return events


def _storable(value: Any) -> bool:
    """Whether every text in ``value`` can be stored (no NUL, no lone surrogate)."""
    if isinstance(value, str):
        return UNSTORABLE.search(value) is None
    if isinstance(value, dict):
        return all(_storable(k) and _storable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_storable(v) for v in value)
    return True


def _multipart_event(raw: bytes, content_type: str) -> dict[str, Any]:
    """The text fields of a multipart/form-data body (a file part is not an event field)."""
    meta = {"CONTENT_TYPE": content_type, "CONTENT_LENGTH": str(len(raw))}
    try:
        fields, _files = MultiPartParser(meta, io.BytesIO(raw), [], "utf-8").parse()
    except (MultiPartParserError, ValueError) as error:
        raise PushRejected({"body": [_("The multipart body cannot be read: %(error)s") % {"error": error}]}) from None
    return {key: fields.get(key) for key in fields}


def _json_events(text: str) -> list[dict[str, Any]]:
    try:
        data = json.loads(text)
    except ValueError:
        raise PushRejected({"body": [_("The body is not valid JSON.")]}) from None
    events = data if isinstance(data, list) else [data]
    if not events or len(events) > MAX_EVENTS or not all(isinstance(e, dict) for e in events):
        raise PushRejected(
            {"body": [_("Expected a JSON object or a list of 1 to %(max)d objects.") % {"max": MAX_EVENTS}]}
        )
    return events


def kind_of(event: dict[str, Any], expected: str | None) -> str:
    """Whether ``event`` is a receipt (``status``/``code``) or a reply (``content``)."""
    if expected:
        return expected
    if "status" in event or "code" in event:
        return RECEIPT
    if "content" in event:
        return REPLY
    raise PushRejected({"non_field_errors": [_("Neither a receipt (status, code) nor a reply (content).")]})


def china_time(text: str) -> dt.datetime | None:
    """A pushed time (China time, in any of ``TIME_FORMATS``), or None."""
    text = text.strip()
    for pattern in TIME_FORMATS:
        try:
            return dt.datetime.strptime(text, pattern).replace(tzinfo=CHINA)
        except ValueError:
            continue
    return None


class ChinaDateTimeField(serializers.Field):
    default_error_messages = {
        "invalid": gettext_lazy("Not a time like 2019-07-23 17:00:00 (China time)."),
    }

    def to_internal_value(self, data: Any) -> dt.datetime:
        moment = china_time(str(data))
        if moment is None:
            self.fail("invalid")
        return moment

    def to_representation(self, value: dt.datetime) -> str:
        return value.astimezone(CHINA).strftime(TIME_FORMATS[0])


class MobileField(serializers.CharField):
    default_error_messages = {"mobile": gettext_lazy("Not an 11-digit mainland mobile number.")}

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        if not MAINLAND_MOBILE.fullmatch(value):
            self.fail("mobile")
        return value


class ReceiptSerializer(serializers.Serializer):
    mobile = MobileField()
    taskid = serializers.CharField(max_length=64)
    status = serializers.ChoiceField(choices=["0", "1"])
    code = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    receivetime = ChinaDateTimeField()


class ReplySerializer(serializers.Serializer):
    mobile = MobileField()
    taskid = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    content = serializers.CharField(max_length=1000, trim_whitespace=False)
    receivetime = ChinaDateTimeField()


SERIALIZERS = {RECEIPT: ReceiptSerializer, REPLY: ReplySerializer}


def validate(event: dict[str, Any], expected: str | None = None) -> tuple[str, dict[str, Any]]:
    """(kind, validated data) of one event, or ``PushRejected`` naming each bad field."""
    kind = kind_of(event, expected)
    if kind == RECEIPT and (data := plain_receipt(event)) is not None:
        return kind, data
    serializer = SERIALIZERS[kind](data=event)
    if not serializer.is_valid():
        raise PushRejected(serializer.errors)
    return kind, dict(serializer.validated_data)


def read_event(event: dict[str, Any], expected: str | None = None) -> PushEvent:
    """One pushed event as a ``ReceiptEvent`` or ``ReplyEvent``, or ``PushRejected``."""
    kind, data = validate(event, expected)
    if kind == RECEIPT:
        return ReceiptEvent(
            task_id=data["taskid"],
            phone=data["mobile"],
            delivered=data["status"] == "1",
            code=data["code"],
            received_at=data["receivetime"],
            raw=event,
        )
    return ReplyEvent(
        task_id=data["taskid"],
        phone=data["mobile"],
        content=data["content"],
        received_at=data["receivetime"],
        raw=event,
    )


def plain_receipt(event: dict[str, Any]) -> dict[str, Any] | None:
    """A receipt as the provider sends it, read without a serializer; None for anything else.

    Taking a push is mostly this one case, and building a DRF serializer costs more than
    the rest of the reading. Only text fields with nothing to trim are taken here, giving
    exactly what ``ReceiptSerializer`` gives (a test compares the two on many inputs);
    anything else goes to the serializer, which also words the errors.
    """
    mobile, task, status, code, receivetime = (
        _untrimmed_text(event, key) for key in ("mobile", "taskid", "status", "code", "receivetime")
    )
    if "code" not in event:
        code = ""
    if mobile is None or task is None or status is None or code is None or receivetime is None:
        return None
    if not (MAINLAND_MOBILE.fullmatch(mobile) and 0 < len(task) <= 64 and status in ("0", "1") and len(code) <= 32):
        return None
    moment = china_time(receivetime)
    if moment is None:
        return None
    return {"mobile": mobile, "taskid": task, "status": status, "code": code, "receivetime": moment}


def _untrimmed_text(event: dict[str, Any], key: str) -> str | None:
    """``event[key]`` if it is storable text with nothing for a serializer to trim, else None."""
    value = event.get(key)
    if not isinstance(value, str) or value != value.strip() or UNSTORABLE.search(value):
        return None
    return value
