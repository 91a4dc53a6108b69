from __future__ import annotations

import numpy as np
import pytest

from recsys.encoder import AsyncEncoder
from recsys.features import AUDIO_VECTOR_FEATURES, audio_features
from recsys.moods import PRESETS, MoodSpec, get_preset, matched_mood_words, matched_presets, resolve

REQUIRED = {"focus", "chill", "happy", "sad", "energetic", "workout", "party", "romantic", "sleep",
            "melancholy", "road_trip", "rainy_day"}  # fmt: skip


def test_presets_cover_the_list() -> None:
    assert len(PRESETS) >= 12 and {p.id for p in PRESETS} >= REQUIRED
    assert len({p.id for p in PRESETS}) == len(PRESETS)
    for p in PRESETS:
        assert p.label and p.description and p.text_prompt
        assert 0 <= p.energy <= 1 and 0 <= p.valence <= 1
        assert set(p.target) <= set(AUDIO_VECTOR_FEATURES)
    with pytest.raises(KeyError):
        get_preset("nope")


async def test_every_preset_resolves(encoder: AsyncEncoder) -> None:
    for p in PRESETS:
        q = await resolve(MoodSpec(preset=p.id), encoder)
        assert q.label == p.label and q.preset_id == p.id
        assert q.text_vector is not None and q.text_vector.shape == (384,)
        assert q.audio_vector.shape == (len(AUDIO_VECTOR_FEATURES),)
        assert audio_features(q.audio_vector)["energy"] == pytest.approx(p.energy, abs=1e-3)
        assert q.weights.text > q.weights.audio > 0  # words lead, the audio point nudges


async def test_free_text_nudges_audio(encoder: AsyncEncoder) -> None:
    q = await resolve(MoodSpec(text="something for a rainy day"), encoder)
    assert q.text_vector is not None and q.text == "something for a rainy day"
    assert q.target["valence"] < 0.35 and q.target["energy"] < 0.4  # rainy_day preset + "rain"
    plain = await resolve(MoodSpec(text="songs about my grandmother"), encoder)
    assert plain.target == {} and plain.weights.text > 0.8  # no mood words: words decide
    assert np.allclose(plain.audio_vector, 0.0)


async def test_pad_moves_target(encoder: AsyncEncoder) -> None:
    base = await resolve(MoodSpec(preset="chill"), encoder)
    padded = await resolve(MoodSpec(preset="chill", energy=0.9, valence=0.1), encoder)
    assert padded.target["energy"] == 0.9 and padded.target["valence"] == 0.1
    assert audio_features(padded.audio_vector)["energy"] > audio_features(base.audio_vector)["energy"]
    only = await resolve(MoodSpec(energy=2.0), encoder)  # clamped
    assert only.target == {"energy": 1.0} and only.text_vector is None and only.weights.text == 0.0
    empty = await resolve(MoodSpec(), encoder)
    assert empty.label == "Anything" and np.allclose(empty.audio_vector, 0.0)


def test_word_matching() -> None:
    assert [p.id for p in matched_presets("Road trip with friends")] == ["road_trip"]
    assert [p.id for p in matched_presets("workouts")] == ["workout"]
    assert matched_mood_words("so relaxing")["energy"] < 0.3
    assert matched_mood_words("party time")["danceability"] > 0.8
    assert matched_mood_words("blues legends") == {}
