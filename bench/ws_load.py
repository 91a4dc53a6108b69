"""WebSocket load: live listening sessions and idle connections against one real server.

    python bench/ws_load.py [--sessions 1000] [--idle 10000] [--seconds 30]

Starts its own server (``python -m app.cli serve``, a separate process) on loopback, with a
synthetic catalog in a schema of its own and a Qdrant Edge index in a temporary data dir, on
the PostgreSQL and Redis named by MUSICREC_DATABASE_URL / MUSICREC_REDIS_URL (embedded ones
are started when unset). Then:

1. idle: ``--idle`` connections (20 per user, the per-user cap) each say hello, get their
   queue and then only ping now and then; the server's RSS is read once they are all open.
2. active: ``--sessions`` users, one connection each, send a feedback frame every 10 s
   (jittered; skip, like or complete of what plays) for ``--seconds``. Latency is feedback
   sent -> the updated queue frame received; a feedback with no queue frame within 5 s
   counts as a lost frame. The idle connections are closed first, unless ``--together``
   (on a 2-core machine the load generator's 11,000 sockets compete with the server).

Everything it creates is removed at the end. Prints a table, then one ``BENCH <name>
<value> <unit>`` line per figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import resource
import secrets
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgpack
import psutil
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.auth.login_sessions import LoginSessions  # noqa: E402
from app.auth.passwords import hash_password  # noqa: E402
from app.catalog import store_batch  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.store import users  # noqa: E402
from app.store.db import Database  # noqa: E402
from app.store.migrate import migrate  # noqa: E402
from config import Settings, load_settings  # noqa: E402
from recsys.catalog import TrackRecord  # noqa: E402

IDLE_PER_USER = 20  # the default ws_max_connections_per_user
FEEDBACK_EVERY_S = 10.0
RESPONSE_TIMEOUT_S = 5.0
IDLE_PING_EVERY_S = 50.0  # well inside the default 120 s idle timeout
HANDSHAKES_AT_ONCE = 64  # keeps the listen backlog from overflowing

GENRES = {
    "ambient": (0.1, 0.3, 0.9), "folk": (0.3, 0.3, 0.8), "jazz": (0.4, 0.6, 0.6),
    "pop": (0.7, 0.85, 0.15), "rock": (0.8, 0.45, 0.08), "edm": (0.93, 0.65, 0.02),
    "hip hop": (0.7, 0.55, 0.1), "classical": (0.2, 0.4, 0.95),
}
WORDS = ["night", "river", "gold", "static", "summer", "echo", "glass", "ember", "north", "velvet",
         "signal", "harbour", "neon", "dust", "orbit", "garden", "storm", "paper", "honey", "iron"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def synthetic_catalog(n: int, rng: random.Random) -> list[TrackRecord]:
    records = []
    genres = list(GENRES)
    for i in range(n):
        genre = genres[i % len(genres)]
        energy, valence, acoustic = GENRES[genre]

        def jitter(x: float) -> float:
            return round(min(1.0, max(0.0, x + rng.gauss(0, 0.1))), 3)

        words = rng.sample(WORDS, 2)
        records.append(TrackRecord(
            source="bench", external_id=f"bench-{i}", title=f"{words[0].title()} {words[1].title()} {i}",
            artists=[f"{genre.title()} Artist {i % 97}"], album=f"{genre.title()} Album {i % 31}",
            genres=[genre], year=1960 + i % 64, duration_ms=180_000 + i % 120_000, popularity=float(i % 100),
            audio={"energy": jitter(energy), "valence": jitter(valence),
                   "acousticness": jitter(acoustic), "danceability": jitter(0.5),
                   "tempo": 70 + rng.random() * 100, "loudness": -20 + 15 * energy},
            descriptors=words,
            # Live queues hold only playable tracks; the bench never fetches the media itself.
            media_kind="audio", media_ref=f"/bench/media/{i}.wav",
        ))
    return records


@dataclass
class Setup:
    settings: Settings
    env: dict[str, str]
    data_dir: Path
    schema: str
    prefix: str
    active: list[str] = field(default_factory=list)  # cookies
    idle: list[str] = field(default_factory=list)
    services: Any = None


async def prepare(args: argparse.Namespace, work: Path) -> Setup:
    from app.server import with_embedded

    tag = secrets.token_hex(4)
    schema, prefix = f"bench_{tag}", f"bench:{tag}:"
    data_dir = work / "server"
    data_dir.mkdir()
    base = load_settings(
        database_url=os.environ.get("MUSICREC_DATABASE_URL"), redis_url=os.environ.get("MUSICREC_REDIS_URL"),
        db_schema=schema, redis_prefix=prefix, data_dir=data_dir, secret_key=secrets.token_urlsafe(32),
        port=free_port(), demo_catalog=False, static_dir=work / "no-static", log_level="WARNING",
        embedded_pg_port=free_port(), embedded_redis_port=free_port(),
    )
    settings, services = with_embedded(base)
    assert settings.database_url and settings.redis_url
    setup = Setup(settings, {}, data_dir, schema, prefix, services=services)

    db = Database(settings.database_url, schema)
    await db.connect()
    try:
        await migrate(db)
        records = synthetic_catalog(args.catalog, random.Random(7))
        stored = []
        for start in range(0, len(records), 1000):
            stored += await store_batch(db, records[start : start + 1000])
        log(f"catalog: {len(stored)} tracks in PostgreSQL; indexing...")
        await build_index(stored, data_dir)

        password_hash = await hash_password(secrets.token_urlsafe(16))
        idle_users = -(-args.idle // IDLE_PER_USER)
        ids = [(await users.create(db, f"bench_{tag}_{n}", password_hash)).id
               for n in range(args.sessions + idle_users)]
    finally:
        await db.close()

    # Cookies as the server would issue them: a Redis session, signed by the app's secret.
    redis = aioredis.from_url(settings.redis_url)
    sessions = LoginSessions(redis, prefix, settings.session_ttl_s)
    app = create_app(settings)
    auth = app.extensions["QUART_AUTH"][0]
    cookie_name = app.config["QUART_AUTH_COOKIE_NAME"]
    cookies = [f"{cookie_name}={auth.dump_token(await sessions.create(uid), app)}" for uid in ids]
    await redis.aclose()
    setup.active = cookies[: args.sessions]
    setup.idle = [cookies[args.sessions + n // IDLE_PER_USER] for n in range(args.idle)]

    setup.env = {k: v for k, v in os.environ.items() if not k.startswith("MUSICREC_")}
    setup.env.update({
        "MUSICREC_DATABASE_URL": settings.database_url, "MUSICREC_REDIS_URL": settings.redis_url,
        "MUSICREC_DB_SCHEMA": schema, "MUSICREC_REDIS_PREFIX": prefix, "MUSICREC_DATA_DIR": str(data_dir),
        "MUSICREC_SECRET_KEY": settings.resolved_secret_key(), "MUSICREC_PORT": str(settings.port),
        "MUSICREC_HOST": "127.0.0.1", "MUSICREC_DEMO_CATALOG": "false", "MUSICREC_LOG_LEVEL": "WARNING",
        "MUSICREC_STATIC_DIR": str(work / "no-static"), "MUSICREC_CONFIG_FILE": str(work / "empty.toml"),
        "HF_HUB_OFFLINE": "1",
    })
    (work / "empty.toml").write_text("")
    return setup


async def build_index(tracks: list[Any], data_dir: Path) -> None:
    from recsys.encoder import AsyncEncoder, OnnxMiniLM
    from recsys.index import open_index
    from recsys.index.builder import index_tracks

    index = open_index(None, data_dir, "tracks")
    await index.ensure()
    encoder = AsyncEncoder(OnnxMiniLM())
    try:
        await index_tracks(index, tracks, encoder)
    finally:
        await index.close()
        encoder.close()


async def cleanup(setup: Setup) -> None:
    settings = setup.settings
    with contextlib.suppress(Exception):
        conn = await asyncpg.connect(settings.database_url)
        await conn.execute(f'DROP SCHEMA IF EXISTS "{setup.schema}" CASCADE')
        await conn.close()
    with contextlib.suppress(Exception):
        redis = aioredis.from_url(settings.redis_url or "")
        async for key in redis.scan_iter(match=f"{setup.prefix}*", count=1000):
            await redis.delete(key)
        await redis.aclose()
    if setup.services is not None:
        setup.services.stop(only_started=True)


# -- the server -------------------------------------------------------------------------------


async def start_server(setup: Setup, log_path: Path) -> asyncio.subprocess.Process:
    with log_path.open("ab") as server_log:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "app.cli", "serve", cwd=ROOT, env=setup.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=server_log,
        )
    url = f"http://127.0.0.1:{setup.settings.port}/api/moods"
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if proc.returncode is not None:
                raise RuntimeError("the server exited at start-up")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url, timeout=1)).status_code == 200:
                    return proc
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not start")


async def stop_server(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            proc.kill()
            await proc.wait()


def rss_mb(pid: int) -> float:
    return psutil.Process(pid).memory_info().rss / 2**20


# -- clients ----------------------------------------------------------------------------------


class Tally:
    """Counts clients that are settled (ready or failed); ``all_in`` is set at ``target``."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.ok = 0
        self.failed = 0
        self.all_in = asyncio.Event()
        if target == 0:
            self.all_in.set()

    def settle(self, ok: bool) -> None:
        if ok:
            self.ok += 1
        else:
            self.failed += 1
        if self.ok + self.failed >= self.target:
            self.all_in.set()


