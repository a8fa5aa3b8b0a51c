"""The embedded timeline cache: in-process, bounded by the cap and an LRU of users."""

from __future__ import annotations

import bisect
from collections import OrderedDict
from collections.abc import Sequence


class MemoryTimelineCache:
    def __init__(self, max_timelines: int = 100_000) -> None:
        # Each timeline is a list of NEGATED ids kept ascending, i.e. newest first.
        self._timelines: OrderedDict[int, list[int]] = OrderedDict()
        self._max_timelines = max_timelines

    def _touch(self, user_id: int) -> list[int] | None:
        entries = self._timelines.get(user_id)
        if entries is not None:
            self._timelines.move_to_end(user_id)
        return entries

    async def get(self, user_id: int, limit: int, before_id: int | None = None) -> list[int] | None:
        entries = self._touch(user_id)
        if entries is None:
            return None
        start = 0 if before_id is None else bisect.bisect_right(entries, -before_id)
        return [-neg for neg in entries[start : start + max(limit, 0)]]

    async def store(self, user_id: int, tweet_ids: Sequence[int], cap: int) -> None:
        current = self._timelines.get(user_id, [])
        merged = sorted(set(current) | {-tid for tid in tweet_ids})[:cap]
        self._timelines[user_id] = merged
        self._timelines.move_to_end(user_id)
        while len(self._timelines) > self._max_timelines:
            self._timelines.popitem(last=False)

    async def push(self, user_ids: Sequence[int], tweet_id: int, cap: int) -> int:
        delivered = 0
        neg = -tweet_id
        for user_id in dict.fromkeys(user_ids):
            entries = self._timelines.get(user_id)
            if entries is None:
                continue
            index = bisect.bisect_left(entries, neg)
            if index >= cap or (index < len(entries) and entries[index] == neg):
                continue  # older than everything the capped timeline keeps, or there already
            entries.insert(index, neg)
            del entries[cap:]
            delivered += 1
        return delivered

    async def remove(self, user_id: int, tweet_ids: Sequence[int]) -> None:
        entries = self._timelines.get(user_id)
        if entries is None:
            return
        gone = {-tid for tid in tweet_ids}
        entries[:] = [neg for neg in entries if neg not in gone]

    async def drop(self, user_id: int) -> None:
        self._timelines.pop(user_id, None)

    async def open(self) -> None:
        """Nothing to connect to."""

    async def ping(self) -> None:
        """Always answers: it lives in this process."""

    async def close(self) -> None:
        self._timelines.clear()
