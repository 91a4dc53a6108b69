"""Spotify-style features of a score (music21), for the demo catalog.

A score has no sound, so each feature is read from what the notation says and mapped onto
Spotify's scale by a fixed rule (all 0..1 values clipped):

- tempo: the score's metronome marks (MusicXML playback tempo included), else a tempo word
  ("Allegro"), else a default for the piece's form or kind (reel: half = 112, jig: dotted
  quarter = 116, chorale: quarter = 72, ...), slowed for "slow"/"air" hints. Reported in
  beats per minute of the notated beat (half note in 2/2, dotted quarter in 6/8), folded into
  60..200 like Spotify's tempi.
- duration_ms: the score's length at those tempi, repeats not expanded (as the MIDI plays).
- key, mode: Krumhansl-Schmuckler on duration-weighted pitch classes (see `keyfinding`).
- loudness: mean of the dynamic marks (pp = -21 dB ... ff = -6 dB), else a per-kind level,
  plus 1.5 dB per doubling of the number of parts (more voices sound louder); -30..-3 dB.
- energy: 0.55*D + 0.2*T + 0.25*L, where D = onsets per second mapped 0.5..8 → 0..1,
  T = tempo mapped 50..180 BPM, L = loudness mapped -22..-5 dB.
- valence: 0.12 + 0.3*major + 0.2*T' + 0.15*P + 0.2*D', where T' = tempo mapped 50..170,
  P = mean pitch mapped MIDI 55..77 (higher register sounds brighter), D' = onsets per second
  mapped 1..7.
- danceability: dance forms (jig, reel, hornpipe, polka, waltz, march, ...) start from a
  per-form value (0.6..0.85); other pieces from a per-kind base (chorale 0.25, mass 0.2);
  then + 0.1 * meter regularity (one unchanging time signature) + 0.05 * tempo fit (near
  115 BPM) + 0.05 * D.
- acousticness 0.97; liveness 0.11; speechiness 0.035 (0.045 with text).
- instrumentalness: 0.15 when the score has lyrics, else per kind (tunes and chamber
  music 0.9, folk-song melodies without their text 0.55, choral music without text 0.35).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from recsys.importers.demo_corpus import Collection, PieceKind
from recsys.importers.demo_forms import FORMS, KINDS, VOCAL_KINDS
from recsys.importers.keyfinding import estimate_key
from recsys.importers.mood import mood_words, tempo_words


@dataclass(slots=True)
class ScoreFacts:
    """What the features are computed from; separate so it can be tested without music21."""

    quarter_length: float
    seconds: float
    beat_quarters: float
    onsets: int
    pitch_classes: list[float]
    mean_pitch: float | None
    has_lyrics: bool
    parts: int
    time_signatures: list[str]
    dynamics_db: list[float] = field(default_factory=list)
    form: str | None = None


def _unit(value: float, low: float, high: float) -> float:
    return float(np.clip((value - low) / (high - low), 0.0, 1.0))


def _fold(bpm: float) -> float:
    while bpm > 200.0:
        bpm /= 2.0
    while 0.0 < bpm < 60.0:
        bpm *= 2.0
    return bpm


def features_from_facts(facts: ScoreFacts, kind: PieceKind) -> dict[str, float]:
    defaults = KINDS[kind]
    texted = is_texted(facts, kind)
    tempo = (
        _fold(60.0 * facts.quarter_length / facts.seconds / facts.beat_quarters) if facts.seconds else 100.0
    )
    density = facts.onsets / facts.seconds if facts.seconds else 0.0
    loudness = float(np.mean(facts.dynamics_db)) if facts.dynamics_db else defaults.loudness_db
    loudness = float(np.clip(loudness + 1.5 * math.log2(max(facts.parts, 1)), -30.0, -3.0))
    audio: dict[str, float] = {"tempo": round(tempo, 2), "loudness": round(loudness, 2)}
    estimate = estimate_key(facts.pitch_classes)
    major = 1.0
    if estimate is not None:
        audio["key"] = float(estimate.key)
        audio["mode"] = float(estimate.mode)
        major = float(estimate.mode)
    energy = (
        0.55 * _unit(density, 0.5, 8.0)
        + 0.2 * _unit(tempo, 50.0, 180.0)
        + 0.25 * _unit(loudness, -22.0, -5.0)
    )
    pitch = _unit(facts.mean_pitch, 55.0, 77.0) if facts.mean_pitch is not None else 0.5
    valence = (
        0.12 + 0.3 * major + 0.2 * _unit(tempo, 50.0, 170.0) + 0.15 * pitch + 0.2 * _unit(density, 1.0, 7.0)
    )
    regular = (
        1.0 if len(set(facts.time_signatures)) <= 1 else 0.5 if len(set(facts.time_signatures)) == 2 else 0.0
    )
    base = FORMS[facts.form].danceability if facts.form in FORMS else defaults.danceability
    tempo_fit = math.exp(-(((tempo - 115.0) / 40.0) ** 2))
    # Adjustments are centred on 0 so a form's typical value stays its typical value.
    danceability = (
        base + 0.1 * (regular - 0.5) + 0.05 * (tempo_fit - 0.5) + 0.05 * (_unit(density, 1.0, 6.0) - 0.5)
    )
    audio.update(
        energy=round(float(np.clip(energy, 0.0, 1.0)), 3),
        valence=round(float(np.clip(valence, 0.0, 1.0)), 3),
        danceability=round(float(np.clip(danceability, 0.0, 1.0)), 3),
        acousticness=0.97,
        liveness=0.11,
        speechiness=0.045 if texted else 0.035,
        instrumentalness=0.15 if texted else defaults.instrumentalness,
    )
    return audio


def is_texted(facts: ScoreFacts, kind: PieceKind) -> bool:
    # "Lyrics" in instrumental scores are figured-bass numbers or fingering; only sung
    # kinds count as texted.
    return facts.has_lyrics and kind in VOCAL_KINDS


def descriptors_for(
    audio: dict[str, float], facts: ScoreFacts, collection: Collection, region: str | None
) -> list[str]:
    words = mood_words(audio["valence"], audio["energy"]) + tempo_words(audio["tempo"])
    if facts.form:
        words.append(facts.form)
    if collection.kind == "folk_song":
        words.append("song")
    words.append("vocal" if collection.kind in VOCAL_KINDS else "instrumental")
    words += list(collection.descriptors)
    if region:
        words.append(region)
    return list(dict.fromkeys(words))
