"""The catalog: PostgreSQL is the source of truth for tracks."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence

import asyncpg

from app.store.db import Database
from recsys.catalog import CatalogTrack, TrackRecord

_COLUMNS = (
    "id, source, external_id, title, artists, album, genres, descriptors, year, duration_ms,"
    " explicit, popularity, audio, media_kind, media_ref"
)

# recsys.catalog.is_playable, in SQL: the track has media of its own.
_PLAYABLE = "media_kind <> 'none' AND coalesce(media_ref, '') <> ''"


def _track(row: asyncpg.Record) -> CatalogTrack:
    return CatalogTrack(
        id=row["id"],
        source=row["source"],
        external_id=row["external_id"],
        title=row["title"],
        artists=list(row["artists"]),
        album=row["album"],
        genres=list(row["genres"]),
        descriptors=list(row["descriptors"]),
        year=row["year"],
        duration_ms=row["duration_ms"],
        explicit=row["explicit"],
        popularity=row["popularity"],
        audio=dict(row["audio"] or {}),
        media_kind=row["media_kind"],
        media_ref=row["media_ref"],
    )


async def upsert_batch(conn: asyncpg.Connection, records: Sequence[TrackRecord]) -> list[int]:
    """Insert or update by (source, external_id); returns the ids in input order.

    The caller owns the transaction, so a batch lands whole or not at all.
    """
    rows = await conn.fetch(
        """
        INSERT INTO tracks (source, external_id, title, artists, album, genres, descriptors, year,
                            duration_ms, explicit, popularity, audio, media_kind, media_ref)
        SELECT source, external_id, title, artists::text[], album, genres::text[],
               descriptors::text[], year, duration_ms, explicit, popularity, audio, media_kind,
               media_ref
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                    $6::text[], $7::text[], $8::int[], $9::int[], $10::bool[],
                    $11::real[], $12::jsonb[], $13::text[], $14::text[])
             AS t(source, external_id, title, artists, album, genres, descriptors, year,
                  duration_ms, explicit, popularity, audio, media_kind, media_ref)
        ON CONFLICT (source, external_id) DO UPDATE SET
            title = EXCLUDED.title, artists = EXCLUDED.artists, album = EXCLUDED.album,
            genres = EXCLUDED.genres, descriptors = EXCLUDED.descriptors, year = EXCLUDED.year,
            duration_ms = EXCLUDED.duration_ms, explicit = EXCLUDED.explicit,
            popularity = EXCLUDED.popularity, audio = EXCLUDED.audio,
            media_kind = EXCLUDED.media_kind, media_ref = EXCLUDED.media_ref, updated_at = now()
        RETURNING id, source, external_id
        """,
        [r.source for r in records],
        [r.external_id for r in records],
        [r.title for r in records],
        # Arrays of arrays must be rectangular in PostgreSQL, so lists travel as text literals.
        [_pg_array(r.artists) for r in records],
        [r.album for r in records],
        [_pg_array(r.genres) for r in records],
        [_pg_array(r.descriptors) for r in records],
        [r.year for r in records],
        [r.duration_ms for r in records],
        [r.explicit for r in records],
        [r.popularity for r in records],
        [r.audio for r in records],
        [r.media_kind for r in records],
        [r.media_ref for r in records],
    )
    by_key = {(row["source"], row["external_id"]): row["id"] for row in rows}
    return [by_key[(r.source, r.external_id)] for r in records]


async def set_audio_features(conn: asyncpg.Connection,
                             features: Sequence[tuple[int, dict[str, float], Sequence[str]]]) -> list[int]:
    """(track id, audio features, descriptors) from an analysis: written only to tracks that
    still have no features (public data that arrived meanwhile wins); their descriptors gain
    the new words. Returns the ids written."""
    rows = await conn.fetch(
        """
        UPDATE tracks t SET audio = f.audio,
            descriptors = t.descriptors || ARRAY(SELECT d FROM unnest(f.descriptors::text[]) AS d
                                                 WHERE d <> ALL(t.descriptors)),
            updated_at = now()
        FROM unnest($1::bigint[], $2::jsonb[], $3::text[]) AS f(id, audio, descriptors)
        WHERE t.id = f.id AND t.audio = '{}'::jsonb
        RETURNING t.id
        """,
        [f[0] for f in features], [f[1] for f in features], [_pg_array(f[2]) for f in features],
    )
    return [r["id"] for r in rows]


def _pg_array(values: Sequence[str]) -> str:
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"') for v in values)
    return "{" + ",".join(f'"{v}"' for v in escaped) + "}"


MAX_ID = 2**63 - 1  # ids are bigint: a larger one (from a URL path) names no track


async def get(db: Database, track_id: int) -> CatalogTrack | None:
    if not 0 < track_id <= MAX_ID:
        return None
    row = await db.fetchrow(f"SELECT {_COLUMNS} FROM tracks WHERE id = $1", track_id)
    return _track(row) if row else None


async def get_many(db: Database, ids: Sequence[int]) -> dict[int, CatalogTrack]:
    ids = [i for i in ids if 0 < i <= MAX_ID]
    if not ids:
        return {}
    rows = await db.fetch(f"SELECT {_COLUMNS} FROM tracks WHERE id = ANY($1::bigint[])", ids)
    return {row["id"]: _track(row) for row in rows}


async def existing_ids(db: Database, ids: Sequence[int]) -> set[int]:
    rows = await db.fetch("SELECT id FROM tracks WHERE id = ANY($1::bigint[])",
                          [i for i in ids if 0 < i <= MAX_ID])
    return {row["id"] for row in rows}


async def search_title_artist(db: Database, query: str, limit: int) -> list[CatalogTrack]:
    """Plain substring match on title and artists, the exact-name half of search."""
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} FROM tracks
        WHERE title ILIKE $1 OR array_to_string(artists, ' ') ILIKE $1
        ORDER BY (lower(title) = lower($2)) DESC, popularity DESC NULLS LAST, id
        LIMIT $3
        """,
        pattern,
        query,
        limit,
    )
    return [_track(row) for row in rows]


