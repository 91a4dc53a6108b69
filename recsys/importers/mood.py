"""Plain mood and tempo words derived from valence, energy and tempo.

Sources without tags (local audio, the score corpus) still need words for the text vector;
these follow the usual valence/arousal quadrants (Russell's circumplex), so "calm" means
positive and low-energy, "tense" negative and high-energy, wherever a record comes from.
"""

from __future__ import annotations

_QUADRANTS: dict[tuple[bool, bool], tuple[str, ...]] = {
    (True, True): ("happy", "upbeat", "joyful"),
    (True, False): ("calm", "peaceful", "gentle"),
    (False, False): ("sad", "melancholic", "somber"),
    (False, True): ("tense", "dramatic", "intense"),
}


def mood_words(valence: float, energy: float) -> list[str]:
    words = list(_QUADRANTS[(valence >= 0.5, energy >= 0.5)])
    # Far from the quadrant's edges, add an intensifier that separates "cheerful" from
    # "euphoric" and "melancholic" from "bleak".
    if valence >= 0.75 and energy >= 0.75:
        words.append("euphoric")
    elif valence <= 0.25 and energy <= 0.25:
        words.append("bleak")
    elif energy <= 0.2:
        words.append("quiet")
    elif energy >= 0.85:
        words.append("energetic")
    return words


def tempo_words(tempo: float) -> list[str]:
    if tempo < 76:
        return ["slow"]
    if tempo >= 140:
        return ["fast"]
    return ["moderate tempo"]
