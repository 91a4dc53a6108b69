"""Part 2: do a mood's tracks come from artists that listeners describe with that mood?

For every preset and every free-text mood word (recsys.evaluation.tagwords), the engine's
one-shot list (Engine.recommend, 20 tracks) is judged against HetRec's tag assignments: a
track is relevant when listeners tagged its artist with one of the mood's tags. The engine
runs on an index whose texts had those tags removed, so it cannot read the answer.
Baselines: random tracks (the mean of several draws, i.e. the base rate) and the globally
most popular tracks (at most two per artist, as the engine allows).

Two readings of "tagged with it":
- any: at least one listener put the tag on the artist (the plain definition). Popular
  artists collect nearly every tag from somebody (Lady Gaga is "sad" to someone), so this
  reading flatters the popularity baseline;
- strict: the tag is among the artist's 10 most used tags (recsys.importers.lastfm's
  profile), i.e. listeners describe the artist mainly that way. This cancels most of the
  tagging-volume effect and is the fairer test of whether the *mood* is right.

A third check, on names: a mood's words must find tracks by their style, not by their title.
A track in a mood's top 20 is a *name-only match* when one of the mood's words (the free text,
or a preset's label and prompt; stopwords left out; a plural counts as the word) is a word of
its title or artist names but of none of its style words (genres, tags, the mood words read
from its audio). A mood is *led by names* when name-only matches fill at least 2 of its top 3
or at least 6 of its top 10 (a majority). Besides the evaluated moods, a few phrases whose
words are common in titles (TITLE_PROBES, e.g. "rainy sunday morning") are checked for it.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from recsys.catalog import CatalogTrack
from recsys.engine import Engine
from recsys.evaluation.dataset import EvalCatalog
from recsys.evaluation.hetrec import HetRec
from recsys.evaluation.metrics import mean, ndcg_at, precision_at
from recsys.evaluation.tagwords import MoodTags
from recsys.features import mood_words
from recsys.moods import MoodSpec, get_preset
from recsys.vocabulary import words

K = 20
MIN_RELEVANT_ARTISTS = 10  # fewer and one artist's track count decides the score
MIN_STRICT_ARTISTS = 5
STRICT_TOP_TAGS = 10
RANDOM_DRAWS = 20
METHODS = ("engine", "random", "popularity")
# Phrases made of words that are frequent in titles and artist names: checked for name-only
# matches only (they have no tag ground truth).
TITLE_PROBES = (
    "rainy sunday morning", "summer night", "love", "dancing in the dark", "midnight city lights",
    "baby come back", "good times",
)
LED_TOP3, LED_TOP10 = 2, 6


def mood_query_words(preset: str | None, text: str | None) -> set[str]:
    """The words a mood is asked with: its free text, or a preset's label and prompt."""
    found = set(words(text or ""))
    if preset is not None:
        p = get_preset(preset)
        found |= set(words(f"{p.label} {p.text_prompt}"))
    return found


def _word_set(texts: Sequence[str]) -> set[str]:
    found = {w for t in texts for w in words(t)}
    return found | {w[:-1] for w in found if w.endswith("s") and len(w) > 3}


def name_only_match(query: set[str], track: CatalogTrack) -> bool:
    """A query word names the track (title or artist) but says nothing of its style."""
    names = _word_set([track.title, *track.artists])
    style = _word_set([*track.genres, *track.descriptors, *mood_words(track.audio)])
    return any(w in names and w not in style for w in query)


def led_by_names(flags: Sequence[bool]) -> bool:
    return sum(flags[:3]) >= LED_TOP3 or sum(flags[:10]) >= LED_TOP10


async def name_check(
    engine: Engine, catalog: EvalCatalog, asked: Sequence[tuple[str, str | None, str | None]], k: int = K
) -> dict[str, Any]:
    """Per (name, preset, text): the name-only matches in the top k, and whether they lead."""
    rows: list[dict[str, Any]] = []
    for name, preset, text in asked:
        found, _ = await engine.recommend(MoodSpec(preset=preset, text=text), limit=k)
        query = mood_query_words(preset, text)
        flags = [name_only_match(query, catalog.tracks[s.id - 1]) for s in found]
        rows.append({
            "mood": name, "name_only": sum(flags), "top3": sum(flags[:3]), "led": led_by_names(flags),
            "examples": [catalog.tracks[s.id - 1].title for s, f in zip(found, flags, strict=True) if f][:3],
        })
    return {
        "moods": rows,
        "led": sum(1 for r in rows if r["led"]),
        "name_only_share": mean([r["name_only"] / k for r in rows]),
    }


