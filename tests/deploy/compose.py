"""Reads docker-compose.yml as Compose would, without Docker: YAML (anchors and merge keys)
and variable interpolation (``$VAR``, ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``,
``${VAR:?error}``, ``${VAR?error}``, ``$$``, defaults nested inside defaults)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class InterpolationError(Exception):
    """A required variable is unset (``${VAR:?message}``) or the syntax is broken."""


def _braced(text: str, start: int, env: Mapping[str, str]) -> tuple[str, int]:
    """Interpolates ``${...}`` whose ``${`` ends just before ``start``; returns (value, end)."""
    match = _NAME.match(text, start)
    if not match:
        raise InterpolationError(f"bad variable at {text[start - 2:start + 20]!r}")
    name, i = match.group(), match.end()
    if text.startswith("}", i):
        return env.get(name, ""), i + 1
    for op in (":-", ":?", "-", "?"):
        if text.startswith(op, i):
            break
    else:
        raise InterpolationError(f"bad modifier after ${{{name}")
    word, end = _interpolate(text, i + len(op), env, stop_at_brace=True)
    value = env.get(name)
    unset_or_empty = value is None or (op.startswith(":") and value == "")
    if op.endswith("-"):
        return (word if unset_or_empty else value or ""), end
    if unset_or_empty:
        raise InterpolationError(f"{name}: {word or 'required variable is missing'}")
    return value or "", end


def _interpolate(text: str, i: int, env: Mapping[str, str], stop_at_brace: bool) -> tuple[str, int]:
    out: list[str] = []
    while i < len(text):
        ch = text[i]
        if stop_at_brace and ch == "}":
            return "".join(out), i + 1
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            value, i = _braced(text, i + 2, env)
            out.append(value)
        elif match := _NAME.match(text, i + 1):
            out.append(env.get(match.group(), ""))
            i = match.end()
        else:
            out.append("$")
            i += 1
    if stop_at_brace:
        raise InterpolationError(f"unclosed ${{ in {text!r}")
    return "".join(out), i


def interpolate(text: str, env: Mapping[str, str]) -> str:
    return _interpolate(text, 0, env, stop_at_brace=False)[0]


def interpolate_tree(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_tree(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolate_tree(value, env) for key, value in node.items()}
    return node


def raw() -> dict[str, Any]:
    """The file as YAML, anchors and merge keys resolved, variables left as written."""
    return yaml.safe_load(COMPOSE_FILE.read_text())


def resolved(env: Mapping[str, str]) -> dict[str, Any]:
    """The file as Compose would see it with this environment (.env contents)."""
    return interpolate_tree(raw(), env)


def variables_used() -> set[str]:
    """Every variable name the file refers to."""
    text = COMPOSE_FILE.read_text().replace("$$", "")
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text)) | set(
        re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", text)
    )


def required_variables() -> set[str]:
    """Variables that have no default anywhere (``${VAR:?...}``)."""
    text = COMPOSE_FILE.read_text()
    return set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*):?\?", text))
