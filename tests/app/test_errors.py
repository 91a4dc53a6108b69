"""Every error is the contract's JSON, with a fitting status and no stack trace."""

from __future__ import annotations

from typing import Any

import pytest


async def _error(response: Any) -> dict[str, Any]:
    body = await response.get_json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    return body["error"]


async def test_unknown_path_is_a_json_404(client: Any) -> None:
    response = await client.get("/api/nope")
    assert response.status_code == 404
    assert (await _error(response))["code"] == "not_found"


async def test_wrong_method_is_a_json_405(client: Any) -> None:
    response = await client.get("/api/auth/login")
    assert response.status_code == 405
    assert (await _error(response))["code"] == "method_not_allowed"


async def test_huge_body_is_a_json_413(client: Any) -> None:
    response = await client.post(
        "/api/auth/register",
        data=b'{"username": "' + b"a" * 2_000_000 + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert (await _error(response))["code"] == "payload_too_large"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ({"username": "someone"}, "password"),
        ({"password": "long enough password"}, "username"),
        ({"username": 12345, "password": "long enough password"}, "username"),
        ({"username": "ok_name", "password": ["a", "list"]}, "password"),
        ({"username": "x", "password": "long enough password"}, "username"),
        ({"username": "bad name!", "password": "long enough password"}, "username"),
        ({"username": "good_name", "password": "short"}, "password"),
        ({"username": "good_name", "password": "long enough password", "admin": True}, "admin"),
    ],
)
async def test_bad_register_bodies_are_422_naming_the_field(client: Any, body: Any, needle: str) -> None:
    response = await client.post("/api/auth/register", json=body)
    assert response.status_code == 422
    error = await _error(response)
    assert error["code"] == "validation_error"
    assert needle in error["message"]


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b'"a string"', b"{"])
async def test_non_object_bodies_are_refused_cleanly(client: Any, raw: bytes) -> None:
    response = await client.post(
        "/api/auth/login", data=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    await _error(response)


async def test_responses_carry_a_request_id(client: Any) -> None:
    response = await client.get("/api/nope", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


async def test_cross_site_write_is_refused(client: Any) -> None:
    response = await client.post(
        "/api/auth/register",
        json={"username": "csrf_victim", "password": "long enough password"},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert (await _error(response))["code"] == "bad_origin"
