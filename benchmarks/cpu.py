"""CPU time of processes, from Linux's /proc: what each side of a load test spent."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def available() -> bool:
    return (PROC / "self" / "stat").exists()


def _stat(pid: int) -> list[str] | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:  # gone, or not ours to read
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return text[text.rindex(")") + 2 :].split()


def snapshot(pids: list[int]) -> dict[int, float]:
    """User and system CPU seconds of each of ``pids`` still running."""
    taken = {}
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            taken[pid] = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    return taken


def spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two snapshots; a process born between them counts whole."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def family(pid: int) -> list[int]:
    """``pid`` and its children (a server's workers)."""
    if not available():
        return []
    children = [
        int(p.name) for p in PROC.iterdir() if p.name.isdigit() and (_stat(int(p.name)) or ["", "0"])[1] == str(pid)
    ]
    return [pid, *children]


def named(command: str) -> list[int]:
    """The processes whose command is ``command`` (every PostgreSQL process)."""
    if not available():
        return []
    pids = []
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == command:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids
