"""Parsing a demo piece with music21 and turning a score into MIDI bytes.

Both the feature extraction and the playback go through `parse_ref`, so what is measured is
what is heard. A few corpus files trip music21's MIDI export (a time signature shared between
two streams, a part without measures); `midi_bytes` then exports a flattened copy instead.
"""

from __future__ import annotations

import copy
import io
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


# A performance repeats sections, it does not multiply the piece: more than this many times
# the written length means the repeat marks were misread, and the piece is played as written.
MAX_REPEAT_GROWTH = 4.0


def _with_repeats(score: Any) -> Any:
    # Dance tunes are written AABB with repeat signs; played once through they last 15 s.
    # Expanding makes both the MIDI and the catalog duration what a player would perform.
    _close_open_repeats(score)
    try:
        expanded = score.expandRepeats()
    except Exception:  # unbalanced or exotic repeat marks: play as written
        return _without_repeat_marks(score)
    written = float(score.highestTime)
    if expanded is None or float(expanded.highestTime) < written:
        return score
    if float(expanded.highestTime) > MAX_REPEAT_GROWTH * written:
        return _without_repeat_marks(score)
    if getattr(expanded, "metadata", None) is None and getattr(score, "metadata", None) is not None:
        expanded.metadata = score.metadata
    return expanded


def _close_open_repeats(score: Any) -> None:
    """Give every end-repeat without a start-repeat the start a player reads into it.

    Musicians repeat an unopened `:|` from the previous double bar or end-repeat (the piece's
    start for the first one). music21 instead repeats it from the start of the piece, one
    pair at a time, so each later `:|` also repeats every section already expanded: a
    seven-part O'Neill tune (`||` ... `:|` per part) grew 36-fold, to 35 minutes, and the
    finale's three unopened `:|` in Beethoven's Op. 18 No. 4 quadrupled the whole quartet.
    """
    from music21 import bar, stream

    for part in list(getattr(score, "parts", [])) or [score]:
        measures = list(part.getElementsByClass(stream.Measure))
        section_start, is_open = 0, False
        for index, measure in enumerate(measures):
            left, right = measure.leftBarline, measure.rightBarline
            if isinstance(left, bar.Repeat):
                # An end-repeat drawn on the next measure's left closes the section too.
                is_open = left.direction == "start"
                section_start = index
            elif isinstance(left, bar.Barline) and left.type in _SECTION_BARS:
                section_start = index
            if isinstance(right, bar.Repeat) and right.direction == "end":
                if not is_open:
                    measures[section_start].leftBarline = bar.Repeat(direction="start")
                is_open, section_start = False, index + 1
            elif isinstance(right, bar.Barline) and right.type in _SECTION_BARS:
                section_start = index + 1


# Barlines that end a section, where an unopened repeat starts.
_SECTION_BARS = frozenset({"double", "final", "heavy", "heavy-light", "heavy-heavy"})


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
    for index, part in enumerate(list(getattr(score, "parts", [])) or [score]):
        flat = part.flatten()
        fresh = stream.Part()
        for element in flat.getElementsByClass(kinds):
            fresh.insert(flat.elementOffset(element), copy.deepcopy(element))
        if index == 0 and score is not part:
            # Tempo marks on the score itself (the default tempo render_midi adds) sit outside
            # every part: without this the copy plays at MIDI's 120 bpm.
            for mark in score.getElementsByClass(tempo.MetronomeMark):
                fresh.insert(score.elementOffset(mark), copy.deepcopy(mark))
        out.insert(0, fresh)
    return out


def midi_duration_ms(data: bytes) -> int:
    """How long a Standard MIDI File plays, in ms: its tempo map applied to its last event.

    This is the demo catalog's duration rule (what the player will actually take), read with
    mido rather than estimated from the score's tempo marks.
    """
    import mido

    return round(mido.MidiFile(file=io.BytesIO(data)).length * 1000)
