"""The ``VEESING`` settings dict, read lazily with its defaults in one place.

Nothing here reads ``django.conf.settings`` at import time: every property looks the
value up when it is asked for, so ``override_settings`` in tests and late configuration
in a project both work.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

DEFAULT_API_URL = "https://vip.veesing.com"

#: Every key the app understands, with its default. A key outside this dict is a typo
#: (reported by the system check ``veesing.E002``).
DEFAULTS: dict[str, Any] = {
    "APP_ID": "",
    "APP_KEY": "",
    "API_URL": DEFAULT_API_URL,
    "CALLBACK_TOKEN": "",
    "BATCH_SIZE": 1000,
    "TIMEOUT": 10,
    "CONNECT_TIMEOUT": 5,
}


class VeesingSettings:
    """Typed, lazy access to ``settings.VEESING``."""

    @property
    def raw(self) -> dict[str, Any]:
        value = getattr(settings, "VEESING", None)
        return value if isinstance(value, dict) else {}

    def get(self, key: str) -> Any:
        return self.raw.get(key, DEFAULTS[key])

    @property
    def APP_ID(self) -> str:
        return str(self.get("APP_ID") or "")

    @property
    def APP_KEY(self) -> str:
        return str(self.get("APP_KEY") or "")

    @property
    def API_URL(self) -> str:
        return str(self.get("API_URL") or DEFAULT_API_URL).rstrip("/")

    @property
    def CALLBACK_TOKENS(self) -> list[str]:
        """The accepted callback tokens: ``CALLBACK_TOKEN`` may be one string or a list."""
        value = self.get("CALLBACK_TOKEN")
        if not value:
            return []
        if isinstance(value, str):
            return [value]
        return [str(token) for token in value if token]

    @property
    def BATCH_SIZE(self) -> int:
        return int(self.get("BATCH_SIZE"))

    @property
    def TIMEOUT(self) -> float:
        return float(self.get("TIMEOUT"))

    @property
    def CONNECT_TIMEOUT(self) -> float:
        return float(self.get("CONNECT_TIMEOUT"))


veesing_settings = VeesingSettings()
