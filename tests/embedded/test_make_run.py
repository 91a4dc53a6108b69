"""`make run`'s server, from the outside: accounts, the login limit, the live session and the
bus between tabs, the security headers, all on the embedded PostgreSQL, Redis 6.2 and Qdrant
Edge that `musicrec serve` starts by itself.

One server for the module, started as `make run` starts it (tests/embedded/conftest.py), with
the built-in demo catalog loading in the background as on a first `make run`. The tests that
need tracks wait for the first batch to land; the others run meanwhile.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.embedded.conftest import Serve, serving
from tests.realtime.conftest import PASSWORD, open_tab, register, unique_name

CATALOG_WAIT_S = 90.0  # the demo catalog's first batch lands in ~10 s; a busy 2-core machine is slower


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Serve]:
    with serving(tmp_path_factory.mktemp("make-run") / "data") as server:
        yield server


@pytest.fixture(scope="module")
async def catalog_ready(make_run: Serve) -> None:
    """Until the demo catalog has tracks to recommend (its first batch is in the index)."""
    _, cookie = await register(make_run.http)
    deadline = time.monotonic() + CATALOG_WAIT_S
    async with httpx.AsyncClient(base_url=make_run.http, headers={"Cookie": cookie}) as http:
        while True:
            log = make_run.log.read_text(errors="replace")  # first: a load finished before the query
            finished = "demo catalog ready" in log or "loading the demo catalog failed" in log
            r = await http.get("/api/recommendations", params={"mood": "focus", "limit": 5})
            if r.status_code == 200 and r.json()["tracks"]:
                return
            demo = "\n".join(line for line in log.splitlines() if "musicrec.demo" in line)
            assert not finished, f"the demo catalog loaded, yet nothing to recommend:\n{demo}"
            assert time.monotonic() < deadline, f"no tracks in {CATALOG_WAIT_S} s: {r.status_code} {r.text}"
            await asyncio.sleep(1.0)


def _login(server: Serve, username: str, password: str) -> httpx.Response:
    return httpx.post(f"{server.http}/api/auth/login", json={"username": username, "password": password})


def _register(server: Serve) -> tuple[str, str]:
    username = unique_name("mr")
    r = httpx.post(f"{server.http}/api/auth/register", json={"username": username, "password": PASSWORD})
    assert r.status_code == 201, r.text
    return username, r.headers["set-cookie"].split(";")[0]


def _csp(headers: httpx.Headers) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in headers["content-security-policy"].split(";")
            if part.strip()}


# -- accounts on Redis 6.2 ----------------------------------------------------------------------


def test_a_wrong_password_is_refused_with_401_not_500(make_run: Serve) -> None:
    username, _ = _register(make_run)
    wrong = _login(make_run, username, "not the password")
    assert wrong.status_code == 401, wrong.text
    assert wrong.json()["error"]["code"] == "invalid_credentials"
    assert _login(make_run, username, PASSWORD).status_code == 200


def test_repeated_wrong_passwords_lock_the_account_with_429_and_retry_after(make_run: Serve) -> None:
    username, _ = _register(make_run)
    statuses = [_login(make_run, username, "bad password").status_code for _ in range(5)]
    assert statuses == [401] * 5  # login_max_failures
    limited = _login(make_run, username, PASSWORD)  # even the right one, while it lasts
    assert limited.status_code == 429, limited.text
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 900  # login_window_s


def test_register_login_me_and_logout_revokes_the_session(make_run: Serve) -> None:
    username, _ = _register(make_run)
    with httpx.Client(base_url=make_run.http) as client:
        assert client.get("/api/me").status_code == 401
        login = client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
        assert login.status_code == 200, login.text
        cookie = login.headers["set-cookie"].split(";")[0]
        me = client.get("/api/me")
        assert me.status_code == 200 and me.json()["user"]["username"] == username
        assert client.post("/api/auth/logout").status_code == 204
    replayed = httpx.get(f"{make_run.http}/api/me", headers={"Cookie": cookie})
    assert replayed.status_code == 401, "a logged-out session is revoked in Redis, not just forgotten"


# -- the security headers nginx adds in production ----------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/some/player/route", "/api/health", "/api/no-such-thing"])
def test_the_player_and_the_api_carry_the_security_headers(make_run: Serve, path: str) -> None:
    answer = httpx.get(make_run.http + path)
    assert answer.status_code in (200, 404), answer.text
    headers = answer.headers
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "camera=()" in headers["permissions-policy"] and "microphone=()" in headers["permissions-policy"]
    assert headers["cross-origin-opener-policy"] == "same-origin"
    policy = _csp(headers)
    assert policy["default-src"] == ["'self'"]
    assert not {"'unsafe-inline'", "'unsafe-eval'"} & set(policy["script-src"])
    host = f"127.0.0.1:{make_run.port}"
    assert policy["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"]  # plain http here
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    if path in ("/", "/some/player/route"):
        assert answer.headers["content-type"].startswith("text/html")


# -- the live session and the bus, over Redis 6.2 pub/sub ---------------------------------------------


async def test_a_live_session_welcomes_sends_a_queue_and_acks_feedback(
    make_run: Serve, catalog_ready: None
) -> None:
    user_id, cookie = await register(make_run.http)
    async with open_tab(make_run.ws, cookie) as tab:
        welcome, queue = await tab.hello()
        assert welcome["user"]["id"] == user_id and welcome["resumed"] is False
        assert queue is not None and queue["seq"] > welcome["seq"]
        assert queue["now_playing"] is not None, "the demo catalog gives the queue something to play"
        playing = queue["now_playing"]["id"]
        ref = str(uuid.uuid4())
        await tab.send({"type": "feedback", "track_id": playing, "action": "like", "ref": ref})
        ack = await tab.expect("ack", lambda f: f.get("ref") == ref, within_s=20)
        assert ack["seq"] > queue["seq"]


async def test_a_mood_change_on_one_tab_reaches_the_other_tab_as_a_new_queue(
    make_run: Serve, catalog_ready: None
) -> None:
    _, cookie = await register(make_run.http)
    async with open_tab(make_run.ws, cookie) as tab_a, open_tab(make_run.ws, cookie) as tab_b:
        _, first_a = await tab_a.hello()
        _, first_b = await tab_b.hello()
        assert first_a is not None and first_b is not None
        await tab_a.send({"type": "mood", "mood": "sleep", "ref": "m1"})
        await tab_a.expect("ack", lambda f: f.get("ref") == "m1", within_s=20)
        moved = await tab_b.expect("queue", lambda f: f["seq"] > first_b["seq"], within_s=30)
        assert moved["mood"]["preset"] == "sleep"
        async with httpx.AsyncClient(base_url=make_run.http, headers={"Cookie": cookie}) as http:
            r = await http.put("/api/me/mood", json={"text": "rainy sunday morning"})
            assert r.status_code == 200, r.text
        again = await tab_b.expect("queue", lambda f: f["seq"] > moved["seq"], within_s=30)
        assert again["mood"]["text"] == "rainy sunday morning"


async def test_a_quick_mix_is_answered_and_cached(make_run: Serve, catalog_ready: None) -> None:
    _, cookie = await register(make_run.http)
    async with httpx.AsyncClient(base_url=make_run.http, headers={"Cookie": cookie}, timeout=30) as http:
        mixes: list[dict[str, Any]] = []
        for _ in range(2):
            r = await http.post("/api/quickmix", json={"mood": "focus", "size": 10})
            assert r.status_code == 200, r.text
            mixes.append(r.json())
    assert mixes[0]["tracks"] and mixes[0]["cached"] is False
    # The catalog may still be loading (each batch is a new catalog version): cached or remade.
    assert mixes[1]["cached"] is True or mixes[1]["mix_id"] != mixes[0]["mix_id"]
