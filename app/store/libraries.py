"""Libraries (Subsonic-compatible servers) and their songs: plain SQL.

Invariant: the secret column is read by ``credentials`` only; ``Library`` rows (what listings,
logs and the API see) never carry it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime

import asyncpg

from app.store.db import Database
from recsys.catalog import LIBRARY_MEDIA_PREFIX
from recsys.importers.matching import Candidate, song_ids
from recsys.importers.subsonic import Credentials
from recsys.importers.subsonic_songs import LibrarySong

_COLUMNS = (
    "id, owner_id, kind, url, username, auth_mode, api_version, server_type, online, last_checked_at,"
    " last_error, sync_state, sync_generation, sync_done, sync_started_at, last_sync_at,"
    " last_sync_error, last_report, created_at, guarded"
)


@dataclass(frozen=True, slots=True)
class Library:
    id: int
    owner_id: int | None
    kind: str
    url: str
    username: str
    auth_mode: str
    api_version: str | None
    server_type: str | None
    online: bool
    last_checked_at: datetime | None
    last_error: str | None
    sync_state: str
    sync_generation: int
    sync_done: int
    sync_started_at: datetime | None
    last_sync_at: datetime | None
    last_sync_error: str | None
    last_report: str | None
    created_at: datetime
    guarded: bool  # added through the HTTP API: every connection is checked (net_guard)


def _library(row: asyncpg.Record) -> Library:
    return Library(**{f.name: row[f.name] for f in fields(Library)})


async def create(db: Database, owner_id: int | None, kind: str, url: str, creds: Credentials,
                 api_version: str | None, server_type: str | None, guarded: bool = False) -> Library | None:
    """The new library, or None when this server and user are already connected."""
    row = await db.fetchrow(
        f"""
        INSERT INTO libraries (owner_id, kind, url, username, secret, auth_mode, api_version, server_type,
                               last_checked_at, guarded)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), $9)
        ON CONFLICT (kind, url, username) DO NOTHING
        RETURNING {_COLUMNS}
        """,
        owner_id, kind, url, creds.username, creds.secret, creds.mode, api_version, server_type, guarded,
    )
    return _library(row) if row else None


async def get(db: Database, library_id: int) -> Library | None:
    if not 0 < library_id < 2**63:
        return None
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM libraries WHERE id = $1", library_id)
    return _library(row) if row else None


async def all_libraries(db: Database) -> list[Library]:
    return [_library(r) for r in await db.fetch(f"SELECT {_COLUMNS} FROM libraries ORDER BY id")]


async def credentials(db: Database, library_id: int) -> Credentials | None:
    row = await db.fetchrow("SELECT username, secret, auth_mode FROM libraries WHERE id = $1", library_id)
    return Credentials(row["username"], row["secret"], row["auth_mode"]) if row else None


async def delete(db: Database, library_id: int) -> bool:
    return await db.fetchval("DELETE FROM libraries WHERE id = $1 RETURNING id", library_id) is not None


async def song_counts(db: Database) -> dict[int, int]:
    rows = await db.fetch("SELECT library_id, count(*) AS n FROM library_songs GROUP BY library_id")
    return {r["library_id"]: int(r["n"]) for r in rows}


async def set_status(db: Database, library_id: int, online: bool, error: str | None) -> None:
    await db.execute(
        "UPDATE libraries SET online = $2, last_error = $3, last_checked_at = now() WHERE id = $1",
        library_id, online, error,
    )


async def start_sync(db: Database, library_id: int) -> int | None:
    """Mark a sync as running and return its generation; None when one is already running.
    A sync left 'syncing' by a process that died is taken over after an hour."""
    value = await db.fetchval(
        """
        UPDATE libraries SET sync_state = 'syncing', sync_generation = sync_generation + 1,
                             sync_done = 0, sync_started_at = now()
        WHERE id = $1 AND (sync_state <> 'syncing' OR sync_started_at < now() - interval '1 hour')
        RETURNING sync_generation
        """,
        library_id,
    )
    return int(value) if value is not None else None


async def sync_progress(db: Database, library_id: int, done: int) -> None:
    await db.execute("UPDATE libraries SET sync_done = $2 WHERE id = $1", library_id, done)


async def finish_sync(db: Database, library_id: int, error: str | None, report: str | None) -> None:
    await db.execute(
        """
        UPDATE libraries SET sync_state = CASE WHEN $2::text IS NULL THEN 'done' ELSE 'failed' END,
                             last_sync_at = CASE WHEN $2::text IS NULL THEN now() ELSE last_sync_at END,
                             last_sync_error = $2, last_report = coalesce($3, last_report)
        WHERE id = $1
        """,
        library_id, error, report,
    )


@dataclass(frozen=True, slots=True)
class KnownSong:
    track_id: int
    fingerprint: str
    match_rule: str


async def known_songs(conn: asyncpg.Connection | Database, library_id: int,
                      song_ids_: Sequence[str]) -> dict[str, KnownSong]:
    rows = await conn.fetch(
        "SELECT song_id, track_id, fingerprint, match_rule FROM library_songs"
        " WHERE library_id = $1 AND song_id = ANY($2::text[])",
        library_id, list(song_ids_),
    )
    return {r["song_id"]: KnownSong(r["track_id"], r["fingerprint"], r["match_rule"]) for r in rows}


async def mark_seen(conn: asyncpg.Connection | Database, library_id: int, song_ids_: Sequence[str],
                    generation: int) -> None:
    await conn.execute(
        "UPDATE library_songs SET seen_sync = $3 WHERE library_id = $1 AND song_id = ANY($2::text[])",
        library_id, list(song_ids_), generation,
    )


async def upsert_songs(conn: asyncpg.Connection, library_id: int, generation: int,
                       songs: Sequence[tuple[LibrarySong, int, str]]) -> None:
    """(song, track id, match rule) rows for this library, tagged with this sync's generation."""
    await conn.executemany(
        """
        INSERT INTO library_songs (library_id, song_id, track_id, fingerprint, match_rule, album_id,
                                   artist_id, cover_art, track_number, disc_number, content_type, isrc,
                                   mbid, seen_sync)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT (library_id, song_id) DO UPDATE SET
            track_id = EXCLUDED.track_id, fingerprint = EXCLUDED.fingerprint,
            match_rule = EXCLUDED.match_rule, album_id = EXCLUDED.album_id,
            artist_id = EXCLUDED.artist_id, cover_art = EXCLUDED.cover_art,
            track_number = EXCLUDED.track_number, disc_number = EXCLUDED.disc_number,
            content_type = EXCLUDED.content_type, isrc = EXCLUDED.isrc, mbid = EXCLUDED.mbid,
            seen_sync = EXCLUDED.seen_sync,
            -- A song that failed analysis is tried again once the server says it changed.
            analysis = CASE WHEN library_songs.analysis = 'failed'
                            AND library_songs.fingerprint <> EXCLUDED.fingerprint
                            THEN NULL ELSE library_songs.analysis END
        """,
        [
            (library_id, s.song_id, track_id, s.fingerprint(), rule, s.album_id, s.artist_id, s.cover_art,
             s.track_number, s.disc_number, s.content_type, s.isrc, s.mbid, generation)
            for s, track_id, rule in songs
        ],
    )


