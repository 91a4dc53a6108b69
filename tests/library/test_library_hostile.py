"""A hostile or broken library server: huge, malformed or hanging answers are refused with a
clear error, and nothing already imported is lost. The server is a real HTTP server (asyncio
streams) that answers what each test tells it to."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from app import library
from app.factory import create_app
from app.store import libraries
from recsys.importers.subsonic import Credentials, LibraryError, SubsonicClient, detect
from tests.conftest import DATABASE_URL, make_settings, unique_name


def _ok(**payload: Any) -> bytes:
    return json.dumps({"subsonic-response": {"status": "ok", "version": "1.16.1", **payload}}).encode()


def _songs(n: int, start: int = 0) -> list[dict[str, Any]]:
    return [{"id": f"s{i}", "title": f"Song {i}", "artist": "Hostile Artist", "duration": 100 + i}
            for i in range(start, start + n)]


class HostileServer:
    """Answers ``ping`` politely and ``search3`` with whatever ``self.songs_answer`` says."""

    def __init__(self) -> None:
        self.songs_answer: bytes = _ok(searchResult3={"song": _songs(3)})
        self.ping_answer: bytes = _ok()
        self.declared_length: int | None = None
        self.server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            form = (await reader.readexactly(length)).decode() if length else ""
            body = self.ping_answer if b"/rest/ping" in head else self.songs_answer
            if "songOffset=0" not in form and b"search3" in head:
                body = _ok(searchResult3={})
            declared = self.declared_length or len(body)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         + f"Content-Length: {declared}\r\nConnection: close\r\n\r\n".encode() + body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


@pytest.fixture
async def hostile() -> AsyncIterator[HostileServer]:
    server = HostileServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="module")
async def state(tmp_path_factory: pytest.TempPathFactory, run_schema: str) -> AsyncIterator[Any]:
    schema = run_schema + "_hostile"
    app = create_app(make_settings(tmp_path_factory.mktemp("hostile"), db_schema=schema,
                                   library_check_interval_s=3600))
    async with app.test_app():
        yield app.extensions["musicrec"]
    conn = await asyncpg.connect(DATABASE_URL)
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.close()


async def test_malformed_json_is_refused_clearly(hostile: HostileServer) -> None:
    hostile.ping_answer = b"{not json at all"
    with pytest.raises(LibraryError) as caught:
        await detect(hostile.url, "u", "p")
    assert caught.value.kind == "malformed" and "not valid JSON" in caught.value.message


async def test_an_answer_that_is_not_a_subsonic_response_is_refused(hostile: HostileServer) -> None:
    hostile.ping_answer = b'["a", "list"]'
    with pytest.raises(LibraryError, match="not a Subsonic response"):
        await detect(hostile.url, "u", "p")


async def test_an_oversized_answer_is_refused_before_it_is_read(hostile: HostileServer) -> None:
    hostile.declared_length = 10 * 1024**3
    async with SubsonicClient(hostile.url, Credentials("u", "p")) as client:
        with pytest.raises(LibraryError) as caught:
            await client.ping()
    assert caught.value.kind == "too_large" and "too large" in caught.value.message


async def test_an_undeclared_huge_answer_is_cut_at_the_limit(hostile: HostileServer) -> None:
    hostile.songs_answer = _ok(searchResult3={"song": _songs(20_000)})
    async with SubsonicClient(hostile.url, Credentials("u", "p"),
                              max_response_bytes=64 * 1024) as client:
        with pytest.raises(LibraryError, match="too large"):
            await client.search_songs(0)


async def test_a_broken_resync_keeps_what_was_imported(state: Any, hostile: HostileServer) -> None:
    user = await state.db.fetchval(
        "INSERT INTO users (username, password_hash) VALUES ($1, 'x') RETURNING id", unique_name())
    lib = await library.connect(state.db, user, hostile.url, "u", "p")
    # One garbage entry among good ones costs that entry only.
    hostile.songs_answer = _ok(searchResult3={"song": [*_songs(3), {"id": None}, "nonsense"]})
    result = await library.sync(state.db, state.index, state.encoder, lib)
    assert result.written == 3 and result.report.skipped_total == 2
    before = await state.db.fetchval("SELECT count(*) FROM library_songs WHERE library_id = $1", lib.id)
    assert before == 3

    hostile.songs_answer = b'{"subsonic-response": {"status": "ok", "searchResult3": {"song": "oops"}}}'
    with pytest.raises(LibraryError, match="not a list"):
        await library.sync(state.db, state.index, state.encoder, lib)
    after = await libraries.get(state.db, lib.id)
    assert after is not None and after.sync_state == "failed"
    assert "not a list" in (after.last_sync_error or "")
    # Nothing removed, nothing lost: a failed sync never retires songs it did not get to see.
    assert await state.db.fetchval("SELECT count(*) FROM library_songs WHERE library_id = $1", lib.id) == 3
    playable = await state.db.fetchval("SELECT count(*) FROM tracks WHERE media_ref LIKE $1",
                                       f"library:{lib.id}:%")
    assert playable == 3
