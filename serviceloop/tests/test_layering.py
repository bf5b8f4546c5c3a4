"""DESIGN.md's floors: an app imports only apps on its own or lower floors, never serviceloop/ itself."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

FLOORS = [
    "core",
    "accounts",
    "catalogue",
    "relationships",
    "desk",
    "incidents",
    "feedback",
    "experience",
    "improvement",
    "charging",
]
PACKAGE = Path(__file__).resolve().parents[1]
# Modules of serviceloop/ itself that an app must not import (they mount the apps).
TOP_LEVEL = {"api", "urls", "cli", "demo", "settings", "views", "wsgi"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, node.module)] + [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return found


def _violations(app: str) -> list[str]:
    own = FLOORS.index(app)
    problems = []
    for path in sorted((PACKAGE / app).rglob("*.py")):
        for line, module in _imports(path):
            parts = module.split(".")
            if parts[0] != "serviceloop" or len(parts) < 2:
                continue
            target = parts[1]
            where = f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}"
            if target in TOP_LEVEL:
                problems.append(f"{where} (serviceloop/ mounts the apps; apps never import it)")
            elif target in FLOORS and FLOORS.index(target) > own:
                problems.append(f"{where} (floor {FLOORS.index(target)} is above {app}'s floor {own})")
    return problems


@pytest.mark.parametrize("app", FLOORS)
def test_app_imports_only_downward(app: str) -> None:
    assert _violations(app) == []


def test_every_app_directory_is_a_known_floor() -> None:
    apps = {p.name for p in PACKAGE.iterdir() if (p / "apps.py").exists()}
    assert apps == set(FLOORS)


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    bad = PACKAGE / "core" / "_layering_probe.py"
    bad.write_text("from serviceloop.desk.models import Ticket\n")
    try:
        assert any("desk" in problem for problem in _violations("core"))
    finally:
        bad.unlink()


def test_api_lists_use_the_bounded_pagination() -> None:
    # ninja's LimitOffsetPagination accepts any integer; a huge limit overflowed the database (500).
    offenders = [
        str(path.relative_to(PACKAGE.parent))
        for path in PACKAGE.rglob("*.py")
        if "LimitOffsetPagination" in path.read_text()
        and path.name != "pagination.py"
        and path.name != "test_layering.py"
    ]
    assert offenders == []
