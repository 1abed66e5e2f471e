"""The reliability suite (``make test-reliability``): figures it measures go to the report.

Each test adds its counts to ``figures``; at the end of a whole run (``make
test-reliability`` sets VEESING_RELIABILITY_REPORT) they are written to
docs/_reliability_figures.rst, which docs/reliability.rst includes.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path

import django
import pytest
from django.db import connection

REPORT = Path(__file__).resolve().parents[2] / "docs" / "_reliability_figures.rst"
FIGURES: dict[str, list[tuple[str, object]]] = {}


@pytest.fixture
def figures(request):
    """figures("what was counted", value): recorded under this test's heading."""
    rows = FIGURES.setdefault(request.node.name, [])

    def add(label: str, value: object) -> None:
        rows.append((label, value))

    return add


def pytest_sessionfinish(session, exitstatus):
    # Only a whole run (make test-reliability) rewrites the report, not a single test.
    if not FIGURES or exitstatus != 0 or not os.environ.get("VEESING_RELIABILITY_REPORT"):
        return
    lines = [
        f"Measured {dt.date.today():%Y-%m-%d} on {connection.vendor}, Python {platform.python_version()}, "
        f"Django {django.get_version()}, by ``make test-reliability``.",
        "",
    ]
    for test, rows in sorted(FIGURES.items()):
        lines += [f"``{test}``", "", ".. list-table::", "   :widths: 70 30", ""]
        for label, value in rows:
            lines += [f"   * - {label}", f"     - {value}"]
        lines.append("")
    REPORT.write_text("\n".join(lines), encoding="utf-8")
