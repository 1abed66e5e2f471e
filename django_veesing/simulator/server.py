"""The simulator's HTTP server, and ``Simulator``, the object tests and commands hold.

A threaded stdlib server speaking HTTP/1.1 with keep-alive and ``TCP_NODELAY`` (without
it every answer would stall 40 ms on Nagle's algorithm and delayed ACKs).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import random
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..exceptions import VeesingError
from ..provider.protocol import BALANCE_PATH, GROUP_PATH, VERIFY_CODE_PATH
from ..rules.addresses import is_loopback
from .config import SimulatorConfig
from .faults import Fault, Faults
from .provider import BAD_PARAMETER, UNKNOWN, Outcome, Provider
from .pushes import Pusher
from .record import Record, RequestRecord

logger = logging.getLogger(__name__)

JSON_TYPE = "application/json;charset=UTF-8"
#: Used when neither the config nor the Django settings name an account.
DEMO_APP_ID = "veesing-demo"
DEMO_APP_KEY = "veesing-demo-key"


class RemoteAddressRefused(VeesingError, ValueError):
    """The simulator was asked to listen beyond loopback without ``allow_remote``."""


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = JSON_TYPE
    hang: float = 0.0  # hold the request this long, then close without answering
    reset: bool = False  # reset the connection instead of answering

    @classmethod
    def json(cls, data: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(data, ensure_ascii=False).encode("utf-8"))


class Simulator:
    """A local Veesing: start it, point ``VEESING['API_URL']`` at ``.url``, inspect ``.record``."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
        **changes: Any,
    ) -> None:
        config = dataclasses.replace(config or SimulatorConfig(), **changes)
        if not config.allow_remote and not is_loopback(host):
            raise RemoteAddressRefused(
                f"The simulator listens on loopback addresses only, not {host!r}; "
                "pass allow_remote (--allow-remote) to listen there anyway."
            )
        _fill_credentials(config)
        self.config = config
        self.host, self.port = host, port
        self.record = Record(config.record_path)
        self.provider = Provider(config, clock)
        self.providers = {config.app_id: self.provider}  # one per account, by appId
        for entry in config.accounts:
            app_id, _, app_key = entry.partition(":")
            own = dataclasses.replace(config, app_id=app_id, app_key=app_key, accounts=())
            self.providers[app_id] = Provider(own, clock)
        extra_rng = random.Random(None if config.seed is None else config.seed + 1)
        self.faults = Faults(extra_rng)
        self.pusher = Pusher(config, self.record, extra_rng, clock)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Simulator:
        self._server = _Server((self.host, self.port), _Handler)
        self._server.simulator = self
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="veesing-simulator",
            daemon=True,
        )
        self._thread.start()
        self.pusher.start()
        logger.debug("Veesing simulator listening on %s", self.url)
        return self

    def serve_forever(self) -> None:
        """Block the calling thread until interrupted, starting first if needed."""
        if self._server is None:
            self.start()
        try:
            while self._thread and self._thread.is_alive():
                self._thread.join(0.5)
        finally:
            self.stop()

    def stop(self) -> None:
        self.pusher.stop()
        if self._server:
            self._server.shutdown()
            self._server.close_all()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def connections_opened(self) -> int:
        """How many TCP connections callers opened (keep-alive keeps this low)."""
        return self._server.connections_opened if self._server else 0

    # -- control -----------------------------------------------------------------------

    def configure(self, **changes: Any) -> None:
        """Change settings while running (``balance`` resets the account's balance)."""
        for name, value in changes.items():
            if not hasattr(self.config, name):
                raise AttributeError(f"the simulator has no setting {name!r}")
            setattr(self.config, name, value)
            if name == "balance":
                self.provider.balance = value

    def account(self, app_id: str) -> Provider:
        """The simulated account of ``app_id`` (the first one for an unknown id, which
        refuses its credentials): set its ``balance``, or its ``config.locked``."""
        return self.providers.get(app_id, self.provider)

    def inject(self, kind: str, **options: Any) -> None:
        """Inject a fault; see ``django_veesing.simulator.faults``."""
        self.faults.inject(kind, **options)

    def wait_for_pushes(self, timeout: float = 30.0) -> bool:
        return self.pusher.wait_idle(timeout)

    # -- one request -------------------------------------------------------------------

    def handle(self, method: str, target: str, body: bytes, remote: str) -> Reply:
        if self.config.latency:
            time.sleep(self.config.latency)
        parts = urlsplit(target)
        path = parts.path.rstrip("/")
        if path not in (GROUP_PATH, BALANCE_PATH, VERIFY_CODE_PATH):
            return Reply.json({"error": f"no such address: {path}"}, status=404)
        if method != "POST" and path != BALANCE_PATH:
            return Reply.json({"error": f"{method} not allowed"}, status=405)
        try:
            fields = dict(parse_qsl(parts.query, keep_blank_values=True))
            fields.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            fields = None
        provider = self.account(fields.get("appId", "") if fields else "")
        call = {GROUP_PATH: provider.group, VERIFY_CODE_PATH: provider.verify_code}.get(path, provider.balance_call)
        fault = self.faults.draw(path)
        outcome = None
        if fields is None:
            reply = Reply.json(self.provider.refusal(BAD_PARAMETER).body)
        elif fault and not fault.process:
            reply = self._fault_reply(fault)
        else:
            outcome = call(fields, remote)
            self.pusher.schedule(outcome.events)
            reply = self._fault_reply(fault) if fault else Reply.json(outcome.body)
        self._remember(method, path, remote, fields or {}, outcome, fault)
        return reply

    def _fault_reply(self, fault: Fault) -> Reply:
        options = fault.options
        if fault.kind == "timeout":
            return Reply(hang=options.get("seconds", self.config.hang_seconds))
        if fault.kind == "reset":
            return Reply(reset=True)
        if fault.kind == "http_error":
            status = options.get("status", 502)
            page = f"<html><body><h1>{status} Bad Gateway</h1>nginx</body></html>"
            return Reply(status, page.encode(), "text/html")
        if fault.kind == "bad_json":
            return Reply(200, "<html>系统繁忙，请稍后再试</html>".encode(), "text/html")
        if fault.kind == "unknown":
            return Reply.json(self.provider.refusal(UNKNOWN).body)
        body = options.get("body", "")
        if not isinstance(body, (str, bytes)):
            return Reply.json(body, status=options.get("status", 200))
        data = body.encode("utf-8") if isinstance(body, str) else body
        return Reply(options.get("status", 200), data, options.get("content_type", JSON_TYPE))

    def _remember(
        self,
        method: str,
        path: str,
        remote: str,
        fields: dict[str, str],
        outcome: Outcome | None,
        fault: Fault | None,
    ) -> None:
        kept = {k: v for k, v in fields.items() if k not in ("appKey", "phone")}
        numbers = outcome.numbers if outcome else _numbers(fields)
        record = RequestRecord(
            time=self.provider.clock(),
            method=method,
            path=path,
            remote=remote,
            fields=kept,
            message=outcome.message if outcome else "",
            task_id=outcome.task_id if outcome else None,
            numbers=len(numbers),
            fault=fault.kind if fault else None,
        )
        self.record.request(record, numbers, accepted=bool(outcome and outcome.accepted))
        if outcome and outcome.accepted and outcome.text:
            self.record.code(numbers[0], outcome.text)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    simulator: Simulator

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self.connections_opened = 0
        super().__init__(*args, **kwargs)

    def track(self, sock: socket.socket, is_open: bool) -> None:
        with self._open_lock:
            if is_open:
                self._open.add(sock)
                self.connections_opened += 1
            else:
                self._open.discard(sock)

    def close_all(self) -> None:
        """Close kept-alive connections, so no handler thread outlives the server."""
        with self._open_lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._open.clear()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "VeesingSimulator/1.0"
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        self.server.track(self.connection, False)
        with contextlib.suppress(OSError):
            super().finish()

    def do_POST(self) -> None:
        self._serve("POST")

    def do_GET(self) -> None:
        self._serve("GET")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        reply = self.server.simulator.handle(method, self.path, body, self.client_address[0])
        if reply.hang:
            time.sleep(reply.hang)
            self.close_connection = True
            return
        if reply.reset:
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s", self.client_address[0], format % args)


def _numbers(fields: dict[str, str]) -> list[str]:
    return [n.strip() for n in fields.get("phone", "").split(",") if n.strip()]


def _fill_credentials(config: SimulatorConfig) -> None:
    """Accept the project's own VEESING credentials unless told otherwise: its default
    account's, and each further account of ``VEESING['ACCOUNTS']``."""
    app_id = app_key = ""
    further: list[str] = []
    try:
        from django.conf import settings

        if settings.configured:
            from ..conf import DEFAULT_ACCOUNT, veesing_settings

            accounts = veesing_settings.ACCOUNTS
            app_id, app_key = accounts[DEFAULT_ACCOUNT].app_id, accounts[DEFAULT_ACCOUNT].app_key
            further = [f"{a.app_id}:{a.app_key}" for a in accounts.values() if a.name != DEFAULT_ACCOUNT and a.app_id]
    except ImportError:
        pass
    if not config.accounts:
        config.accounts = tuple(entry for entry in further if not entry.startswith(f"{config.app_id or app_id}:"))
    if config.app_id is None:
        config.app_id = app_id or DEMO_APP_ID
    if config.app_key is None:
        config.app_key = app_key or DEMO_APP_KEY
