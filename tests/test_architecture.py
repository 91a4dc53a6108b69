"""The import rule of docs/architecture.md, checked on the source: data flows one way.

    transport (app/routes, realtime/, cli/)  ->  services (app/*.py)  ->  store (app/store) / recsys

- cli/ (the command and the boot of a server) is on top: it may import app, realtime, recsys,
  config and services; nothing imports it.
- recsys/ is a leaf: it imports nothing of the server (app, realtime, services, config).
- app/store/ is plain SQL per table: it imports only itself and recsys (for shared types).
- Nothing in app/ imports realtime/, except the composition root (app/factory.py), which wires
  /ws in. Live fan-out leaves through app.fanout.LiveFanout, which realtime implements.
- config/ and services/ (the embedded servers) import nothing of the app.

Every import counts, including those inside functions: a cycle hidden in a function is still
a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION_ROOTS = {"app/factory.py"}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def _violations(folder: str, forbidden: tuple[str, ...], allowed_files: set[str] = frozenset()) -> list[str]:
    out = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel in allowed_files:
            continue
        for line, module in _imports(path):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                out.append(f"{rel}:{line} imports {module}")
    return out


@pytest.mark.parametrize(
    ("folder", "forbidden", "allowed"),
    [
        ("recsys", ("app", "realtime", "services", "config", "cli"), set()),
        ("app/store", ("app.routes", "app.auth", "realtime", "services", "app.listening", "app.views",
                       "app.state", "app.catalog", "app.fanout"), set()),
        ("app", ("realtime",), COMPOSITION_ROOTS),
        ("config", ("app", "realtime", "recsys", "services", "cli"), set()),
        ("services", ("app", "realtime", "recsys", "cli"), set()),
        ("app", ("cli",), set()),
        ("realtime", ("cli",), set()),
    ],
    ids=["recsys is a leaf", "store is below services", "app never reaches up into realtime",
         "config stands alone", "embedded services stand alone", "app never imports the CLI",
         "realtime never imports the CLI"],
)
def test_imports_flow_one_way(folder: str, forbidden: tuple[str, ...], allowed: set[str]) -> None:
    assert _violations(folder, forbidden, allowed) == []


def test_the_check_sees_imports_hidden_in_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from realtime.fanout import RealtimeFanout\n")
    assert _imports(module) == [(2, "realtime.fanout")]


def test_the_database_accepts_exactly_the_actions_of_the_vocabulary() -> None:
    """The CHECK constraint is the one copy of recsys.actions.ACTIONS that SQL needs."""
    import re

    from recsys.actions import ACTIONS

    checks = [re.findall(r"'(\w+)'", m) for path in sorted((ROOT / "app/store/migrations").glob("*.sql"))
              for m in re.findall(r"CHECK \(action IN \(([^)]*)\)\)", path.read_text())]
    assert checks, "a migration constrains listening_events.action"
    assert sorted(checks[-1]) == sorted(ACTIONS), "the newest constraint lists every action, no other"
