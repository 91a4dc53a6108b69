"""What-if runs: engine numbers changed for one evaluation (``--set session.PUSH=0.5``).

``session.NAME`` and ``engine.NAME`` name fields of recsys.tuning.Tuning (in upper case, as
the constants were once written); the evaluation builds its Engine with the changed Tuning, so
nothing is rewritten at run time and nothing needs restoring. This is how the before/after
figures in docs/evaluation.md are measured without editing the engine.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from recsys.tuning import DEFAULT_TUNING, Tuning

SCOPES = ("session", "engine")
_FIELDS = {f.name for f in fields(Tuning)}


def parse(assignments: Sequence[str]) -> dict[str, float]:
    """``["session.TEXT_FROM_LIKES=0.8"]`` → ``{"session.TEXT_FROM_LIKES": 0.8}``; ValueError if bad."""
    parsed: dict[str, float] = {}
    for item in assignments:
        name, sep, raw = item.partition("=")
        scope, dot, attr = name.strip().partition(".")
        if not sep or not dot or scope not in SCOPES:
            raise ValueError(f"--set wants session.NAME=NUMBER or engine.NAME=NUMBER, got {item!r}")
        if not attr.isupper() or attr.lower() not in _FIELDS:
            raise ValueError(f"{name} is not a tuning value (recsys.tuning.Tuning)")
        try:
            parsed[f"{scope}.{attr}"] = float(raw)
        except ValueError:
            raise ValueError(f"--set {name}: {raw!r} is not a number") from None
    return parsed


def tuning_for(values: dict[str, float], base: Tuning = DEFAULT_TUNING) -> Tuning:
    """The Tuning of a what-if run."""
    return base.with_values({key.partition(".")[2].lower(): value for key, value in values.items()})
