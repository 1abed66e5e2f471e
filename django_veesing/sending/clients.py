"""One provider client per account, made on first use and kept (one keep-alive session
each), for a worker's whole life."""

from __future__ import annotations

from ..conf import DEFAULT_ACCOUNT, veesing_settings
from ..provider.client import VeesingClient


class Clients:
    """``clients(name)`` is the client of account ``name``. Given one ``client``, every
    account uses it (a test's client for the simulator, say)."""

    def __init__(self, client: VeesingClient | None = None, client_class: type[VeesingClient] = VeesingClient) -> None:
        self._given = client
        self._class = client_class
        self._made: dict[str, VeesingClient] = {}

    def __call__(self, account: str = DEFAULT_ACCOUNT) -> VeesingClient:
        if self._given is not None:
            return self._given
        if account not in self._made:
            self._made[account] = self._class.from_settings(account)  # ConfigurationError if not set up
        return self._made[account]

    def for_kind(self, kind: str) -> VeesingClient:
        return self(veesing_settings.account_for_kind(kind))

    def close(self) -> None:
        for client in self._made.values():
            client.close()
        self._made.clear()
