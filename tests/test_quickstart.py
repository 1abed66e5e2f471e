"""Runs every snippet of docs/quickstart.rst, in order, in a fresh directory."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "docs" / "quickstart.rst"
BLOCK = re.compile(r"^\.\. code-block:: (\w+)\n((?:   :\w+: .*\n)*)\n((?:(?: {4}.*)?\n)+)", re.MULTILINE)


def snippets() -> list[tuple[str, str, str]]:
    """(language, caption, code) of each code block, in order."""
    found = []
    for language, options, body in BLOCK.findall(QUICKSTART.read_text(encoding="utf-8")):
        caption = re.search(r":caption: (.*)", options)
        code = "\n".join(line[4:] for line in body.splitlines()).strip() + "\n"
        found.append((language, caption.group(1).strip() if caption else "", code))
    return found


def script(port: int) -> str:
    lines = ["set -euo pipefail", "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT"]
    for language, caption, code in snippets():
        code = code.replace("8025", str(port))
        if language == "shell":
            # The package under test is already installed in this environment.
            lines.append(code.replace("pip install django-veesing", 'python -c "import django_veesing"'))
        elif caption == "python manage.py shell":
            lines.append(f"python manage.py shell <<'PY'\n{code}PY")
        else:
            lines.append(f"cat >> {caption} <<'PY'\n\n{code}PY")
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_quickstart_snippets_run(tmp_path):
    kinds = [language for language, _caption, _code in snippets()]
    assert kinds.count("shell") >= 3 and kinds.count("python") >= 3
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "VEESING_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    result = subprocess.run(
        ["bash", "-c", script(free_port())], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "1000000" in result.stdout  # veesing_balance against the simulator
    assert "2 0 [('not a number'" in result.stdout
    assert "Campaign 1: sent — 1 batches, 2 submitted" in result.stdout
