"""Fixtures for the realtime tests: a small catalog in PostgreSQL with its Qdrant Edge index
built once, real app instances (Hypercorn subprocesses, or in this process when a test must
look inside), and a WebSocket "tab" client speaking the protocol."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import signal
import sys
import time
import wave
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import httpx
import msgpack
import numpy as np
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from app.catalog import store_batch
from app.store.db import Database
from app.store.migrate import migrate
from recsys.catalog import CatalogTrack, TrackRecord
from recsys.encoder import AsyncEncoder, OnnxMiniLM
from recsys.index import open_index
from recsys.index.builder import index_tracks
from tests.conftest import DATABASE_URL, REDIS_URL, RUN_ID, make_settings, unique_name
from tests.ports import free_port
from tests.recsys.conftest import make_catalog

ROOT = Path(__file__).resolve().parents[2]
SECRET = "realtime-test-secret-key-0123456789abcdef"
PASSWORD = "correct horse battery"
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def write_tone(path: Path, seconds: float = 2.0, rate: int = 8000) -> Path:
    """A short sine tone as a WAV file: real, playable media for test catalogs."""
    samples = (np.sin(np.arange(int(seconds * rate)) * 2 * np.pi * 440 / rate) * 8000).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return path


def _append(path: Path, line: bytes) -> None:
    with path.open("ab") as out:
        out.write(line)


# -- catalog and index, once per run -------------------------------------------------------


@pytest.fixture(scope="session")
async def rt_tracks(run_schema: str, tmp_path_factory: pytest.TempPathFactory) -> list[CatalogTrack]:
    """300 tracks in 5 clear clusters, stored under a source of their own; all playable (one
    short tone serves as every track's audio), since live queues hold only playable tracks."""
    tone = write_tone(tmp_path_factory.mktemp("rt-media") / "tone.wav")
    records = [
        TrackRecord(**{f.name: getattr(t, f.name) for f in fields(TrackRecord)
                       if f.name not in ("source", "media_kind", "media_ref")},
                    source="rt-test", media_kind="audio", media_ref=str(tone))
        for t in make_catalog()
    ]
    db = Database(DATABASE_URL, run_schema)
    await db.connect()
    try:
        await migrate(db)
        return await store_batch(db, records)
    finally:
        await db.close()


@pytest.fixture(scope="session")
async def rt_index(rt_tracks: list[CatalogTrack], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir holding the catalog's Qdrant Edge index; instances get copies of it."""
    data_dir = tmp_path_factory.mktemp("rt-index")
    index = open_index(None, data_dir, "tracks")
    await index.ensure()
    encoder = AsyncEncoder(OnnxMiniLM())
    try:
        await index_tracks(index, rt_tracks, encoder)
    finally:
        await index.close()
        encoder.close()
    return data_dir


def instance_data_dir(rt_index: Path, tmp: Path) -> Path:
    """An instance's own data dir: an embedded index belongs to one process."""
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copytree(rt_index / "qdrant-edge", tmp / "qdrant-edge")
    return tmp


# -- app instances --------------------------------------------------------------------------


def instance_env(schema: str, prefix: str, data_dir: Path, port: int, **extra: Any) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICREC_")}
    env.update(
        {
            "MUSICREC_DATABASE_URL": DATABASE_URL,
            "MUSICREC_REDIS_URL": REDIS_URL,
            "MUSICREC_DB_SCHEMA": schema,
            "MUSICREC_REDIS_PREFIX": prefix,
            "MUSICREC_SECRET_KEY": SECRET,
            "MUSICREC_DATA_DIR": str(data_dir),
            "MUSICREC_PORT": str(port),
            "MUSICREC_HOST": "127.0.0.1",
            "MUSICREC_DEMO_CATALOG": "false",
            "MUSICREC_STATIC_DIR": str(data_dir / "no-static"),
            "MUSICREC_CONFIG_FILE": str(data_dir / "musicrec.toml"),
            "HF_HUB_OFFLINE": "1",
        }
    )
    (data_dir / "musicrec.toml").write_text("")  # never the developer's config/musicrec.toml
    env.update({f"MUSICREC_{k.upper()}": str(v) for k, v in extra.items()})
    return env


@dataclass
class Instance:
    """One app server process."""

    name: str
    port: int
    env: dict[str, str]
    proc: asyncio.subprocess.Process | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tests.realtime.server_main", cwd=ROOT, env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as client:
            while True:
                if self.proc.returncode is not None:
                    err = await self.proc.stderr.read() if self.proc.stderr else b""
                    raise RuntimeError(f"instance {self.name} exited: {err.decode()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    r = await client.get(f"{self.http}/api/moods", timeout=1)
                    if r.status_code < 500:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"instance {self.name} did not start")
                await asyncio.sleep(0.2)
        assert self.proc.stderr is not None
        self._drain_task = asyncio.create_task(self._drain_stderr())

    async def _drain_stderr(self) -> None:
        # Keep the pipe flowing (a full pipe would block the server's logging).
        assert self.proc is not None and self.proc.stderr is not None
        sink = os.environ.get("RT_SERVER_LOG")  # a folder: each instance's log kept there, to debug
        kept = Path(sink) / f"{self.name}.log" if sink else None
        while line := await self.proc.stderr.readline():
            if kept is not None:
                await asyncio.to_thread(_append, kept, line)

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 15)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()


@dataclass
class Cluster:
    instances: list[Instance]
    prefix: str
    schema: str

    @property
    def a(self) -> Instance:
        return self.instances[0]

    @property
    def b(self) -> Instance:
        return self.instances[1]


@pytest.fixture(scope="session")
async def cluster(
    rt_index: Path, tmp_path_factory: pytest.TempPathFactory, run_schema: str
) -> AsyncIterator[Cluster]:
    """Two instances on one PostgreSQL and one Redis, each with its own copy of the index."""
    prefix = f"test:{RUN_ID}:{secrets.token_hex(3)}:"
    instances = []
    for name in ("a", "b"):
        port = free_port()
        data_dir = instance_data_dir(rt_index, tmp_path_factory.mktemp(f"instance-{name}"))
        instances.append(Instance(name, port, instance_env(run_schema, prefix, data_dir, port,
                                                           ws_max_frames_per_s=30,
                                                           allowed_origins="http://player.example")))
    await asyncio.gather(*(i.start() for i in instances))
    try:
        yield Cluster(instances, prefix, run_schema)
    finally:
        await asyncio.gather(*(i.stop() for i in instances))


# -- users and tabs ---------------------------------------------------------------------------


async def register(base_url: str) -> tuple[int, str]:
    """A new account; returns (user id, the Cookie header value)."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        body = {"username": unique_name("rt"), "password": PASSWORD}
        r = await client.post("/api/auth/register", json=body)
        assert r.status_code == 201, r.text
        cookie = r.headers["set-cookie"].split(";")[0]
        return int(r.json()["user"]["id"]), cookie


@dataclass
class Tab:
    """One WebSocket client: sends frames, keeps every frame received, in order."""

    ws: ClientConnection
    text: bool = False
    frames: list[dict[str, Any]] = field(default_factory=list)
    _pos: int = 0

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame) if self.text else msgpack.packb(frame))

    async def recv(self, within_s: float = 10.0) -> dict[str, Any]:
        if self._pos < len(self.frames):
            self._pos += 1
            return self.frames[self._pos - 1]
        raw = await asyncio.wait_for(self.ws.recv(), within_s)
        if self.text:
            assert isinstance(raw, str), "a JSON client must be answered in JSON"
            frame = json.loads(raw)
        else:
            assert isinstance(raw, bytes), "a MessagePack client must be answered in binary frames"
            frame = msgpack.unpackb(raw, raw=False)
        self.frames.append(frame)
        self._pos += 1
        return frame

    async def expect(
        self, kind: str, where: Callable[[dict[str, Any]], bool] | None = None, within_s: float = 10.0
    ) -> dict[str, Any]:
        """The next frame of this type (matching ``where``); frames passed over stay recorded."""
        deadline = time.monotonic() + within_s
        while True:
            frame = await self.recv(max(0.01, deadline - time.monotonic()))
            if frame["type"] == kind and (where is None or where(frame)):
                return frame

    async def quiet(self, seconds: float) -> list[dict[str, Any]]:
        """Every frame that arrives within ``seconds``."""
        got = []
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                got.append(await self.recv(left))
            except TimeoutError:
                break
        return got

    async def hello(self, resume_after: int | None = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """hello → welcome, and the first queue frame when not resuming."""
        await self.send({"type": "hello", "resume_after": resume_after})
        welcome = await self.expect("welcome")
        if resume_after is not None:
            return welcome, None
        return welcome, await self.expect("queue", within_s=20)

    def seqs(self) -> list[int]:
        return [f["seq"] for f in self.frames if f.get("seq")]

    async def close(self) -> None:
        await self.ws.close()


@contextlib.asynccontextmanager
async def open_tab(
    url: str, cookie: str | None, origin: str | None = "auto", text: bool = False
) -> AsyncIterator[Tab]:
    host = url.split("/")[2]
    headers = {"Cookie": cookie} if cookie else {}
    ws = await connect(
        url,
        origin=Origin(f"http://{host}") if origin == "auto" else (Origin(origin) if origin else None),
        additional_headers=headers,
        max_size=2**22,
        ping_interval=None,
        open_timeout=10,
    )
    try:
        yield Tab(ws, text)
    finally:
        await ws.close()


def ids(frame: dict[str, Any]) -> list[int]:
    """Track ids of a queue frame, now playing first."""
    head = [frame["now_playing"]["id"]] if frame.get("now_playing") else []
    return head + [t["id"] for t in frame["tracks"]]


__all__ = ["Cluster", "Instance", "Tab", "free_port", "ids", "make_settings", "open_tab", "register"]
