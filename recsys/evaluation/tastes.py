"""A HetRec listener's imported history as a long-term taste (recsys.taste), per user.

HetRec knows (user, artist, play count), not tracks. An imported artist-level history is
mapped onto the catalog the way the evaluation maps every HetRec artist (EvalCatalog
.by_artist): each artist's plays are shared over its TRACKS_PER_ARTIST most popular catalog
tracks, whose named vectors (text, audio, and collab where the index has it) the taste
averages. All rows have the same age (the data has no dates), so age changes nothing but
the strength, which a long history saturates anyway.

Only the part of a history the evaluation lets the engine see is ever passed here: a
listener's visible half (returning part), a user's training artists (Last.fm part).
"""

from __future__ import annotations

from collections.abc import Mapping

from recsys.engine import Engine, named_vectors
from recsys.evaluation.dataset import EvalCatalog
from recsys.taste import Taste, TasteRow, build_taste

TRACKS_PER_ARTIST = 3
AGE_DAYS = 0.0


def history_tracks(catalog: EvalCatalog, artist: str) -> list[int]:
    """The catalog tracks an artist-level listen stands for: the artist's most popular."""
    ids = catalog.by_artist.get(artist, [])
    return sorted(ids, key=lambda t: (-catalog.popularity(t), t))[:TRACKS_PER_ARTIST]


async def history_taste(engine: Engine, catalog: EvalCatalog, plays: Mapping[str, int]) -> Taste | None:
    """The taste of an artist → play count history (catalog artists only; others ignored)."""
    tracks = {a: history_tracks(catalog, a) for a in sorted(plays) if a in catalog.by_artist}
    points = await engine.points(t for ids in tracks.values() for t in ids)
    rows: list[TasteRow] = []
    for artist, ids in tracks.items():
        share = float(plays[artist]) / max(len(ids), 1)
        for track_id in ids:
            point = points.get(track_id)
            if point is None:
                continue
            rows.append(TasteRow(
                "complete", AGE_DAYS, named_vectors(point), (artist,), share,
                point.payload.get("collab_version"),
            ))
    return build_taste(rows, engine.tuning, engine.fold_in)
