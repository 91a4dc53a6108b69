"""The engine's tunable numbers, in one value passed to the engine and its session profiles.

Defaults are what runs in production; the offline evaluation chose several of them
(docs/evaluation.md). A what-if run builds a different Tuning (``musicrec eval --set
session.PUSH=0.5``) and hands it to the Engine it evaluates: nothing is rewritten at run time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace


@dataclass(frozen=True, slots=True)
class Tuning:
    # Ranking (recsys.engine).
    # A prior toward better-known tracks among near-equal fits. 0.04 before the offline
    # evaluation; 0.1 cut the simulated skip rate and raised mood precision there; 0.4 with
    # the fold-in collab target (issue 16 sweep, seed 1: best live skip and Last.fm nDCG).
    popularity_weight: float = 0.4
    # The same prior for a one-shot mood list without a taste (Engine.recommend without one:
    # every mood list the app serves, its route passes none): no session or collab target
    # ranks it, and the shared 0.4 cost it mood precision. 0.1 was the best of 0-0.4 in the
    # issue 16 third pass (docs/evaluation.md; seed 1: top-10-tag P@20 0.170 vs 0.159 at 0.4,
    # and the same on seed 2, whose mood lists do not depend on the seed).
    mood_list_popularity_weight: float = 0.1
    # Pseudo-relevance feedback of that list (Engine._mood_list_feedback): its pool is ranked
    # again with this weight on each track's text closeness to the centroid of the first
    # list's top ``mood_list_feedback_tracks``. 0 turns it off. Issue 16, fourth pass (seed 1,
    # two builds of the mood-blind index, --parts moods): top-10-tag P@20 0.167 / 0.169
    # -> 0.185 / 0.185 at 2.0 and 10 tracks; 1.2-3 gave 0.183-0.185 on both, 5 / 8 / 12 / 15
    # / 20 tracks less (0.172-0.182). Re-querying with the moved vector instead gave less.
    mood_list_feedback_weight: float = 2.0
    mood_list_feedback_tracks: int = 10
    disliked_artist_penalty: float = 0.08
    # MMR trade-off of a one-shot mood list (Engine.recommend): 1 = pure relevance. 0.85 before
    # the offline evaluation; 0.95 raised mood precision there (the per-artist cap of 2 keeps
    # the list varied).
    recommend_lambda: float = 0.95
    liked_reason_min_similarity: float = 0.55
    # The live session (recsys.session).
    half_life_tracks: float = 8.0  # the offline evaluation chose it over 3-4
    max_events: int = 64  # older events no longer steer (their ids stay excluded)
    # How hard skips and dislikes push the text target away (text = mood + likes - gamma *
    # skips/dislikes, then normalised). 0.35 before; issue 16 live pass, chosen on seed 1 only
    # (--set session.GAMMA). Live skip, 200 listeners: 0.350 at 0.35, 0.332 at 0.7, 0.318 at 1,
    # 0.305 at 1.25, 0.296 at 1.5, 0.293 at 2; 60 listeners (another index build): 0.407,
    # 0.348, 0.315, -, 0.325, 0.344. 1.5 is near the best on both; static queue and Last.fm
    # unchanged. At 0.35 a skip barely moved the style; a stronger audio push did not help.
    gamma: float = 1.5
    pull: float = 0.7  # how far (at saturation) likes pull the audio target toward them
    push: float = 0.8  # how far (at saturation, in audio-space units) dislikes push it away
    text_from_likes: float = 0.45  # text weight that likes bring when the mood has no words
    # The long-term taste (recsys.taste): a listener's whole history, recent weighing more.
    taste_half_life_days: float = 60.0  # an outcome two months old counts half
    # The taste enters the session as one pseudo-signal of this weight (at full confidence): a
    # fresh like weighs 1.0, so the session's own feedback soon outweighs it.
    taste_weight: float = 0.5
    taste_max_rows: int = 2000  # the newest outcomes a taste is built from
    frequent_artist_min: int = 3  # positive outcomes that make an artist one they "often play"
    # Extra named vectors (e.g. "collab") re-rank a pool by closeness to the session's target.
    # 0.15 before the issue 16 sweep; 0.4 there (seed 1) with the fold-in collab target.
    extra_vector_weight: float = 0.4
    # The collab side of the index query (BlendWeights.collab) when a session or taste has a
    # collab target; text + audio weigh 1 together, and the index scales this per track by
    # its collab confidence (a cold track is ranked on content alone). Swept in issue 16
    # (0.5 / 1 / 3 / 6, seed 1): 1.0 kept; the re-rank weight above moved the figures more.
    collab_weight: float = 1.0

    def with_values(self, values: Mapping[str, float]) -> Tuning:
        """A copy with some numbers changed; ValueError for a name that is not a field.
        An integer field stays an integer."""
        known = {f.name: f for f in fields(self)}
        changes: dict[str, float | int] = {}
        for name, value in values.items():
            if name not in known:
                raise ValueError(f"{name!r} is not a tuning value (one of {', '.join(sorted(known))})")
            changes[name] = int(value) if isinstance(getattr(self, name), int) else float(value)
        return replace(self, **changes)  # type: ignore[arg-type]


DEFAULT_TUNING = Tuning()
