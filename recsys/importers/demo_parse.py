"""Parsing a demo piece with music21 and turning a score into MIDI bytes.

Both the feature extraction and the playback go through `parse_ref`, so what is measured is
what is heard. A few corpus files trip music21's MIDI export (a time signature shared between
two streams, a part without measures); `midi_bytes` then exports a flattened copy instead.
"""

from __future__ import annotations

import copy
from typing import Any

from recsys.importers.demo_corpus import split_ref


def parse_ref(ref: str) -> Any:
    """The music21 Score for a ref, repeats written out; an ABC file whose tunes are the
    voices of one piece (Josquin) is merged into one score."""
    from music21 import corpus, stream

    path, number = split_ref(ref)
    parsed = (
        corpus.parse(path, number=number, forceSource=True)
        if number
        else corpus.parse(path, forceSource=True)
    )
    if isinstance(parsed, stream.Opus):
        merged = parsed.mergeScores()
        parsed = merged if merged is not None and len(merged.parts) else parsed.scores[0]
    return _with_repeats(parsed)


def _with_repeats(score: Any) -> Any:
    # Dance tunes are written AABB with repeat signs; played once through they last 15 s.
    # Expanding makes both the MIDI and the catalog duration what a player would perform.
    try:
        expanded = score.expandRepeats()
    except Exception:  # unbalanced or exotic repeat marks: play as written
        return _without_repeat_marks(score)
    if expanded is None or float(expanded.highestTime) < float(score.highestTime):
        return score
    if getattr(expanded, "metadata", None) is None and getattr(score, "metadata", None) is not None:
        expanded.metadata = score.metadata
    return expanded


def _without_repeat_marks(score: Any) -> Any:
    # music21's MIDI export expands repeats itself and raises on the same malformed marks, so
    # a score that cannot be expanded loses its repeat barlines and jumps instead.
    from music21 import bar, repeat, stream

    for measure in score.recurse().getElementsByClass(stream.Measure):
        for side in ("leftBarline", "rightBarline"):
            if isinstance(getattr(measure, side), bar.Repeat):
                setattr(measure, side, bar.Barline("regular"))
        for mark in list(measure.getElementsByClass(repeat.RepeatExpression)):
            measure.remove(mark)
    return score


def parent_title(score: Any) -> str | None:
    metadata = getattr(score, "metadata", None)
    value = getattr(metadata, "parentTitle", None) if metadata is not None else None
    return (str(value).strip() or None) if value else None


def midi_bytes(score: Any) -> bytes:
    """Standard MIDI File bytes of a score (they start with b"MThd")."""
    from music21 import midi

    try:
        midi_file = midi.translate.music21ObjectToMidiFile(score)
    except Exception:
        midi_file = midi.translate.music21ObjectToMidiFile(_flat_copy(score))
    return bytes(midi_file.writestr())


def _flat_copy(score: Any) -> Any:
    # One measure-less part per voice holding fresh copies of the notes, rests, meters, keys
    # and tempi: nothing left for the exporter to expand or to find twice.
    from music21 import key, meter, note, stream, tempo

    kinds = (note.GeneralNote, meter.TimeSignature, key.KeySignature, tempo.MetronomeMark)
    out = stream.Score()
    for part in list(getattr(score, "parts", [])) or [score]:
        flat = part.flatten()
        fresh = stream.Part()
        for element in flat.getElementsByClass(kinds):
            fresh.insert(flat.elementOffset(element), copy.deepcopy(element))
        out.insert(0, fresh)
    return out
