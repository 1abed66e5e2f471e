"""Which worker is which, and which are alive: a worker is named "host:pid" and beats
in the database while it runs (the admin warns when none was seen lately)."""

from __future__ import annotations

import datetime as dt
import os
import socket

from .. import clock
from ..models import WorkerHeartbeat


def worker_name() -> str:
    """This process's name as a worker: "host:pid"."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(worker: str, now: dt.datetime | None = None) -> None:
    """Record that ``worker`` is alive (the admin warns when no worker was seen lately)."""
    WorkerHeartbeat.objects.update_or_create(name=worker, defaults={"seen_at": now or clock.now()})


def worker_seen_since(moment: dt.datetime) -> bool:
    """Whether any worker beat at or after ``moment``."""
    return WorkerHeartbeat.objects.filter(seen_at__gte=moment).exists()


def worker_is_dead(worker: str) -> bool:
    """True when ``worker`` ("host:pid") ran on this host and that process is gone."""
    host, _sep, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
