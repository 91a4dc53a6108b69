"""The player in a real browser (Debian's Chromium via playwright-core) against a real backend.

The scenarios live in frontend/e2e/*.test.mjs; this runs them with a served backend on the CI
PostgreSQL and Redis, and a restart command for the reconnect case.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import DATABASE_URL, REDIS_URL, RUN_ID
from tests.e2e import backend

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and Path(CHROMIUM).exists()
         and (FRONTEND / "node_modules").is_dir() and (FRONTEND / "dist" / "index.html").is_file()),
    reason="needs node, Debian chromium and a built frontend (make test builds it)",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_player_scenarios_in_chromium(tmp_path: Path) -> None:
    port = _free_port()
    state = tmp_path / "backend"
    env = {
        "MUSICREC_DATABASE_URL": DATABASE_URL,
        "MUSICREC_REDIS_URL": REDIS_URL,
        "MUSICREC_DB_SCHEMA": f"t_{RUN_ID}_e2e",
        "MUSICREC_REDIS_PREFIX": f"test:{RUN_ID}:e2e:",
        "MUSICREC_DATA_DIR": str(tmp_path / "data"),
        "MUSICREC_PORT": str(port),
        "MUSICREC_SECRET_KEY": "e2e-secret-key-0123456789abcdefghij",
        "MUSICREC_DEMO_CATALOG": "false",
        "MUSICREC_STATIC_DIR": str(FRONTEND / "dist"),
        "MUSICREC_LOG_LEVEL": "WARNING",
    }
    backend.start(state, env, port)
    try:
        restart = f"cd {ROOT} && {sys.executable} -m tests.e2e.backend restart {state}"
        result = subprocess.run(
            ["node", "--test", "--test-concurrency=1", "e2e/"], cwd=FRONTEND, capture_output=True, text=True,
            timeout=600,
            env={**os.environ, "E2E_BASE_URL": f"http://127.0.0.1:{port}", "E2E_RESTART_CMD": restart,
                 "CHROMIUM": CHROMIUM, "E2E_SCREENSHOT_DIR": str(ROOT / "docs" / "screenshots")},
        )
        print(result.stdout[-6000:])
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        assert "# fail 0" in result.stdout
    finally:
        backend.stop(state)
        log = state / "server.log"
        if log.exists():
            print(log.read_text()[-3000:])
