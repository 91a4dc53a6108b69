"""WebSocket load: live listening sessions and idle connections against one real server.

    python bench/ws_load.py [--sessions 1000] [--idle 10000] [--seconds 30]
    python bench/ws_load.py --part groups [--groups 200] [--members 5] [--seconds 30]

Starts its own server (``python -m cli serve``, a separate process) on loopback, with a
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

``--part groups`` (listening together) runs instead: ``--groups`` groups of ``--members``
users (a host who starts the group over HTTP, guests who join by its code), every member
with one connection that says hello and ``group_join``. Every member acts every 10 s
(jittered): a feedback (like, skip: a vote for a guest, or complete) of what the group plays;
the host now and then sends ``next`` or a ``playback`` seek instead. Latency is feedback sent
-> each member's next group queue frame received (one figure per member frame); a feedback
whose queue frame has not reached every member within 5 s is lost. Playback fan-out is the
host's ``playback`` frame sent -> each member's matching ``playback`` frame received.

The load generator is the measuring instrument, so it keeps its own pauses and CPU out of the
figures as far as it can: its garbage collector is off during the measured phase
(``collector_off``; before, its full collections of ~100 ms on 1,000 sockets' worth of objects
showed as server latency), and it runs on uvloop (a dev dependency; about a third less of its
CPU on the two cores it shares with the server).

Everything it creates is removed at the end. Prints a table, then one ``BENCH <name>
<value> <unit>`` line per figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
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
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import msgpack
import psutil
import redis.asyncio as aioredis
import uvloop
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.auth.login_sessions import LoginSessions  # noqa: E402
from app.auth.passwords import hash_password  # noqa: E402
from app.catalog import store_batch  # noqa: E402
from app.collab_training import train  # noqa: E402
from app.factory import create_app  # noqa: E402
from app.store import users  # noqa: E402
from app.store.db import Database  # noqa: E402
from app.store.migrate import migrate  # noqa: E402
from config import Settings, load_settings  # noqa: E402
from recsys.catalog import TrackRecord  # noqa: E402

IDLE_PER_USER = 20  # the default ws_max_connections_per_user
FEEDBACK_EVERY_S = 10.0
HISTORY_PER_USER = 40  # --trained: seeded listening events per bench user
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
    from cli.boot import with_embedded

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
        password_hash = await hash_password(secrets.token_urlsafe(16))
        idle_users = -(-args.idle // IDLE_PER_USER)
        ids = [(await users.create(db, f"bench_{tag}_{n}", password_hash)).id
               for n in range(args.sessions + idle_users)]
        await build_index(stored, data_dir, db if args.trained else None, ids)
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
    if args.retrain_after is not None:
        setup.env.update({"MUSICREC_RETRAIN_CHECK_S": "1",
                          "MUSICREC_RETRAIN_MIN_EVENTS": str(args.retrain_after)})
    (work / "empty.toml").write_text("")
    return setup


async def build_index(tracks: list[Any], data_dir: Path, db: Database | None, user_ids: list[int]) -> None:
    """Index the catalog; with ``db``, also give the users a listening history and train a
    first collab model on it (``--trained``)."""
    from recsys.encoder import AsyncEncoder, OnnxMiniLM
    from recsys.index import open_index
    from recsys.index.builder import index_tracks

    index = open_index(None, data_dir, "tracks")
    await index.ensure()
    encoder = AsyncEncoder(OnnxMiniLM())
    try:
        await index_tracks(index, tracks, encoder)
        if db is not None:
            await seed_histories(db, tracks, user_ids, random.Random(11))
            result = await train(db, index)
            assert result is not None
            log(f"a first collab model: {result.row.users} listeners, {result.row.tracks} tracks, "
                f"{result.row.interactions} interactions")
    finally:
        await index.close()
        encoder.close()


async def seed_histories(db: Database, tracks: list[Any], user_ids: list[int], rng: random.Random,
                         per_user: int = HISTORY_PER_USER) -> None:
    """Listening events for every bench user: each keeps to two genres (completes and likes)
    and skips a little of the rest, so that the model has co-listening to learn."""
    by_genre: dict[str, list[int]] = {}
    for t in tracks:
        by_genre.setdefault(t.genres[0], []).append(t.id)
    genres = sorted(by_genre)
    rows = []
    for uid in user_ids:
        liked = rng.sample(genres, 2)
        for _ in range(per_user):
            if rng.random() < 0.8:
                rows.append((uid, rng.choice(by_genre[rng.choice(liked)]), rng.choice(("complete", "like"))))
            else:
                rows.append((uid, rng.choice(by_genre[rng.choice(genres)]), "skip"))
    async with db.pool.acquire() as conn:
        await conn.copy_records_to_table("listening_events", records=rows,
                                         columns=["user_id", "track_id", "action"],
                                         schema_name=db.schema)


async def models_trained(setup: Setup) -> int:
    """Collab models the server trained (and swapped in) so far."""
    conn = await asyncpg.connect(setup.settings.database_url)
    try:
        return int(await conn.fetchval(f'SELECT count(*) FROM "{setup.schema}".collab_models'))
    finally:
        await conn.close()


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
            sys.executable, "-m", "cli", "serve", cwd=ROOT, env=setup.env,
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


class CpuWatch:
    """Where the machine's CPU went during a measured phase, to tell a quiet run from one that
    shared the cores: the server's share, this load generator's, the rest of the machine
    (PostgreSQL, Redis and anything else running) and the hypervisor's steal. Percentages of
    one core, like top's (200 % = both cores of a 2-core machine)."""

    def __init__(self, server_pid: int) -> None:
        self._server = psutil.Process(server_pid)
        self._me = psutil.Process()
        self._start = self._sample()

    def _sample(self) -> tuple[float, Any, Any, Any]:
        return time.monotonic(), psutil.cpu_times(), self._server.cpu_times(), self._me.cpu_times()

    def figures(self, prefix: str) -> dict[str, tuple[float, str]]:
        (w0, m0, s0, c0), (w1, m1, s1, c1) = self._start, self._sample()
        wall = w1 - w0

        def pct(seconds: float) -> float:
            return seconds / wall * 100

        busy = pct(sum(m1) - sum(m0) - (m1.idle - m0.idle) - (m1.iowait - m0.iowait) - (m1.steal - m0.steal))
        server = pct(s1.user + s1.system - s0.user - s0.system)
        client = pct(c1.user + c1.system - c0.user - c0.system)
        return {
            f"{prefix}_server_cpu_pct": (server, "%"),
            f"{prefix}_client_cpu_pct": (client, "%"),
            f"{prefix}_rest_cpu_pct": (max(busy - server - client, 0.0), "%"),
            f"{prefix}_steal_pct": (pct(m1.steal - m0.steal), "%"),
        }


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
    sent_at_s: list[float] = field(default_factory=list)  # when each latency's feedback left
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
    liked: set[int] = set()
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
            if action == "like" and playing["id"] in liked:
                # Likes are a state: a second like of a liked track changes nothing and gets no
                # new queue (it was counted as a lost frame here before).
                action = "complete"
            if action == "like":
                liked.add(playing["id"])
            sent_at = time.perf_counter()
            await ws.send(msgpack.packb({"type": "feedback", "track_id": playing["id"], "action": action}))
            results.sent += 1
            updated = await next_queue(ws, queue["seq"], RESPONSE_TIMEOUT_S)
            if updated is None:
                results.lost += 1
            else:
                results.latencies_ms.append((time.perf_counter() - sent_at) * 1000)
                results.sent_at_s.append(sent_at)
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


