"""Audio features of a song from the first bytes of its stream, decoded in memory.

The folder import (audio_folder.py) reads whole files from disk; a library song is only
reachable as a stream, so its analysis fetches the start of it (a byte cap, see
app/library_analysis.py) and decodes what arrived. Same features, same mapping
(``audio_features.analyse_signal``).

Invariants:
- Nothing touches the disk or the network: bytes in, features (or a reason) out.
- A cut-off stream is normal (we asked for its head only): decoding keeps every block read
  before the cut and stops quietly there.
- At most ``MAX_DECODE_SECONDS`` are decoded, so memory is bounded whatever the byte cap; when
  more than ``ANALYSIS_SECONDS`` arrived, the excerpt is the last ``ANALYSIS_SECONDS`` of it
  (the intro weighs less, as the folder import's excerpt from the middle).
- ``analyse_head`` never raises (it runs in worker processes): an error is a reason string.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np

from recsys.importers.audio_features import SAMPLE_RATE, analyse_signal

ANALYSIS_SECONDS = 75.0
MAX_DECODE_SECONDS = 90.0
_BLOCK_FRAMES = 65536


@dataclass(frozen=True, slots=True)
class HeadAnalysis:
    """Plain data, so it crosses process boundaries."""

    audio: dict[str, float] | None
    descriptors: tuple[str, ...] = ()
    error: str | None = None
    seconds: float = 0.0


def decode_head(data: bytes) -> np.ndarray:
    """Mono float32 at ``SAMPLE_RATE`` from the start of an audio file (FLAC, Ogg, WAV, MP3 and
    whatever else libsndfile reads). ValueError when nothing can be decoded."""
    import soundfile

    try:
        source = soundfile.SoundFile(io.BytesIO(data))
    except Exception as exc:  # libsndfile's errors are not one type
        raise ValueError(f"cannot decode audio ({type(exc).__name__}: {str(exc)[:120]}); "
                         "formats that need ffmpeg (AAC/m4a) are not analysed from streams") from exc
    blocks: list[np.ndarray] = []
    with source:
        rate = source.samplerate
        wanted = int(MAX_DECODE_SECONDS * rate)
        got = 0
        try:
            for block in source.blocks(blocksize=_BLOCK_FRAMES, dtype="float32", always_2d=True):
                blocks.append(block.mean(axis=1))
                got += len(block)
                if got >= wanted:
                    break
        except Exception:
            pass
    if not blocks:
        raise ValueError("no audio could be decoded from the start of the stream")
    signal = np.concatenate(blocks)[:wanted]
    if rate != SAMPLE_RATE:
        import librosa

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            signal = librosa.resample(signal, orig_sr=rate, target_sr=SAMPLE_RATE)
    keep = int(ANALYSIS_SECONDS * SAMPLE_RATE)
    return np.asarray(signal[-keep:], dtype=np.float32)


def analyse_head(data: bytes) -> HeadAnalysis:
    """Features of a stream's head, or the reason there are none. Never raises."""
    try:
        signal = decode_head(data)
        features = analyse_signal(signal)
    except ValueError as exc:
        return HeadAnalysis(None, error=str(exc)[:300])
    except Exception as exc:  # last line of defence: one odd stream must not stop the queue
        return HeadAnalysis(None, error=f"analysis failed ({type(exc).__name__}: {str(exc)[:200]})")
    return HeadAnalysis(features.audio, tuple(features.descriptors), seconds=signal.size / SAMPLE_RATE)
