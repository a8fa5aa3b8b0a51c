"""The timeline cache port: per-user lists of tweet ids, newest first, capped.

A timeline is either present (complete for its newest ``cap`` entries) or
absent, in which case the reader rebuilds it from the stores. Pushes go only
into timelines that are present, so an absent one is never mistaken for a
complete one. No operation spans two users' timelines in one command, so a
Redis Cluster adapter can keep one key per timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class TimelineCache(Protocol):
    async def get(self, user_id: int, limit: int, before_id: int | None = None) -> list[int] | None:
        """Up to ``limit`` ids below ``before_id``, newest first; None when not cached."""
        ...

    async def store(self, user_id: int, tweet_ids: Sequence[int], cap: int) -> None:
        """Make the timeline present, holding ``tweet_ids`` merged with what it had, capped."""
        ...

    async def push(self, user_ids: Sequence[int], tweet_id: int, cap: int) -> int:
        """Add one id to each of these timelines that is present; returns how many took it."""
        ...

    async def remove(self, user_id: int, tweet_ids: Sequence[int]) -> None:
        """Take ids out of one timeline (unfollow, delete)."""
        ...

    async def drop(self, user_id: int) -> None:
        """Forget the timeline; the next read rebuilds it."""
        ...

    async def ping(self) -> None:
        """Raise if the cache cannot answer."""
        ...

    async def close(self) -> None: ...