def windows(sent_at: list[float], latencies: list[float], width_s: float = 5.0) -> list[str]:
    """p50 / p99 / max per window of the measured phase: a tail that comes in bursts (a pause
    of the server, another process taking the cores) shows in a few windows, not in all."""
    if not sent_at:
        return []
    first = min(sent_at)
    buckets: dict[int, list[float]] = {}
    for at, ms in zip(sent_at, latencies, strict=True):
        buckets.setdefault(int((at - first) // width_s), []).append(ms)
    return [f"  {n * width_s:4.0f}-{(n + 1) * width_s:<4.0f}s  n={len(v):5d}  p50 {percentile(v, 50):6.1f}"
            f"  p99 {percentile(v, 99):6.1f}  max {max(v):6.1f} ms" for n, v in sorted(buckets.items())]


@contextlib.contextmanager
def collector_off() -> Iterator[None]:
    """No garbage collection in this process while the latencies are measured: what it allocates
    then is freed by reference counting, and a collection's pause would be counted as the
    server's latency of every frame that arrived during it."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


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
        models_before = await models_trained(setup)
        cpu = CpuWatch(proc.pid)
        until[0] = time.monotonic() + args.seconds
        peak_rss = 0.0
        with collector_off():
            start.set()
            while time.monotonic() < until[0]:
                await asyncio.sleep(1)
                peak_rss = max(peak_rss, rss_mb(proc.pid))
            cpu_figures = cpu.figures("ws")
            retrains = await models_trained(setup) - models_before
            await asyncio.wait_for(asyncio.gather(*sessions), RESPONSE_TIMEOUT_S + 30)
        lat = results.latencies_ms
        log("feedback -> queue by 5 s window:\n" + "\n".join(windows(results.sent_at_s, lat)))
        figures = {
            "ws_active_sessions": (results.active.ok - results.failed_sessions, "count"),
            "ws_feedback_sent": (results.sent, "count"),
            "ws_push_p50_ms": (percentile(lat, 50), "ms"),
            "ws_push_p99_ms": (percentile(lat, 99), "ms"),
            "ws_push_max_ms": (max(lat) if lat else float("nan"), "ms"),
            "ws_push_mean_ms": (statistics.fmean(lat) if lat else float("nan"), "ms"),
            "ws_lost_frames": (results.lost, "count"),
            "ws_failed_sessions": (results.active.failed + results.failed_sessions, "count"),
            **cpu_figures,
            "ws_retrains": (retrains, "count"),
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


# -- listening together (--part groups) --------------------------------------------------------

HOST_CONTROL_SHARE = 0.3  # of the host's turns, the share that is a `next` or a seek, not feedback
SETUP_AT_ONCE = 16  # HTTP calls in flight while the groups are made


@dataclass
class Pending:
    """A frame sent to a group, waiting for every member's matching frame."""

    sent_at: float
    floor_seq: int  # the newest group seq any member had seen when it was sent
    waiting: set[int]  # members (indices in the group) not reached yet
    position_ms: int | None = None  # a seek: the position that identifies its playback frame


@dataclass
class GroupResults:
    members: Tally
    push_ms: list[float] = field(default_factory=list)  # per member queue frame after a feedback
    playback_ms: list[float] = field(default_factory=list)  # per member playback frame after a seek
    feedback: int = 0
    lost: int = 0
    seeks: int = 0
    seeks_lost: int = 0
    nexts: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    failed_members: int = 0


class GroupRun:
    """One group's members and what they are waiting for. Every member's connection follows
    the group's stream, so its seqs are one counter for the group."""

    def __init__(self, group_id: int, size: int, results: GroupResults) -> None:
        self.group_id = group_id
        self.size = size
        self.results = results
        self.newest_seq = 0
        self.playing: int | None = None
        self.feedback: list[Pending] = []
        self.seeks: list[Pending] = []

    def on_queue(self, member: int, seq: int, at: float, playing: int | None) -> None:
        if seq > self.newest_seq:
            self.newest_seq = seq
            self.playing = playing
        for p in self.feedback:  # a frame later than the timeout is left to expire() as lost
            if member in p.waiting and seq > p.floor_seq and 0 <= at - p.sent_at <= RESPONSE_TIMEOUT_S:
                p.waiting.discard(member)
                self.results.push_ms.append((at - p.sent_at) * 1000)
        self.feedback = [p for p in self.feedback if p.waiting]

    def on_playback(self, member: int, position_ms: int, at: float) -> None:
        for p in self.seeks:
            if member in p.waiting and p.position_ms == position_ms and at <= p.sent_at + RESPONSE_TIMEOUT_S:
                p.waiting.discard(member)
                self.results.playback_ms.append((at - p.sent_at) * 1000)
        self.seeks = [p for p in self.seeks if p.waiting]

    def expire(self, now: float) -> None:
        """A feedback (or seek) not seen by every member within the timeout is lost."""
        late = [p for p in self.feedback if now - p.sent_at > RESPONSE_TIMEOUT_S]
        self.results.lost += len(late)
        self.feedback = [p for p in self.feedback if p not in late]
        late_seeks = [p for p in self.seeks if now - p.sent_at > RESPONSE_TIMEOUT_S]
        self.results.seeks_lost += len(late_seeks)
        self.seeks = [p for p in self.seeks if p not in late_seeks]


async def make_groups(http_url: str, cookies: list[str], size: int) -> list[int]:
    """Hosts start groups over HTTP, guests join them by code; the group ids, in order."""
    gate = asyncio.Semaphore(SETUP_AT_ONCE)
    async with httpx.AsyncClient(base_url=http_url, timeout=60) as client:

        async def call(path: str, cookie: str, body: dict[str, Any]) -> dict[str, Any]:
            async with gate:
                r = await client.post(path, json=body, headers={"Cookie": cookie})
            if r.status_code not in (200, 201):
                raise RuntimeError(f"{path}: {r.status_code} {r.text[:200]}")
            return dict(r.json()["group"])

        hosts = cookies[::size]
        made = await asyncio.gather(*(call("/api/groups", c, {"name": f"bench {n}", "mood": "chill"})
                                      for n, c in enumerate(hosts)))
        await asyncio.gather(*(call("/api/groups/join", cookies[g * size + m], {"code": made[g]["code"]})
                               for g in range(len(made)) for m in range(1, size)))
    return [int(g["id"]) for g in made]


async def group_member(url: str, cookie: str, gate: asyncio.Semaphore, run: GroupRun, index: int,
                       start: asyncio.Event, until: list[float]) -> None:
    results = run.results
    try:
        ws = await open_ws(url, cookie, gate)
        await ws.send(msgpack.packb({"type": "hello"}))
        await ws.send(msgpack.packb({"type": "group_join", "group_id": run.group_id, "ref": "join"}))
    except Exception as exc:
        results.members.settle(False)
        if results.members.failed <= 3:
            log(f"a member failed to connect: {exc!r}")
        return
    joined = asyncio.Event()

    async def read() -> None:
        async for raw in ws:
            at = time.perf_counter()
            frame = msgpack.unpackb(raw, raw=False)
            kind = frame.get("type")
            if kind == "queue" and frame.get("group_id") == run.group_id:
                playing = frame.get("now_playing")
                run.on_queue(index, int(frame["seq"]), at, playing["id"] if playing else None)
                joined.set()
            elif kind == "playback" and frame.get("state") == "playing":
                run.on_playback(index, int(frame["position_ms"]), at)
            elif kind == "error":
                code = str(frame.get("code"))
                results.errors[code] = results.errors.get(code, 0) + 1

    reader = asyncio.create_task(read())
    try:
        await asyncio.wait_for(joined.wait(), 60)
    except TimeoutError:
        results.members.settle(False)
        reader.cancel()
        await ws.close()
        return
    results.members.settle(True)
    liked: set[int] = set()
    rng = random.Random()
    try:
        await start.wait()
        next_at = time.monotonic() + rng.uniform(0, FEEDBACK_EVERY_S)
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if reader.done():
                raise RuntimeError("the server closed the connection")
            if time.monotonic() >= until[0]:
                break
            next_at += FEEDBACK_EVERY_S * rng.uniform(0.9, 1.1)
            playing = run.playing
            if playing is None:
                continue
            everyone = set(range(run.size))
            if index == 0 and rng.random() < HOST_CONTROL_SHARE:
                if rng.random() < 0.5:
                    results.nexts += 1
                    await ws.send(msgpack.packb({"type": "next"}))
                else:
                    position = rng.randrange(1, 170_000)
                    results.seeks += 1
                    run.seeks.append(Pending(time.perf_counter(), run.newest_seq, everyone, position))
                    await ws.send(msgpack.packb({"type": "playback", "state": "playing",
                                                 "position_ms": position}))
                continue
            action = rng.choice(("like", "skip", "complete"))
            if action == "like" and playing in liked:
                action = "complete"  # a second like of a liked track changes nothing
            if action == "like":
                liked.add(playing)
            results.feedback += 1
            run.feedback.append(Pending(time.perf_counter(), run.newest_seq, everyone))
            await ws.send(msgpack.packb({"type": "feedback", "track_id": playing, "action": action}))
        await asyncio.sleep(RESPONSE_TIMEOUT_S)  # let the last frames land
    except Exception as exc:
        results.failed_members += 1
        if results.failed_members <= 3:
            log(f"a member failed: {exc!r}")
    finally:
        reader.cancel()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await reader
        with contextlib.suppress(Exception):
            await ws.close()


async def run_groups(args: argparse.Namespace) -> dict[str, tuple[float, str]]:
    work = Path(tempfile.mkdtemp(prefix="ws-load-"))
    setup = await prepare(args, work)
    proc = None
    try:
        proc = await start_server(setup, args.server_log or work / "server.log")
        http_url = f"http://127.0.0.1:{setup.settings.port}"
        url = f"ws://127.0.0.1:{setup.settings.port}/ws"
        log(f"making {args.groups} groups of {args.members}...")
        group_ids = await make_groups(http_url, setup.active, args.members)
        results = GroupResults(Tally(len(setup.active)))
        runs = [GroupRun(gid, args.members, results) for gid in group_ids]
        base_rss = rss_mb(proc.pid)

        log(f"{len(setup.active)} members join their groups over /ws...")
        gate = asyncio.Semaphore(HANDSHAKES_AT_ONCE)
        start = asyncio.Event()
        until = [float("inf")]
        t0 = time.monotonic()
        members = [asyncio.create_task(group_member(url, setup.active[g * args.members + m], gate, runs[g], m,
                                                    start, until))
                   for g in range(len(runs)) for m in range(args.members)]
        await results.members.all_in.wait()
        log(f"{results.members.ok} following in {time.monotonic() - t0:.1f} s; running {args.seconds} s...")
        await asyncio.sleep(1)
        cpu = CpuWatch(proc.pid)
        until[0] = time.monotonic() + args.seconds
        peak_rss = 0.0

        async def watch(end: float) -> None:
            nonlocal peak_rss
            while time.monotonic() < end:
                await asyncio.sleep(0.5)
                now = time.perf_counter()
                for r in runs:
                    r.expire(now)
                peak_rss = max(peak_rss, rss_mb(proc.pid))

        with collector_off():
            start.set()
            await watch(until[0])
            cpu_figures = cpu.figures("ws_group")
            await watch(until[0] + RESPONSE_TIMEOUT_S + 1)
            await asyncio.wait_for(asyncio.gather(*members), RESPONSE_TIMEOUT_S + 30)
        for r in runs:  # whatever still waits has waited past the timeout
            results.lost += len(r.feedback)
            results.seeks_lost += len(r.seeks)
        push, pb = results.push_ms, results.playback_ms
        nan = float("nan")
        figures = {
            "ws_group_groups": (len(runs), "count"),
            "ws_group_members": (results.members.ok - results.failed_members, "count"),
            "ws_group_feedback_sent": (results.feedback, "count"),
            "ws_group_member_frames": (len(push), "count"),
            "ws_group_push_p50_ms": (percentile(push, 50), "ms"),
            "ws_group_push_p99_ms": (percentile(push, 99), "ms"),
            "ws_group_push_max_ms": (max(push) if push else nan, "ms"),
            "ws_group_lost_feedback": (results.lost, "count"),
            "ws_group_seeks_sent": (results.seeks, "count"),
            "ws_group_playback_p50_ms": (percentile(pb, 50), "ms"),
            "ws_group_playback_p99_ms": (percentile(pb, 99), "ms"),
            "ws_group_lost_seeks": (results.seeks_lost, "count"),
            "ws_group_nexts_sent": (results.nexts, "count"),
            "ws_group_error_frames": (sum(results.errors.values()), "count"),
            "ws_group_failed_members": (results.members.failed + results.failed_members, "count"),
            **cpu_figures,
            "ws_group_server_rss_mb": (peak_rss, "MB"),
            "ws_group_base_rss_mb": (base_rss, "MB"),
        }
        if results.errors:
            log(f"error frames: {results.errors}")
        return figures
    finally:
        if proc is not None:
            await stop_server(proc)
        await cleanup(setup)
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=("sessions", "groups"), default="sessions",
                        help="single listening sessions with idle connections, or listening groups")
    parser.add_argument("--sessions", type=int, default=1000, help="active listening sessions")
    parser.add_argument("--idle", type=int, default=10000, help="idle connections held open")
    parser.add_argument("--seconds", type=int, default=30, help="length of the active phase")
    parser.add_argument("--catalog", type=int, default=2000, help="synthetic tracks to index")
    parser.add_argument("--together", action="store_true",
                        help="keep the idle connections open during the active phase")
    parser.add_argument("--groups", type=int, default=200, help="listening groups (--part groups)")
    parser.add_argument("--members", type=int, default=5, help="members per group, host included")
    parser.add_argument("--server-log", type=Path, help="keep the server's log in this file")
    parser.add_argument("--trained", action="store_true",
                        help="give the bench users a listening history and train a first collab "
                             "model before the server starts, so that it serves with a model (as "
                             "in production); with --retrain-after the phase's retrain then "
                             "replaces a model, and the run to compare with is --trained alone")
    parser.add_argument("--retrain-after", type=int, default=None, metavar="N",
                        help="let the server's background retrainer look every second and train "
                             "once N new events arrived, so that a retrain (training, the collab "
                             "swap) runs during the measured phase; the run counts them")
    args = parser.parse_args()
    if min(args.sessions, args.seconds, args.catalog, args.groups, args.members) < 1 or args.idle < 0:
        parser.error("sizes must be positive")
    if args.part == "groups":  # one user, one connection per member; no idle connections
        args.sessions, args.idle = args.groups * args.members, 0
    # Each connection is a file descriptor here and in the server (which inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = min(hard, max(soft, 2 * (args.sessions + args.idle) + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < args.sessions + args.idle + 256:
        parser.error(f"the open-file limit ({hard}) is too low for that many connections")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    figures = uvloop.run(run_groups(args) if args.part == "groups" else run(args))
    print()
    print(f"{'figure':<28}{'value':>12}  unit")
    print("-" * 48)
    for name, (value, unit) in figures.items():
        print(f"{name:<28}{value:>12.1f}  {unit}")
    print()
    for name, (value, unit) in figures.items():
        print(f"BENCH {name} {value:.1f} {unit}" if unit != "count" else f"BENCH {name} {int(value)} {unit}")


if __name__ == "__main__":
    main()