async def count(db: Database) -> int:
    return int(await db.fetchval("SELECT count(*) FROM tracks"))


async def counts(db: Database) -> tuple[int, int]:
    """(tracks, playable tracks)."""
    row = await db.fetchrow(
        f"SELECT count(*) AS total, count(*) FILTER (WHERE {_PLAYABLE}) AS playable FROM tracks"
    )
    assert row is not None
    return int(row["total"]), int(row["playable"])


async def iterate(db: Database, batch: int = 2000) -> AsyncIterator[list[CatalogTrack]]:
    """Every track in id order, in batches: what an index rebuild reads."""
    last = 0
    while True:
        rows = await db.fetch(
            f"SELECT {_COLUMNS} FROM tracks WHERE id > $1 ORDER BY id LIMIT $2", last, batch
        )
        if not rows:
            return
        yield [_track(row) for row in rows]
        last = rows[-1]["id"]


async def page(db: Database, after: int, limit: int, playable_only: bool) -> list[CatalogTrack]:
    """Tracks in id order after ``after`` (keyset paging), only playable ones when asked."""
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM tracks WHERE id > $1"
        f" AND (NOT $3 OR ({_PLAYABLE}))"
        " ORDER BY id LIMIT $2",
        after, limit, playable_only,
    )
    return [_track(row) for row in rows]


async def catalog_version(db: Database) -> str:
    return str(await db.fetchval("SELECT value FROM catalog_meta WHERE key = 'version'"))


async def bump_catalog_version(conn: asyncpg.Connection) -> str:
    return str(
        await conn.fetchval(
            "UPDATE catalog_meta SET value = (value::bigint + 1)::text WHERE key = 'version'"
            " RETURNING value"
        )
    )


async def any_mentions(db: Database, words: Sequence[str]) -> bool:
    """Whether any track names one of these words in its genres, descriptors, artists or title
    (whole words, case-insensitive)."""
    patterns = ["\\m" + re.escape(w) + "\\M" for w in words if w]
    if not patterns:
        return False
    return bool(await db.fetchval(
        """
        SELECT EXISTS (
            SELECT 1 FROM tracks
            WHERE array_to_string(genres || descriptors || artists || ARRAY[title], ' ') ~* ANY($1::text[])
        )
        """,
        patterns,
    ))