async def unseen_songs(db: Database, library_id: int, generation: int) -> list[tuple[str, int]]:
    """(song id, track id) of songs this sync did not see: removed from the library."""
    rows = await db.fetch(
        "SELECT song_id, track_id FROM library_songs WHERE library_id = $1 AND seen_sync <> $2",
        library_id, generation,
    )
    return [(r["song_id"], r["track_id"]) for r in rows]


async def forget_songs(conn: asyncpg.Connection, library_id: int, song_ids_: Sequence[str]) -> None:
    await conn.execute("DELETE FROM library_songs WHERE library_id = $1 AND song_id = ANY($2::text[])",
                       library_id, list(song_ids_))


async def clear_media(conn: asyncpg.Connection, library_id: int, refs: Sequence[str] | None) -> list[int]:
    """Tracks whose sound came from these songs (``refs``: media_refs; None: every song of the
    library) lose it; their history, features and tags stay. Returns the ids changed."""
    prefix = f"{LIBRARY_MEDIA_PREFIX}{library_id}:"
    rows = await conn.fetch(
        """
        UPDATE tracks SET media_kind = 'none', media_ref = NULL, updated_at = now()
        WHERE left(media_ref, length($1)) = $1 AND ($2::text[] IS NULL OR media_ref = ANY($2::text[]))
        RETURNING id
        """,
        prefix, list(refs) if refs is not None else None,
    )
    return [r["id"] for r in rows]


async def library_track_ids(db: Database, library_id: int) -> list[int]:
    rows = await db.fetch("SELECT DISTINCT track_id FROM library_songs WHERE library_id = $1", library_id)
    return [r["track_id"] for r in rows]


async def song_of_track(db: Database, library_id: int, track_id: int) -> str | None:
    value = await db.fetchval(
        "SELECT song_id FROM library_songs WHERE library_id = $1 AND track_id = $2 LIMIT 1",
        library_id, track_id,
    )
    return str(value) if value is not None else None