@dataclass
class Results:
    idle: Tally
    active: Tally
    latencies_ms: list[float] = field(default_factory=list)
    sent: int = 0
    lost: int = 0
    failed_sessions: int = 0
    idle_dropped: int = 0


async def open_ws(url: str, cookie: str, gate: asyncio.Semaphore) -> ClientConnection:
    origin = Origin("http://" + url.split("/")[2])
    async with gate:
        return await connect(url, origin=origin, additional_headers={"Cookie": cookie},
                             ping_interval=None, max_size=2**22, open_timeout=60)


async def next_queue(ws: ClientConnection, after: int, within_s: float) -> dict[str, Any] | None:
    deadline = time.monotonic() + within_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            frame = msgpack.unpackb(await asyncio.wait_for(ws.recv(), left), raw=False)
        except TimeoutError:
            return None
        if frame.get("type") == "queue" and frame["seq"] > after:
            return dict(frame)
    return None


async def hello(ws: ClientConnection) -> dict[str, Any]:
    await ws.send(msgpack.packb({"type": "hello"}))
    queue = await next_queue(ws, 0, 60)
    if queue is None:
        raise RuntimeError("no queue after hello")
    return queue


async def idle_client(
    url: str, cookie: str, gate: asyncio.Semaphore, results: Results, stop: asyncio.Event
) -> None:
    try:
        ws = await open_ws(url, cookie, gate)
        await hello(ws)
    except Exception as exc:
        results.idle.settle(False)
        if results.idle.failed <= 3:
            log(f"an idle connection failed: {exc!r}")
        return
    results.idle.settle(True)
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), IDLE_PING_EVERY_S * random.uniform(0.8, 1.0))
            if not stop.is_set():
                await ws.send(msgpack.packb({"type": "ping"}))
    except Exception:
        results.idle_dropped += 1
    finally:
        with contextlib.suppress(Exception):
            await ws.close()


