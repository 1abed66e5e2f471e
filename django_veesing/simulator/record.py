"""What reached the simulator and what it pushed, for tests to inspect."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RequestRecord:
    time: float
    method: str
    path: str
    remote: str
    fields: dict[str, str]  # appKey is never kept
    message: str = ""
    task_id: str | None = None
    numbers: int = 0
    fault: str | None = None


@dataclass
class PushRecord:
    kind: str  # "receipt" or "reply"
    url: str
    fields: dict[str, str]
    duplicate: bool = False
    attempts: int = 0
    delivered: bool = False
    dropped: bool = False
    answers: list[str] = field(default_factory=list)


class Record:
    """Thread-safe log of requests, numbers and pushes; optionally mirrored to JSON lines."""

    def __init__(self, path: str | None = None) -> None:
        self._lock = threading.Lock()
        self._path = path
        self.requests: list[RequestRecord] = []
        self.received: Counter[str] = Counter()  # every number of every group request
        self.accepted: Counter[str] = Counter()  # numbers of accepted sends (billed)
        self.tasks: dict[str, list[str]] = {}
        self.receipts: dict[tuple[str, str], dict[str, str]] = {}  # (taskid, mobile) -> receipt
        self.replies: list[dict[str, str]] = []
        self.pushes: list[PushRecord] = []
        self.codes: list[tuple[str, str]] = []  # (phone, text as shown) of each verification code sent

    def request(self, record: RequestRecord, numbers: list[str], accepted: bool) -> None:
        with self._lock:
            self.requests.append(record)
            self.received.update(numbers)
            if accepted and record.task_id:
                self.accepted.update(numbers)
                self.tasks[record.task_id] = numbers
        self._write({"type": "request", **asdict(record)})

    def code(self, phone: str, text: str) -> None:
        with self._lock:
            self.codes.append((phone, text))
        self._write({"type": "code", "phone": phone, "text": text})

    def last_text_to(self, phone: str) -> str | None:
        """The last verification text ``phone`` received, as it shows it (tests, the demo)."""
        with self._lock:
            return next((text for number, text in reversed(self.codes) if number == phone), None)

    def event(self, kind: str, fields: dict[str, str]) -> None:
        """The truth: an event the provider produced (pushed once, maybe more)."""
        with self._lock:
            if kind == "receipt":
                self.receipts[(fields["taskid"], fields["mobile"])] = fields
            else:
                self.replies.append(fields)

    def push(self, push: PushRecord) -> None:
        with self._lock:
            self.pushes.append(push)

    def push_done(self, push: PushRecord) -> None:
        self._write({"type": "push", **asdict(push)})

    # -- questions tests ask --------------------------------------------------------------

    def sent_more_than_once(self) -> dict[str, int]:
        """Numbers accepted for sending more than once, with how often."""
        with self._lock:
            return {number: n for number, n in self.accepted.items() if n > 1}

    def final_statuses(self) -> dict[tuple[str, str], str]:
        """(taskid, mobile) -> "1" or "0": what each receipt said."""
        with self._lock:
            return {key: receipt["status"] for key, receipt in self.receipts.items()}

    def group_requests(self) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if r.path.endswith("/group")]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()
            self.received.clear()
            self.accepted.clear()
            self.tasks.clear()
            self.receipts.clear()
            self.replies.clear()
            self.pushes.clear()
            self.codes.clear()

    def _write(self, entry: dict[str, Any]) -> None:
        if not self._path:
            return
        entry.setdefault("time", time.time())
        line = json.dumps(entry, ensure_ascii=False, default=str)
        with self._lock, open(self._path, "a", encoding="utf-8") as out:
            out.write(line + "\n")
