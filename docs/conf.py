"""Sphinx configuration: `make docs` builds docs/_build/html with warnings as errors."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

project = "django-veesing"
author = "django-veesing developers"
copyright = "2026, django-veesing developers"
release = __import__("django_veesing").__version__
extensions = ["sphinx.ext.autodoc", "sphinx.ext.viewcode"]
autodoc_member_order = "bysource"
autodoc_typehints = "description"
exclude_patterns = ["_build"]
html_theme = "alabaster"
language = "en"
nitpicky = False


def write_command_reference(app: object) -> None:
    """docs/_generated/commands.rst from each management command's own --help."""
    from django.core.management import get_commands, load_command_class

    out = Path(__file__).parent / "_generated"
    out.mkdir(exist_ok=True)
    lines = ["Management commands", "===================", ""]
    for name in sorted(n for n, app_name in get_commands().items() if app_name == "django_veesing"):
        command = load_command_class("django_veesing", name)
        text = command.create_parser("manage.py", name).format_help()
        lines += [f"``{name}``", "-" * (len(name) + 4), "", "::", ""]
        lines += ["    " + line for line in text.splitlines()]
        lines.append("")
    (out / "commands.rst").write_text("\n".join(lines), encoding="utf-8")


def setup(app: object) -> None:
    app.connect("builder-inited", write_command_reference)  # type: ignore[attr-defined]
