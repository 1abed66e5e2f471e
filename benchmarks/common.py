"""Shared by the benchmarks: Django set up against a benchmark database, and a simulator
running in a process of its own."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import platform
import resource
import socket
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(database: str) -> None:
    """Point Django at ``database`` (a PostgreSQL URL or 'sqlite'), create it, migrate."""
    if database == "sqlite":
        os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"
        (ROOT / "var").mkdir(exist_ok=True)
        (ROOT / "var" / "bench.sqlite3").unlink(missing_ok=True)
    else:
        os.environ["DATABASE_URL"] = database
        _create_postgres_database(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _create_postgres_database(url: str) -> None:
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve_simulator(port: int, latency: float, app_id: str, app_key: str) -> None:
    from django_veesing.simulator import Simulator

    Simulator(
        port=port,
        per_minute_limit=False,
        balance=10**12,
        max_numbers=10**6,
        latency=latency,
        app_id=app_id,
        app_key=app_key,
    ).serve_forever()


def start_simulator(latency: float = 0.0) -> tuple[multiprocessing.Process, str]:
    from django_veesing.conf import veesing_settings

    port = free_port()
    process = multiprocessing.Process(
        target=_serve_simulator, args=(port, latency, veesing_settings.APP_ID, veesing_settings.APP_KEY), daemon=True
    )
    process.start()
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the simulator did not start")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def publish(name: str, lines: list[str], *, quick: bool) -> None:
    """Print the figures; a full-size run also writes them to docs/_figures/<name>.rst,
    which docs/performance.rst includes (so ``make bench`` regenerates the page)."""
    text = "\n".join(lines)
    print(text)
    if quick:
        return
    command = " ".join(["python", f"benchmarks/{Path(sys.argv[0]).name}", *sys.argv[1:]])
    header = f"Measured {dt.date.today():%Y-%m-%d} on {machine()} with ``{command}``:"
    path = ROOT / "docs" / "_figures" / f"{name}.rst"
    path.parent.mkdir(exist_ok=True)
    path.write_text(f"{header}\n\n.. code-block:: text\n\n{textwrap.indent(text, '   ')}\n", encoding="utf-8")


def machine() -> str:
    """Cores, memory, Python and, when Django is set up, the database."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    parts = [f"{os.cpu_count()} cores", f"{memory:.0f} GiB", f"Python {platform.python_version()}"]
    if "django" in sys.modules:
        from django.db import connection

        if connection.vendor == "postgresql":
            version = connection.pg_version
            parts.append(f"PostgreSQL {version // 10000}.{version % 10000}")
        elif connection.vendor == "sqlite":
            import sqlite3

            parts.append(f"SQLite {sqlite3.sqlite_version}")
    return ", ".join(parts)
