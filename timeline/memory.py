"""The embedded timeline adapters: in-process, for one process on the embedded default.

``MemoryTimelineCache`` is bounded by caps, a time-to-live and an LRU;
``MemoryFanoutQueue`` has the same at-least-once semantics as the Redis
stream; ``MemoryEventBus`` hands each event to this process's listeners.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Sequence

from timeline.port import Delivery, Event, Job, Window


class _Lists:
    """Id lists keyed by user: each kept as NEGATED ids ascending, i.e. newest first."""

    def __init__(
        self, ttl_seconds: float | None, max_lists: int, clock: Callable[[], float]
    ) -> None:
        self._lists: OrderedDict[int, list[int]] = OrderedDict()
        self._expires: dict[int, float] = {}
        self._ttl = ttl_seconds
        self._max = max_lists
        self._clock = clock

    def find(self, key: int, touch: bool = False) -> list[int] | None:
        entries = self._lists.get(key)
        if entries is None:
            return None
        if self._ttl is not None and self._expires[key] <= self._clock():
            self.drop(key)
            return None
        if touch:
            self._lists.move_to_end(key)
            if self._ttl is not None:
                self._expires[key] = self._clock() + self._ttl
        return entries

    def page(self, key: int, limit: int, before_id: int | None, touch: bool) -> Window | None:
        entries = self.find(key, touch=touch)
        if entries is None:
            return None
        start = 0 if before_id is None else bisect.bisect_right(entries, -before_id)
        ids = [-neg for neg in entries[start : start + max(limit, 0)]]
        return Window(ids, -entries[-1] if entries else 0)

    def store(self, key: int, ids: Sequence[int], cap: int) -> None:
        current = self.find(key) or []
        self._lists[key] = sorted(set(current) | {-i for i in ids})[:cap]
        self._lists.move_to_end(key)
        if self._ttl is not None:
            self._expires[key] = self._clock() + self._ttl
        while len(self._lists) > self._max:
            oldest, _ = self._lists.popitem(last=False)
            self._expires.pop(oldest, None)

    def add(self, key: int, ids: Sequence[int], cap: int) -> int:
        """Add ids to a present list; how many it newly keeps (0 when absent)."""
        entries = self.find(key)
        if entries is None:
            return 0
        added = 0
        floor = -entries[-1] if entries else 0
        for tweet_id in ids:
            neg = -tweet_id
            index = bisect.bisect_left(entries, neg)
            if tweet_id < floor or index >= cap or (index < len(entries) and entries[index] == neg):
                continue  # below the authoritative region, past the cap, or there already
            entries.insert(index, neg)
            del entries[cap:]
            added += 1
        return added

    def remove(self, key: int, ids: Sequence[int]) -> None:
        entries = self.find(key)
        if entries is not None:
            gone = {-i for i in ids}
            entries[:] = [neg for neg in entries if neg not in gone]

    def drop(self, key: int) -> None:
        self._lists.pop(key, None)
        self._expires.pop(key, None)

    def clear(self) -> None:
        self._lists.clear()
        self._expires.clear()


class MemoryTimelineCache:
    def __init__(
        self,
        ttl_seconds: float | None = 30 * 24 * 3600,
        max_timelines: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._timelines = _Lists(ttl_seconds, max_timelines, clock)
        self._recent = _Lists(None, max_timelines, clock)

    async def open(self) -> None:
        """Nothing to connect to."""

    async def ping(self) -> None:
        """Always answers: it lives in this process."""

    async def close(self) -> None:
        self._timelines.clear()
        self._recent.clear()

    async def get(self, user_id: int, limit: int, before_id: int | None = None) -> Window | None:
        return self._timelines.page(user_id, limit, before_id, touch=True)

    async def store(self, user_id: int, tweet_ids: Sequence[int], cap: int) -> None:
        self._timelines.store(user_id, tweet_ids, cap)

    async def extend(self, user_id: int, tweet_ids: Sequence[int], cap: int) -> bool:
        if self._timelines.find(user_id) is None:
            return False
        self._timelines.add(user_id, tweet_ids, cap)
        return True

    async def push(self, user_ids: Sequence[int], tweet_id: int, cap: int) -> int:
        return sum(self._timelines.add(u, [tweet_id], cap) for u in dict.fromkeys(user_ids))

    async def remove(self, user_id: int, tweet_ids: Sequence[int]) -> None:
        self._timelines.remove(user_id, tweet_ids)

    async def remove_from_many(self, user_ids: Sequence[int], tweet_id: int) -> None:
        for user_id in user_ids:
            self._timelines.remove(user_id, [tweet_id])

    async def drop(self, user_id: int) -> None:
        self._timelines.drop(user_id)

    async def recent_get(
        self, author_ids: Sequence[int], limit: int, before_id: int | None = None
    ) -> dict[int, Window | None]:
        return {
            a: self._recent.page(a, limit, before_id, touch=False)
            for a in dict.fromkeys(author_ids)
        }

    async def recent_store(self, author_id: int, tweet_ids: Sequence[int], cap: int) -> None:
        self._recent.store(author_id, tweet_ids, cap)

    async def recent_add(self, author_id: int, tweet_id: int, cap: int) -> bool:
        if self._recent.find(author_id) is None:
            return False
        self._recent.add(author_id, [tweet_id], cap)
        return True

    async def recent_remove(self, author_id: int, tweet_ids: Sequence[int]) -> None:
        self._recent.remove(author_id, tweet_ids)


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


class MemoryEventBus:
    def __init__(self) -> None:
        self._listeners: set[asyncio.Queue[Event]] = set()

    async def open(self) -> None:
        """Nothing to connect to."""

    async def publish(self, event: Event) -> None:
        for queue in self._listeners:
            queue.put_nowait(event)

    async def listen(self) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._listeners.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners.discard(queue)

    async def close(self) -> None:
        self._listeners.clear()
