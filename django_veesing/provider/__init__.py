"""The provider, reached over HTTPS: ``VeesingClient`` (group send, balance)."""

from .client import SendResult, VeesingClient

__all__ = ["SendResult", "VeesingClient"]
