"""Pushing receipts and replies to the callback addresses, as the provider does.

One form POST per event. A push that fails (no connection, no answer in time, a status
other than 2xx) is retried ``push_retries`` times with doubling back-off, then logged
and dropped. Duplicates and out-of-order arrivals are produced on request.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import urlencode

import requests

from ..provider.protocol import FORM_CONTENT_TYPE
from .config import SimulatorConfig
from .provider import Event
from .record import PushRecord, Record

logger = logging.getLogger(__name__)


class Pusher:
    def __init__(
        self,
        config: SimulatorConfig,
        record: Record,
        rng: random.Random,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.record = record
        self.rng = rng
        self.clock = clock
        self._queue: list[tuple[float, int, PushRecord]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._in_flight = 0
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for i in range(max(1, self.config.push_workers)):
            thread = threading.Thread(target=self._work, name=f"veesing-push-{i}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads.clear()

    def schedule(self, events: Iterable[Event]) -> None:
        config = self.config
        with self._cond:
            for event in events:
                url = self._url(event.kind)
                self.record.event(event.kind, event.fields)
                if not url:
                    continue
                due = event.due
                if config.reorder_rate and self.rng.random() < config.reorder_rate:
                    due += self.rng.uniform(0, config.reorder_window)
                self._put(due, PushRecord(event.kind, url, event.fields))
                if config.duplicate_rate and self.rng.random() < config.duplicate_rate:
                    lag = self.rng.uniform(0, config.reorder_window)
                    self._put(due + lag, PushRecord(event.kind, url, event.fields, duplicate=True))
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue) + self._in_flight

    def wait_idle(self, timeout: float = 30.0) -> bool:
        """Block until every scheduled push was delivered or dropped; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._queue or self._in_flight:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()

    # -- internals ---------------------------------------------------------------------

    def _url(self, kind: str) -> str | None:
        if kind == "reply":
            return self.config.reply_callback_url or self.config.callback_url
        return self.config.callback_url

    def _put(self, due: float, push: PushRecord) -> None:
        self.record.push(push)
        heapq.heappush(self._queue, (due, next(self._order), push))

    def _work(self) -> None:
        session = requests.Session()
        while True:
            with self._cond:
                push = self._next_due()
                if push is None:
                    return
                self._in_flight += 1
            try:
                self._deliver(session, push)
            finally:
                with self._cond:
                    self._in_flight -= 1
                    self._cond.notify_all()

    def _next_due(self) -> PushRecord | None:
        """Wait (holding the condition) for the next push that is due; None when stopping."""
        while not self._stopping:
            if self._queue:
                wait = self._queue[0][0] - self.clock()
                if wait <= 0:
                    return heapq.heappop(self._queue)[2]
                self._cond.wait(min(wait, 0.5))
            else:
                self._cond.wait(0.5)
        return None

    def _deliver(self, session: requests.Session, push: PushRecord) -> None:
        push.attempts += 1
        try:
            answer = session.post(
                push.url,
                data=urlencode(push.fields, encoding="utf-8").encode("ascii"),
                headers={"Content-Type": FORM_CONTENT_TYPE},
                timeout=self.config.push_timeout,
            )
            ok = 200 <= answer.status_code < 300
            push.answers.append(f"{answer.status_code} {answer.text[:80]}")
        except requests.RequestException as exc:
            ok = False
            push.answers.append(type(exc).__name__)
        if ok:
            push.delivered = True
        elif push.attempts <= self.config.push_retries:
            delay = self.config.push_backoff * 2 ** (push.attempts - 1)
            with self._cond:
                heapq.heappush(self._queue, (self.clock() + delay, next(self._order), push))
            return
        else:
            push.dropped = True
            logger.warning(
                "Dropped a %s push for %s after %d attempts: %s",
                push.kind,
                push.fields.get("mobile"),
                push.attempts,
                push.answers[-1],
            )
        self.record.push_done(push)
