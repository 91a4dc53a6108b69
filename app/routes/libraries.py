"""`/api/libraries`: connect a Subsonic-compatible server, see its status, sync it, remove it.

Invariants: no answer ever carries a library's password or API key (the store's ``Library``
rows do not hold it); answers carry the username to the library's owner only. A library
added here is checked against the address policy (``library_allowed_hosts``) before anything
is sent to it, and on every connection after (app/library.py ``guarded``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator
from quart import Blueprint
from quart.typing import ResponseReturnValue
from quart_schema import validate_request

from app import library, library_analysis
from app.auth.user import require_user_id
from app.errors import ApiError
from app.library_board import BOARD
from app.library_status import check_all
from app.state import AppState, get_state
from app.store import libraries
from app.store.libraries import Library
from recsys.importers.subsonic import LibraryError

bp = Blueprint("libraries", __name__, url_prefix="/api/libraries")

# LibraryError kind → (HTTP status, error code). 401 is kept for "not logged in here".
_ERRORS: dict[str, tuple[int, str]] = {
    "auth": (422, "library_auth_failed"),
    "bad_url": (422, "invalid_library_url"),
    "offline": (502, "library_unreachable"),
    "malformed": (502, "library_bad_answer"),
    "too_large": (502, "library_bad_answer"),
    "exists": (409, "library_exists"),
    "busy": (409, "sync_running"),
    "not_found": (404, "library_not_found"),
    "forbidden": (403, "library_address_refused"),
}
_ADMIN_HINT = ("; an administrator can connect it with `musicrec library add`, or allow the host in "
               "the library_allowed_hosts setting")


def api_error(exc: LibraryError) -> ApiError:
    status, code = _ERRORS.get(exc.kind, (502, "library_error"))
    return ApiError(status, code, exc.message + (_ADMIN_HINT if exc.kind == "forbidden" else ""))


class LibraryBody(BaseModel):
    kind: Literal["subsonic"] = "subsonic"
    url: str = Field(min_length=8, max_length=500, pattern=r"^https?://[^\s\x00]+$")
    username: str = Field(min_length=1, max_length=200, pattern=r"^[^\x00]+$")
    password: str | None = Field(None, min_length=1, max_length=500)
    api_key: str | None = Field(None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _one_secret(self) -> LibraryBody:
        if (self.password is None) == (self.api_key is None):
            raise ValueError("give either a password or an api_key")
        return self


def library_json(lib: Library, user_id: int, songs: int, state: AppState,
                 analysis: dict[str, int] | None = None) -> dict[str, Any]:
    mine = lib.owner_id == user_id
    return {
        "id": lib.id,
        "kind": lib.kind,
        "url": lib.url,
        "username": lib.username if mine else None,
        "owned": mine,
        "auth": lib.auth_mode,
        "api_version": lib.api_version,
        "server_type": lib.server_type,
        "status": "offline" if BOARD.is_offline(lib.id) else "online",
        "last_checked_at": lib.last_checked_at.isoformat() if lib.last_checked_at else None,
        "last_error": lib.last_error,
        "tracks": songs,
        "sync": {
            "state": lib.sync_state,
            "running": library.sync_running(state, lib.id) or lib.sync_state == "syncing",
            "songs_done": lib.sync_done,
            "started_at": lib.sync_started_at.isoformat() if lib.sync_started_at else None,
            "last_sync_at": lib.last_sync_at.isoformat() if lib.last_sync_at else None,
            "error": lib.last_sync_error,
            "report": lib.last_report,
        },
        # Songs without audio features, analysed from their sound in the background.
        "analysis": library_analysis.progress_json(analysis),
    }


async def _owned(state: AppState, library_id: int, user_id: int) -> Library:
    lib = await libraries.get(state.db, library_id)
    if lib is None:
        raise ApiError(404, "library_not_found", f"no library with id {library_id}")
    if lib.owner_id != user_id:
        raise ApiError(403, "not_your_library", "only the listener who connected a library may change it")
    return lib


@bp.post("")
@validate_request(LibraryBody)
async def add_library(data: LibraryBody) -> ResponseReturnValue:
    """Check the server and credentials, remember them server-side, start the first sync."""
    user_id = await require_user_id()
    state = get_state()
    secret = data.api_key if data.api_key is not None else data.password
    assert secret is not None
    try:
        lib = await library.connect(state.db, user_id, data.url, data.username, secret,
                                    is_api_key=data.api_key is not None,
                                    policy=library.address_policy(state.settings))
    except LibraryError as exc:
        raise api_error(exc) from None
    BOARD.set(lib.id, True)
    library.start_background_sync(state, lib)
    fresh = await libraries.get(state.db, lib.id) or lib
    return {"library": library_json(fresh, user_id, 0, state)}, 201


@bp.get("")
async def list_libraries() -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    counts = await libraries.song_counts(state.db)
    analysis = await libraries.analysis_counts(state.db)
    return {"libraries": [library_json(lib, user_id, counts.get(lib.id, 0), state, analysis.get(lib.id))
                          for lib in await libraries.all_libraries(state.db)]}


@bp.get("/<int:library_id>")
async def get_library(library_id: int) -> ResponseReturnValue:
    user_id = await require_user_id()
    state = get_state()
    lib = await libraries.get(state.db, library_id)
    if lib is None:
        raise ApiError(404, "library_not_found", f"no library with id {library_id}")
    counts = await libraries.song_counts(state.db)
    analysis = await libraries.analysis_counts(state.db)
    return {"library": library_json(lib, user_id, counts.get(lib.id, 0), state, analysis.get(lib.id))}


@bp.post("/<int:library_id>/sync")
async def sync_library(library_id: int) -> ResponseReturnValue:
    """Start a sync in the background: 202 at once; GET shows its progress."""
    user_id = await require_user_id()
    state = get_state()
    lib = await _owned(state, library_id, user_id)
    if library.sync_running(state, lib.id):
        raise ApiError(409, "sync_running", "a sync of this library is already running")
    library.start_background_sync(state, lib)
    return {"accepted": True, "library_id": lib.id}, 202


@bp.post("/check")
async def check_libraries() -> ResponseReturnValue:
    """Ping every library now (the monitor does it periodically anyway)."""
    await require_user_id()
    state = get_state()
    results = await check_all(state)
    return {"libraries": [{"id": i, "status": "online" if ok else "offline"} for i, ok in results.items()]}


@bp.delete("/<int:library_id>")
async def delete_library(library_id: int) -> ResponseReturnValue:
    """Disconnect: the credentials are deleted; its tracks keep history and tags, lose their sound."""
    user_id = await require_user_id()
    state = get_state()
    lib = await _owned(state, library_id, user_id)
    await library.remove(state, lib)
    BOARD.forget(lib.id)
    return "", 204
