"""IP address questions: loopback hosts and allowlists of addresses or networks."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def caller_address(meta: Mapping[str, str], proxies: int) -> str:
    """The caller's address from a request's ``META``: ``REMOTE_ADDR``, or with ``proxies``
    trusted reverse proxies in front, the entry of X-Forwarded-For that many from its right
    ("" when that entry is not an address). The header is never trusted beyond that."""
    remote = meta.get("REMOTE_ADDR", "")
    if not proxies:
        return remote
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < proxies:
        return remote
    return forwarded[-proxies] if is_address(forwarded[-proxies]) else ""


def in_networks(address: str, networks: Iterable[str]) -> bool:
    """True when ``address`` is one of ``networks`` (addresses or CIDR ranges)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(entry, strict=False) for entry in networks)
