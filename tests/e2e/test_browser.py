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


# A small history-upload limit, so the browser can meet the 413 without sending 64 MiB.
UPLOAD_LIMIT_BYTES = 256 * 1024


def _embedded_env(data_dir: Path, port: int) -> dict[str, str]:
    """What `make run` has: no server URLs, so PostgreSQL, Redis and Qdrant are the embedded ones
    (tests.e2e.backend drops any MUSICREC_* variable inherited from the test run); only the
    history-upload limit is smaller."""
    return {
        "MUSICREC_DATA_DIR": str(data_dir),
        "MUSICREC_PORT": str(port),
        "MUSICREC_EMBEDDED_PG_PORT": str(_free_port()),
        "MUSICREC_EMBEDDED_REDIS_PORT": str(_free_port()),
        "MUSICREC_SECRET_KEY": "e2e-secret-key-0123456789abcdefghij",
        "MUSICREC_DEMO_CATALOG": "true",
        "MUSICREC_STATIC_DIR": str(FRONTEND / "dist"),
        "MUSICREC_LOG_LEVEL": "WARNING",
        "MUSICREC_LISTENS_UPLOAD_MAX_BYTES": str(UPLOAD_LIMIT_BYTES),
    }


def test_player_scenarios_in_chromium(tmp_path: Path) -> None:
    port, fresh_port = _free_port(), _free_port()
    state, fresh = tmp_path / "backend", tmp_path / "fresh"
    backend.start(state, _embedded_env(tmp_path / "data", port), port)
    # A second, brand-new backend whose demo catalog is still loading when the player opens.
    backend.start_fresh(fresh, _embedded_env(tmp_path / "fresh-data", fresh_port), fresh_port)
    try:
        restart = f"cd {ROOT} && {sys.executable} -m tests.e2e.backend restart {state}"
        result = subprocess.run(
            ["node", "--test", "--test-concurrency=1", "e2e/"], cwd=FRONTEND, capture_output=True, text=True,
            timeout=600,
            env={**os.environ, "E2E_BASE_URL": f"http://127.0.0.1:{port}", "E2E_RESTART_CMD": restart,
                 "E2E_FRESH_BASE_URL": f"http://127.0.0.1:{fresh_port}",
                 "E2E_UPLOAD_LIMIT_BYTES": str(UPLOAD_LIMIT_BYTES),
                 "CHROMIUM": CHROMIUM, "E2E_SCREENSHOT_DIR": str(ROOT / "docs" / "screenshots")},
        )
        # The scenarios' measured figures (spreads, queue-change times) first: the tail may not hold them.
        print("\n".join(line for line in result.stdout.splitlines() if line.startswith("# \\#")))
        print(result.stdout[-6000:])
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
        assert "# fail 0" in result.stdout
    finally:
        backend.shutdown(fresh)
        backend.shutdown(state)
        log = state / "server.log"
        if log.exists():
            print(log.read_text()[-3000:])