async def active_session(url: str, cookie: str, gate: asyncio.Semaphore, results: Results,
                         start: asyncio.Event, until: list[float]) -> None:
    try:
        ws = await open_ws(url, cookie, gate)
        queue = await hello(ws)
    except Exception as exc:
        results.active.settle(False)
        if results.active.failed <= 3:
            log(f"a session failed to start: {exc!r}")
        return
    results.active.settle(True)
    try:
        await start.wait()
        next_at = time.monotonic() + random.uniform(0, FEEDBACK_EVERY_S)
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= until[0]:
                break
            playing = queue["now_playing"]
            if playing is None:
                break
            action = random.choice(("skip", "skip", "like", "complete"))
            sent_at = time.perf_counter()
            await ws.send(msgpack.packb({"type": "feedback", "track_id": playing["id"], "action": action}))
            results.sent += 1
            updated = await next_queue(ws, queue["seq"], RESPONSE_TIMEOUT_S)
            if updated is None:
                results.lost += 1
            else:
                results.latencies_ms.append((time.perf_counter() - sent_at) * 1000)
                queue = updated
            next_at += FEEDBACK_EVERY_S * random.uniform(0.9, 1.1)
    except Exception:
        results.failed_sessions += 1
    finally:
        with contextlib.suppress(Exception):
            await ws.close()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def log(message: str) -> None:
    print(f"[ws_load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def run(args: argparse.Namespace) -> dict[str, tuple[float, str]]:
    work = Path(tempfile.mkdtemp(prefix="ws-load-"))
    setup = await prepare(args, work)
    proc = None
    idle_tasks: list[asyncio.Task[None]] = []
    stop_idle = asyncio.Event()
    try:
        proc = await start_server(setup, args.server_log or work / "server.log")
        url = f"ws://127.0.0.1:{setup.settings.port}/ws"
        gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
        results = Results(Tally(args.idle), Tally(args.sessions))
        base_rss = rss_mb(proc.pid)

        log(f"opening {args.idle} idle connections...")
        t0 = time.monotonic()
        idle_tasks = [asyncio.create_task(idle_client(url, c, gate, results, stop_idle)) for c in setup.idle]
        await results.idle.all_in.wait()
        await asyncio.sleep(2)
        idle_rss = rss_mb(proc.pid)
        idle_held = results.idle.ok - results.idle_dropped
        log(f"{idle_held} idle open in {time.monotonic() - t0:.1f} s; server RSS {idle_rss:.0f} MB")
        if not args.together:
            stop_idle.set()
            await asyncio.gather(*idle_tasks, return_exceptions=True)
            await asyncio.sleep(2)

        log(f"starting {args.sessions} active sessions for {args.seconds} s...")
        start = asyncio.Event()
        until = [float("inf")]
        sessions = [asyncio.create_task(active_session(url, c, gate, results, start, until))
                    for c in setup.active]
        await results.active.all_in.wait()
        await asyncio.sleep(1)
        server = psutil.Process(proc.pid)
        cpu0, wall0 = server.cpu_times(), time.monotonic()
        until[0] = time.monotonic() + args.seconds
        start.set()
        peak_rss = 0.0
        while time.monotonic() < until[0]:
            await asyncio.sleep(1)
            peak_rss = max(peak_rss, rss_mb(proc.pid))
        cpu1, wall1 = server.cpu_times(), time.monotonic()
        await asyncio.wait_for(asyncio.gather(*sessions), RESPONSE_TIMEOUT_S + 30)
        cpu_pct = ((cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)) / (wall1 - wall0) * 100
        lat = results.latencies_ms
        figures = {
            "ws_active_sessions": (results.active.ok - results.failed_sessions, "count"),
            "ws_feedback_sent": (results.sent, "count"),
            "ws_push_p50_ms": (percentile(lat, 50), "ms"),
            "ws_push_p99_ms": (percentile(lat, 99), "ms"),
            "ws_push_max_ms": (max(lat) if lat else float("nan"), "ms"),
            "ws_push_mean_ms": (statistics.fmean(lat) if lat else float("nan"), "ms"),
            "ws_lost_frames": (results.lost, "count"),
            "ws_failed_sessions": (results.active.failed + results.failed_sessions, "count"),
            "ws_server_cpu_pct": (cpu_pct, "%"),
            "ws_server_rss_mb": (peak_rss, "MB"),
            "ws_base_rss_mb": (base_rss, "MB"),
            "ws_idle_connections": (idle_held, "count"),
            "ws_idle_failed": (results.idle.failed, "count"),
            "ws_idle_rss_mb": (idle_rss, "MB"),
        }
        return figures
    finally:
        stop_idle.set()
        if idle_tasks:
            await asyncio.gather(*idle_tasks, return_exceptions=True)
        if proc is not None:
            await stop_server(proc)
        await cleanup(setup)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000, help="active listening sessions")
    parser.add_argument("--idle", type=int, default=10000, help="idle connections held open")
    parser.add_argument("--seconds", type=int, default=30, help="length of the active phase")
    parser.add_argument("--catalog", type=int, default=2000, help="synthetic tracks to index")
    parser.add_argument("--together", action="store_true",
                        help="keep the idle connections open during the active phase")
    parser.add_argument("--server-log", type=Path, help="keep the server's log in this file")
    args = parser.parse_args()
    if min(args.sessions, args.seconds, args.catalog) < 1 or args.idle < 0:
        parser.error("sizes must be positive")
    # Each connection is a file descriptor here and in the server (which inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 2 * (args.sessions + args.idle) + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < args.sessions + args.idle + 256:
        parser.error(f"the open-file limit ({hard}) is too low for that many connections")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    figures = asyncio.run(run(args))
    print()
    print(f"{'figure':<24}{'value':>12}  unit")
    print("-" * 44)
    for name, (value, unit) in figures.items():
        print(f"{name:<24}{value:>12.1f}  {unit}")
    print()
    for name, (value, unit) in figures.items():
        print(f"BENCH {name} {value:.1f} {unit}" if unit != "count" else f"BENCH {name} {int(value)} {unit}")


if __name__ == "__main__":
    main()
