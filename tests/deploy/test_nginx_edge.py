"""The production edge, for real: Debian's nginx running nginx/templates/default.conf.template
(filled in by the test) with TLS from the image's first-start certificate script, in front of two
`musicrec serve` processes sharing one secret key, one PostgreSQL schema and one Redis prefix.

Skipped when nginx is not installed (apt-get install nginx-light). The WebSocket test skips
while /ws answers 404 (the realtime layer not there yet)."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import msgpack
import pytest

from tests.deploy.edge import (
    ASSET_BODY,
    ASSET_NAME,
    INDEX_MARKER,
    Edge,
    nginx_available,
    start_edge,
    stop_edge,
)

pytestmark = pytest.mark.skipif(not nginx_available(),
                                reason="nginx is not installed (apt-get install nginx-light)")

PASSWORD = "correct horse battery staple"
IMMUTABLE = "public, max-age=31536000, immutable"


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    running = start_edge(tmp_path_factory.mktemp("edge"))
    try:
        yield running
    finally:
        stop_edge(running)


def register(client: httpx.Client) -> str:
    name = f"edge_{secrets.token_hex(5)}"
    answer = client.post("/api/auth/register", json={"username": name, "password": PASSWORD})
    assert answer.status_code == 201, answer.text
    return name


def csp(headers: httpx.Headers) -> dict[str, list[str]]:
    policy = headers["content-security-policy"]
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


# --- HTTP -> HTTPS, TLS --------------------------------------------------------------------------


def test_http_redirects_to_https(edge: Edge) -> None:
    plain = f"http://127.0.0.1:{edge.http_port}"
    host = {"Host": f"localhost:{edge.http_port}"}
    for path in ("/player/queue?x=1", "/api/health", "/"):
        answer = httpx.get(plain + path, headers=host, follow_redirects=False)
        assert answer.status_code == 301, path
        assert answer.headers["location"] == f"https://localhost:{edge.https_port}{path}"
    assert httpx.get(plain + "/nginx-health").text == "ok\n"  # the container healthcheck
    with httpx.Client(verify=edge.ssl_context(), follow_redirects=True) as client:
        landed = client.get(f"http://localhost:{edge.http_port}/some/route")
    assert landed.status_code == 200 and INDEX_MARKER in landed.text
    assert str(landed.url) == f"https://localhost:{edge.https_port}/some/route"


def _handshake(edge: Edge, context: ssl.SSLContext) -> str | None:
    with socket.create_connection(("127.0.0.1", edge.https_port), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname="localhost") as tls:
        return tls.version()


def test_only_tls_1_2_and_1_3(edge: Edge) -> None:
    for version, name in ((ssl.TLSVersion.TLSv1_2, "TLSv1.2"), (ssl.TLSVersion.TLSv1_3, "TLSv1.3")):
        context = edge.ssl_context()  # verifies the certificate against the one the script made
        context.minimum_version = context.maximum_version = version
        assert _handshake(edge, context) == name
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname = False
    old.verify_mode = ssl.CERT_NONE
    try:
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ssl.SSLError, ValueError):
        pytest.skip("this OpenSSL cannot even offer TLS 1.1")
    with pytest.raises(ssl.SSLError):
        _handshake(edge, old)


# --- headers, static files -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/some/route", f"/assets/{ASSET_NAME}", "/assets/gone-000.js",
                                  "/api/health", "/api/me"])
def test_security_headers_on_every_answer(edge: Edge, path: str) -> None:
    with edge.client() as client:
        headers = client.get(path).headers
    hsts = headers["strict-transport-security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= 31536000  # type: ignore[union-attr]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["permissions-policy"] and "microphone=()" in headers["permissions-policy"]
    assert headers["server"] == "nginx"  # no version
    policy = csp(headers)
    assert policy["default-src"] == ["'self'"]
    assert "'self'" in policy["script-src"]
    assert not {"'unsafe-inline'", "'unsafe-eval'"} & set(policy["script-src"])  # no inline scripts
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert set(policy["media-src"]) == {"'self'", "blob:"}
    assert set(policy["worker-src"]) == {"'self'", "blob:"}
    assert policy["connect-src"] == ["'self'", f"wss://localhost:{edge.https_port}"]
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]


def test_spa_fallback_and_cache_headers(edge: Edge) -> None:
    with edge.client() as client:
        for path in ("/", "/index.html", "/player/some/deep/route", "/settings?tab=1"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert INDEX_MARKER in page.text
            assert page.headers["content-type"].startswith("text/html")
            assert page.headers["cache-control"] == "no-cache", path

        asset = client.get(f"/assets/{ASSET_NAME}", headers={"Accept-Encoding": "gzip"})
        assert asset.status_code == 200 and asset.text == ASSET_BODY
        assert "javascript" in asset.headers["content-type"]
        assert asset.headers["cache-control"] == IMMUTABLE
        assert asset.headers["content-encoding"] == "gzip"
        assert "Accept-Encoding" in asset.headers["vary"]

        missing = client.get("/assets/gone-000.js")
        assert missing.status_code == 404  # a missing chunk is never answered with the app shell
        assert INDEX_MARKER not in missing.text
        assert "immutable" not in missing.headers.get("cache-control", "")

        icon = client.get("/favicon.svg")
        assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
        assert icon.headers["cache-control"] == "no-cache"


# --- the API through nginx -----------------------------------------------------------------------


def test_health_through_nginx(edge: Edge) -> None:
    with edge.client() as client:
        answer = client.get("/api/health")
    assert answer.status_code in (200, 503)
    body = answer.json()
    assert {"postgres", "redis", "qdrant"} <= set(body)
    assert body["postgres"] == "ok" and body["redis"] == "ok"
    assert all(body[k] in ("ok", "down") for k in ("postgres", "redis", "qdrant"))
    assert (answer.status_code == 200) == all(body[k] == "ok" for k in ("postgres", "redis", "qdrant"))
    assert re.fullmatch(r"[0-9a-f]{32}", answer.headers["x-request-id"])  # nginx's $request_id
    assert answer.headers.get("cache-control") != "no-cache"  # nginx leaves API caching alone


def test_register_and_log_in_over_https(edge: Edge) -> None:
    with edge.client() as client:
        name = f"edge_{secrets.token_hex(5)}"
        created = client.post("/api/auth/register", json={"username": name, "password": PASSWORD})
        assert created.status_code == 201, created.text
        cookie = created.headers["set-cookie"]
        assert cookie.startswith("musicrec_session=")
        assert "; Secure" in cookie and "; HttpOnly" in cookie
        me = client.get("/api/me")
        assert me.status_code == 200 and me.json()["user"]["username"] == name

        assert client.post("/api/auth/logout").status_code == 204
        assert client.get("/api/me").status_code == 401

        login = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        assert login.status_code == 200
        assert "; Secure" in login.headers["set-cookie"]
        assert client.get("/api/me").json()["user"]["username"] == name

        # nginx passes Host through, so the backend's Origin check still tells friend from foe.
        foreign = client.post("/api/auth/login", json={"username": name, "password": PASSWORD},
                              headers={"Origin": "https://evil.example"})
        assert foreign.status_code == 403 and foreign.json()["error"]["code"] == "bad_origin"


def test_both_backends_serve_one_session(edge: Edge) -> None:
    edge.ensure_backends()
    ports = {str(b.port) for b in edge.backends}
    before = len(edge.upstreams_seen())
    with edge.client() as client:
        register(client)
        for _ in range(8):
            assert client.get("/api/me").status_code == 200  # whichever backend answers
    used = {tried[-1].rsplit(":", 1)[1] for tried in edge.upstreams_seen()[before:]}
    assert used == ports


def test_errors_made_by_nginx_are_json(edge: Edge) -> None:
    with edge.client() as client:
        big = client.post("/api/feedback", content=b"x" * (3 * 1024 * 1024),
                          headers={"Content-Type": "application/json"})
    assert big.status_code == 413
    assert big.json()["error"]["code"] == "payload_too_large"


def test_a_listening_history_bigger_than_the_json_limit_reaches_the_backend(edge: Edge) -> None:
    # A ListenBrainz export of 3 MiB: above the 2 MiB nginx allows a JSON call, far below the
    # backend's history limit. It must be imported, not refused at the edge.
    lines = [json.dumps({"listened_at": 1_600_000_000 + i, "track_metadata": {
        "artist_name": f"Edge Artist {i % 500}", "track_name": f"Edge Song {i} " + "x" * 80}})
        for i in range(20_000)]
    body = ("\n".join(lines) + "\n").encode()
    assert len(body) > 3 * 1024 * 1024
    with edge.client() as client:
        register(client)
        answer = client.post("/api/me/listens?format=listenbrainz", content=body,
                             headers={"Content-Type": "application/octet-stream"}, timeout=120)
    assert answer.status_code in (200, 201), answer.text[:300]
    report = answer.json()["report"]
    assert report["rows"] == 20_000 and report["formats"] == ["listenbrainz"], report


# --- failover --------------------------------------------------------------------------------------


def test_requests_fail_over_when_a_backend_is_killed(edge: Edge) -> None:
    edge.ensure_backends()
    dead, alive = edge.backends
    with edge.client() as client:
        name = register(client)
        for _ in range(4):  # both backends now hold keep-alive connections from nginx
            assert client.get("/api/me").status_code == 200
        mark = len(edge.upstreams_seen())
        dead.kill()
        for _ in range(10):
            answer = client.get("/api/me")
            assert answer.status_code == 200, answer.text
            assert client.get("/api/health").json()["postgres"] == "ok"
        # Nothing reached the dead backend, so nginx retries even a POST.
        login = client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        assert login.status_code == 200
    after = edge.upstreams_seen()[mark:]
    assert after and all(tried[-1] == f"127.0.0.1:{alive.port}" for tried in after)
    assert [f"127.0.0.1:{dead.port}", f"127.0.0.1:{alive.port}"] in after  # a retry, not luck


def _decode(message: str | bytes) -> dict[str, Any]:
    frame = msgpack.unpackb(message, raw=False) if isinstance(message, bytes) else json.loads(message)
    assert isinstance(frame, dict) and "type" in frame, frame
    return frame


async def _frames_until(ws: Any, done: Callable[[dict[str, Any]], bool],
                        seconds: float) -> list[dict[str, Any]]:
    frames: list[dict[str, Any]] = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no such frame in {seconds} s; got {frames}")
        frame = _decode(await asyncio.wait_for(ws.recv(), left))
        frames.append(frame)
        if done(frame):
            return frames


async def _connect_retrying(url: str, options: dict[str, Any], seconds: float = 30) -> Any:
    """What the player does: reconnect with a little backoff while the edge answers 502/503."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import InvalidStatus

    deadline = time.monotonic() + seconds
    while True:
        try:
            return await connect(url, **options)
        except InvalidStatus as exc:
            if exc.response.status_code not in (502, 503) or time.monotonic() > deadline:
                raise
        except OSError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.5)


