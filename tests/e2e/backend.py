"""A real backend for browser tests: `musicrec serve` in its own process, restartable from a shell.

    python -m tests.e2e.backend start STATE_DIR   # import a small catalog, serve, wait for health
    python -m tests.e2e.backend restart STATE_DIR # kill it and serve again on the same port and data
    python -m tests.e2e.backend stop STATE_DIR

STATE_DIR/env.json holds the environment and port, STATE_DIR/pid the server's process id.
"""

from __future__ import annotations

import csv
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HIT_PREDICTOR_HEADER = ["track", "artist", "uri", "danceability", "energy", "key", "loudness", "mode",
                        "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo",
                        "duration_ms", "time_signature", "chorus_hit", "sections", "target", "decade"]
WORDS = ["night", "river", "gold", "summer", "echo", "velvet", "neon", "glass", "fire", "paper", "blue",
         "road"]


def write_catalog(path: Path, rows: int = 240, seed: int = 5) -> None:
    """A Hit-Predictor-format CSV with varied, plausible tracks (short, so the player advances)."""
    rng = random.Random(seed)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HIT_PREDICTOR_HEADER)
        for i in range(rows):
            energy = rng.random()
            out.writerow([
                f"{rng.choice(WORDS).title()} {rng.choice(WORDS).title()} {i}", f"Artist {i % 60}",
                f"spotify:track:e2e{i:019d}", round(rng.random(), 3), round(energy, 3), rng.randrange(12),
                round(-20 + 15 * energy, 2), rng.randrange(2), round(rng.random() * 0.2, 3),
                round(1 - energy, 3), round(rng.random(), 3), round(rng.random() * 0.3, 3),
                round(rng.random(), 3), round(70 + 100 * energy, 1), 240_000, 4, 30.1, 9,
                rng.randrange(2), 1980 + 10 * (i % 4),
            ])


def _env(state: Path) -> dict[str, str]:
    return {**os.environ, **json.loads((state / "env.json").read_text())["env"]}


def _wait_healthy(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the backend on port {port} did not become healthy")


def serve(state: Path) -> None:
    config = json.loads((state / "env.json").read_text())
    log = (state / "server.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], env=_env(state), cwd=ROOT,
                               stdout=log, stderr=log, start_new_session=True)
    (state / "pid").write_text(str(process.pid))
    _wait_healthy(int(config["port"]))


def stop(state: Path) -> None:
    pid_file = state / "pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pid_file.unlink(missing_ok=True)


def start(state: Path, env: dict[str, str], port: int) -> None:
    state.mkdir(parents=True, exist_ok=True)
    (state / "env.json").write_text(json.dumps({"env": env, "port": port}))
    catalog = state / "catalog.csv"
    write_catalog(catalog)
    subprocess.run([sys.executable, "-m", "app.cli", "import", "spotify", str(catalog)], env=_env(state),
                   cwd=ROOT, check=True, capture_output=True, timeout=300)
    serve(state)


def main() -> None:
    command, state = sys.argv[1], Path(sys.argv[2])
    if command == "restart":
        stop(state)
        serve(state)
    elif command == "stop":
        stop(state)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