async def match_candidates(conn: asyncpg.Connection | Database, titles: Sequence[str],
                           ids: Sequence[str]) -> list[Candidate]:
    """Catalog tracks that may be one of a page of songs: the same lowercase title (the
    tracks_title_lower index), or a shared ISRC / MusicBrainz id with a song of any library,
    or a Spotify id (a Spotify-CSV track's external id)."""
    isrc = [i.removeprefix("isrc:") for i in ids if i.startswith("isrc:")]
    mbid = [i.removeprefix("mbid:") for i in ids if i.startswith("mbid:")]
    spotify = [i.removeprefix("spotify:") for i in ids if i.startswith("spotify:")]
    rows = await conn.fetch(
        """
        WITH hits AS (
            SELECT id FROM tracks WHERE lower(title) = ANY($1::text[])
            UNION SELECT track_id FROM library_songs WHERE isrc && $2::text[]
            UNION SELECT track_id FROM library_songs WHERE mbid = ANY($3::text[])
            UNION SELECT id FROM tracks WHERE source = 'spotify' AND external_id = ANY($4::text[])
        )
        SELECT t.id, t.title, t.artists, t.duration_ms, t.source, t.external_id,
               coalesce(array_agg(DISTINCT i) FILTER (WHERE i IS NOT NULL), '{}') AS isrc,
               coalesce(array_agg(DISTINCT s.mbid) FILTER (WHERE s.mbid IS NOT NULL), '{}') AS mbid
        FROM hits JOIN tracks t ON t.id = hits.id
        LEFT JOIN library_songs s ON s.track_id = t.id
        LEFT JOIN LATERAL unnest(s.isrc) AS i ON true
        GROUP BY t.id
        """,
        list(titles), isrc, mbid, spotify,
    )
    return [
        Candidate(
            track_id=r["id"], title=r["title"], artists=tuple(r["artists"]), duration_ms=r["duration_ms"],
            ids=song_ids(r["isrc"], None, r["external_id"] if r["source"] == "spotify" else None)
            | frozenset(f"mbid:{m.lower()}" for m in r["mbid"]),
        )
        for r in rows
    ]


# -- audio analysis of songs without features (app/library_analysis.py) ----------------------

# A song waits for analysis while it has not been tried and its track has no audio features
# and plays from it (a song matched to a track that plays elsewhere is not this library's to
# analyse).
_NEEDS_ANALYSIS = """
    s.analysis IS NULL AND t.audio = '{}'::jsonb
    AND t.media_ref = 'library:' || s.library_id || ':' || s.song_id
"""


@dataclass(frozen=True, slots=True)
class AnalysisJob:
    library_id: int
    song_id: str
    track_id: int


async def songs_to_analyse(db: Database, skip_libraries: Sequence[int], limit: int) -> list[AnalysisJob]:
    """Up to ``limit`` songs waiting for analysis, of libraries not in ``skip_libraries``."""
    rows = await db.fetch(
        f"""
        SELECT s.library_id, s.song_id, s.track_id FROM library_songs s JOIN tracks t ON t.id = s.track_id
        WHERE {_NEEDS_ANALYSIS} AND s.library_id <> ALL($1::bigint[])
        ORDER BY s.library_id, s.track_id LIMIT $2
        """,
        list(skip_libraries), limit,
    )
    return [AnalysisJob(r["library_id"], r["song_id"], r["track_id"]) for r in rows]


async def analysis_counts(db: Database) -> dict[int, dict[str, int]]:
    """Per library: songs waiting for analysis, analysed, and failed."""
    rows = await db.fetch(
        f"""
        SELECT s.library_id,
               count(*) FILTER (WHERE {_NEEDS_ANALYSIS}) AS pending,
               count(*) FILTER (WHERE s.analysis = 'done') AS done,
               count(*) FILTER (WHERE s.analysis = 'failed') AS failed
        FROM library_songs s JOIN tracks t ON t.id = s.track_id
        GROUP BY s.library_id
        """
    )
    return {r["library_id"]: {key: int(r[key]) for key in ("pending", "done", "failed")} for r in rows}


async def record_analysis(conn: asyncpg.Connection, done: Sequence[AnalysisJob],
                          failed: Sequence[tuple[AnalysisJob, str]]) -> None:
    await conn.executemany(
        "UPDATE library_songs SET analysis = $3, analysis_error = $4 WHERE library_id = $1 AND song_id = $2",
        [(j.library_id, j.song_id, "done", None) for j in done]
        + [(j.library_id, j.song_id, "failed", error[:500]) for j, error in failed],
    )


async def cover_of(db: Database, library_id: int, song_id: str) -> str | None:
    """The cover art id the library gave for this song, if any."""
    value = await db.fetchval(
        "SELECT cover_art FROM library_songs WHERE library_id = $1 AND song_id = $2", library_id, song_id)
    return str(value) if value else None
