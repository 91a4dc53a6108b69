"""JSON errors everywhere: `{"error": {"code", "message"}}`, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import redis.exceptions
from quart import Quart, g, jsonify
from quart.typing import ResponseReturnValue
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

log = logging.getLogger("musicrec.errors")


class ApiError(Exception):
    """An error a route raises on purpose; it becomes the contract's JSON error."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


class ServiceUnavailable(ApiError):
    def __init__(self, part: str) -> None:
        super().__init__(503, "service_unavailable", f"{part} is unavailable, try again shortly",
                         {"Retry-After": "2"})


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


_HTTP_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
}


def _describe_validation(exc: RequestSchemaValidationError) -> str:
    inner = exc.validation_error
    errors = getattr(inner, "errors", None)
    if callable(errors):
        parts = []
        for item in errors()[:5]:
            where = ".".join(str(p) for p in item.get("loc", ())) or "body"
            parts.append(f"{where}: {item.get('msg', 'invalid')}")
        if parts:
            return "; ".join(parts)
    if isinstance(inner, TypeError | ValueError):
        return "the request body must be a JSON object"
    return "the request is invalid"


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(ApiError)
    async def _api_error(exc: ApiError) -> ResponseReturnValue:
        return jsonify(error_body(exc.code, exc.message)), exc.status, exc.headers

    @app.errorhandler(RequestSchemaValidationError)
    async def _validation(exc: RequestSchemaValidationError) -> ResponseReturnValue:
        return jsonify(error_body("validation_error", _describe_validation(exc))), 422

    @app.errorhandler(HTTPException)
    async def _http(exc: HTTPException) -> ResponseReturnValue:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        message = {
            401: "log in first",
            404: "no such resource",
            405: "method not allowed here",
            413: "the request body is too large",
        }.get(status, exc.description or exc.name)
        headers = {}
        if status == 405 and getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return jsonify(error_body(code, message)), status, headers

    @app.errorhandler(UnicodeDecodeError)
    async def _not_utf8(exc: UnicodeDecodeError) -> ResponseReturnValue:
        # Quart decodes a JSON body as UTF-8 before quart-schema sees it: bad bytes are bad input.
        return jsonify(error_body("bad_request", "the request body is not valid UTF-8 JSON")), 400

    @app.errorhandler(redis.exceptions.ConnectionError)
    @app.errorhandler(redis.exceptions.TimeoutError)
    async def _redis_down(exc: Exception) -> ResponseReturnValue:
        log.warning("redis unavailable: %s", type(exc).__name__)
        return jsonify(error_body("service_unavailable", "redis is unavailable")), 503, {"Retry-After": "2"}

    @app.errorhandler(asyncpg.PostgresConnectionError)
    @app.errorhandler(asyncpg.InterfaceError)
    @app.errorhandler(asyncpg.CannotConnectNowError)
    # asyncpg raises this when a connection dies under it (e.g. while the pool resets it).
    @app.errorhandler(asyncpg.InternalClientError)
    @app.errorhandler(ConnectionError)
    @app.errorhandler(OSError)
    async def _postgres_down(exc: Exception) -> ResponseReturnValue:
        log.warning("backing service unavailable: %s", type(exc).__name__)
        return jsonify(error_body("service_unavailable", "the database is unavailable")), 503, {
            "Retry-After": "2"
        }

    @app.errorhandler(Exception)
    async def _unexpected(exc: Exception) -> ResponseReturnValue:
        request_id = getattr(g, "request_id", "-")
        log.exception("unhandled error (request %s)", request_id)
        return jsonify(
            error_body("internal_error", "something went wrong on our side", request_id=request_id)
        ), 500
