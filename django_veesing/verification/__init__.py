"""Verification codes (验证码): ``start`` sends one, ``check`` checks it.

The login backend is ``django_veesing.verification.backends.PhoneCodeBackend``; the DRF
endpoints are in ``django_veesing.verification.urls`` (off unless a project includes them).
"""

from __future__ import annotations

from typing import Any

__all__ = ["check", "start"]


def __getattr__(name: str) -> Any:
    # The service needs the models: import it when first asked for, not with the package.
    if name in __all__:
        from . import codes

        return getattr(codes, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
