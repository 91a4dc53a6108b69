"""The evaluation's building blocks: metrics, data loading, tag stripping, listeners, the session mirror."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from recsys.catalog import CatalogTrack
from recsys.evaluation import session_sim
from recsys.evaluation.dataset import build_catalog, catalog_fingerprint
from recsys.evaluation.hetrec import load_hetrec
from recsys.evaluation.histories import split_histories
from recsys.evaluation.listeners import TagSpace, make_listener
from recsys.evaluation.metrics import ndcg_at, precision_at, recall_at, tracks_until_streak
from recsys.evaluation.tagwords import PRESET_TAGS, all_tags, evaluated_moods, leak_pattern, without_tags
from recsys.importers.lastfm import load_artist_profiles
from recsys.moods import PRESETS


def test_ranking_metrics() -> None:
    relevant = {"a", "c"}
    assert precision_at(["a", "b", "c"], relevant, 2) == 0.5
    assert precision_at(["a"], relevant, 4) == 0.25  # a short list counts its gaps as misses
    assert recall_at(["a", "b", "c"], relevant, 3) == 1.0
    assert recall_at(["b"], set(), 3) == 0.0
    assert ndcg_at(["a", "c", "b"], relevant, 3) == pytest.approx(1.0)
    assert ndcg_at(["b", "a"], relevant, 2) == pytest.approx((1 / math.log2(3)) / (1 + 1 / math.log2(3)))
    # Ideal list as long as what exists, not as the relevant set handed in.
    assert ndcg_at(["a"], {"a"}, 2, ideal_hits=2) < 1.0
    assert ndcg_at([], relevant, 5) == 0.0


def test_tracks_until_streak() -> None:
    assert tracks_until_streak([True, True, True]) == 3
    assert tracks_until_streak([False, True, True, False, True, True, True]) == 7
    assert tracks_until_streak([True, True, False] * 5) is None
    assert tracks_until_streak([]) is None


def test_hetrec_reads_latin1_crlf(tiny_data: tuple[Path, Path]) -> None:
    hetrec = load_hetrec(tiny_data[0])
    assert len(hetrec.users()) == 40
    assert "música triste" in hetrec.tagged  # Latin-1 decoded, CR stripped
    assert hetrec.tagged["música triste"] == {"sadband0": 10}  # "Sad Bänd 0" normalised, 10 users
    assert all(not key.endswith("\r") for key in hetrec.tagged)
    assert sum(hetrec.plays[2].values()) > 0 and "nobodyinthecatalog" in hetrec.plays[2]


def test_catalog_ids_and_artists(tiny_data: tuple[Path, Path]) -> None:
    lastfm, spotify = tiny_data
    catalog = build_catalog(spotify, load_artist_profiles(lastfm))
    assert [t.id for t in catalog.tracks] == list(range(1, 145))
    assert len(catalog.by_artist) == 48 and "nobodyinthecatalog" not in catalog.by_artist
    assert catalog.payload_names["sadband0"] == {"sad bänd 0"}
    assert all(t.descriptors or t.genres for t in catalog.tracks)
    again = build_catalog(spotify, load_artist_profiles(lastfm))
    assert catalog_fingerprint(again.tracks) == catalog_fingerprint(catalog.tracks)


def test_tags_are_stripped_by_whole_words() -> None:
    pattern = leak_pattern(["dark", "fun", "love songs"])
    assert pattern.search("dark ambient") and pattern.search("dark") and pattern.search("old love songs")
    assert not pattern.search("funk") and not pattern.search("darkwave") and not pattern.search("love")
    track = CatalogTrack(
        source="t", external_id="1", title="Sad Song", artists=["X"], genres=["heavy metal", "funk"],
        descriptors=["1990s", "sad", "sadness", "party time", "guitar"], id=1,
    )  # fmt: skip
    (stripped,) = without_tags([track], all_tags(evaluated_moods()))
    assert stripped.genres == ["funk"] and stripped.descriptors == ["1990s", "guitar"]
    assert stripped.title == "Sad Song" and track.descriptors[1] == "sad"  # the original is untouched


def test_every_preset_has_tags() -> None:
    assert set(PRESET_TAGS) == {p.id for p in PRESETS}
    names = [m.name for m in evaluated_moods()]
    assert len(names) == len(set(names)) and "text:sad" in names and "preset:sad" in names


def test_listener_is_seeded_and_split(tiny_data: tuple[Path, Path]) -> None:
    lastfm, spotify = tiny_data
    profiles = load_artist_profiles(lastfm)
    catalog = build_catalog(spotify, profiles)
    hetrec = load_hetrec(lastfm)
    space = TagSpace(profiles)
    listener = make_listener(2, hetrec, catalog, space, seed=1)
    assert listener is not None
    assert len(listener.hidden) == 4 and len(listener.visible) == 4 and not listener.hidden & listener.visible
    assert listener.mood in {"sad", "acoustic", "melancholy"}  # user 2 plays the sad, acoustic cluster
    same = make_listener(2, hetrec, catalog, space, seed=1)
    assert same is not None and same.hidden == listener.hidden
    reactions = [listener.react(t, catalog.artist_of[t]) for t in catalog.ids]
    assert reactions == [listener.react(t, catalog.artist_of[t]) for t in catalog.ids]
    own = [
        r.accepted
        for t, r in zip(catalog.ids, reactions, strict=True)
        if catalog.artist_of[t].startswith("sad")
    ]
    other = [
        r.accepted
        for t, r in zip(catalog.ids, reactions, strict=True)
        if catalog.artist_of[t].startswith("metal")
    ]
    assert sum(own) / len(own) > 0.6 > 0.2 > sum(other) / len(other)
    assert make_listener(2, hetrec, catalog, space, seed=1, min_artists=50) is None


def test_history_split(tiny_data: tuple[Path, Path]) -> None:
    lastfm, spotify = tiny_data
    catalog = build_catalog(spotify, load_artist_profiles(lastfm))
    split = split_histories(load_hetrec(lastfm), catalog, seed=4)
    assert len(split.evaluable()) == 40
    for user in split.evaluable():
        assert len(split.test[user]) == 2 and len(split.train[user]) == 6  # 8 catalog artists
        assert not split.test[user] & set(split.train[user])


def test_session_mirror_matches_realtime() -> None:
    """The copied constants must follow the realtime stack they mirror (the action rules are
    shared, from recsys.actions, not copied)."""
    from realtime.session_state import EVENTS_KEPT
    from realtime.user_queue import QUEUE_SIZE

    assert session_sim.EVENTS_KEPT == EVENTS_KEPT
    assert session_sim.QUEUE_SIZE == QUEUE_SIZE


def test_overrides_are_checked_and_become_a_tuning_of_their_own() -> None:
    from recsys.evaluation.overrides import parse, tuning_for
    from recsys.session import SessionProfile
    from recsys.tuning import DEFAULT_TUNING

    values = parse(["session.TEXT_FROM_LIKES=0.8", "session.MAX_EVENTS=32"])
    assert values == {"session.TEXT_FROM_LIKES": 0.8, "session.MAX_EVENTS": 32.0}
    tuning = tuning_for(values)
    assert tuning.text_from_likes == 0.8
    assert tuning.max_events == 32 and isinstance(tuning.max_events, int)
    assert DEFAULT_TUNING.text_from_likes == 0.45, "the defaults are never rewritten"
    assert SessionProfile(tuning=tuning).events.maxlen == 32
    for bad in ("session.NOPE=1", "session.TEXT_FROM_LIKES", "realtime.X=1", "session.TEXT_FROM_LIKES=x"):
        with pytest.raises(ValueError):
            parse([bad])
