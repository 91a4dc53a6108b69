"""Live fan-out, as the service layer sees it: "tell whoever is listening that this changed".

The services (app/listening.py) call a LiveFanout after a change is durable in PostgreSQL.
They never see how it reaches anyone: the realtime layer implements the protocol and registers
its implementation in AppState at start-up (realtime/fanout.py), the way Centrifugo's API
publishes to a broker it never sees past. Without it (a CLI tool, a test app) the default
does nothing, and a session is rebuilt from PostgreSQL at its next hello.

An implementation must not raise for a fan-out that fails: the change is already durable,
and live queues catch up at the next change or reconnect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from app.store.events import Event
from app.store.moods import StoredMood
from app.store.settings import UserSettings


@dataclass(frozen=True, slots=True)
class GroupLive:
    """What the live layer knows of a listening group right now (app/groups.py)."""

    present: frozenset[int] = frozenset()  # users with a connection following the group
    present_since: dict[int, float] | None = None  # user -> when their presence began (epoch s)
    playback: dict[str, Any] | None = None
    skip_votes: dict[str, Any] | None = None


class LiveFanout(Protocol):
    async def feedback(self, user_id: int, event: Event) -> None:
        """A new listening event of the user."""
        ...

    async def mood(self, user_id: int, mood: StoredMood) -> None:
        """The user's mood changed."""
        ...

    async def settings(self, user_id: int, settings: UserSettings) -> None:
        """The user's settings changed (what their queue may hold)."""
        ...

    async def refresh(self, user_id: int, reason: str) -> None:
        """Something else the user's queue depends on changed (``reason``: "library")."""
        ...

    def live_users(self) -> set[int]:
        """Users with a live connection to this process (cheap: no I/O). For changes that
        are seen by every instance on its own, such as a library going offline."""
        ...

    async def group_changed(self, group_id: int) -> None:
        """A group's members, host or settings changed: its followers get a `group` frame."""
        ...

    async def group_mood(self, group_id: int, mood: StoredMood) -> None:
        """A group's mood changed: its queue is recomputed."""
        ...

    async def group_exit(self, group_id: int, user_ids: list[int], status: str) -> None:
        """These members are no longer in the group (``status``: left, removed, ended): their
        connections following it are told and go back to their own queue."""
        ...

    async def group_live(self, group_id: int) -> GroupLive:
        """Who is present, the shared playback and the skip votes, right now."""
        ...


class NoFanout:
    """Nobody is listening live in this process."""

    async def feedback(self, user_id: int, event: Event) -> None:
        return None

    async def mood(self, user_id: int, mood: StoredMood) -> None:
        return None

    async def settings(self, user_id: int, settings: UserSettings) -> None:
        return None

    async def refresh(self, user_id: int, reason: str) -> None:
        return None

    def live_users(self) -> set[int]:
        return set()

    async def group_changed(self, group_id: int) -> None:
        return None

    async def group_mood(self, group_id: int, mood: StoredMood) -> None:
        return None

    async def group_exit(self, group_id: int, user_ids: list[int], status: str) -> None:
        return None

    async def group_live(self, group_id: int) -> GroupLive:
        return GroupLive()
