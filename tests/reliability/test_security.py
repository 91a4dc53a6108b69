"""Security, one focused check each, against a live server on loopback (logging at DEBUG with
Hypercorn's access log on, so the last test can search everything it wrote for secrets)."""

from __future__ import annotations

import json
import secrets
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgpack
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.reliability.conftest import PASSWORD, Server, make_server, register

MAX_FAILURES = 12
SEEN_SECRETS: list[str] = []  # every password and session cookie used here: none may be logged


@pytest.fixture(scope="module")
def sec(rt_index: Path, tmp_path_factory: pytest.TempPathFactory, run_schema: str) -> Iterator[Server]:
    server = make_server(
        rt_index,
        tmp_path_factory.mktemp("security"),
        run_schema,
        login_max_failures=MAX_FAILURES,
        test_log_level="DEBUG",
        test_access_log="1",
    )
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _ip() -> str:
    """A fresh client address (X-Real-IP from the trusted loopback proxy), so that the per-address
    login limit of one test does not leak into another."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


def _user(server: Server) -> tuple[str, str]:
    """Register a user; returns (username, Cookie header)."""
    name = f"sec_{secrets.token_hex(5)}"
    _, cookie = register(server.http, name)
    SEEN_SECRETS.append(cookie.split("=", 1)[1])
    return name, cookie


def _ws_status(server: Server, cookie: str | None, origin: str | None) -> tuple[int, dict[str, object]]:
    """The status of a refused WebSocket handshake (fails if the upgrade is accepted)."""
    headers = {"Cookie": cookie} if cookie else {}
    with pytest.raises(InvalidStatus) as refused:
        kwargs: dict[str, object] = {"origin": origin} if origin else {}
        with connect(server.ws, additional_headers=headers, open_timeout=10, **kwargs):  # type: ignore[arg-type]
            pass
    response = refused.value.response
    return response.status_code, json.loads(response.body or b"null")


def test_cross_site_websocket_hijacking_is_refused_before_the_upgrade(sec: Server) -> None:
    _, cookie = _user(sec)
    for origin in ("http://evil.example", f"http://127.0.0.1.evil.example:{sec.port}", "null", None):
        status, body = _ws_status(sec, cookie, origin)
        assert status == 403 and body["error"]["code"] == "bad_origin", (origin, status, body)  # type: ignore[index]
    with connect(sec.ws, origin=sec.origin, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:  # type: ignore[arg-type]
        ws.send(msgpack.packb({"type": "ping"}))
        assert msgpack.unpackb(ws.recv(10))["type"] == "pong"


def test_missing_forged_or_revoked_sessions_are_refused(sec: Server) -> None:
    _, cookie = _user(sec)
    name, value = cookie.split("=", 1)
    forged = [f"{name}=forged.value.sig", f"{name}={value[:-4]}AAAA", f"{name}={value}x"]
    for bad in [None, *forged]:
        status, body = _ws_status(sec, bad, sec.origin)
        assert status == 401 and body["error"]["code"] == "not_authenticated", (bad, status)  # type: ignore[index]
        r = httpx.get(f"{sec.http}/api/me", headers={"Cookie": bad} if bad else {})
        assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"
    assert httpx.get(f"{sec.http}/api/me", headers={"Cookie": cookie}).status_code == 200
    assert httpx.post(f"{sec.http}/api/auth/logout", headers={"Cookie": cookie}).status_code == 204
    # The revoked cookie still carries a valid signature: the server must refuse it anyway.
    assert httpx.get(f"{sec.http}/api/me", headers={"Cookie": cookie}).status_code == 401
    status, _ = _ws_status(sec, cookie, sec.origin)
    assert status == 401


def test_cookie_writes_from_a_foreign_origin_are_refused(sec: Server) -> None:
    _, cookie = _user(sec)
    writes = [
        ("PUT", "/api/me/mood", {"mood": "chill"}),
        ("POST", "/api/feedback", {"track_id": 1, "action": "like"}),
        ("POST", "/api/quickmix", {"mood": "chill"}),
        ("POST", "/api/auth/logout", None),
    ]
    for method, path, body in writes:
        for headers in (
            {"Origin": "http://evil.example"},
            {"Origin": "null"},
            {"Sec-Fetch-Site": "cross-site"},
        ):
            r = httpx.request(method, f"{sec.http}{path}", json=body, headers={"Cookie": cookie, **headers})
            assert r.status_code == 403 and r.json()["error"]["code"] == "bad_origin", (path, headers)
    # Nothing happened: the session is alive and the mood unset.
    me = httpx.get(f"{sec.http}/api/me", headers={"Cookie": cookie}).json()
    assert me["mood"] is None
    r = httpx.put(
        f"{sec.http}/api/me/mood", json={"mood": "chill"}, headers={"Cookie": cookie, "Origin": sec.origin}
    )
    assert r.status_code == 200


def test_login_issues_a_new_session_and_the_old_one_dies(sec: Server) -> None:
    """Session fixation: whatever cookie a client holds before logging in is not the one after,
    and the earlier one stops authenticating."""
    name, planted = _user(sec)  # e.g. an attacker's session planted in the victim's browser
    r = httpx.post(
        f"{sec.http}/api/auth/login",
        json={"username": name, "password": PASSWORD},
        headers={"Cookie": planted, "X-Real-IP": _ip()},
    )
    assert r.status_code == 200
    fresh = r.headers["set-cookie"].split(";")[0]
    SEEN_SECRETS.append(fresh.split("=", 1)[1])
    assert fresh != planted
    assert httpx.get(f"{sec.http}/api/me", headers={"Cookie": planted}).status_code == 401
    assert httpx.get(f"{sec.http}/api/me", headers={"Cookie": fresh}).status_code == 200
    # A made-up cookie sent at login is simply replaced.
    r = httpx.post(
        f"{sec.http}/api/auth/login",
        json={"username": name, "password": PASSWORD},
        headers={"Cookie": "musicrec_session=attacker-chosen", "X-Real-IP": _ip()},
    )
    assert r.status_code == 200 and "attacker-chosen" not in r.headers["set-cookie"]


def test_password_brute_force_is_rate_limited(sec: Server) -> None:
    name, _ = _user(sec)
    ip = _ip()
    statuses = [
        httpx.post(
            f"{sec.http}/api/auth/login",
            timeout=30,
            headers={"X-Real-IP": ip},
            json={"username": name, "password": f"guess-{i:04d}"},
        ).status_code
        for i in range(MAX_FAILURES + 1)
    ]
    assert statuses[:MAX_FAILURES] == [401] * MAX_FAILURES and statuses[-1] == 429, statuses
    # Even the right password is refused while locked, with a Retry-After.
    r = httpx.post(
        f"{sec.http}/api/auth/login",
        json={"username": name, "password": PASSWORD},
        headers={"X-Real-IP": _ip()},
    )
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "rate_limited"


def test_unknown_user_and_wrong_password_look_the_same(sec: Server) -> None:
    name, _ = _user(sec)
    tries = 5  # per kind, interleaved, after one warm-up each; fewer than the lockout
    timings: dict[str, list[float]] = {"unknown": [], "wrong": []}
    answers: dict[str, set[tuple[int, str]]] = {"unknown": set(), "wrong": set()}
    with httpx.Client(base_url=sec.http, timeout=30) as client:
        for i in range(tries + 1):
            for kind in ("unknown", "wrong"):
                username = f"nobody_{secrets.token_hex(5)}" if kind == "unknown" else name
                started = time.perf_counter()
                r = client.post(
                    "/api/auth/login",
                    json={"username": username, "password": "not-it-1234"},
                    headers={"X-Real-IP": _ip()},
                )
                elapsed = time.perf_counter() - started
                if i:
                    timings[kind].append(elapsed)
                    answers[kind].add((r.status_code, r.text))
    assert answers["unknown"] == answers["wrong"] and len(answers["wrong"]) == 1, answers
    ratio = statistics.median(timings["unknown"]) / statistics.median(timings["wrong"])
    print(f"login timing: unknown/wrong median ratio {ratio:.2f} ({timings})")
    assert 0.5 <= ratio <= 2.0, timings


def test_history_and_feedback_stay_with_their_owner(sec: Server) -> None:
    _, alice = _user(sec)
    _, bob = _user(sec)
    track_id = httpx.get(f"{sec.http}/api/recommendations?limit=1", headers={"Cookie": alice}).json()[
        "tracks"
    ][0]["id"]
    r = httpx.post(
        f"{sec.http}/api/feedback",
        json={"track_id": track_id, "action": "like", "ref": "a-1"},
        headers={"Cookie": alice},
    )
    assert r.status_code == 202
    alice_event = r.json()["event_id"]
    mine = httpx.get(f"{sec.http}/api/history", headers={"Cookie": alice}).json()["events"]
    assert [e["id"] for e in mine] == [alice_event]
    # Bob sees none of it, whatever cursor he passes, even Alice's event id...
    for query in ("", f"?before={alice_event + 1}", "?limit=200"):
        assert httpx.get(f"{sec.http}/api/history{query}", headers={"Cookie": bob}).json()["events"] == []
    # ...nor by reusing Alice's idempotency key (it must not answer with her event).
    r = httpx.post(
        f"{sec.http}/api/feedback",
        json={"track_id": track_id, "action": "skip", "ref": "a-1"},
        headers={"Cookie": bob},
    )
    assert r.status_code == 202 and r.json()["event_id"] != alice_event
    bob_events = httpx.get(f"{sec.http}/api/history", headers={"Cookie": bob}).json()["events"]
    assert [e["action"] for e in bob_events] == ["skip"]
    # Quick Mix seeded with the track Alice liked: no trace of her in Bob's answer.
    r = httpx.post(
        f"{sec.http}/api/quickmix", json={"seed_track_ids": [track_id], "size": 10}, headers={"Cookie": bob}
    )
    assert r.status_code == 200
    assert "because you liked" not in r.text
    alice_events = httpx.get(f"{sec.http}/api/history", headers={"Cookie": alice}).json()["events"]
    assert [e["id"] for e in alice_events] == [alice_event]


def test_no_password_or_session_cookie_in_the_logs(sec: Server) -> None:
    password = f"Sekr1t-{secrets.token_hex(8)}"
    name = f"sec_{secrets.token_hex(5)}"
    _, cookie = register(sec.http, name, password)
    r = httpx.post(
        f"{sec.http}/api/auth/login",
        json={"username": name, "password": password},
        headers={"X-Real-IP": _ip()},
    )
    assert r.status_code == 200
    login_cookie = r.headers["set-cookie"].split(";")[0]
    bad = httpx.post(
        f"{sec.http}/api/auth/login",
        json={"username": name, "password": password + "x"},
        headers={"X-Real-IP": _ip()},
    )
    assert bad.status_code == 401
    for c in (cookie, login_cookie):
        assert httpx.get(f"{sec.http}/api/me", headers={"Cookie": c}).status_code == 200
        with connect(sec.ws, origin=sec.origin, additional_headers={"Cookie": c}, open_timeout=10) as ws:  # type: ignore[arg-type]
            ws.send(msgpack.packb({"type": "hello", "resume_after": None}))
            assert msgpack.unpackb(ws.recv(10))["type"] == "welcome"
    httpx.post(f"{sec.http}/api/auth/logout", headers={"Cookie": login_cookie})
    time.sleep(0.5)
    log = sec.log.read_text(errors="replace")
    assert "DEBUG" in log and "GET /api/me" in log, "the server must really have logged at DEBUG"
    values = [cookie.split("=", 1)[1], login_cookie.split("=", 1)[1], *SEEN_SECRETS]
    for secret in [password, password + "x", PASSWORD, *values]:
        assert secret not in log, f"a secret is in the server log: {secret[:6]}..."
    # A cookie's signed payload alone (the part before the signature) must not appear either.
    for value in values:
        assert value.split(".")[0] not in log or len(value.split(".")[0]) < 12
