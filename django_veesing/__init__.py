"""SMS campaigns through Veesing (中昱维信) for Django."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0.dev0"

__all__ = ["send_message"]


def __getattr__(name: str) -> Any:
    # ``django_veesing.send_message`` needs the models, which cannot load before Django's
    # apps are ready; importing the package must stay cheap and safe (settings, apps.py).
    if name == "send_message":
        from .sending.outbox import send_message

        return send_message
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
