"""How long sending will take: provider calls × the time a call has taken on this site,
shared by the workers alive now.

A call's time is the median, over this site's last ``RECENT_CALLS`` campaign batches, of
claim to settlement (the provider's answer included). A site that has sent fewer than
``MIN_MEASURED`` takes the benchmark's figure (``benchmarks/bench_personalised.py``: one
worker against a provider answering in 50 ms).
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import clock
from ..models import Batch, BatchState, WorkerHeartbeat

#: Seconds a call took in the benchmark, claim to settlement, at 50 ms provider latency.
BENCHMARK_SECONDS_PER_CALL = 0.056
RECENT_CALLS = 200
MIN_MEASURED = 20
#: A worker seen within this long counts as sharing the work.
ALIVE = dt.timedelta(minutes=3)


@dataclass(frozen=True)
class Estimate:
    calls: int
    per_call: float  # seconds
    workers: int
    measured: bool  # from this site's own calls (else the benchmark's figure)

    @property
    def seconds(self) -> float:
        return self.calls * self.per_call / self.workers

    def __str__(self) -> str:
        figures = {
            "duration": duration(self.seconds),
            "calls": self.calls,
            "per_call": f"{self.per_call:.2f}",
            "workers": self.workers,
        }
        if self.measured:
            said = ngettext(
                "about %(duration)s: %(calls)s provider calls at %(per_call)s s each (this site's recent calls), "
                "shared by %(workers)s worker",
                "about %(duration)s: %(calls)s provider calls at %(per_call)s s each (this site's recent calls), "
                "shared by %(workers)s workers",
                self.workers,
            )
        else:
            said = ngettext(
                "about %(duration)s: %(calls)s provider calls at %(per_call)s s each (the benchmark's figure), "
                "shared by %(workers)s worker",
                "about %(duration)s: %(calls)s provider calls at %(per_call)s s each (the benchmark's figure), "
                "shared by %(workers)s workers",
                self.workers,
            )
        return said % figures


def estimate(calls: int) -> Estimate:
    """How long ``calls`` provider calls will take the workers alive now (at least one)."""
    recent = (
        Batch.objects.filter(state=BatchState.SUBMITTED, sent_at__isnull=False)
        .order_by("-id")
        .values_list("claimed_at", "sent_at")[:RECENT_CALLS]
    )
    taken = [(sent - claimed).total_seconds() for claimed, sent in recent if sent is not None and sent >= claimed]
    measured = len(taken) >= MIN_MEASURED
    per_call = statistics.median(taken) if measured else BENCHMARK_SECONDS_PER_CALL
    workers = max(1, WorkerHeartbeat.objects.filter(seen_at__gte=clock.now() - ALIVE).count())
    return Estimate(calls, per_call, workers, measured)


def duration(seconds: float) -> str:
    """``seconds`` as a person says it: seconds, minutes or hours."""
    if seconds < 90:
        whole = max(1, int(seconds + 0.5))
        return ngettext("%(n)d second", "%(n)d seconds", whole) % {"n": whole}
    if seconds < 90 * 60:
        minutes = int(seconds / 60 + 0.5)
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    return _("%(n).1f hours") % {"n": seconds / 3600}
