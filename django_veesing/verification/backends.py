"""Logging a user in with a phone number and a verification code."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from ..conf import veesing_settings
from ..rules.phones import InvalidPhone, normalise
from .codes import check


class PhoneCodeBackend(ModelBackend):
    """``authenticate(request, phone=..., code=...)``: the active user whose
    ``USER_PHONE_FIELD`` holds the number (as 11 digits), once the code checks for
    ``purpose`` "login". Add it to ``AUTHENTICATION_BACKENDS`` beside Django's own."""

    purpose = "login"

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, phone: str | None = None, code: str | None = None, **kwargs: Any
    ) -> Any:
        if phone is None or code is None:
            return None
        try:
            number = normalise(phone)
        except InvalidPhone:
            return None
        if not check(number, code, self.purpose):  # checked first: no answer says whether the number has a user
            return None
        users = get_user_model()._default_manager.filter(**{veesing_settings.USER_PHONE_FIELD: number})
        user = users.first()
        return user if user is not None and self.user_can_authenticate(user) else None
