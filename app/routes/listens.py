"""`POST /api/me/listens`: a listener uploads a listening-history export into their own history.

The body is the raw file, or multipart with a ``file`` part; ``?format=`` forces the format.
Its size limit is ``listens_upload_max_bytes`` (not the JSON API's ``max_body_bytes``), set
per request before the body arrives. The upload is spooled to a temporary file (never held
in memory whole), imported, and removed.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from quart import Blueprint, Quart, request
from quart.typing import ResponseReturnValue

from app.auth.user import require_user_id
from app.errors import ApiError
from app.listens_import import ListensFileError, ListensImportError, import_listens
from app.state import get_state
from recsys.importers.listens.records import FORMATS

bp = Blueprint("listens", __name__, url_prefix="/api")

UPLOAD_PATH = "/api/me/listens"
USER_FORMATS = tuple(f for f in FORMATS if f != "hetrec")  # public data is the CLI's, not a user's
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def install(app: Quart) -> None:
    """Register the blueprint and lift the body limit for the upload path only."""
    limit = app.extensions["musicrec"].settings.listens_upload_max_bytes
    base: Any = app.request_class

    class UploadAwareRequest(base):
        def __init__(self, method: str, scheme: str, path: str, *args: Any, **kwargs: Any) -> None:
            upload = method == "POST" and path == UPLOAD_PATH
            if upload:
                kwargs["max_content_length"] = limit  # the body buffer's own check
            super().__init__(method, scheme, path, *args, **kwargs)
            if upload:
                self.max_content_length = limit  # the multipart parser's check

    app.request_class = UploadAwareRequest
    app.register_blueprint(bp)


@bp.post("/me/listens")
async def upload_listens() -> ResponseReturnValue:
    user_id = await require_user_id()
    fmt = request.args.get("format") or None
    if fmt is not None and fmt not in USER_FORMATS:
        raise ApiError(400, "bad_format", f"format must be one of {', '.join(USER_FORMATS)}")
    folder = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="musicrec-listens-"))
    try:
        path = await _spool(folder)
        try:
            report = await import_listens(get_state().db, path, user_id=user_id, fmt=fmt,
                                          source_name=path.name)
        except ListensFileError as exc:
            raise ApiError(422, "unreadable_history", str(exc)) from None
        except ListensImportError as exc:
            raise ApiError(422, "not_a_user_history", str(exc)) from None
    finally:
        await asyncio.to_thread(shutil.rmtree, folder, True)
    return {"report": report.as_json()}, 201 if report.stored else 200


async def _spool(folder: Path) -> Path:
    """The upload, written to a file in ``folder`` chunk by chunk."""
    if request.mimetype == "multipart/form-data":
        upload = (await request.files).get("file")
        if upload is None:
            raise ApiError(400, "missing_file", "send the export as the multipart part named 'file'")
        path = folder / _safe_name(upload.filename)
        await upload.save(path)
        return path
    path = folder / _safe_name(request.args.get("filename"))
    handle = await asyncio.to_thread(path.open, "wb")
    try:
        async for chunk in request.body:
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)
    return path


def _safe_name(name: str | None) -> str:
    """The upload's own name (detection reads Spotify's file names), without any path."""
    cleaned = _SAFE_NAME.sub("_", Path(name or "").name).strip("._")[:120]
    return cleaned or "upload"
