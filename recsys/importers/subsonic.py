"""An async client for the Subsonic API (Navidrome, Jellyfin, Airsonic, Gonic, Ampache, Supysonic).

Invariants:
- Credentials travel in POST form bodies, not in URLs (servers and proxies log URLs), except
  for ``stream``: servers answer Range only on GET (Supysonic's Werkzeug ignores Range on a
  POST, measured), so its auth goes in the query, as every Subsonic player does. httpx logs
  request URLs at INFO, so its logger is held at WARNING here. Nothing here logs or formats a
  credential into a message.
- Every call has a timeout, and every JSON answer is read with a byte limit
  (``max_response_bytes``): a hostile or broken server gets a ``LibraryError`` with a clear
  message, never an unbounded read or a stack trace.
- Authentication is chosen once, from what the server says (``detect``): OpenSubsonic
  ``apiKey`` when an API key is given and offered, token + salt for API 1.13 and later, and
  the hex-encoded ``enc:`` password for older servers (Supysonic reports 1.12).

Nothing here knows about musicrec's database or HTTP routes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import httpx

# httpx logs every request URL at INFO; a stream URL carries the auth parameters.
logging.getLogger("httpx").setLevel(logging.WARNING)

AuthMode = Literal["apikey", "token", "password"]
CLIENT_NAME = "musicrec"
# What we ask for with token auth; servers answer with their own version.
TOKEN_API_VERSION = "1.16.1"
LEGACY_API_VERSION = "1.12.0"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
# A page of 500 songs is about 300 KB of JSON on Supysonic; 8 MiB leaves room for verbose
# servers and refuses a runaway answer long before it hurts memory.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
PAGE_SIZE = 500
# Cover art: what a browser may be sent as an image (no SVG: it can carry script), and a size
# limit far above a 1,200-pixel JPEG.
COVER_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
MAX_COVER_BYTES = 4 * 1024 * 1024

# Subsonic error codes (API docs): 40 wrong credentials, 41 token auth unsupported for LDAP
# users, 42-44 OpenSubsonic auth mechanism errors, 50 not authorised, 70 not found.
AUTH_ERROR_CODES = frozenset({40, 41, 42, 43, 44, 50})


class LibraryError(Exception):
    """The library server could not be used; ``message`` is safe to show and to log."""

    def __init__(self, message: str, kind: str = "library_error") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind  # "offline", "auth", "malformed", "too_large", "not_found", "library_error"


@dataclass(frozen=True, slots=True)
class Credentials:
    """What authenticates us. Never printed: ``__repr__`` hides the secret."""

    username: str
    secret: str  # the password, or the API key for auth mode "apikey"
    mode: AuthMode = "password"

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, mode={self.mode!r}, secret=***)"


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What ``ping`` and ``getOpenSubsonicExtensions`` said."""

    api_version: str
    server_type: str | None
    server_version: str | None
    open_subsonic: bool
    extensions: frozenset[str]


