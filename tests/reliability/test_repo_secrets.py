"""Secrets: none committed. Every tracked file is searched for private keys, cloud and API tokens
and URLs with a password in them; `.env` (where docker-compose reads its passwords) is ignored by
git. (That no password or session cookie reaches the logs is test_security.py's last test.)"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "AWS key": re.compile(r"\bAKIA[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "OpenAI-style key": re.compile(r"\bsk-[A-Za-z0-9]{32,}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    # scheme://user:password@host, unless the password is a ${VARIABLE}
    "password in a URL": re.compile(r"[a-z+]+://[^\s:/@'\"]+:(?!\$\{)([^\s@/'\"]{6,})@"),
}
# Placeholders in docs and test fixtures, not credentials of anything.
PLACEHOLDER = re.compile(r"^(secret|changeme|password|test-[a-z0-9-]+|\*+)$")
SKIP_SUFFIXES = {
    ".png",
    ".jpg",
    ".jpeg",
    ".gif",
    ".ico",
    ".woff",
    ".woff2",
    ".gz",
    ".mid",
    ".wav",
    ".mp3",
    ".ogg",
    ".flac",
    ".onnx",
    ".bin",
    ".pdf",
}


def _tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    return [ROOT / p for p in out.stdout.decode().split("\0") if p]


def test_no_secret_is_committed() -> None:
    files = [p for p in _tracked() if p.suffix.lower() not in SKIP_SUFFIXES and p.is_file()]
    assert len(files) > 50
    found = []
    for path in files:
        text = path.read_bytes()[:2_000_000].decode("utf-8", "replace")
        for name, pattern in PATTERNS.items():
            for match in pattern.finditer(text):
                if match.groups() and PLACEHOLDER.match(match.group(1)):
                    continue
                found.append(f"{path.relative_to(ROOT)}: {name}: {match.group(0)[:24]}...")
    print(f"secret scan: {len(files)} tracked files, {len(PATTERNS)} patterns, {len(found)} hits")
    assert not found, found


def test_env_files_are_ignored_by_git() -> None:
    r = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert r.returncode == 0, ".env (docker-compose's passwords) must be git-ignored"
