"""The fan-out queue port and its in-process adapter.

Jobs are delivered at least once: a job taken by a consumer stays pending
until acknowledged; a consumer that dies leaves it pending, and another
consumer claims it once it has been idle long enough. Applying a job twice
must be harmless (the engine's fan-out is idempotent).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


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


class MemoryFanoutQueue:
    """In-process queue with the same at-least-once semantics as the Redis one."""

    def __init__(self) -> None:
        self._ready: deque[Delivery] = deque()
        self._pending: dict[str, tuple[Delivery, str, float]] = {}
        self._ids = itertools.count(1)
        self._arrived = asyncio.Condition()

    async def open(self) -> None:
        """Nothing to connect to."""

    async def ping(self) -> None:
        """Always answers."""

    async def close(self) -> None:
        self._ready.clear()
        self._pending.clear()

    async def enqueue(self, job: Job) -> None:
        async with self._arrived:
            self._ready.append(Delivery(str(next(self._ids)), job))
            self._arrived.notify_all()

    async def take(self, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        async with self._arrived:
            if not self._ready and block_ms > 0:
                try:
                    await asyncio.wait_for(
                        self._arrived.wait_for(lambda: bool(self._ready)), block_ms / 1000
                    )
                except TimeoutError:
                    return []
            taken: list[Delivery] = []
            now = time.monotonic()
            while self._ready and len(taken) < count:
                delivery = self._ready.popleft()
                self._pending[delivery.id] = (delivery, consumer, now)
                taken.append(delivery)
            return taken

    async def ack(self, delivery_ids: Sequence[str]) -> None:
        for delivery_id in delivery_ids:
            self._pending.pop(delivery_id, None)

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[Delivery]:
        now = time.monotonic()
        claimed: list[Delivery] = []
        for delivery_id, (delivery, _, since) in list(self._pending.items()):
            if len(claimed) >= count:
                break
            if (now - since) * 1000 >= min_idle_ms:
                self._pending[delivery_id] = (delivery, consumer, now)
                claimed.append(delivery)
        return claimed

    async def depth(self) -> int:
        return len(self._ready) + len(self._pending)
