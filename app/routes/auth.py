"""Register, log in, log out: argon2id hashes, a new server-side session id at every login."""

from __future__ import annotations

import ipaddress
import logging

from quart import Blueprint, request
from quart.typing import ResponseReturnValue
from quart_auth import current_user, login_user, logout_user
from quart_schema import validate_request

from app.auth.passwords import hash_password, needs_rehash, verify_password
from app.auth.user import SessionUser
from app.errors import ApiError
from app.schemas import Credentials
from app.state import get_state
from app.store import users

bp = Blueprint("auth", __name__, url_prefix="/api/auth")
log = logging.getLogger("musicrec.auth")


def client_address() -> str:
    # X-Real-IP is set by NGINX; believe it only from a configured proxy, or anyone could rotate it
    # to dodge the per-address limit.
    remote = request.remote_addr or "-"
    forwarded = request.headers.get("X-Real-IP")
    if forwarded and _trusted(remote, get_state().settings.trusted_proxies):
        return forwarded
    return remote


def _trusted(address: str, proxies: list[str]) -> bool:
    """Exact addresses or CIDR ranges (a compose network) may be listed."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in proxies:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _user_json(user: users.User) -> dict[str, object]:
    return {"id": user.id, "username": user.username}


async def _start_session(user_id: int) -> None:
    state = get_state()
    old: SessionUser = current_user  # type: ignore[assignment]
    if old.auth_id is not None:
        await state.sessions.revoke(old.auth_id)
    session_id = await state.sessions.create(user_id)
    login_user(SessionUser(session_id), remember=True)


@bp.post("/register")
@validate_request(Credentials)
async def register(data: Credentials) -> ResponseReturnValue:
    state = get_state()
    password_hash = await hash_password(data.password)
    try:
        user = await users.create(state.db, data.username, password_hash)
    except users.UsernameTaken:
        raise ApiError(409, "username_taken", "that username is taken") from None
    await _start_session(user.id)
    log.info("registered user %s", user.id)
    return {"user": _user_json(user)}, 201


@bp.post("/login")
@validate_request(Credentials)
async def login(data: Credentials) -> ResponseReturnValue:
    state = get_state()
    address = client_address()
    wait = await state.limiter.retry_after(data.username, address)
    if wait is not None:
        raise ApiError(429, "rate_limited", f"too many failed logins; try again in {wait} s",
                       {"Retry-After": str(wait)})
    user = await users.by_username(state.db, data.username)
    # Always verify (against a dummy hash for unknown names) so timing does not reveal accounts.
    ok = await verify_password(user.password_hash if user else None, data.password)
    if not ok or user is None:
        await state.limiter.failed(data.username, address)
        raise ApiError(401, "invalid_credentials", "wrong username or password")
    await state.limiter.succeeded(data.username)
    if needs_rehash(user.password_hash):
        await users.set_password_hash(state.db, user.id, await hash_password(data.password))
    await _start_session(user.id)
    return {"user": _user_json(user)}, 200


@bp.post("/logout")
async def logout() -> ResponseReturnValue:
    state = get_state()
    user: SessionUser = current_user  # type: ignore[assignment]
    if user.auth_id is not None:
        await state.sessions.revoke(user.auth_id)
    logout_user()
    return "", 204
