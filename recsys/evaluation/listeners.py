"""Simulated listeners built from real HetRec taste, and how they react to a served track.

A listener is one HetRec user with enough artists in the catalog. Their catalog artists
are split (seeded) into a visible and a hidden half. Their taste is a Last.fm tag profile:
the tags listeners gave each of their artists (TF-IDF over all artists, so "rock" counts
less than "shoegaze"), weighted by log play counts, over every artist they played except
the hidden half. A served track is then accepted (completed, sometimes liked) when its
artist is in the hidden half, or when that artist's tag profile is close to the taste:
a cosine at or above the listener's own threshold, the ``quantile`` of the closeness of
all catalog tracks (so every listener finds the same share of the catalog to their
taste, whatever how broad their tags). Anything else is skipped. A seeded random part
flips some outcomes, so a listener is not a deterministic function of the track.

The random draws depend on (seed, user, track) only, so every policy shown the same track
gets the same reaction from the same listener: differences between policies come from
what they serve, not from dice.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from recsys.evaluation.dataset import EvalCatalog
from recsys.evaluation.hetrec import HetRec
from recsys.evaluation.tagwords import PRESET_TAGS
from recsys.importers.lastfm import ArtistProfile
from recsys.moods import PRESETS

ACCEPT_HIDDEN = 0.9  # a hidden-half artist is one the listener plays: nearly always kept
ACCEPT_CLOSE = 0.85  # close to taste: usually kept
ACCEPT_OTHER = 0.05  # far from taste: rarely kept (a mood, a curiosity)
LIKE_SHARE = 0.5  # of the kept tracks, how many also get an explicit like


class TagSpace:
    """Artists as L2-normalised TF-IDF vectors over their Last.fm top tags."""

    def __init__(self, profiles: Mapping[str, ArtistProfile]) -> None:
        keys = sorted(k for k, p in profiles.items() if p.top_tags)
        df: dict[str, int] = defaultdict(int)
        for key in keys:
            for tag, _ in profiles[key].top_tags:
                df[tag] += 1
        self.tags = sorted(df)
        self.tag_index = {t: i for i, t in enumerate(self.tags)}
        self.row = {k: i for i, k in enumerate(keys)}
        rows, cols, values = [], [], []
        n = max(len(keys), 1)
        for i, key in enumerate(keys):
            for tag, weight in profiles[key].top_tags:
                rows.append(i)
                cols.append(self.tag_index[tag])
                values.append(weight * math.log(n / df[tag]) if df[tag] < n else weight * 1e-3)
        matrix = sparse.csr_matrix(
            (values, (rows, cols)), shape=(len(keys), len(self.tags)), dtype=np.float64
        )
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        self.matrix = sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ matrix

    def profile(self, weights: Mapping[str, float]) -> np.ndarray:
        """Weighted sum of artists' rows, L2-normalised (zeros when none is known)."""
        vector = np.zeros(len(self.tags))
        for key, weight in weights.items():
            row = self.row.get(key)
            if row is not None:
                vector += weight * self.matrix.getrow(row).toarray().ravel()
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector

    def closeness(self, keys: Iterable[str], taste: np.ndarray) -> dict[str, float]:
        """Cosine of each artist to a normalised taste vector (0 for artists without tags)."""
        keys = list(keys)
        known = [k for k in keys if k in self.row]
        scores = self.matrix[[self.row[k] for k in known]] @ taste if known else np.zeros(0)
        result = dict.fromkeys(keys, 0.0)
        result.update({k: float(s) for k, s in zip(known, scores, strict=True)})
        return result


@dataclass(frozen=True, slots=True)
class Reaction:
    accepted: bool
    liked: bool
    hidden: bool  # the track's artist is in the listener's hidden half


@dataclass(slots=True)
class Listener:
    user: int
    visible: frozenset[str]
    hidden: frozenset[str]
    closeness: dict[str, float]  # catalog artist → cosine to the taste
    threshold: float
    mood: str  # the preset the session starts from
    seed: int
    # The visible half with play counts: what a returning listener's imported history holds.
    visible_plays: dict[str, int] = field(default_factory=dict)

    def react(self, track_id: int, artist: str | None) -> Reaction:
        draw = random.Random(f"{self.seed}:{self.user}:{track_id}")
        hidden = artist in self.hidden
        if hidden:
            p = ACCEPT_HIDDEN
        elif artist is not None and self.closeness.get(artist, 0.0) >= self.threshold:
            p = ACCEPT_CLOSE
        else:
            p = ACCEPT_OTHER
        accepted = draw.random() < p
        liked = accepted and draw.random() < LIKE_SHARE
        return Reaction(accepted, liked, hidden)


def closest_preset(space: TagSpace, taste: np.ndarray, user: int) -> str:
    """The preset whose tags weigh most in the taste; a fixed rotation when none appears."""
    scores = {}
    for preset in PRESETS:
        idx = [space.tag_index[t] for t in PRESET_TAGS[preset.id] if t in space.tag_index]
        scores[preset.id] = float(taste[idx].sum()) if idx else 0.0
    best = max(PRESETS, key=lambda p: (scores[p.id], -PRESETS.index(p)))
    if scores[best.id] <= 0:
        return PRESETS[user % len(PRESETS)].id
    return best.id


def make_listener(
    user: int,
    hetrec: HetRec,
    catalog: EvalCatalog,
    space: TagSpace,
    seed: int,
    min_artists: int = 6,
    quantile: float = 0.8,
) -> Listener | None:
    """The simulated listener for one HetRec user; None when they have too few catalog artists."""
    plays = hetrec.plays.get(user, {})
    in_catalog = sorted(k for k in plays if k in catalog.by_artist)
    if len(in_catalog) < min_artists:
        return None
    random.Random(f"{seed}:split:{user}").shuffle(in_catalog)
    hidden = frozenset(in_catalog[: len(in_catalog) // 2])
    visible = frozenset(in_catalog[len(in_catalog) // 2 :])
    taste = space.profile({k: math.log1p(n) for k, n in plays.items() if k not in hidden})
    if not taste.any():
        return None
    closeness = space.closeness(catalog.by_artist, taste)
    # Track-weighted, so the quantile is the share of the *catalog* a random pick hits.
    per_track = np.repeat(
        [closeness[k] for k in catalog.by_artist], [len(v) for v in catalog.by_artist.values()]
    )
    threshold = float(np.quantile(per_track, quantile))
    return Listener(
        user=user,
        visible=visible,
        hidden=hidden,
        closeness=closeness,
        threshold=max(threshold, 1e-9),  # a tag-less artist (cosine 0) is never "close"
        mood=closest_preset(space, taste, user),
        seed=seed,
        visible_plays={k: plays[k] for k in sorted(visible)},
    )
