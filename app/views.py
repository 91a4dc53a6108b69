"""The JSON shapes of the contract (Track, mood, event), built from stored rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from app.library_board import BOARD
from app.store.moods import StoredMood
from recsys.catalog import AUDIO_FEATURES, CatalogTrack, is_playable, parse_library_ref
from recsys.moods import get_preset, is_preset

_AUDIO_KEYS = AUDIO_FEATURES  # Track.audio: every canonical feature the track has


def external_links(track: CatalogTrack) -> dict[str, str] | None:
    """Where a track lives outside this server, so one that cannot play here can be heard there."""
    if track.source == "spotify" and track.external_id:
        return {
            "spotify": f"spotify:track:{track.external_id}",
            "spotify_url": f"https://open.spotify.com/track/{track.external_id}",
        }
    return None


def track_json(track: CatalogTrack, score: float | None = None, reason: str | None = None) -> dict[str, Any]:
    # A track whose library server is down cannot play now: said so, not silently queued.
    has_media = is_playable(track) and not BOARD.track_offline(track)
    body: dict[str, Any] = {
        "id": track.id,
        "title": track.title,
        "artists": track.artists,
        "album": track.album,
        "genre": track.genres,
        "year": track.year,
        "duration_ms": track.duration_ms,
        "explicit": track.explicit,
        "popularity": track.popularity,
        "audio": {k: track.audio[k] for k in _AUDIO_KEYS if k in track.audio} or None,
        "media": {
            "kind": track.media_kind if has_media else "none",
            "url": f"/api/tracks/{track.id}/media" if has_media else None,
            "playable": has_media,
        },
        "source": track.source,
        # A library track's cover art, proxied (may answer 404 when the library has none).
        "cover": f"/api/tracks/{track.id}/cover" if parse_library_ref(track.media_ref) else None,
    }
    links = external_links(track)
    if links is not None:
        body["links"] = links
    if score is not None:
        body["score"] = round(float(score), 4)
    if reason is not None:
        body["reason"] = reason
    return body


class RankedTrack(Protocol):
    """A track id with the engine's score and reason (recsys Scored, realtime Ranked)."""

    @property
    def id(self) -> int: ...

    @property
    def score(self) -> float: ...

    @property
    def reason(self) -> str: ...


def ranked_tracks_json(
    found: Mapping[int, CatalogTrack], ranked: Iterable[RankedTrack]
) -> list[dict[str, Any]]:
    """Track JSON for ranked ids, in order; an id missing from ``found`` (deleted from the
    catalog while still in the index or a queue) is left out. The one way scored ids become
    Tracks, for HTTP answers and queue frames alike."""
    return [track_json(found[r.id], r.score, r.reason or None) for r in ranked if r.id in found]


def mood_json(mood: StoredMood | None) -> dict[str, Any] | None:
    """The contract's mood object, derived from the stored mood (the only way it is made)."""
    if mood is None:
        return None
    return {
        **mood.spec.to_record(),
        "label": mood_label(mood.spec.preset, mood.spec.text),
        "updated_at": mood.updated_at.isoformat(),
    }


def mood_label(preset: str | None, text: str | None) -> str:
    if preset:
        return get_preset(preset).label if is_preset(preset) else preset.replace("_", " ").title()
    return text or "Any mood"
