"""Accounts and sessions against real PostgreSQL and Redis."""

from __future__ import annotations

from typing import Any

from app.factory import create_app
from tests.conftest import unique_name

PASSWORD = "correct horse battery"


async def register(client: Any, username: str | None = None, password: str = PASSWORD) -> Any:
    return await client.post("/api/auth/register", json={"username": username or unique_name(),
                                                          "password": password})


async def test_register_logs_the_user_in(client: Any) -> None:
    name = unique_name()
    response = await register(client, name)
    assert response.status_code == 201
    body = await response.get_json()
    assert body["user"]["username"] == name
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    me = await client.get("/api/me")
    assert me.status_code == 200
    assert (await me.get_json()) == {"user": body["user"], "mood": None}


async def test_username_taken_is_a_conflict_whatever_the_case(client: Any) -> None:
    name = unique_name()
    assert (await register(client, name)).status_code == 201
    again = await register(client, name.upper())
    assert again.status_code == 409
    assert (await again.get_json())["error"]["code"] == "username_taken"


async def test_login_and_wrong_password(app: Any) -> None:
    name = unique_name()
    await register(app.test_client(), name)
    client = app.test_client()
    wrong = await client.post("/api/auth/login", json={"username": name, "password": "not the password"})
    assert wrong.status_code == 401
    assert (await wrong.get_json())["error"]["code"] == "invalid_credentials"
    assert (await client.get("/api/me")).status_code == 401
    ok = await client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert ok.status_code == 200
    assert (await client.get("/api/me")).status_code == 200


async def test_unknown_user_and_wrong_password_answer_alike(client: Any) -> None:
    name = unique_name()
    await register(client, name)
    a = await client.post("/api/auth/login", json={"username": name, "password": "wrong password"})
    b = await client.post("/api/auth/login", json={"username": unique_name(), "password": "wrong password"})
    assert a.status_code == b.status_code == 401
    assert (await a.get_json()) == (await b.get_json())


async def test_repeated_failures_are_rate_limited_per_account(app: Any) -> None:
    name = unique_name()
    await register(app.test_client(), name)
    client = app.test_client()
    for _ in range(5):
        r = await client.post("/api/auth/login", json={"username": name, "password": "bad password"})
        assert r.status_code == 401
    limited = await client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert (await limited.get_json())["error"]["code"] == "rate_limited"


async def test_rate_limit_per_client_address_spans_accounts(app: Any) -> None:
    client = app.test_client()
    statuses = []
    for _ in range(21):
        r = await client.post("/api/auth/login", json={"username": unique_name(), "password": "bad password"})
        statuses.append(r.status_code)
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429


async def test_logout_revokes_the_session_server_side(app: Any) -> None:
    client = app.test_client()
    response = await register(client)
    cookie = response.headers["Set-Cookie"].split(";")[0]
    assert (await client.post("/api/auth/logout")).status_code == 204
    replay = app.test_client()
    me = await replay.get("/api/me", headers={"Cookie": cookie})
    assert me.status_code == 401


async def test_login_issues_a_new_session_id(app: Any) -> None:
    name = unique_name()
    first = await register(app.test_client(), name)
    client = app.test_client()
    second = await client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert first.headers["Set-Cookie"].split(";")[0] != second.headers["Set-Cookie"].split(";")[0]


async def test_session_survives_a_server_restart(settings: Any) -> None:
    first = create_app(settings)
    async with first.test_app() as running:
        response = await register(running.test_client())
        cookie = response.headers["Set-Cookie"].split(";")[0]
    second = create_app(settings)
    async with second.test_app() as running:
        me = await running.test_client().get("/api/me", headers={"Cookie": cookie})
        assert me.status_code == 200


async def test_forged_cookie_is_refused(client: Any) -> None:
    me = await client.get("/api/me", headers={"Cookie": "musicrec_session=forged.value.sig"})
    assert me.status_code == 401
    assert (await me.get_json())["error"]["code"] == "not_authenticated"
