"""Runs the measures on one catalog and collects their results in one dict.

Owns the order of work and the shared pieces (catalog, HetRec tables, encoder, the cached
indexes, the collab model); each measure lives in its own module. Sampling of users is
seeded and recorded in the results, so a run can be repeated exactly.

The engine of the live, returning and Last.fm parts searches an index with a collab model
trained on what it may see (recsys.evaluation.collab_model: the HetRec training parts, the
simulated listeners left out). The listeners and the split are therefore settled before
the index, whichever parts run, so that the same seed always gives the same model.
``--no-collab`` runs the engine on the content index alone (the before/after comparison).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from recsys.collab.foldin import index_fold_in
from recsys.encoder import EMBEDDING_DIM, AsyncEncoder, OnnxMiniLM, TextEncoder
from recsys.engine import Engine
from recsys.evaluation.collab_model import model_version, train_model, training_rows
from recsys.evaluation.dataset import EvalCatalog, build_catalog
from recsys.evaluation.groups import evaluate_groups
from recsys.evaluation.hetrec import HetRec, load_hetrec
from recsys.evaluation.histories import Split, evaluate_histories, split_histories
from recsys.evaluation.index_cache import cached_collab_index, cached_index, content_key
from recsys.evaluation.listeners import Listener, TagSpace, make_listener
from recsys.evaluation.live import POLICIES, returning_summary, run_listener, summarise
from recsys.evaluation.mood_quality import evaluate_moods
from recsys.evaluation.overrides import tuning_for
from recsys.evaluation.tagwords import all_tags, evaluated_moods, without_tags
from recsys.evaluation.tastes import history_taste
from recsys.importers.lastfm import load_artist_profiles
from recsys.index import TrackIndex
from recsys.index.base import CollabVectors

log = logging.getLogger("musicrec.eval")

PARTS = ("live", "moods", "lastfm", "returning", "groups")
CONTENT_PAGE = 2000  # points read per retrieve when collecting content for the model


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
    groups: int | None = None  # listening groups of the groups part (None: the mode's default)
    user_ids: list[int] | None = None  # exactly these HetRec users (where eligible)
    length: int = 30
    max_tracks: int | None = None  # catalog cap (None: the mode's default; 0: no cap)
    parts: tuple[str, ...] = PARTS
    immediate: bool = True  # also run the live session without the skip lag
    optimize: bool = True
    min_artists: int = 6
    taste_quantile: float = 0.8
    overrides: dict[str, float] = field(default_factory=dict)  # what-if engine constants
    collab: bool = True  # the engine's index carries the evaluation's collab model
    fold_in: bool = True  # collab targets solved by fold-in (False: averaged item vectors)

    def resolved(self) -> EvalConfig:
        """Defaults filled in: --quick is small enough for a test, the full run for ~10 min."""
        users = self.users if self.users is not None else (8 if self.quick else 200)
        history = self.history_users if self.history_users is not None else (60 if self.quick else 1000)
        cap = self.max_tracks if self.max_tracks is not None else (300 if self.quick else 0)
        groups = self.groups if self.groups is not None else (2 if self.quick else 40)
        return EvalConfig(**{**asdict(self), "users": users, "history_users": history, "max_tracks": cap,
                             "groups": groups})


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
        if {"live", "lastfm", "returning", "groups"} & set(cfg.parts):
            split = split_histories(hetrec, catalog, cfg.seed)
            listeners, eligible = _listeners(cfg, catalog, hetrec, profiles)
            index, cached = await _engine_index(cfg, catalog, encoder, split, listeners, results)
            results["catalog"]["index_cached"] = cached
            timer.lap("index")
            engine = Engine(index, encoder, tuning=tuning)
            if cfg.collab and cfg.fold_in:
                fold = await index_fold_in(index, catalog.ids, results["collab"]["version"])
                engine.use_fold_in(fold)
                results["collab"]["fold_in"] = fold is not None
            try:
                if {"live", "returning"} & set(cfg.parts):
                    results.update(await _live_part(cfg, engine, catalog, listeners, eligible))
                    timer.lap("live")
                if "lastfm" in cfg.parts:
                    users = sorted(
                        pick_users(
                            split.evaluable(), cfg.history_users or 0, cfg.user_ids, cfg.seed, "history"
                        )
                    )
                    log.info("last.fm histories: %d of %d users", len(users), len(split.evaluable()))
                    results["lastfm"] = await evaluate_histories(engine, catalog, split, users, cfg.seed)
                    results["lastfm"]["eligible_users"] = len(split.evaluable())
                    timer.lap("lastfm")
                if "groups" in cfg.parts:
                    results["groups"] = await evaluate_groups(
                        engine, catalog, hetrec, list(listeners.values()), cfg.seed, cfg.groups or 0,
                        cfg.length,
                    )
                    timer.lap("groups")
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


def _listeners(
    cfg: EvalConfig, catalog: EvalCatalog, hetrec: HetRec, profiles: dict[str, Any]
) -> tuple[dict[int, Listener], int]:
    """The simulated listeners of the live and returning parts (seeded), and the eligible count."""
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
    log.info("simulated listeners: %d of %d eligible", len(listeners), len(eligible))
    return listeners, len(eligible)


async def _engine_index(
    cfg: EvalConfig,
    catalog: EvalCatalog,
    encoder: AsyncEncoder,
    split: Split,
    listeners: dict[int, Listener],
    results: dict[str, Any],
) -> tuple[TrackIndex, bool]:
    """The index the engine searches: the content index, with the evaluation's collab model
    installed unless ``--no-collab``."""
    if not cfg.collab:
        return await cached_index(catalog.tracks, encoder, cfg.cache_dir, "full", cfg.optimize)
    rows = training_rows(split, listeners)
    version = model_version(rows, content_key(catalog.tracks))
    stats: dict[str, Any] = {"version": version, "rows": len(rows), "excluded_listeners": len(listeners),
                             "users": len({r[0] for r in rows})}

    async def make_model(base: TrackIndex) -> CollabVectors:
        content = {}
        ids = catalog.ids
        for start in range(0, len(ids), CONTENT_PAGE):
            points = await base.points(ids[start:start + CONTENT_PAGE])
            content.update({t: (p.text, p.audio) for t, p in points.items()})
        model = await asyncio.to_thread(train_model, rows, catalog, content, version)
        stats.update({k: v for k, v in model.stats.items() if isinstance(v, int | float)})
        return model.index_vectors()

    index, cached = await cached_collab_index(
        catalog.tracks, encoder, cfg.cache_dir, "full", version, make_model, cfg.optimize
    )
    results["collab"] = stats
    return index, cached


async def _live_part(
    cfg: EvalConfig, engine: Engine, catalog: EvalCatalog, listeners: dict[int, Listener], eligible: int
) -> dict[str, Any]:
    policies = POLICIES if "live" in cfg.parts else ("live",)
    returning = "returning" in cfg.parts
    immediate = cfg.immediate and "live" in cfg.parts
    log.info("live sessions: %d listeners%s", len(listeners), " (and returning)" if returning else "")
    sessions = []
    for n, listener in enumerate(listeners.values(), start=1):
        taste = await history_taste(engine, catalog, listener.visible_plays) if returning else None
        sessions += await run_listener(engine, catalog, listener, cfg.length, immediate, policies, taste)
        if n % 25 == 0:
            log.info("  %d/%d listeners", n, len(listeners))
    moods: dict[str, int] = {}
    for listener in listeners.values():
        moods[listener.mood] = moods.get(listener.mood, 0) + 1
    summary = summarise(sessions, listeners, cfg.length)
    out: dict[str, Any] = {}
    if "live" in cfg.parts:
        out["live"] = {
            "listeners": len(listeners),
            "eligible": eligible,
            "length": cfg.length,
            "moods": dict(sorted(moods.items(), key=lambda item: -item[1])),
            "policies": {k: v for k, v in summary.items() if k != "returning"},
        }
    if returning:
        out["returning"] = {"listeners": len(listeners), **returning_summary(summary),
                            "policies": {k: summary[k] for k in ("live", "returning")}}
    return out