def version_tuple(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for part in version.split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


def auth_params(creds: Credentials) -> dict[str, str]:
    """The form fields that authenticate one request (a fresh salt every time)."""
    if creds.mode == "apikey":
        return {"apiKey": creds.secret, "v": TOKEN_API_VERSION}
    if creds.mode == "token":
        salt = secrets.token_hex(8)
        token = hashlib.md5((creds.secret + salt).encode("utf-8"), usedforsecurity=False).hexdigest()
        return {"u": creds.username, "t": token, "s": salt, "v": TOKEN_API_VERSION}
    return {"u": creds.username, "p": "enc:" + creds.secret.encode("utf-8").hex(), "v": LEGACY_API_VERSION}


def base_url(url: str) -> str:
    """The server's root URL as stored: no trailing slash, no /rest."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise LibraryError(f"{url!r} is not an http(s) URL", "bad_url")
    try:  # control characters, a malformed host or port: refused here, not at the first request
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, ValueError, UnicodeError):
        raise LibraryError(f"{url[:80]!r} is not a valid URL", "bad_url") from None
    if not parsed.host:
        raise LibraryError(f"{url[:80]!r} names no host", "bad_url")
    return url.removesuffix("/rest")


class SubsonicClient:
    """One library server. Use as ``async with SubsonicClient(...) as client``."""

    def __init__(
        self,
        url: str,
        creds: Credentials,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url(url)
        self.creds = creds
        self.max_response_bytes = max_response_bytes
        self._http = httpx.AsyncClient(timeout=timeout, transport=transport, follow_redirects=False,
                                       headers={"User-Agent": CLIENT_NAME})

    async def __aenter__(self) -> SubsonicClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    def _form(self, params: Mapping[str, Any]) -> dict[str, Any]:
        return {**auth_params(self.creds), "c": CLIENT_NAME, "f": "json", **params}

    def _endpoint(self, method: str) -> str:
        return f"{self.base_url}/rest/{method}.view"

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One API call; the ``subsonic-response`` object of a successful answer."""
        try:
            async with self._http.stream("POST", self._endpoint(method), data=self._form(params)) as response:
                body = await self._read_limited(response, method)
                status = response.status_code
        except httpx.TimeoutException as exc:
            raise LibraryError(f"the library server did not answer {method} in time", "offline") from exc
        except httpx.TransportError as exc:
            raise LibraryError(f"the library server cannot be reached ({type(exc).__name__})",
                               "offline") from exc
        return self._parse(method, status, body)

    async def _read_limited(self, response: httpx.Response, method: str, limit: int | None = None) -> bytes:
        limit = self.max_response_bytes if limit is None else limit
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise LibraryError(f"the answer to {method} is too large ({int(declared):,} bytes, "
                               f"limit {limit:,})", "too_large")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise LibraryError(f"the answer to {method} is too large (over "
                                   f"{limit:,} bytes)", "too_large")
            chunks.append(chunk)
        return b"".join(chunks)

    def _parse(self, method: str, status: int, body: bytes) -> dict[str, Any]:
        if status in (401, 403):
            raise LibraryError("the library server refused the credentials", "auth")
        if status >= 400:
            raise LibraryError(f"the library server answered {method} with HTTP {status}")
        try:
            document = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise LibraryError(f"the answer to {method} is not valid JSON", "malformed") from exc
        answer = document.get("subsonic-response") if isinstance(document, dict) else None
        if not isinstance(answer, dict):
            raise LibraryError(f"the answer to {method} is not a Subsonic response", "malformed")
        if answer.get("status") != "ok":
            raw_error = answer.get("error")
            error: dict[str, Any] = raw_error if isinstance(raw_error, dict) else {}
            code = error.get("code")
            text = str(error.get("message") or "unknown error")[:200]
            if code in AUTH_ERROR_CODES:
                raise LibraryError(f"the library server refused the credentials: {text}", "auth")
            if code == 70:
                raise LibraryError(f"not found on the library server: {text}", "not_found")
            raise LibraryError(f"the library server answered {method} with an error: {text}")
        return answer

    # -- what the sync and the player need ------------------------------------------------

    async def ping(self) -> dict[str, Any]:
        return await self.call("ping")

    async def search_songs(self, offset: int, count: int = PAGE_SIZE) -> list[dict[str, Any]]:
        """One page of every song: search3 with an empty query (Supysonic, Navidrome and most
        servers treat it as "everything"; measured on Supysonic 0.7.9, see docs/library.md)."""
        answer = await self.call("search3", query="", songCount=count, songOffset=offset,
                                 artistCount=0, albumCount=0)
        result = answer.get("searchResult3")
        if result is None:
            return []
        if not isinstance(result, dict):
            raise LibraryError("searchResult3 is not an object", "malformed")
        songs = result.get("song", [])
        if not isinstance(songs, list):
            raise LibraryError("searchResult3.song is not a list", "malformed")
        return songs

    async def iter_songs(self, page_size: int = PAGE_SIZE) -> AsyncIterator[list[dict[str, Any]]]:
        """Every song, a page at a time: only one page is ever in memory."""
        offset = 0
        while True:
            page = await self.search_songs(offset, page_size)
            if not page:
                return
            yield page
            if len(page) < page_size:
                return
            offset += len(page)

    async def scrobble(self, song_id: str, at_ms: int | None = None, submission: bool = True) -> None:
        params: dict[str, Any] = {"id": song_id, "submission": "true" if submission else "false"}
        if at_ms is not None:
            params["time"] = at_ms
        await self.call("scrobble", **params)

    async def star(self, song_id: str) -> None:
        await self.call("star", id=song_id)

    async def unstar(self, song_id: str) -> None:
        await self.call("unstar", id=song_id)

    async def open_stream(self, song_id: str, range_header: str | None = None) -> httpx.Response:
        """The song's bytes as the server sends them (no transcoding asked), Range forwarded.
        The caller must ``aclose()`` the response."""
        headers = {"Range": range_header} if range_header else {}
        params = self._form({"id": song_id, "format": "raw"})
        request = self._http.build_request("GET", self._endpoint("stream"), params=params, headers=headers)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TimeoutException as exc:
            raise LibraryError("the library server did not start the stream in time", "offline") from exc
        except httpx.TransportError as exc:
            raise LibraryError(f"the library server cannot be reached ({type(exc).__name__})",
                               "offline") from exc
        content_type = response.headers.get("content-type", "")
        # Errors come back as a Subsonic document (HTTP 200 and JSON or XML), not as audio.
        if response.status_code >= 400 or content_type.startswith(("application/json", "text/xml",
                                                                      "application/xml")):
            try:
                body = await self._read_limited(response, "stream")
            finally:
                await response.aclose()
            self._parse("stream", response.status_code, body)
            raise LibraryError("the library server answered stream without audio")
        return response


    async def cover_art(self, cover_id: str, size: int | None, max_bytes: int = MAX_COVER_BYTES,
                        ) -> tuple[bytes, str]:
        """(image bytes, content type) of ``getCoverArt``. Refused unless the answer is an image
        of an allowed type (a server must not make us serve HTML or SVG to a browser) within
        ``max_bytes``."""
        params: dict[str, Any] = {"id": cover_id}
        if size is not None:
            params["size"] = size
        try:
            async with self._http.stream("POST", self._endpoint("getCoverArt"),
                                         data=self._form(params)) as response:
                content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if response.status_code >= 400 or content_type not in COVER_TYPES:
                    body = await self._read_limited(response, "getCoverArt")
                    self._parse("getCoverArt", response.status_code, body)
                    raise LibraryError("the library server answered getCoverArt without an image "
                                       f"({content_type or 'no content type'})", "malformed")
                body = await self._read_limited(response, "getCoverArt", max_bytes)
        except httpx.TimeoutException as exc:
            raise LibraryError("the library server did not answer getCoverArt in time", "offline") from exc
        except httpx.TransportError as exc:
            raise LibraryError(f"the library server cannot be reached ({type(exc).__name__})",
                               "offline") from exc
        return body, content_type


async def read_head(response: httpx.Response, max_bytes: int) -> bytes:
    """At most ``max_bytes`` of a stream's body, then the response is closed: the start of a
    song is enough to analyse it, and the rest is never transferred."""
    chunks: list[bytes] = []
    size = 0
    try:
        async for chunk in response.aiter_raw():
            chunks.append(chunk[: max_bytes - size])
            size += len(chunks[-1])
            if size >= max_bytes:
                break
    except httpx.TimeoutException as exc:
        raise LibraryError("the library server stalled while streaming", "offline") from exc
    except httpx.TransportError as exc:
        raise LibraryError(f"the stream broke off ({type(exc).__name__})", "offline") from exc
    finally:
        await response.aclose()
    return b"".join(chunks)


async def detect(url: str, username: str, secret: str, is_api_key: bool = False,
                 transport: Callable[[], httpx.AsyncBaseTransport] | None = None,
                 ) -> tuple[Credentials, ServerInfo]:
    """How to authenticate with this server, checked by a successful ping.

    ``transport`` makes the transport of each client (a client closes its transport), e.g. a
    ``net_guard.GuardedTransport`` that checks the server's address first.

    API key: only where the server lists the OpenSubsonic ``apiKeyAuthentication`` extension.
    Password: token + salt when ping says the API is 1.13 or later, else the ``enc:`` password.
    """
    if is_api_key:
        creds = Credentials(username, secret, "apikey")
        async with SubsonicClient(url, creds, transport=transport() if transport else None) as client:
            info = await _server_info(client, await client.call("ping"))
        if "apiKeyAuthentication" not in info.extensions:
            raise LibraryError("this server does not offer OpenSubsonic API keys; use a password", "auth")
        return creds, info
    # The legacy form first: every server accepts it, and its answer carries the API version.
    # The hex form is only obfuscation, so it is what we fall back to, not what we keep.
    legacy = Credentials(username, secret, "password")
    async with SubsonicClient(url, legacy, transport=transport() if transport else None) as client:
        answer = await client.call("ping")
        info = await _server_info(client, answer)
    if version_tuple(info.api_version) < (1, 13):
        return legacy, info
    token = Credentials(username, secret, "token")
    async with SubsonicClient(url, token, transport=transport() if transport else None) as client:
        try:
            await client.call("ping")
        except LibraryError as exc:
            if exc.kind != "auth":
                raise
            return legacy, info  # e.g. LDAP users (code 41): token auth is not possible for them
    return token, info


async def _server_info(client: SubsonicClient, ping: Mapping[str, Any]) -> ServerInfo:
    extensions: frozenset[str] = frozenset()
    open_subsonic = bool(ping.get("openSubsonic"))
    if open_subsonic:
        try:
            answer = await client.call("getOpenSubsonicExtensions")
            listed = answer.get("openSubsonicExtensions") or []
            extensions = frozenset(str(e.get("name")) for e in listed if isinstance(e, dict))
        except LibraryError as exc:
            if exc.kind in ("offline", "auth"):
                raise
    return ServerInfo(
        api_version=str(ping.get("version") or "0"),
        server_type=str(ping["type"]) if ping.get("type") else None,
        server_version=str(ping["serverVersion"]) if ping.get("serverVersion") else None,
        open_subsonic=open_subsonic,
        extensions=extensions,
    )
