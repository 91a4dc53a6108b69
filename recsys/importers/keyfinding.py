"""Key and mode from a pitch-class distribution (Krumhansl-Schmuckler).

The distribution is correlated with the Krumhansl-Kessler major and minor key profiles in
all twelve rotations; the best correlation names the key. Used for audio (mean chroma) and
for scores (duration-weighted pitch classes), so both sources agree on what "key" means.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Krumhansl & Kessler (1982) probe-tone ratings, index 0 = tonic.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


@dataclass(frozen=True, slots=True)
class KeyEstimate:
    key: int  # pitch class of the tonic, 0 = C
    mode: int  # 1 major, 0 minor (Spotify's convention)
    confidence: float  # correlation of the winning profile, -1..1


def estimate_key(pitch_classes: Sequence[float] | np.ndarray) -> KeyEstimate | None:
    """None when the distribution is flat or empty (silence, unpitched percussion)."""
    weights = np.asarray(pitch_classes, dtype=float)
    if weights.shape != (12,) or not np.all(np.isfinite(weights)) or np.ptp(weights) <= 1e-9:
        return None
    best = KeyEstimate(0, 1, -2.0)
    for mode, profile in ((1, MAJOR_PROFILE), (0, MINOR_PROFILE)):
        for tonic in range(12):
            # Rotating the profile to start at `tonic` lines its ratings up with pitch classes.
            r = float(np.corrcoef(weights, np.roll(profile, tonic))[0, 1])
            if r > best.confidence:
                best = KeyEstimate(tonic, mode, r)
    return best