def relevant_artists(mood: MoodTags, hetrec: HetRec, catalog: EvalCatalog) -> set[str]:
    return {key for tag in mood.tags for key in hetrec.tagged.get(tag, {}) if key in catalog.by_artist}


def strictly_relevant_artists(mood: MoodTags, catalog: EvalCatalog) -> set[str]:
    wanted = set(mood.tags)
    return {
        key
        for key in catalog.by_artist
        if any(tag in wanted for tag, _ in catalog.profiles[key].top_tags[:STRICT_TOP_TAGS])
    }


def popularity_list(catalog: EvalCatalog, k: int) -> list[int]:
    ranked = sorted(catalog.ids, key=lambda t: (-catalog.popularity(t), t))
    chosen: list[int] = []
    per_artist: dict[str | None, int] = {}
    for track_id in ranked:
        artist = catalog.artist_of.get(track_id)
        if per_artist.get(artist, 0) < 2:
            per_artist[artist] = per_artist.get(artist, 0) + 1
            chosen.append(track_id)
            if len(chosen) == k:
                break
    return chosen


def _scores(ranked: Sequence[int], relevant: set[int], k: int) -> dict[str, float]:
    return {"p20": precision_at(ranked, relevant, k), "ndcg20": ndcg_at(ranked, relevant, k)}


async def evaluate_moods(
    engine: Engine, catalog: EvalCatalog, hetrec: HetRec, moods: Sequence[MoodTags], seed: int, k: int = K
) -> dict[str, Any]:
    """Per-mood scores of the engine and the baselines under both readings, and their means."""
    popular = popularity_list(catalog, k)
    rows: list[dict[str, Any]] = []
    skipped: list[dict[str, Any]] = []
    for mood in moods:
        artists = relevant_artists(mood, hetrec, catalog)
        if len(artists) < MIN_RELEVANT_ARTISTS:
            skipped.append({"mood": mood.name, "relevant_artists": len(artists)})
            continue
        found, _ = await engine.recommend(MoodSpec(preset=mood.preset, text=mood.text), limit=k)
        lists = {
            "engine": [[s.id for s in found]],
            "random": [
                random.Random(f"{seed}:mood:{mood.name}:{i}").sample(catalog.ids, min(k, len(catalog.ids)))
                for i in range(RANDOM_DRAWS)
            ],
            "popularity": [popular],
        }
        row: dict[str, Any] = {"mood": mood.name, "tags": list(mood.tags)}
        strict = strictly_relevant_artists(mood, catalog)
        for reading, keys in (("any", artists), ("strict", strict)):
            relevant = {t for a in keys for t in catalog.by_artist[a]}
            part: dict[str, Any] = {
                "relevant_artists": len(keys),
                "relevant_tracks": len(relevant),
                "base_rate": len(relevant) / len(catalog.tracks),
            }
            for method, ranked in lists.items():
                scores = [_scores(r, relevant, k) for r in ranked]
                part[method] = {m: mean([s[m] for s in scores]) for m in ("p20", "ndcg20")}
            if reading == "any":
                row.update(part)
            elif len(keys) >= MIN_STRICT_ARTISTS:
                row["strict"] = part
        rows.append(row)
    means: dict[str, Any] = {}
    for method in METHODS:
        means[method] = {m: mean([r[method][m] for r in rows]) for m in ("p20", "ndcg20")}
        for kind in ("preset", "text"):
            part_rows = [r for r in rows if r["mood"].startswith(kind + ":")]
            means[method][f"p20_{kind}"] = mean([r[method]["p20"] for r in part_rows])
    strict_rows = [r["strict"] for r in rows if "strict" in r]
    means["strict"] = {
        method: {m: mean([r[method][m] for r in strict_rows]) for m in ("p20", "ndcg20")}
        for method in METHODS
    }
    means["strict"]["moods"] = len(strict_rows)
    wins = sum(1 for r in rows if r["engine"]["p20"] > max(r["random"]["p20"], r["popularity"]["p20"]))
    names = await name_check(engine, catalog, [(m.name, m.preset, m.text) for m in moods], k)
    probes = await name_check(engine, catalog, [(f"probe:{t}", None, t) for t in TITLE_PROBES], k)
    return {"k": k, "moods": rows, "skipped": skipped, "mean": means, "engine_best": wins,
            "names": names, "name_probes": probes}
