"""Messages from code: 10,000 messages with 100 distinct texts, stored with
``send_message`` and sent by a worker at a realistic provider latency, against two
baselines measured in the same run: a bare requests.Session posting the same 100 group
calls with no database (the floor), and the same worker sending one message a call
(what a text per call would cost; timed on a sample and scaled).

    python benchmarks/bench_messages.py [--messages 10000] [--texts 100] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import time
from urllib.parse import urlencode

from common import publish, setup_django, start_simulator


def main() -> None:
    parser = argparse.ArgumentParser(description="messages from code, batched by text")
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--texts", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the simulator takes a call")
    parser.add_argument("--sample", type=int, default=200, help="messages sent one a call, for the baseline")
    parser.add_argument("--database", default="postgres://postgres@127.0.0.1:5432/veesing_bench")
    parser.add_argument("--quick", action="store_true", help="2,000 messages of 20 texts (CI smoke run)")
    args = parser.parse_args()
    if args.quick:
        args.messages, args.texts, args.sample = 2_000, 20, 50
    setup_django(args.database)

    import requests
    from django.conf import settings
    from django.db import connection

    from django_veesing import send_message
    from django_veesing.models import Message, MessageBatch
    from django_veesing.sending.sender import Sender

    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 1000, "QUIET_HOURS": None}
    texts = [f"【基准】您的订单{n:03d}已发货" for n in range(args.texts)]
    phones = [str(13100000000 + i) for i in range(args.messages)]

    def text_of(i: int) -> str:
        return texts[i % len(texts)]

    simulator, url = start_simulator(args.latency)
    settings.VEESING = {**settings.VEESING, "API_URL": url}

    started = time.perf_counter()
    for i, phone in enumerate(phones):
        send_message(phone, text_of(i), key=f"bench-{i}")
    stored = args.messages / (time.perf_counter() - started)

    started = time.perf_counter()
    report = Sender().messages.send_due()
    app = time.perf_counter() - started
    assert report.submitted == args.messages, report
    calls = MessageBatch.objects.count()
    assert calls == args.texts * -(-args.messages // args.texts // 1000), calls

    # The floor: the same group calls from a bare session, no database.
    session = requests.Session()
    headers = {"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"}
    started = time.perf_counter()
    for n, text in enumerate(texts):
        numbers = [phone for i, phone in enumerate(phones) if i % len(texts) == n]
        for start in range(0, len(numbers), 1000):
            body = urlencode(
                {
                    "appId": settings.VEESING["APP_ID"],
                    "appKey": settings.VEESING["APP_KEY"],
                    "phone": ",".join(numbers[start : start + 1000]),
                    "content": text,
                }
            )
            session.post(url + "/smsApi/group", data=body, headers=headers, timeout=30).raise_for_status()
    bare = time.perf_counter() - started

    # One message a call: the same worker with batches of one, on a sample.
    Message.objects.all().delete()
    MessageBatch.objects.all().delete()
    settings.VEESING = {**settings.VEESING, "BATCH_SIZE": 1}
    for i in range(args.sample):
        send_message(str(13900000000 + i), text_of(i))
    started = time.perf_counter()
    Sender().messages.send_due()
    single = (time.perf_counter() - started) / args.sample * args.messages
    simulator.terminate()

    lines = [
        f"messages from code: {args.messages:,} messages, {args.texts} texts, {connection.vendor}, "
        f"provider latency {args.latency * 1000:.0f} ms",
        f"  send_message (store)       : {stored:10,.0f} messages/s",
        f"  worker, batched by text    : {app:8.2f} s  {args.messages / app:8,.0f} messages/s  ({calls} calls)",
        f"  bare session, same calls   : {bare:8.2f} s  (floor; app/bare time {app / bare:.2f})",
        f"  worker, one message a call : {single:8.2f} s  (scaled from {args.sample} messages)",
        f"  batching speeds sending by : {single / app:8.1f}×",
    ]
    publish("bench_messages", lines, quick=args.quick)


if __name__ == "__main__":
    main()
