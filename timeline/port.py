"""The timeline engine's ports: the timeline cache, the fan-out queue, the event bus.

**Timeline cache.** A home timeline is a list of tweet ids, newest first,
capped. It is either present (complete for its newest ``cap`` entries) or
absent, in which case the reader rebuilds it from the stores. Pushes go only
into present timelines, so an absent one is never mistaken for a complete one.
Reading a timeline keeps it alive for the adapter's time-to-live
(CHIRP_ACTIVE_DAYS): the timelines of users who stopped reading expire, and
fan-out skips them. A recent list holds a celebrity author's newest tweet ids;
readers merge it into their timelines instead of receiving those tweets by
fan-out. No operation's effect on one user's list depends on another's, so a Redis
Cluster adapter keeps one key per list (and a single-server one may batch keys).

**Fan-out queue.** Jobs are delivered at least once: a job taken by a consumer
stays pending until acknowledged; a consumer that dies leaves it pending, and
another consumer claims it once it has been idle long enough. Applying a job
twice must be harmless (the fan-out is idempotent).

**Event bus.** Realtime events between processes. An event is a small dict
(``{"tweet_id", "author_id", "hashtags"}``). Every process listens to every
event and picks, for its own connected subscribers, the ones they asked for.

Adapters: ``timeline/memory.py`` (in-process, the embedded default) and
``timeline/redis.py`` (Redis: sorted sets, a stream with a consumer group,
pub/sub), both run through the same contract suites in ``tests/contract/``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Window:
    """Part of a cached list: ``ids`` newest first, and the oldest id the list holds.

    A list is authoritative from its newest id down to ``oldest``; below
    ``oldest`` only the stores know. ``oldest`` is 0 when the list is empty,
    which says nothing about the stores: deletes and unfollows may have
    emptied it while older tweets remain. Adds into a present list never go
    below ``oldest``, so the region stays gap-free.
    """

    ids: list[int]
    oldest: int


class TimelineCache(Protocol):
    async def get(self, user_id: int, limit: int, before_id: int | None = None) -> Window | None:
        """Up to ``limit`` ids below ``before_id``, newest first; None when not cached.

        Refreshes the timeline's time-to-live: reading is what makes a user active.
        """
        ...

    async def store(self, user_id: int, tweet_ids: Sequence[int], cap: int) -> None:
        """Make the timeline present, holding ``tweet_ids`` merged with what it had, capped."""
        ...

    async def extend(self, user_id: int, tweet_ids: Sequence[int], cap: int) -> bool:
        """Add ids (those not older than its oldest) to a present timeline; False if absent."""
        ...

    async def push(self, user_ids: Sequence[int], tweet_id: int, cap: int) -> int:
        """Add one id to each present timeline it is not older than; returns how many took it."""
        ...

    async def remove(self, user_id: int, tweet_ids: Sequence[int]) -> None:
        """Take ids out of one timeline (unfollow)."""
        ...

    async def remove_from_many(self, user_ids: Sequence[int], tweet_id: int) -> None:
        """Take one id out of each of these timelines (delete)."""
        ...

    async def drop(self, user_id: int) -> None:
        """Forget the timeline; the next read rebuilds it."""
        ...

    async def recent_get(
        self, author_ids: Sequence[int], limit: int, before_id: int | None = None
    ) -> dict[int, Window | None]:
        """Per author, up to ``limit`` recent ids below ``before_id``; None when not cached."""
        ...

    async def recent_store(self, author_id: int, tweet_ids: Sequence[int], cap: int) -> None:
        """Make the author's recent list present with these ids merged in, capped."""
        ...

    async def recent_add(self, author_id: int, tweet_id: int, cap: int) -> bool:
        """Add an id to the author's recent list if present; False if absent."""
        ...

    async def recent_remove(self, author_id: int, tweet_ids: Sequence[int]) -> None: ...

    async def ping(self) -> None:
        """Raise if the cache cannot answer."""
        ...

    async def close(self) -> None: ...


# ------------------------------------------------------------------ fan-out queue


@dataclass(frozen=True)
class Job:
    kind: str  # "post" (a tweet or retweet to fan out) or "delete"
    tweet_id: int
    author_id: int

    def fields(self) -> dict[str, str]:
        return {"kind": self.kind, "tweet_id": str(self.tweet_id), "author_id": str(self.author_id)}

    @classmethod
    def from_fields(cls, fields: dict[str, str]) -> Job:
        return cls(fields["kind"], int(fields["tweet_id"]), int(fields["author_id"]))


@dataclass(frozen=True)
class Delivery:
    id: str
    job: Job


class FanoutQueue(Protocol):
    async def enqueue(self, job: Job) -> None: ...

    async def take(self, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        """New jobs for this consumer, waiting up to ``block_ms`` for one."""
        ...

    async def ack(self, delivery_ids: Sequence[str]) -> None: ...

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[Delivery]:
        """Jobs taken by any consumer but not acknowledged for ``min_idle_ms``: now this one's."""
        ...

    async def depth(self) -> int:
        """Jobs not yet acknowledged (waiting or pending)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


# ------------------------------------------------------------------ event bus

Event = dict[str, Any]


class EventBus(Protocol):
    async def publish(self, event: Event) -> None: ...

    def listen(self) -> AsyncIterator[Event]:
        """Every event published from now on, by any process, until cancelled."""
        ...

    async def close(self) -> None: ...
