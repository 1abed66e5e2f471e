"""Which worker is which, and which are alive: a worker is named "host:pid" and beats
in the database while it runs (the admin warns when none was seen lately)."""

from __future__ import annotations

import datetime as dt
import os
import socket

from django.utils.translation import gettext as _

from .. import clock
from ..conf import veesing_settings
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


def claim_abandoned(claimed_by: str, claimed_at: dt.datetime, now: dt.datetime) -> bool:
    """Whether a batch claimed by ``claimed_by`` at ``claimed_at`` was left by its worker:
    the worker is dead, or the claim is older than any call could take."""
    stale_after = dt.timedelta(seconds=2 * (veesing_settings.TIMEOUT + veesing_settings.CONNECT_TIMEOUT) + 60)
    return worker_is_dead(claimed_by) or now - claimed_at > stale_after


def abandoned_message(worker: str) -> str:
    return _("The worker %(worker)s stopped while sending this batch; the provider may have received it.") % {
        "worker": worker
    }