def _http_retrying(call: Callable[[], httpx.Response], timeout: float = 20) -> httpx.Response:
    """Retries while nginx has no live backend (it holds a crashed one as failed for
    fail_timeout, and a restarted one may still be inside that window)."""
    deadline = time.monotonic() + timeout
    while True:
        answer = call()
        if answer.status_code not in (502, 503) or time.monotonic() > deadline:
            return answer
        if answer.headers.get("content-type", "").startswith("application/json") and \
                answer.json().get("error", {}).get("code") != "backend_unavailable":
            return answer
        time.sleep(0.5)


async def _closes_within(ws: Any, seconds: float) -> tuple[bool, list[dict[str, Any]]]:
    """(whether the socket closed within seconds, the frames that came before)."""
    from websockets.exceptions import ConnectionClosed

    frames: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(seconds):
            while True:
                frames.append(_decode(await ws.recv()))
    except ConnectionClosed:
        return True, frames
    except TimeoutError:
        return False, frames


async def test_websocket_resumes_on_the_other_backend_after_a_crash(edge: Edge) -> None:
    from websockets.exceptions import InvalidStatus

    edge.ensure_backends()
    client = edge.client()
    register(client)
    url = f"wss://localhost:{edge.https_port}/ws"
    options: dict[str, Any] = {
        "ssl": edge.ssl_context(),
        "origin": edge.origin,
        "additional_headers": {"Cookie": f"musicrec_session={client.cookies['musicrec_session']}"},
        "open_timeout": 10,
        "max_size": 2**22,
    }
    try:
        ws = await _connect_retrying(url, options)
    except InvalidStatus as exc:
        if exc.response.status_code == 404:
            client.close()
            pytest.skip("/ws answers 404: the realtime layer is not there yet")
        raise
    try:
        await ws.send(msgpack.packb({"type": "hello", "resume_after": None}))
        frames = await _frames_until(ws, lambda f: f["type"] == "queue", 30)
        assert frames[0]["type"] == "welcome"

        # Crash the backend that holds the socket: kill one; if the socket lives on, it was on
        # the other, so bring this one back (nothing was sent to it while down) and kill that.
        crashed = None
        for backend in edge.backends:
            backend.kill()
            closed, more = await _closes_within(ws, 3)
            frames += more
            if closed:
                crashed = backend
                break
            backend.start()
            await asyncio.to_thread(backend.wait_ready)
        assert crashed is not None, "killing either backend left the socket open"
        last_seq = max(f["seq"] for f in frames if isinstance(f.get("seq"), int))

        # Changed while the client is away: the frame that says so must not be lost.
        listed = _http_retrying(lambda: client.get("/api/moods"))
        assert listed.status_code == 200, listed.text
        mood_id = listed.json()["moods"][-1]["id"]
        changed = _http_retrying(lambda: client.put("/api/me/mood", json={"mood": mood_id}))
        assert changed.status_code == 200, changed.text

        ws = await _connect_retrying(url, options)  # through nginx, to the survivor
        await ws.send(msgpack.packb({"type": "hello", "resume_after": last_seq}))
        resumed = await _frames_until(
            ws, lambda f: f["type"] == "queue" and mood_id in json.dumps(f.get("mood")), 30)
    finally:
        await ws.close()
        client.close()
    queue_seqs = [f["seq"] for f in resumed if f["type"] == "queue"]
    assert all(seq > last_seq for seq in queue_seqs), (last_seq, resumed)
    assert queue_seqs == sorted(set(queue_seqs))  # increasing, no repeats
    assert not [f for f in resumed if f["type"] == "error"]


def test_all_backends_down_is_a_json_503(edge: Edge) -> None:
    for backend in edge.backends:
        backend.kill()
    with edge.client() as client:
        answer = client.get("/api/health")
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "backend_unavailable"
    assert answer.headers["strict-transport-security"]
