"""The Celery app the Celery tests start a real worker with (broker: the machine's Redis)."""

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

app = Celery("tests")
app.conf.broker_url = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/15")
app.conf.task_default_queue = os.environ.get("CELERY_QUEUE", "veesing-tests")
app.conf.worker_hijack_root_logger = False
app.autodiscover_tasks(["django_veesing"])


def start_worker(env: dict[str, str], concurrency: int, **popen: Any) -> subprocess.Popen:
    """A real worker of this app on ``env["CELERY_QUEUE"]``, in a process of its own,
    returned once a worker answers a ping (the tests and bench_scaling start it so)."""
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "tests.celery_app",
        "worker",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
        "-Q",
        env["CELERY_QUEUE"],
    ]
    worker = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent, **popen)
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if worker.poll() is not None or time.monotonic() > deadline:
            worker.kill()
            raise RuntimeError("the Celery worker did not start")
    return worker
