"""Reading the facts behind the demo features out of a parsed music21 score.

Tempo marks (including MusicXML's playback-only tempo), time signatures, note onsets,
duration-weighted pitch classes, lyrics and dynamics; plus a region word from an Essen tune's
origin field. music21 is imported inside the functions, so importing this module is cheap.
"""

from __future__ import annotations

from typing import Any

from recsys.importers.abc_index import AbcTune
from recsys.importers.demo_corpus import PieceKind
from recsys.importers.demo_features import ScoreFacts
from recsys.importers.demo_forms import SLOW_WORDS, default_quarter_bpm, find_form, form_from_meter

DYNAMIC_DB: dict[str, float] = {
    "pppp": -27,
    "ppp": -24,
    "pp": -21,
    "p": -17,
    "mp": -14,
    "mf": -11,
    "f": -8,
    "ff": -6,
    "fff": -5,
    "ffff": -4,
    "sf": -8,
    "sfz": -7,
    "fz": -7,
    "sffz": -6,
    "fp": -10,
    "rfz": -8,
}


def _tempo_segments(flat: Any, total: float, default_bpm: float) -> float:
    """Seconds the score lasts under its metronome marks, or at `default_bpm` without any."""
    from music21 import tempo as m21tempo

    marks: list[tuple[float, float]] = []
    for mark in flat.getElementsByClass(m21tempo.TempoIndication):
        bpm = None
        if isinstance(mark, m21tempo.MetronomeMark):
            # getQuarterBPM also reads MusicXML's playback-only tempo (numberSounding).
            bpm = mark.getQuarterBPM()
            if bpm is None and mark.text:
                bpm = _text_bpm(mark.text)
        elif isinstance(mark, m21tempo.TempoText):
            bpm = _text_bpm(mark.text)
        if bpm and 10.0 <= bpm <= 400.0:
            marks.append((float(flat.elementOffset(mark)), float(bpm)))
    marks = sorted(dict(marks).items())  # one mark per offset (parts repeat the same mark)
    if not marks:
        return total * 60.0 / default_bpm
    seconds = 0.0
    for index, (offset, bpm) in enumerate(marks):
        start = 0.0 if index == 0 else offset
        end = marks[index + 1][0] if index + 1 < len(marks) else total
        seconds += max(end - start, 0.0) * 60.0 / bpm
    return seconds


def _text_bpm(text: str | None) -> float | None:
    from music21 import tempo as m21tempo

    if not text:
        return None
    try:
        mark = m21tempo.MetronomeMark(text=text)
        number = mark.numberSounding or mark.number
        return float(number) if number else None
    except Exception:
        return None


def _beat_quarters(time_signatures: list[Any]) -> float:
    for signature in time_signatures:
        try:
            beat = float(signature.beatDuration.quarterLength)
        except Exception:
            continue
        if beat > 0:
            return beat
    return 1.0


def score_facts(
    score: Any, kind: PieceKind, hint_texts: list[str], dance_tunes: bool
) -> tuple[ScoreFacts, float]:
    """Facts of a parsed score, and the default quarter BPM used where it has no marks."""
    from music21 import dynamics, meter

    flat = score.flatten()
    signatures = [
        ts for ts in flat.getElementsByClass(meter.TimeSignature) if ts.numerator > 1 and ts.denominator > 1
    ]
    names = [ts.ratioString for ts in signatures]
    unique_names = list(dict.fromkeys(names))
    hint_text = " ".join(hint_texts).lower()
    form = find_form(hint_texts)
    if form is None and dance_tunes:
        # A slow tune in a dance collection is an air, whatever its meter.
        slow = any(word in hint_text for word in SLOW_WORDS)
        form = "air" if slow else form_from_meter(unique_names)
    default_bpm = default_quarter_bpm(kind, form, hint_text)
    quarters = float(score.highestTime)
    seconds = _tempo_segments(flat, quarters, default_bpm)

    weights = [0.0] * 12
    pitch_sum = pitch_weight = 0.0
    onsets: set[float] = set()
    has_lyrics = False
    for element in flat.notes:
        length = float(element.quarterLength)
        if length <= 0:
            continue  # grace notes take no time
        onsets.add(float(element.offset))
        has_lyrics = has_lyrics or bool(element.lyrics)
        for pitch in element.pitches:
            weights[pitch.pitchClass] += length
            pitch_sum += pitch.midi * length
            pitch_weight += length
    levels = [DYNAMIC_DB[d.value] for d in flat.getElementsByClass(dynamics.Dynamic) if d.value in DYNAMIC_DB]
    parts = len(getattr(score, "parts", [])) or 1
    facts = ScoreFacts(
        quarter_length=quarters,
        seconds=seconds,
        beat_quarters=_beat_quarters(signatures),
        onsets=len(onsets),
        pitch_classes=weights,
        mean_pitch=pitch_sum / pitch_weight if pitch_weight else None,
        has_lyrics=has_lyrics,
        parts=parts,
        time_signatures=unique_names,
        dynamics_db=levels,
        form=form,
    )
    return facts, default_bpm


REGIONS: dict[str, str] = {
    "china": "chinese",
    "deutschland": "german",
    "schweiz": "swiss",
    "oesterreich": "austrian",
    "österreich": "austrian",
    "lothringen": "lorraine",
    "luxemburg": "luxembourgish",
    "irland": "irish",
    "frankreich": "french",
    "polen": "polish",
    "daenemark": "danish",
    "niederlande": "dutch",
    "elsass": "alsatian",
    "tirol": "tyrolean",
    "ungarn": "hungarian",
    "schlesien": "silesian",
    "boehmen": "bohemian",
    "rumaenien": "romanian",
    "russland": "russian",
    "jugoslavien": "yugoslav",
    "schweden": "swedish",
    "italien": "italian",
    "ukraine": "ukrainian",
    "mexico": "mexican",
}


def region_word(tune: AbcTune | None) -> str | None:
    """A nationality word from an Essen tune's O: field ("Europa, Mitteleuropa, Deutschland")."""
    if tune is None or not tune.origin:
        return None
    parts = [part.strip().lower() for part in tune.origin.split(",")]
    for part in parts:
        if part in REGIONS:
            return REGIONS[part]
    return None
