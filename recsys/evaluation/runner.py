"""Runs the three measures on one catalog and collects their results in one dict.

Owns the order of work and the shared pieces (catalog, HetRec tables, encoder, the two
cached indexes); each measure lives in its own module. Sampling of users is seeded and
recorded in the results, so a run can be repeated exactly.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recsys.encoder import EMBEDDING_DIM, AsyncEncoder, OnnxMiniLM, TextEncoder
from recsys.engine import Engine
from recsys.evaluation.dataset import EvalCatalog, build_catalog
from recsys.evaluation.hetrec import HetRec, load_hetrec
from recsys.evaluation.histories import evaluate_histories, split_histories
from recsys.evaluation.index_cache import cached_index
from recsys.evaluation.listeners import Listener, TagSpace, make_listener
from recsys.evaluation.live import run_listener, summarise
from recsys.evaluation.mood_quality import evaluate_moods
from recsys.evaluation.overrides import tuning_for
from recsys.evaluation.tagwords import all_tags, evaluated_moods, without_tags
from recsys.importers.lastfm import load_artist_profiles

log = logging.getLogger("musicrec.eval")

PARTS = ("live", "moods", "lastfm")


@dataclass(slots=True)
class EvalConfig:
    lastfm_dir: Path
    spotify_dir: Path
    out: Path
    cache_dir: Path
    seed: int = 1
    quick: bool = False
    users: int | None = None  # listeners in the live part (None: the mode's default)
    history_users: int | None = None  # users in the Last.fm part (None: the mode's default)
    user_ids: list[int] | None = None  # exactly these HetRec users (where eligible)
    length: int = 30
    max_tracks: int | None = None  # catalog cap (None: the mode's default; 0: no cap)
    parts: tuple[str, ...] = PARTS
    immediate: bool = True  # also run the live session without the skip lag
    optimize: bool = True
    min_artists: int = 6
    taste_quantile: float = 0.8
    overrides: dict[str, float] = field(default_factory=dict)  # what-if engine constants

    def resolved(self) -> EvalConfig:
        """Defaults filled in: --quick is small enough for a test, the full run for ~10 min."""
        users = self.users if self.users is not None else (8 if self.quick else 200)
        history = self.history_users if self.history_users is not None else (60 if self.quick else 1000)
        cap = self.max_tracks if self.max_tracks is not None else (300 if self.quick else 0)
        return EvalConfig(**{**asdict(self), "users": users, "history_users": history, "max_tracks": cap})


@dataclass(slots=True)
class Timer:
    seconds: dict[str, float] = field(default_factory=dict)
    _start: float = field(default_factory=time.perf_counter)

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = round(now - self._start, 1)
        self._start = now


class MemoEncoder:
    """A TextEncoder that remembers every line it encoded during this run.

    The mood-blind index repeats every line whose tags lost nothing; those are encoded once.
    """

    def __init__(self, inner: TextEncoder) -> None:
        self._inner = inner
        self.dim = getattr(inner, "dim", EMBEDDING_DIM)
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, lines: Sequence[str]) -> np.ndarray:
        new = [line for line in dict.fromkeys(lines) if line not in self._memo]
        if new:
            for line, vector in zip(new, self._inner.encode(new), strict=True):
                self._memo[line] = vector
        if not lines:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._memo[line] for line in lines])


def cap_catalog(catalog: EvalCatalog, hetrec: HetRec, max_tracks: int, per_artist: int = 3) -> EvalCatalog:
    """At most ``per_artist`` tracks of each of the most-listened artists, up to ``max_tracks``
    (ids renumbered 1..n).

    Most-listened first so that a small catalog still has listeners with enough artists in
    it; few tracks per artist so that it still has many artists.
    """
    if max_tracks <= 0 or len(catalog.tracks) <= max_tracks:
        return catalog
    listeners: dict[str, int] = {}
    for plays in hetrec.plays.values():
        for key in plays:
            listeners[key] = listeners.get(key, 0) + 1
    keep: list[int] = []
    for key in sorted(catalog.by_artist, key=lambda k: (-listeners.get(k, 0), k)):
        keep.extend(catalog.by_artist[key][: min(per_artist, max_tracks - len(keep))])
        if len(keep) >= max_tracks:
            break
    kept = set(keep)
    tracks = [t for t in catalog.tracks if t.id in kept]
    for new_id, track in enumerate(tracks, start=1):
        track.id = new_id
    return EvalCatalog(tracks=tracks, profiles=catalog.profiles, rows_read=catalog.rows_read)


def pick_users(
    candidates: Sequence[int], count: int, ids: Sequence[int] | None, seed: int, salt: str
) -> list[int]:
    """``ids`` where given (those that are candidates), else ``count`` candidates in a seeded
    random order."""
    if ids:
        wanted = set(ids)
        return [u for u in candidates if u in wanted]
    chosen = list(candidates)
    random.Random(f"{seed}:{salt}").shuffle(chosen)
    return chosen[:count]


async def run_evaluation(config: EvalConfig) -> dict[str, Any]:
    return await _run(config.resolved())


async def _run(cfg: EvalConfig) -> dict[str, Any]:
    timer = Timer()
    profiles = load_artist_profiles(cfg.lastfm_dir)
    hetrec = load_hetrec(cfg.lastfm_dir)
    catalog = cap_catalog(build_catalog(cfg.spotify_dir, profiles), hetrec, cfg.max_tracks or 0)
    if not catalog.tracks:
        raise ValueError("no catalog track matched a Last.fm artist: nothing to evaluate")
    timer.lap("load")
    log.info("catalog: %d tracks by %d Last.fm artists", len(catalog.tracks), len(catalog.by_artist))
    results: dict[str, Any] = {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items()},
        "catalog": {
            "csv_rows": catalog.rows_read,
            "tracks": len(catalog.tracks),
            "artists": len(catalog.by_artist),
            "hetrec_users": len(hetrec.plays),
        },
    }
    tuning = tuning_for(cfg.overrides)
    encoder = AsyncEncoder(MemoEncoder(OnnxMiniLM()))
    cache_dir = cfg.cache_dir
    try:
        if "live" in cfg.parts or "lastfm" in cfg.parts:
            index, cached = await cached_index(catalog.tracks, encoder, cache_dir, "full", cfg.optimize)
            results["catalog"]["index_cached"] = cached
            timer.lap("index")
            engine = Engine(index, encoder, tuning=tuning)
            try:
                if "live" in cfg.parts:
                    results["live"] = await _live_part(cfg, engine, catalog, hetrec, profiles)
                    timer.lap("live")
                if "lastfm" in cfg.parts:
                    split = split_histories(hetrec, catalog, cfg.seed)
                    users = sorted(
                        pick_users(
                            split.evaluable(), cfg.history_users or 0, cfg.user_ids, cfg.seed, "history"
                        )
                    )
                    log.info("last.fm histories: %d of %d users", len(users), len(split.evaluable()))
                    results["lastfm"] = await evaluate_histories(engine, catalog, split, users, cfg.seed)
                    results["lastfm"]["eligible_users"] = len(split.evaluable())
                    timer.lap("lastfm")
            finally:
                await index.close()
        if "moods" in cfg.parts:
            moods = evaluated_moods()
            blind_tracks = without_tags(catalog.tracks, all_tags(moods))
            blind, cached = await cached_index(blind_tracks, encoder, cache_dir, "mood-blind", cfg.optimize)
            results["catalog"]["mood_index_cached"] = cached
            timer.lap("mood_index")
            try:
                results["moods"] = await evaluate_moods(
                    Engine(blind, encoder, tuning=tuning), catalog, hetrec, moods, cfg.seed
                )
            finally:
                await blind.close()
            timer.lap("moods")
    finally:
        encoder.close()
    results["seconds"] = timer.seconds
    return results


async def _live_part(
    cfg: EvalConfig, engine: Engine, catalog: EvalCatalog, hetrec: HetRec, profiles: dict[str, Any]
) -> dict[str, Any]:
    space = TagSpace(profiles)
    eligible = [
        u
        for u in hetrec.users()
        if sum(1 for k in hetrec.plays[u] if k in catalog.by_artist) >= cfg.min_artists
    ]
    listeners: dict[int, Listener] = {}
    for user in pick_users(eligible, len(eligible), cfg.user_ids, cfg.seed, "live"):
        if len(listeners) >= (cfg.users or 0) and not cfg.user_ids:
            break
        listener = make_listener(user, hetrec, catalog, space, cfg.seed, cfg.min_artists, cfg.taste_quantile)
        if listener is not None:
            listeners[user] = listener
    log.info("live sessions: %d listeners of %d eligible", len(listeners), len(eligible))
    sessions = []
    for n, listener in enumerate(listeners.values(), start=1):
        sessions += await run_listener(engine, catalog, listener, cfg.length, cfg.immediate)
        if n % 25 == 0:
            log.info("  %d/%d listeners", n, len(listeners))
    moods: dict[str, int] = {}
    for listener in listeners.values():
        moods[listener.mood] = moods.get(listener.mood, 0) + 1
    return {
        "listeners": len(listeners),
        "eligible": len(eligible),
        "length": cfg.length,
        "moods": dict(sorted(moods.items(), key=lambda item: -item[1])),
        "policies": summarise(sessions, listeners, cfg.length),
    }
