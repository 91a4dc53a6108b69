from __future__ import annotations

import numpy as np

from recsys.catalog import TrackRecord
from recsys.features import (
    AUDIO_DIM,
    AUDIO_VECTOR_FEATURES,
    audio_features,
    audio_vector,
    mood_words,
    neutral_value,
)
from recsys.text import describe


def test_vector_shape_and_neutral_default() -> None:
    assert AUDIO_DIM == len(AUDIO_VECTOR_FEATURES) == 10
    vec = audio_vector({})
    assert vec.shape == (AUDIO_DIM,) and vec.dtype == np.float32
    assert np.allclose(vec, 0.0)  # every missing feature sits at the neutral point
    neutral = audio_vector({f: neutral_value(f) for f in AUDIO_VECTOR_FEATURES})
    assert np.allclose(neutral, 0.0, atol=1e-6)


def test_vector_is_fixed_and_invertible() -> None:
    audio = {"energy": 0.9, "valence": 0.2, "tempo": 128.0, "loudness": -5.0}
    a, b = audio_vector(audio), audio_vector(dict(audio))
    assert np.array_equal(a, b)
    back = audio_features(a)
    for feature, value in audio.items():
        assert abs(back[feature] - value) < 1e-3
    # Higher energy moves along the energy axis only.
    e = AUDIO_VECTOR_FEATURES.index("energy")
    assert audio_vector({"energy": 0.9})[e] > audio_vector({"energy": 0.1})[e]


def test_outliers_are_clipped_and_bad_values_neutral() -> None:
    crazy = audio_vector({"tempo": 10_000.0, "energy": float("nan"), "loudness": -500.0})
    assert np.all(np.abs(crazy) <= 3.0 * 1.5 + 1e-6)
    assert crazy[AUDIO_VECTOR_FEATURES.index("energy")] == 0.0


def test_mood_words() -> None:
    assert mood_words({"energy": 0.1, "valence": 0.2, "acousticness": 0.9}) == [
        "calm",
        "melancholic",
        "acoustic",
        "peaceful",
    ]
    assert mood_words({"energy": 0.9, "valence": 0.8, "danceability": 0.85}) == [
        "energetic",
        "happy",
        "danceable",
    ]
    assert mood_words({}) == []


def test_describe_is_short_and_deterministic() -> None:
    track = TrackRecord(
        source="t",
        external_id="1",
        title="  Still   Water ",
        artists=["Hush Ensemble", "Guest"],
        album="Night",
        genres=["Ambient", "ambient", "Drone"],
        year=1994,
        descriptors=["dreamy", "Calm"] + [f"tag{i}" for i in range(100)],
        audio={"energy": 0.1, "acousticness": 0.9},
    )
    line = describe(track)
    assert line == describe(track)
    assert line.startswith("Still Water by Hush Ensemble, Guest from Night")
    assert "genre: ambient, drone" in line and "1990s" in line
    assert "calm" in line and "acoustic" in line and line.count("calm") == 1
    assert len(line) <= 600
