"""Moods: named presets, and resolving what a listener asked for into query vectors.

A mood becomes a ``MoodQuery``: a point in the audio space (recsys.features) and, when
there are words, a MiniLM vector, plus how much each side counts. Presets are mostly
about sound (audio weight high); free text is mostly about words, nudged in the audio
space when it contains mood words ("calm", "party", "rainy day").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from recsys.encoder import AsyncEncoder
from recsys.features import AUDIO_VECTOR_FEATURES, audio_vector
from recsys.index.base import BlendWeights, unit_vector


@dataclass(frozen=True, slots=True)
class MoodPreset:
    id: str
    label: str
    description: str
    text_prompt: str  # what the text vector is made from
    target: Mapping[str, float]  # audio features other than energy and valence
    energy: float
    valence: float

    def audio_target(self) -> dict[str, float]:
        """All target features, energy and valence included (raw units)."""
        return {**self.target, "energy": self.energy, "valence": self.valence}


def _p(
    id: str, label: str, description: str, prompt: str, energy: float, valence: float, **target: float
) -> MoodPreset:
    return MoodPreset(id, label, description, prompt, dict(target), energy, valence)


PRESETS: tuple[MoodPreset, ...] = (
    _p(
        "focus",
        "Focus",
        "Steady, mostly instrumental music that stays out of the way.",
        "calm instrumental music for focus and concentration, steady, ambient, no vocals",
        0.4,
        0.45,
        instrumentalness=0.8,
        speechiness=0.04,
        acousticness=0.5,
        tempo=110.0,
    ),
    _p(
        "chill",
        "Chill",
        "Laid-back, mellow grooves to unwind.",
        "chill laid-back mellow relaxed vibes, lo-fi, downtempo",
        0.35,
        0.55,
        acousticness=0.55,
        danceability=0.6,
        tempo=95.0,
        loudness=-10.0,
    ),
    _p(
        "happy",
        "Happy",
        "Bright, upbeat feel-good songs.",
        "happy upbeat cheerful feel-good sunny songs",
        0.72,
        0.88,
        danceability=0.7,
        mode=1.0,
        tempo=120.0,
    ),
    _p(
        "sad",
        "Sad",
        "Slow, low songs for heavy hearts.",
        "sad slow heartbreak songs, lonely, tearful ballads",
        0.25,
        0.12,
        acousticness=0.65,
        mode=0.0,
        tempo=80.0,
        loudness=-11.0,
    ),
    _p(
        "energetic",
        "Energetic",
        "Loud, driving tracks with lots of energy.",
        "energetic loud driving powerful high energy music",
        0.92,
        0.6,
        loudness=-4.0,
        tempo=135.0,
        danceability=0.62,
        acousticness=0.05,
    ),
    _p(
        "workout",
        "Workout",
        "Fast, pounding tracks to keep you moving.",
        "workout gym running music, fast pumping beats, motivation",
        0.93,
        0.62,
        danceability=0.75,
        tempo=140.0,
        loudness=-4.0,
        acousticness=0.03,
    ),
    _p(
        "party",
        "Party",
        "Danceable hits for a crowded room.",
        "party dance club hits, danceable, groovy, celebration",
        0.85,
        0.78,
        danceability=0.86,
        loudness=-5.0,
        tempo=124.0,
    ),
    _p(
        "romantic",
        "Romantic",
        "Warm, tender songs for two.",
        "romantic love songs, tender, warm, intimate, soulful",
        0.4,
        0.55,
        acousticness=0.5,
        danceability=0.55,
        tempo=90.0,
    ),
    _p(
        "sleep",
        "Sleep",
        "Very quiet, slow, soft sounds to drift off.",
        "sleep music, very calm, soft, quiet, peaceful, ambient lullaby",
        0.08,
        0.3,
        acousticness=0.9,
        instrumentalness=0.85,
        tempo=70.0,
        loudness=-22.0,
        speechiness=0.03,
    ),
    _p(
        "melancholy",
        "Melancholy",
        "Wistful, bittersweet and reflective.",
        "melancholic wistful bittersweet reflective nostalgic songs",
        0.35,
        0.22,
        acousticness=0.5,
        mode=0.0,
        tempo=95.0,
    ),
    _p(
        "road_trip",
        "Road trip",
        "Sing-along, open-road momentum.",
        "road trip driving songs, open road, sing-along, classic anthems",
        0.75,
        0.7,
        danceability=0.6,
        tempo=118.0,
        acousticness=0.2,
    ),
    _p(
        "rainy_day",
        "Rainy day",
        "Soft, cosy and a little grey.",
        "rainy day music, cosy, soft, gentle, grey sky, introspective",
        0.3,
        0.3,
        acousticness=0.7,
        tempo=85.0,
        instrumentalness=0.3,
        loudness=-12.0,
    ),
    _p(
        "intense",
        "Intense",
        "Dark, heavy and aggressive.",
        "intense aggressive heavy dark angry music",
        0.95,
        0.2,
        loudness=-3.5,
        tempo=140.0,
        mode=0.0,
        acousticness=0.02,
    ),
    _p(
        "acoustic",
        "Acoustic",
        "Unplugged guitars and voices.",
        "acoustic unplugged guitar and voice, folk, singer-songwriter",
        0.35,
        0.5,
        acousticness=0.9,
        instrumentalness=0.1,
        loudness=-11.0,
    ),
    _p(
        "morning",
        "Morning",
        "A gentle, bright start to the day.",
        "morning coffee music, gentle, bright, optimistic, fresh start",
        0.5,
        0.7,
        acousticness=0.5,
        tempo=105.0,
    ),
)

_BY_ID: dict[str, MoodPreset] = {p.id: p for p in PRESETS}


def is_preset(preset_id: str) -> bool:
    return preset_id in _BY_ID


def get_preset(preset_id: str) -> MoodPreset:
    """The preset with this id; KeyError if there is none."""
    try:
        return _BY_ID[preset_id]
    except KeyError:
        raise KeyError(f"unknown mood {preset_id!r}") from None


# Mood words a listener may type, with the part of the audio target each implies.
# Word stems are matched at word starts ("relax" matches "relaxing").
_WORD_TARGETS: tuple[tuple[tuple[str, ...], dict[str, float]], ...] = (
    (
        ("calm", "relax", "mellow", "peace", "quiet", "soft", "gentle", "serene", "chill"),
        {"energy": 0.25, "loudness": -13.0},
    ),
    (
        ("energ", "pump", "hype", "power", "loud", "intense", "fast", "hard", "adrenalin"),
        {"energy": 0.9, "loudness": -4.5},
    ),
    (("happy", "joy", "sunny", "cheer", "bright", "uplift", "feel good", "summer"), {"valence": 0.85}),
    (
        ("sad", "melanchol", "gloom", "lonely", "heartbr", "crying", "tears", "grief", "dark", "rain"),
        {"valence": 0.18},
    ),
    (("acoustic", "unplugged", "folk", "guitar"), {"acousticness": 0.85}),
    (("danc", "party", "groove", "groovy", "club", "disco"), {"danceability": 0.85}),
    (("instrumental", "no vocals", "ambient", "study", "focus", "concentrat"), {"instrumentalness": 0.8}),
    (("sleep", "bedtime", "lullab", "drowsy"), {"energy": 0.08, "acousticness": 0.85, "loudness": -20.0}),
    (("slow",), {"tempo": 78.0}),
)

_WORD_RE = re.compile(r"[a-z0-9']+")


def _normalise_text(text: str) -> str:
    return " ".join(_WORD_RE.findall(text.lower()))


def matched_presets(text: str) -> list[MoodPreset]:
    """Presets named in the text, by id or label ("road trip", "rainy day", "workout")."""
    padded = f" {_normalise_text(text)} "
    found = []
    for preset in PRESETS:
        names = {preset.id.replace("_", " "), _normalise_text(preset.label)}
        if any(f" {name} " in padded or f" {name}s " in padded for name in names):
            found.append(preset)
    return found


def matched_mood_words(text: str) -> dict[str, float]:
    """The audio target implied by mood words in the text (averaged where they overlap)."""
    padded = f" {_normalise_text(text)}"
    sums: dict[str, list[float]] = {}
    for stems, target in _WORD_TARGETS:
        if any(f" {stem}" in padded for stem in stems):
            for feature, value in target.items():
                sums.setdefault(feature, []).append(value)
    return {f: float(np.mean(v)) for f, v in sums.items()}


@dataclass(frozen=True, slots=True)
class MoodSpec:
    """What a listener asked for: a preset id, free words, or both, and an optional pad.

    The one mood representation: the store keeps its fields, the live session carries
    ``to_record()`` (JSON-safe), the engine resolves it, and every view is derived from it.
    """

    preset: str | None = None
    text: str | None = None
    energy: float | None = None  # 0..1, overrides the target's energy
    valence: float | None = None  # 0..1, overrides the target's valence

    def to_record(self) -> dict[str, str | float | None]:
        return {"preset": self.preset, "text": self.text, "energy": self.energy, "valence": self.valence}

    @classmethod
    def from_record(cls, record: dict[str, object]) -> MoodSpec:
        """The inverse of to_record; unknown keys are ignored, wrong types become None."""

        def text(key: str) -> str | None:
            value = record.get(key)
            return value if isinstance(value, str) and value else None

        def unit(key: str) -> float | None:
            value = record.get(key)
            return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None

        return cls(text("preset"), text("text"), unit("energy"), unit("valence"))


@dataclass(slots=True)
class MoodQuery:
    """A resolved mood: vectors for the index and words for explanations."""

    label: str
    text_vector: np.ndarray | None
    audio_vector: np.ndarray
    description: str
    target: dict[str, float] = field(default_factory=dict)  # raw audio targets that were set
    weights: BlendWeights = field(default_factory=BlendWeights)
    preset_id: str | None = None
    text: str | None = None


# Blend weights. Words lead: since the text vector holds a track's style and feel (genres,
# tags, mood words read from its audio) and no names, it carries a mood better than the audio
# point, which stays as a nudge. Chosen by the offline evaluation (docs/evaluation.md: tuned on
# the odd-numbered top-10-tag moods, reported on the even ones); before: presets 0.3 / 0.7,
# free text with mood words 0.55 / 0.45.
PRESET_WEIGHTS = BlendWeights(text=0.9, audio=0.1)
TEXT_WITH_MOOD_WEIGHTS = BlendWeights(text=0.8, audio=0.2)
TEXT_ONLY_WEIGHTS = BlendWeights(text=0.85, audio=0.15)
AUDIO_ONLY_WEIGHTS = BlendWeights(text=0.0, audio=1.0)


def _clamp01(value: float) -> float:
    return min(max(float(value), 0.0), 1.0)


def _describe_target(target: Mapping[str, float]) -> str:
    bits = []
    if "energy" in target:
        bits.append(f"energy {target['energy']:.2f}")
    if "valence" in target:
        bits.append(f"valence {target['valence']:.2f}")
    return ", ".join(bits)


async def resolve(spec: MoodSpec, encoder: AsyncEncoder) -> MoodQuery:
    """Turn a MoodSpec into query vectors. Raises KeyError for an unknown preset id.

    Free text is encoded with MiniLM (cached by the encoder); preset prompts too. Words that
    name a preset or a mood move the audio target toward it; an energy/valence pad then sets
    those two coordinates outright, since the listener asked for exactly that.
    """
    preset = get_preset(spec.preset) if spec.preset else None
    text = (spec.text or "").strip()[:500] or None  # 500 chars is far past anything useful
    target: dict[str, float] = {}
    text_vector: np.ndarray | None = None
    labels: list[str] = []
    word_driven = False

    if preset is not None:
        target.update(preset.audio_target())
        text_vector = await encoder.encode_query(preset.text_prompt)
        labels.append(preset.label)
    if text is not None:
        named = [p for p in matched_presets(text) if p is not preset]
        words = matched_mood_words(text)
        nudges: dict[str, list[float]] = {}
        for p in named:
            for feature, value in p.audio_target().items():
                nudges.setdefault(feature, []).append(value)
        for feature, value in words.items():
            nudges.setdefault(feature, []).append(value)
        for feature, values in nudges.items():
            wanted = float(np.mean(values))
            # With a preset, words nudge (half way); alone, they set the target.
            target[feature] = (target[feature] + wanted) / 2 if feature in target else wanted
        word_driven = bool(nudges)
        text_vec = await encoder.encode_query(text)
        if text_vector is None:
            text_vector = text_vec
        else:
            # The listener's words weigh more than the preset's canned prompt.
            mixed = 0.35 * text_vector + 0.65 * text_vec
            text_vector = unit_vector(mixed).astype(np.float32)
        labels.append(f"'{text}'")
    if spec.energy is not None:
        target["energy"] = _clamp01(spec.energy)
    if spec.valence is not None:
        target["valence"] = _clamp01(spec.valence)

    if preset is not None:
        weights = PRESET_WEIGHTS if text is None else TEXT_WITH_MOOD_WEIGHTS
    elif text is not None:
        weights = (
            TEXT_WITH_MOOD_WEIGHTS
            if (word_driven or spec.energy is not None or spec.valence is not None)
            else TEXT_ONLY_WEIGHTS
        )
    elif target:
        weights = AUDIO_ONLY_WEIGHTS
    else:
        weights = AUDIO_ONLY_WEIGHTS  # nothing asked: "a typical track", see describe below

    known = {f: v for f, v in target.items() if f in AUDIO_VECTOR_FEATURES}
    label = " + ".join(labels) if labels else ("Custom" if known else "Anything")
    if preset is not None and text is None:
        description = preset.description
    elif text is not None:
        description = f"Tracks that match {labels[-1]}"
    elif known:
        description = "Tracks near " + _describe_target(known)
    else:
        description = "A balanced selection"
    pad = _describe_target(
        {
            k: v
            for k, v in known.items()
            if (k == "energy" and spec.energy is not None) or (k == "valence" and spec.valence is not None)
        }
    )
    if pad:
        description += f" ({pad})"
    return MoodQuery(
        label=label,
        text_vector=text_vector,
        audio_vector=audio_vector(known),
        description=description,
        target=known,
        weights=weights,
        preset_id=preset.id if preset else None,
        text=text,
    )
