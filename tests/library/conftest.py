"""A real Subsonic server for the library tests: Supysonic from PyPI, in a virtualenv of its own
(.cache/supysonic-venv, so its pins never touch the project's), over generated audio files.

The first run creates the virtualenv (pip install supysonic waitress: about a minute); later
runs reuse it. Without PyPI (and without the virtualenv) the tests are skipped, saying why.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
VENV = ROOT / ".cache" / "supysonic-venv"
USER, PASSWORD = "alice", "s3cret-library-pass"


def _bin(name: str) -> Path:
    return VENV / "bin" / name


def ensure_supysonic() -> None:
    """The virtualenv with supysonic and waitress, created on first use."""
    if _bin("supysonic-server").exists() and _bin("supysonic-cli").exists():
        return
    try:
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True, capture_output=True,
                       timeout=120)
        subprocess.run([str(_bin("pip")), "install", "-q", "supysonic", "waitress"], check=True,
                       capture_output=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"Supysonic could not be installed from PyPI into {VENV} (offline?): {exc}")


def write_song(path: Path, title: str, artist: str, album: str, seconds: float = 2.0,
               genre: str = "Ambient", year: int = 2001, track: int = 1, hz: float = 330.0) -> Path:
    """A short sine tone with tags (FLAC or OGG Vorbis by suffix)."""
    t = np.arange(int(44100 * seconds)) / 44100
    signal = (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, signal, 44100)
    if path.suffix == ".flac":
        from mutagen.flac import FLAC as Tagged
    else:
        from mutagen.oggvorbis import OggVorbis as Tagged  # type: ignore[assignment]
    tags = Tagged(path)
    tags["title"], tags["artist"], tags["album"] = title, artist, album
    tags["genre"], tags["date"], tags["tracknumber"] = genre, str(year), str(track)
    tags.save()
    return path


class Supysonic:
    """One Supysonic instance: its config, database and music folder under ``root``."""

    def __init__(self, root: Path, listenbrainz_url: str | None = None) -> None:
        self.root = root
        self.music = root / "music"
        self.music.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db = root / "supysonic.db"
        lines = ["[base]", f"database_uri = sqlite:///{self.db}", "[webapp]", f"cache_dir = {root / 'cache'}",
                 "log_level = WARNING", "[daemon]", f"socket = {root / 'daemon.sock'}"]
        if listenbrainz_url:
            lines += ["[listenbrainz]", f"api_url = {listenbrainz_url}"]
        (root / "supysonic.conf").write_text("\n".join(lines) + "\n")
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> str:
        done = subprocess.run([str(_bin("supysonic-cli")), *args], cwd=self.root, capture_output=True,
                              text=True, timeout=300)
        if done.returncode != 0:
            raise RuntimeError(f"supysonic-cli {' '.join(args)}: {done.stderr[-500:]}")
        return done.stdout + done.stderr

    def setup(self) -> None:
        self.cli("user", "add", USER, "-p", PASSWORD)
        self.cli("folder", "add", "music", str(self.music))
        # ListenBrainz forwarding needs a token on the user; the CLI has no switch for it.
        with sqlite3.connect(self.db) as conn:
            conn.execute("UPDATE user SET listenbrainz_session = 'test-token' WHERE name = ?", (USER,))

    def scan(self) -> str:
        return self.cli("folder", "scan", "-f", "music")

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(_bin("supysonic-server")), "-S", "waitress", "-h", "127.0.0.1", "-p", str(self.port)],
            cwd=self.root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        query = f"u={USER}&p={PASSWORD}&v=1.12.0&c=test&f=json"
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/rest/ping.view?{query}", timeout=1) as answer:
                    if b'"ok"' in answer.read():
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("Supysonic did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None

    def api(self, method: str, **params: str) -> dict[str, Any]:
        """Ask Supysonic directly (what another player of this library would see)."""
        query = "&".join([f"u={USER}", f"p={PASSWORD}", "v=1.12.0", "c=other-player", "f=json",
                          *(f"{k}={v}" for k, v in params.items())])
        with urllib.request.urlopen(f"{self.url}/rest/{method}.view?{query}", timeout=10) as answer:
            return json.loads(answer.read())["subsonic-response"]  # type: ignore[no-any-return]


class ListenBrainzStub(ThreadingHTTPServer):
    """A ListenBrainz endpoint that records what Supysonic forwards when it gets a scrobble."""

    def __init__(self) -> None:
        self.listens: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.listens.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "ok"}')

            def log_message(self, *args: object) -> None:
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"


@pytest.fixture(scope="module")
def listenbrainz() -> Iterator[ListenBrainzStub]:
    stub = ListenBrainzStub()
    thread = threading.Thread(target=stub.serve_forever, daemon=True)
    thread.start()
    yield stub
    stub.shutdown()
    stub.server_close()


@pytest.fixture(scope="module")
def supysonic(tmp_path_factory: pytest.TempPathFactory,
              listenbrainz: ListenBrainzStub) -> Iterator[Supysonic]:
    ensure_supysonic()
    server = Supysonic(tmp_path_factory.mktemp("supysonic"), listenbrainz.url)
    write_song(server.music / "Calm Artist" / "01 Morning Drift.flac", "Morning Drift", "Calm Artist",
               "Quiet Hours", seconds=3.0, track=1, hz=220)
    write_song(server.music / "Calm Artist" / "02 Evening Tide.ogg", "Evening Tide", "Calm Artist",
               "Quiet Hours", seconds=2.0, track=2, hz=260)
    write_song(server.music / "Loud Band" / "01 Paper Planes (Remastered 2011).flac",
               "Paper Planes (Remastered 2011)", "The Loud Band", "Skies", seconds=4.0, genre="Rock",
               year=1999, hz=440)
    server.setup()
    server.scan()
    server.start()
    yield server
    server.stop()


async def wait_for(predicate: Any, within_s: float = 30.0) -> Any:
    """Poll an async predicate until it returns something truthy."""
    deadline = time.monotonic() + within_s
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.1)

