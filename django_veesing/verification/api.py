"""The DRF endpoints: ask for a code, check a code. Included only where a project adds
``django_veesing.verification.urls``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers, status
from rest_framework.exceptions import Throttled
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.schemas.openapi import AutoSchema
from rest_framework.throttling import BaseThrottle

from .. import clock
from ..conf import veesing_settings
from ..exceptions import TooManyCodes, TransportError, VeesingError
from ..rules.addresses import caller_address
from ..rules.phones import InvalidPhone, normalise
from . import codes
from .throttles import Wait, wait_for


class PhoneField(serializers.CharField):
    default_error_messages = {"invalid_phone": gettext_lazy("“%(value)s” %(reason)s.")}

    def to_internal_value(self, data: Any) -> str:
        value = super().to_internal_value(data)
        try:
            return normalise(value)
        except InvalidPhone as reason:
            self.fail("invalid_phone", value=value, reason=reason)
            raise  # fail() raised already


class StartSerializer(serializers.Serializer):
    phone = PhoneField(max_length=32, help_text=gettext_lazy("A mainland mobile number, in any usual format."))
    purpose = serializers.SlugField(max_length=32, default="login")


class CheckSerializer(StartSerializer):
    code = serializers.RegexField(r"^\s*\d{4,8}\s*$", max_length=16)


def client_ip(request: Request) -> str | None:
    """The visitor's address, through as many reverse proxies as CALLBACK_PROXY_COUNT says
    stand in front of the site (behind nginx, REMOTE_ADDR is nginx for every visitor)."""
    return caller_address(request.META, veesing_settings.CALLBACK_PROXY_COUNT) or None


class CodeThrottle(BaseThrottle):
    """DRF's view of the code throttles (a number a minute and a day, an address an hour,
    the site a minute): counted from the stored codes, so every process agrees. ``start``
    checks them again under its lock."""

    found: Wait | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        try:
            data = request.data if isinstance(request.data, dict) else {}
            phone = normalise(str(data.get("phone", "")))
        except InvalidPhone:
            return True  # the serializer says what is wrong with it
        self.found = wait_for(phone, client_ip(request), clock.now())
        return self.found is None

    def wait(self) -> float | None:
        return float(self.found.seconds) if self.found else None


def too_many(error: TooManyCodes) -> Response:
    response = Response(
        {"detail": error.message, "retry_after": error.retry_after, "limit": error.limit},
        status=status.HTTP_429_TOO_MANY_REQUESTS,
    )
    response["Retry-After"] = str(error.retry_after)
    return response


class Described(AutoSchema):
    """The OpenAPI description of an endpoint, with the answers it gives."""

    def __init__(self, answers: dict[str, str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.answers = answers

    def get_responses(self, path: str, method: str) -> dict[str, Any]:
        json_body = {"application/json": {"schema": {"type": "object"}}}
        return {status_code: {"description": text, "content": json_body} for status_code, text in self.answers.items()}


class StartView(GenericAPIView):
    """Send a verification code to a number (202), or say how long to wait (429)."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_classes = [CodeThrottle]
    serializer_class = StartSerializer
    schema = Described(
        {
            "202": "Sent: {expires_at, retry_after}.",
            "400": "The number (or purpose) is not valid: the field's errors.",
            "429": "Throttled: {detail, retry_after, limit}, and a Retry-After header.",
            "502": "The provider refused the code: {detail}.",
            "503": "The provider's answer was lost: {detail, retry_after}.",
        },
        operation_id_base="VerificationStart",
    )

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            row = codes.start(data["phone"], data["purpose"], client_ip=client_ip(request))
        except TooManyCodes as error:
            return too_many(error)
        except TransportError as error:
            detail = _("The code may not have been sent; try again in a minute.") if error.maybe_sent else error.message
            return Response({"detail": detail, "retry_after": 60}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        except VeesingError as error:
            return Response({"detail": error.message}, status=status.HTTP_502_BAD_GATEWAY)
        return Response({"expires_at": row.expires_at, "retry_after": 60}, status=status.HTTP_202_ACCEPTED)

    def get_throttles(self) -> list[BaseThrottle]:
        self._throttles = super().get_throttles()
        return self._throttles

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, Throttled):  # say which limit and how long, as ``start`` would
            found = next((t.found for t in self._throttles if isinstance(t, CodeThrottle) and t.found), None)
            if found is not None:
                return too_many(found.error())
        return super().handle_exception(exc)


class CheckView(GenericAPIView):
    """Check a code: 200 with ``valid`` true once; 400 with ``valid`` false otherwise."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    serializer_class = CheckSerializer
    schema = Described(
        {"200": "The code is right: {valid: true}.", "400": "Wrong, used or expired: {valid: false, detail}."},
        operation_id_base="VerificationCheck",
    )

    def post(self, request: Request) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if codes.check(data["phone"], data["code"], data["purpose"]):
            return Response({"valid": True})
        return Response(
            {"valid": False, "detail": _("The code is wrong, used or expired.")}, status=status.HTTP_400_BAD_REQUEST
        )
