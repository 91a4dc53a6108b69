"""`make bench-play`: how long every demo piece takes to start sounding, measured in the browser.

Starts a real backend exactly as `make run` does (embedded PostgreSQL, Redis, Qdrant Edge; the
demo catalog imported first), then runs frontend/e2e/bench-play.mjs in Debian's Chromium,
which asks the player to start each piece and reads the time from the request to the first
sound from the page's playback hook. That script prints the table and the BENCH lines.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e import backend  # noqa: E402

FRONTEND = ROOT / "frontend"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> int:
    built = (FRONTEND / "dist" / "index.html").is_file()
    if not (shutil.which("node") and Path(CHROMIUM).exists() and built):
        print("bench-play needs node, Debian chromium and a built frontend (make test-frontend)")
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-play-") as tmp:
        port = _free_port()
        state = Path(tmp) / "backend"
        env = {
            "MUSICREC_DATA_DIR": str(Path(tmp) / "data"),
            "MUSICREC_PORT": str(port),
            "MUSICREC_EMBEDDED_PG_PORT": str(_free_port()),
            "MUSICREC_EMBEDDED_REDIS_PORT": str(_free_port()),
            "MUSICREC_SECRET_KEY": "bench-play-secret-key-0123456789abcdef",
            "MUSICREC_STATIC_DIR": str(FRONTEND / "dist"),
            "MUSICREC_LOG_LEVEL": "WARNING",
        }
        print("starting a backend with the demo catalog (embedded set-up)...", flush=True)
        backend.start(state, env, port, spotify_rows=0)
        try:
            result = subprocess.run(
                ["node", "e2e/bench-play.mjs"], cwd=FRONTEND, check=False, timeout=3600,
                env={**os.environ, "E2E_BASE_URL": f"http://127.0.0.1:{port}", "CHROMIUM": CHROMIUM},
            )
            return result.returncode
        finally:
            backend.shutdown(state)


if __name__ == "__main__":
    raise SystemExit(main())
