"""The package's shape: which part may import which, and no import cycles (read with ast,
imports inside functions included; ``if TYPE_CHECKING:`` blocks are for the type checker
only and left out)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "django_veesing"
APP = "django_veesing"

#: part -> what it must not import (app parts, or outside modules by prefix)
FORBIDDEN = {
    "rules": {"models", "provider", "db", "sending", "receiving", "imports", "admin", "django.db", "requests"},
    "db": {"models", "provider", "rules", "sending", "receiving", "imports", "admin", "requests"},
    "provider": {"models", "db", "sending", "receiving", "imports", "admin", "django.db"},
    "models": {"provider", "sending", "receiving", "imports", "admin", "requests"},
    "imports": {"provider", "sending", "receiving", "admin"},
    "receiving": {"provider", "sending", "imports", "admin"},
    "sending": {"imports", "admin"},
    "simulator": {"models", "db", "sending", "receiving", "imports", "admin", "django.db"},
    "verification": {"sending", "receiving", "imports", "admin"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imported_by(path: Path) -> set[str]:
    """Every module ``path`` imports, absolute (``from . import x`` gives ``pkg.x``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: str) -> set[str]:
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking_only(child):
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")[: len(package.split(".")) - (child.level - 1)]
                    module = ".".join(base + ([child.module] if child.module else []))
                else:
                    module = child.module or ""
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in child.names)  # submodules named
            visit(child)

    visit(ast.parse(source))
    return found


def app_modules() -> dict[str, Path]:
    return {
        module_name(path): path
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts and "__pycache__" not in path.parts
    }


def graph() -> dict[str, set[str]]:
    """Module -> the app's modules it imports."""
    modules = app_modules()
    edges: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for target in imported_by(path):
            # a package's __init__ runs before any module in it: not an edge of its own
            if target in modules and target != name and not name.startswith(target + "."):
                edges[name].add(target)
    return edges


def part_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in edges.get(node, ()):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(set(edges) | {t for targets in edges.values() for t in targets}):
        if node not in index:
            connect(node)
    return found


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(graph()) == []


def test_the_parts_import_each_other_in_one_direction():
    parts: dict[str, set[str]] = defaultdict(set)
    for module, targets in graph().items():
        for target in targets:
            if part_of(target) != part_of(module) and part_of(module) and part_of(target):
                parts[part_of(module)].add(part_of(target))
    # a package-level cycle (two parts importing each other, in any module) is refused too
    assert cycles(parts) == []


@pytest.mark.parametrize("part", sorted(FORBIDDEN))
def test_a_part_does_not_reach_where_it_must_not(part):
    offending = []
    for name, path in app_modules().items():
        if part_of(name) != part:
            continue
        for target in imported_by(path):
            for banned in FORBIDDEN[part]:
                qualified = banned if "." in banned or banned == "requests" else f"{APP}.{banned}"
                if target == qualified or target.startswith(qualified + "."):
                    offending.append(f"{name} imports {target}")
    assert offending == []


def test_the_checker_sees_cycles_and_imports_wherever_they_are():
    """The checks above can fail: a made-up cycle is found, and so are imports inside
    functions and relative ones; those only for the type checker are not."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    source = (
        "from typing import TYPE_CHECKING\n"
        "from ..models import Campaign\n"
        "if TYPE_CHECKING:\n    from ..provider import client\n"
        "def f():\n    import requests\n    from . import phones\n"
    )
    found = imports_in(source, "django_veesing.rules")
    assert {"django_veesing.models", "requests", "django_veesing.rules.phones"} <= found
    assert not any(name.startswith("django_veesing.provider") for name in found)


def test_importing_the_models_does_not_import_requests():
    code = (
        "import sys, django; from django.conf import settings;"
        "settings.configure(INSTALLED_APPS=['django_veesing'], VEESING={});"
        "django.setup(); import django_veesing.models;"
        "print('requests' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False", result.stderr


def test_every_exception_the_app_defines_is_a_veesing_error():
    import importlib
    import inspect

    from django_veesing.exceptions import VeesingError

    strays = []
    for name in app_modules():
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == name and issubclass(cls, BaseException) and not issubclass(cls, VeesingError):
                strays.append(f"{name}.{cls.__name__}")
    assert strays == []
