"""Which worker is which, which are alive, and how one stops: a worker is named
"host:pid", beats in the database while it runs (the admin warns when none was seen
lately) and stops between batches when asked (``stopping_on_signals``)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from django.utils.translation import gettext as _

from .. import clock
from ..conf import veesing_settings
from ..models import WorkerHeartbeat

logger = logging.getLogger(__name__)

#: The signals that ask a worker to stop: Ctrl-C, and what ``kill``, systemd and Docker send.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


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


def claim_abandoned(claimed_by: str, claimed_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether a batch claimed by ``claimed_by`` at ``claimed_at`` was left by its worker:
    the worker is dead, or the claim is older than any call could take."""
    stale_after = dt.timedelta(seconds=2 * (veesing_settings.TIMEOUT + veesing_settings.CONNECT_TIMEOUT) + 60)
    return worker_is_dead(claimed_by) or now - claimed_at > stale_after


def abandoned_message(worker: str) -> str:
    return _("The worker %(worker)s stopped while sending this batch; the provider may have received it.") % {
        "worker": worker
    }


@contextmanager
def stopping_on_signals(stop: threading.Event) -> Iterator[None]:
    """While inside, the first SIGINT or SIGTERM sets ``stop`` (the worker ends once the
    batch in flight is settled); a second one raises ``KeyboardInterrupt`` at once.

    Raising on the first one could land anywhere: between a call's answer and its
    settlement (the batch left claimed, later uncertain), or inside a commit, where the
    database error raised while Django cleans up replaces the interrupt and the worker
    goes on. Outside the main thread signals cannot be handled: nothing is installed.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def ask(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        logger.info("Signal %s: the worker stops once the batch in flight is settled", signal.Signals(signum).name)

    previous = {signum: signal.signal(signum, ask) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
