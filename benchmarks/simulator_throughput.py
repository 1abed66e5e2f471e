"""How many group-send batches per second the simulator serves, against a bare server.

Each server runs in a process of its own (as the simulator does beside the demo), so the
client's work does not share its interpreter lock. The baseline is a stdlib HTTP server
with the same keep-alive and TCP_NODELAY that answers a constant JSON body without
reading it: the ceiling of any Python server here. The ratio says how much of that the
simulator's own work (parsing, rules, record) keeps.

    python benchmarks/simulator_throughput.py [--batches 2000] [--size 1000]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from common import publish  # noqa: E402

from django_veesing.simulator import Simulator  # noqa: E402

ANSWER = b'{"returnStatus": "1 ", "message": "ok", "remainPoint": "1", "taskId": "X", "successCounts": "1"}'


class BareHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(ANSWER)))
        self.end_headers()
        self.wfile.write(ANSWER)

    def log_message(self, *args: object) -> None:
        pass


def bodies(batches: int, size: int, app_id: str, app_key: str) -> list[bytes]:
    out = []
    for b in range(batches):
        phones = ",".join(str(13000000000 + b * size + i) for i in range(size))
        fields = {"appId": app_id, "appKey": app_key, "phone": phones, "content": "【基准】测试短信，回T退订"}
        out.append(urlencode(fields).encode())
    return out


def rate(url: str, payloads: list[bytes]) -> float:
    session = requests.Session()
    headers = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
    session.post(url, data=payloads[0], headers=headers, timeout=30)  # warm the connection
    started = time.perf_counter()
    for body in payloads[1:]:
        response = session.post(url, data=body, headers=headers, timeout=30)
        response.raise_for_status()
    return (len(payloads) - 1) / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_bare(port: int) -> None:
    ThreadingHTTPServer(("127.0.0.1", port), BareHandler).serve_forever()


def serve_simulator(port: int) -> None:
    Simulator(port=port, per_minute_limit=False, balance=10**12, max_numbers=10**6).serve_forever()


def started(target, port: int) -> multiprocessing.Process:
    process = multiprocessing.Process(target=target, args=(port,), daemon=True)
    process.start()
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"the server on port {port} did not start")


def balance(url: str, app_id: str, app_key: str) -> int:
    answer = requests.post(url + "/smsApi/group/getBalance", data={"appId": app_id, "appKey": app_key}, timeout=5)
    return int(answer.json()["remainPoint"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--size", type=int, default=1000, help="numbers per batch")
    parser.add_argument("--quick", action="store_true", help="a small run for CI")
    args = parser.parse_args()
    if args.quick:
        args.batches = 200

    bare_port, sim_port = free_port(), free_port()
    bare, sim = started(serve_bare, bare_port), started(serve_simulator, sim_port)
    config = Simulator().config  # the credentials the simulator accepts
    sim_url = f"http://127.0.0.1:{sim_port}"
    payloads = bodies(args.batches, args.size, config.app_id, config.app_key)
    before = balance(sim_url, config.app_id, config.app_key)
    baseline = rate(f"http://127.0.0.1:{bare_port}/smsApi/group", payloads)
    simulator = rate(f"{sim_url}/smsApi/group", payloads)
    billed = before - balance(sim_url, config.app_id, config.app_key)
    bare.terminate()
    sim.terminate()
    assert billed == args.batches * args.size, f"billed {billed}, sent {args.batches * args.size}"
    lines = []
    lines.append(f"batches of {args.size} numbers, {args.batches} batches, one keep-alive client")
    lines.append(f"  bare stdlib server : {baseline:8.1f} batches/s  ({baseline * args.size:,.0f} numbers/s)")
    lines.append(f"  simulator          : {simulator:8.1f} batches/s  ({simulator * args.size:,.0f} numbers/s)")
    lines.append(f"  ratio              : {simulator / baseline:8.2f}")
    publish("simulator_throughput", lines, quick=args.quick)


if __name__ == "__main__":
    main()
