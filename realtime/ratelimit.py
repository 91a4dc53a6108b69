"""A token bucket: the per-connection frame-rate limit."""

from __future__ import annotations

import time


class TokenBucket:
    """``rate`` tokens a second, holding at most ``burst``; one frame takes one token.

    A bucket rather than a fixed one-second window: a window lets a client send twice the
    rate across a boundary, and refuses a burst that arrives just after a quiet spell.
    """

    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: float, burst: float) -> None:
        self._rate = rate
        self._burst = burst
        self._tokens = burst
        self._stamp = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


def frame_bucket(max_frames_per_s: float) -> TokenBucket:
    """The limit of settings.ws_max_frames_per_s, with a small burst on top (a reconnecting
    client sends hello, mood and a few queued feedback frames at once)."""
    return TokenBucket(max_frames_per_s, max_frames_per_s + max(5.0, max_frames_per_s * 0.2))
