"""What-if runs: numeric engine constants set for one evaluation (``--set session.PUSH=0.5``).

Only module-level numbers of recsys.session and recsys.engine, read at call time by the
engine, can be set; the originals are restored afterwards. This is how the before/after
figures in docs/evaluation.md were measured without editing the engine.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import ModuleType

MODULES = {"session": "recsys.session", "engine": "recsys.engine"}


def parse(assignments: Sequence[str]) -> dict[str, float]:
    """``["session.TEXT_FROM_LIKES=0.8"]`` → ``{"session.TEXT_FROM_LIKES": 0.8}``; ValueError if bad."""
    parsed: dict[str, float] = {}
    for item in assignments:
        name, sep, raw = item.partition("=")
        module, dot, attr = name.strip().partition(".")
        if not sep or not dot or module not in MODULES:
            raise ValueError(f"--set wants session.NAME=NUMBER or engine.NAME=NUMBER, got {item!r}")
        current = getattr(importlib.import_module(MODULES[module]), attr, None)
        if not attr.isupper() or isinstance(current, bool) or not isinstance(current, int | float):
            raise ValueError(f"{name} is not a numeric constant of {MODULES[module]}")
        try:
            parsed[f"{module}.{attr}"] = float(raw)
        except ValueError:
            raise ValueError(f"--set {name}: {raw!r} is not a number") from None
    return parsed


@contextmanager
def applied(values: dict[str, float]) -> Iterator[None]:
    saved: list[tuple[ModuleType, str, object]] = []
    try:
        for key, value in values.items():
            module_name, attr = key.split(".")
            target = importlib.import_module(MODULES[module_name])
            original = getattr(target, attr)
            saved.append((target, attr, original))
            setattr(target, attr, type(original)(value))  # an int constant stays an int
        yield
    finally:
        for target, attr, original in reversed(saved):
            setattr(target, attr, original)
