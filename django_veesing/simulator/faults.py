"""Fault injection: misbehaviour on chosen requests, by rate or for the next N.

Kinds:

``timeout``     accept the request, then hold it without answering (``hang_seconds``)
``http_error``  answer an HTTP error (``status``, default 502, with an HTML body)
``bad_json``    answer 200 with a body that is not JSON
``reset``       reset the connection (TCP RST) instead of answering
``unknown``     refuse with 未知原因，请联系客服
``raw``         answer exactly ``status``, ``body`` and ``content_type`` (scripted replies)

By default ``timeout``, ``http_error``, ``bad_json`` and ``reset`` strike *after* the
provider has acted on the request (``process=True``): the messages were sent and only the
answer is lost, the case that tempts a client to send twice. ``unknown`` and ``raw``
replace the provider's answer.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = ("timeout", "http_error", "bad_json", "reset", "unknown", "raw")
PROCESS_FIRST = {"timeout": True, "http_error": True, "bad_json": True, "reset": True}


@dataclass
class Fault:
    kind: str
    process: bool
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Rule:
    fault: Fault
    rate: float = 0.0
    remaining: int = 0
    path: str | None = None
    after: int = 0  # matching requests to let through before the fault starts

    def applies(self, path: str) -> bool:
        return self.path is None or path.endswith(self.path)


class Faults:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []

    def inject(
        self,
        kind: str,
        *,
        rate: float = 0.0,
        next_n: int = 0,
        process: bool | None = None,
        path: str | None = None,
        after: int = 0,
        **options: Any,
    ) -> None:
        """Misbehave on the next ``next_n`` requests, or on a ``rate`` share of them.

        ``path`` limits the fault to requests whose path ends with it (e.g. "/group");
        ``after`` lets that many matching requests through first.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; choose from {', '.join(KINDS)}")
        if not next_n and not 0 < rate <= 1:
            raise ValueError("give next_n > 0 or a rate between 0 and 1")
        process = PROCESS_FIRST.get(kind, False) if process is None else process
        rule = _Rule(Fault(kind, process, options), rate=rate, remaining=next_n, path=path, after=after)
        with self._lock:
            self._rules.append(rule)

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def draw(self, path: str) -> Fault | None:
        """The fault that strikes this request, if any: counted ones first, then rates."""
        with self._lock:
            eligible = []
            for rule in self._rules:
                if not rule.applies(path):
                    continue
                if rule.after:  # each rule counts the requests it lets through
                    rule.after -= 1
                    continue
                eligible.append(rule)
            for rule in eligible:
                if rule.remaining:
                    rule.remaining -= 1
                    if not rule.remaining and not rule.rate:
                        self._rules.remove(rule)
                    return rule.fault
            for rule in eligible:
                if rule.rate and self._rng.random() < rule.rate:
                    return rule.fault
        return None
