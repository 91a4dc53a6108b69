"""The listening actions and the rules about them: the one place they are defined.

The store (the CHECK constraint mirrors ACTIONS), the HTTP schema, the WebSocket protocol, the
Redis session scripts (which receive the sets below as arguments), the engine's session
profile and the offline simulation all take them from here.

- ``play``: a track started. Says nothing about taste.
- ``complete``, ``skip``, ``dislike``: how a listen ended (OUTCOMES). On the now-playing track
  they advance the queue; each excludes the track from the rest of the session.
- ``like``, ``unlike``: a verdict that is a state (VERDICTS): the like button toggles, a second
  like changes nothing, and neither takes the track off the upcoming list nor excludes it.
"""

from __future__ import annotations

from typing import Literal, get_args

Action = Literal["play", "complete", "skip", "like", "unlike", "dislike"]
ACTIONS: tuple[str, ...] = get_args(Action)

OUTCOMES: frozenset[str] = frozenset({"complete", "skip", "dislike"})
VERDICTS: frozenset[str] = frozenset({"like", "unlike"})
# Feedback that changes the listener's taste profile (and so invalidates cached mixes).
TASTE: frozenset[str] = OUTCOMES | VERDICTS


def advances(action: str) -> bool:
    """On the now-playing track, this action moves the queue on to the next track."""
    return action in OUTCOMES


def excludes(action: str) -> bool:
    """After this action the track is never queued again in the session."""
    return action not in VERDICTS
