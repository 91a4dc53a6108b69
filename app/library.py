"""Listeners' own libraries (Subsonic-compatible servers): connect, sync, stream, feed back.

Decisions and invariants:
- A library is a source of the one shared catalog (tracks and the index are per deployment,
  not per listener), added by a user who owns it. Its credentials are the owner's, so only
  the owner's plays are scrobbled and only the owner's likes starred: another listener's
  taste must not land in someone else's account.
- A song becomes one catalog track: the track it matches (recsys.importers.matching: ids,
  then artist + title + duration) gains the library's sound (media_ref
  ``library:<id>:<song>``) and fills its gaps (album, year, duration, genres); an unmatched
  song becomes a track of source "subsonic". ``library_songs`` remembers which track each
  song is, so a re-sync updates instead of duplicating.
- A sync pages through the server (search3, ``PAGE_SIZE`` songs at a time) and writes each
  page in one transaction: memory is bounded by a page, and a sync that fails part way (the
  server goes away, a malformed answer) keeps every page already written and removes
  nothing. Songs are removed only after a sync that saw the whole library.
- A removed song's track keeps its history and features and loses its sound.
- Credentials never leave this process: not in URLs (subsonic.py sends them in POST bodies),
  not in logs, not in API answers, not in error messages.
- A library connected through the HTTP API is ``guarded``: every connection to it goes through
  ``net_guard.GuardedTransport`` with the policy of ``library_allowed_hosts`` (a listener must
  not make the server fetch what only the server can reach). The CLI is the administrator's
  and connects anywhere; redirects are never followed either way.
- A song that becomes a track of its own has no audio features; app/library_analysis.py
  analyses the start of its stream in the background. A re-sync of a changed song keeps the
  features its track already has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, fields

import httpx

from app import library_analysis
from app.catalog import with_ids
from app.library_board import BOARD
from app.state import AppState
from app.store import libraries, tracks
from app.store.db import Database
from app.store.events import Event
from app.store.libraries import Library
from config import Settings
from recsys.catalog import CatalogTrack, TrackRecord, library_media_ref, parse_library_ref
from recsys.encoder import AsyncEncoder
from recsys.importers.matching import MatchStats, best_match, song_ids, title_variants
from recsys.importers.merge import add_unique
from recsys.importers.net_guard import AddressPolicy, GuardedTransport
from recsys.importers.report import ImportReport, RowError
from recsys.importers.subsonic import PAGE_SIZE, LibraryError, SubsonicClient, base_url, detect
from recsys.importers.subsonic_songs import LibrarySong, parse_song, song_record
from recsys.index.base import TrackIndex
from recsys.index.builder import index_tracks

log = logging.getLogger("musicrec.library")

OWN = "own"  # match_rule of a song that became a track of its own
SyncProgress = Callable[[int], None]  # songs seen so far
_CLIENTS = "library_clients"
_SYNCS = "library_syncs"


@dataclass(slots=True)
class SyncResult:
    library_id: int
    songs: int = 0
    written: int = 0  # new or changed songs
    unchanged: int = 0
    removed: int = 0
    seconds: float = 0.0
    report: ImportReport = field(default_factory=ImportReport)
    matches: MatchStats = field(default_factory=MatchStats)

    def summary(self) -> str:
        lines = [self.report.summary(),
                 f"{self.songs:,} songs: {self.written:,} new or changed, {self.unchanged:,} unchanged, "
                 f"{self.removed:,} removed, in {self.seconds:.1f} s"]
        if self.matches.by_rule:
            lines.append("New songs, by the rule that placed them (id, name+duration, name: one track "
                         "with the public data; unmatched or ambiguous: a track of their own):")
            lines += ["  " + line for line in self.matches.lines()]
        return "\n".join(lines)


# -- connecting ----------------------------------------------------------------------------

def address_policy(settings: Settings) -> AddressPolicy:
    """The addresses a guarded library may have (recsys.importers.net_guard)."""
    own = [httpx.URL(settings.public_url).host] if settings.public_url else []
    return AddressPolicy.build(settings.library_allowed_hosts, own)


def _transport(policy: AddressPolicy | None) -> Callable[[], httpx.AsyncBaseTransport] | None:
    return (lambda: GuardedTransport(policy)) if policy is not None else None


async def connect(db: Database, owner_id: int | None, url: str, username: str, secret: str,
                  is_api_key: bool = False, policy: AddressPolicy | None = None) -> Library:
    """Check the server and the credentials (one ping), then remember the library.
    ``policy``: the address check for a library connected by a listener (the HTTP API); the
    library is then guarded for good. None: the administrator's CLI, any address.
    LibraryError: unreachable, refused, not a Subsonic server, already connected ("exists"),
    or an address the policy refuses ("forbidden", before anything is sent)."""
    if not secret:
        raise LibraryError("a password or an API key is needed", "auth")
    creds, info = await detect(url, username, secret, is_api_key, transport=_transport(policy))
    base = base_url(url)
    library = await libraries.create(db, owner_id, "subsonic", base, creds, info.api_version,
                                     info.server_type, guarded=policy is not None)
    if library is None:
        raise LibraryError(f"{base} is already connected for {username}", "exists")
    log.info("library %d connected: %s (API %s, auth %s)", library.id, base, info.api_version, creds.mode)
    return library


async def open_client(db: Database, library: Library, policy: AddressPolicy | None = None) -> SubsonicClient:
    """A client for the library; a guarded library's connections are checked with ``policy``
    (and refused outright without one: a guarded library is never reached unchecked)."""
    creds = await libraries.credentials(db, library.id)
    if creds is None:
        raise LibraryError("this library is no longer connected", "not_found")
    if library.guarded:
        if policy is None:
            raise LibraryError("this library was connected by a listener; its address must be checked",
                               "forbidden")
        return SubsonicClient(library.url, creds, transport=GuardedTransport(policy))
    return SubsonicClient(library.url, creds)


async def client_for(state: AppState, library_id: int) -> SubsonicClient:
    """A pooled client per library (connections kept alive: the first audio byte comes sooner)."""
    clients: dict[int, SubsonicClient] = state.extras.setdefault(_CLIENTS, {})
    client = clients.get(library_id)
    if client is None:
        library = await libraries.get(state.db, library_id)
        if library is None:
            raise LibraryError("this library is no longer connected", "not_found")
        client = clients[library_id] = await open_client(state.db, library, address_policy(state.settings))
    return client


async def close_clients(state: AppState, library_id: int | None = None) -> None:
    clients: dict[int, SubsonicClient] = state.extras.get(_CLIENTS, {})
    for key in [library_id] if library_id is not None else list(clients):
        client = clients.pop(key, None) if key is not None else None
        if client is not None:
            await client.close()


# -- syncing -------------------------------------------------------------------------------

async def sync(db: Database, index: TrackIndex | None, encoder: AsyncEncoder | None, library: Library,
               on_progress: SyncProgress | None = None, page_size: int = PAGE_SIZE,
               policy: AddressPolicy | None = None) -> SyncResult:
    """Bring the catalog in line with the library: new songs added (matched to the public data
    where possible), changed ones updated, removed ones unplayable. See the module docstring.
    ``policy``: the address check for a guarded library (``address_policy``)."""
    generation = await libraries.start_sync(db, library.id)
    if generation is None:
        raise LibraryError("a sync of this library is already running", "busy")
    result = SyncResult(library.id, report=ImportReport(source=library.url))
    started = time.perf_counter()
    try:
        async with await open_client(db, library, policy) as client:
            async for page in client.iter_songs(page_size):
                await _sync_page(db, index, encoder, library.id, generation, page, result)
                result.songs += len(page)
                await libraries.sync_progress(db, library.id, result.songs)
                if on_progress is not None:
                    on_progress(result.songs)
        result.removed = await _remove_unseen(db, index, encoder, library.id, generation)
    except LibraryError as exc:
        await libraries.finish_sync(db, library.id, exc.message, None)
        raise
    except BaseException:
        await asyncio.shield(libraries.finish_sync(db, library.id, "the sync was interrupted", None))
        raise
    result.seconds = time.perf_counter() - started
    await libraries.finish_sync(db, library.id, None, result.summary())
    log.info("library %d synced: %d songs, %d written, %d removed", library.id, result.songs,
             result.written, result.removed)
    return result


async def _sync_page(db: Database, index: TrackIndex | None, encoder: AsyncEncoder | None, library_id: int,
                     generation: int, page: Sequence[object], result: SyncResult) -> None:
    report = result.report
    songs: dict[str, LibrarySong] = {}
    for raw in page:
        report.rows_seen += 1
        try:
            song = parse_song(raw)
        except RowError as error:
            report.skip(report.rows_seen, error)
            continue
        songs[song.song_id] = song  # a song listed twice is one song
    known = await libraries.known_songs(db, library_id, list(songs))
    unchanged = [s for s in songs.values() if s.song_id in known
                 and known[s.song_id].fingerprint == s.fingerprint()]
    if unchanged:
        await libraries.mark_seen(db, library_id, [s.song_id for s in unchanged], generation)
    result.unchanged += len(unchanged)
    report.imported += len(unchanged)
    same = {s.song_id for s in unchanged}
    todo = [s for s in songs.values() if s.song_id not in same]
    if not todo:
        return
    fresh = [s for s in todo if s.song_id not in known]
    titles = [v for s in fresh for v in title_variants(s.title)]
    ids = [k for s in fresh for k in song_ids(s.isrc, s.mbid)]
    candidates = await libraries.match_candidates(db, titles, ids) if fresh else []
    existing = await tracks.get_many(db, [c.track_id for c in candidates]
                                     + [k.track_id for k in known.values()])
    records: dict[tuple[str, str], TrackRecord] = {}
    placed: list[tuple[LibrarySong, tuple[str, str], str]] = []
    for song in todo:
        before = known.get(song.song_id)
        track: CatalogTrack | None
        if before is not None:  # placed by an earlier sync: the placement stands
            rule, track = before.match_rule, existing.get(before.track_id)
        else:
            track_id, rule = best_match(song.artists, song.title, song.duration_ms,
                                        song_ids(song.isrc, song.mbid), candidates)
            result.matches.count(rule)
            track = existing.get(track_id) if track_id is not None else None
        if rule == OWN or track is None:
            record, rule = song_record(library_id, song), OWN
            if track is not None:  # a changed song: the features analysed from its sound stay
                record.audio = dict(track.audio)
                add_unique(record.descriptors, track.descriptors)
        else:
            record = records.get((track.source, track.external_id)) or _copy(track)
            _give_sound(record, library_id, song)
        key = (record.source, record.external_id)
        records[key] = record
        placed.append((song, key, rule))
    batch = list(records.values())
    async with db.transaction() as conn:
        track_ids = await tracks.upsert_batch(conn, batch)
        by_key = {(r.source, r.external_id): i for r, i in zip(batch, track_ids, strict=True)}
        await libraries.upsert_songs(conn, library_id, generation,
                                     [(song, by_key[key], rule) for song, key, rule in placed])
        await tracks.bump_catalog_version(conn)
    result.written += len(placed)
    report.imported += len(placed)
    if index is not None and encoder is not None:
        await index_tracks(index, with_ids(batch, track_ids), encoder)


_RECORD_FIELDS = tuple(f.name for f in fields(TrackRecord))


def _copy(track: CatalogTrack) -> TrackRecord:
    record = TrackRecord(**{name: getattr(track, name) for name in _RECORD_FIELDS})
    record.artists, record.genres, record.descriptors = list(track.artists), list(track.genres), list(
        track.descriptors)
    record.audio = dict(track.audio)
    return record


def _give_sound(record: TrackRecord, library_id: int, song: LibrarySong) -> None:
    """A matched track: the library brings its sound and fills what the public data lacks.
    A track that already plays from a local file or another library keeps that source."""
    current = parse_library_ref(record.media_ref)
    if record.media_kind == "none" or not record.media_ref or (current and current[0] == library_id):
        record.media_kind = "audio"
        record.media_ref = library_media_ref(library_id, song.song_id)
    record.album = record.album or song.album
    record.year = record.year or song.year
    record.duration_ms = record.duration_ms or song.duration_ms
    add_unique(record.genres, song.genres)


async def _remove_unseen(db: Database, index: TrackIndex | None, encoder: AsyncEncoder | None,
                         library_id: int, generation: int) -> int:
    gone = await libraries.unseen_songs(db, library_id, generation)
    if not gone:
        return 0
    async with db.transaction() as conn:
        changed = await libraries.clear_media(conn, library_id,
                                              [library_media_ref(library_id, song) for song, _ in gone])
        await libraries.forget_songs(conn, library_id, [song for song, _ in gone])
        await tracks.bump_catalog_version(conn)
    await _reindex(db, index, encoder, changed)
    return len(gone)


async def _reindex(db: Database, index: TrackIndex | None, encoder: AsyncEncoder | None,
                   track_ids: Sequence[int]) -> None:
    if index is None or encoder is None or not track_ids:
        return
    found = await tracks.get_many(db, track_ids)
    await index_tracks(index, list(found.values()), encoder)


async def remove_from_catalog(db: Database, index: TrackIndex | None, encoder: AsyncEncoder | None,
                              library: Library) -> int:
    """Disconnect a library: its credentials and song list are deleted; its tracks keep their
    history, features and tags and lose their sound. Returns how many tracks lost it."""
    async with db.transaction() as conn:
        changed = await libraries.clear_media(conn, library.id, None)
        await tracks.bump_catalog_version(conn)
    await libraries.delete(db, library.id)
    await _reindex(db, index, encoder, changed)
    return len(changed)


async def remove(state: AppState, library: Library) -> int:
    await close_clients(state, library.id)
    return await remove_from_catalog(state.db, state.index, state.encoder, library)


def start_background_sync(state: AppState, library: Library) -> asyncio.Task[SyncResult | None]:
    """A sync off the request path (the HTTP API answers at once; GET shows the progress)."""
    running: dict[int, asyncio.Task[SyncResult | None]] = state.extras.setdefault(_SYNCS, {})

    async def run() -> SyncResult | None:
        try:
            return await sync(state.db, state.index, state.encoder, library,
                              policy=address_policy(state.settings))
        except LibraryError as exc:
            log.warning("library %d sync failed: %s", library.id, exc.message)
            return None
        finally:
            running.pop(library.id, None)
            library_analysis.wake(state)  # new songs without features wait for their analysis

    task = asyncio.create_task(run(), name=f"library-sync-{library.id}")
    running[library.id] = task
    return task


def sync_running(state: AppState, library_id: int) -> bool:
    return library_id in state.extras.get(_SYNCS, {})


async def stop_syncs(state: AppState) -> None:
    running: dict[int, asyncio.Task[SyncResult | None]] = state.extras.get(_SYNCS, {})
    for task in list(running.values()):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task


# -- playing and feeding back --------------------------------------------------------------

async def open_stream(state: AppState, track: CatalogTrack, range_header: str | None) -> httpx.Response:
    """The upstream response for a library track's sound (the caller closes it)."""
    ref = parse_library_ref(track.media_ref)
    if ref is None:
        raise LibraryError("this track is not from a library", "not_found")
    client = await client_for(state, ref[0])
    return await client.open_stream(ref[1], range_header)


FeedbackHook = Callable[[AppState, Event], Awaitable[None]]


async def feed_back(state: AppState, event: Event) -> None:
    """The owner's plays scrobbled ("play": now playing, "complete": a scrobble), likes starred,
    unlikes unstarred, on the library the track plays from. Failures are logged, never raised:
    the listener's event is already durable here."""
    if event.action not in ("play", "complete", "like", "unlike") or not BOARD.any_library():
        return  # without a library there is nobody to tell: no database read per event
    track = await tracks.get(state.db, event.track_id)
    ref = parse_library_ref(track.media_ref if track else None)
    if ref is None:
        return
    library = await libraries.get(state.db, ref[0])
    if library is None or library.owner_id != event.user_id:
        return
    try:
        client = await client_for(state, library.id)
        if event.action == "play":
            await client.scrobble(ref[1], int(event.at.timestamp() * 1000), submission=False)
        elif event.action == "complete":
            await client.scrobble(ref[1], int(event.at.timestamp() * 1000), submission=True)
        elif event.action == "like":
            await client.star(ref[1])
        else:
            await client.unstar(ref[1])
    except LibraryError as exc:
        log.warning("library %d: %s of a track not sent back: %s", library.id, event.action, exc.message)
