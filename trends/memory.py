"""The in-process trend store: the embedded default's, rebuilt from the tweet store at start-up.

It counts as the Redis adapter does (trends/port.py), in dictionaries:

    windows[bucket][tag]  account-buckets, tweets, and the authors whose last use
                          of the tag is in this bucket       one per 5-minute bucket
    hours[hour][tag]      distinct accounts                  one per baseline hour
    last[tag][author]     last use (ms)

Each author sits in the ``latest`` set of the one bucket holding their last use
of the tag, so a window's distinct accounts are the sizes of those sets summed
over its buckets: a read is one pass over the window's buckets, whatever the
number of authors.

Memory is bounded by what a read can reach: each time the newest time seen
(recorded or read) enters a new window bucket, the buckets older than their
retention are dropped, with the last uses they hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from trends.port import DEFAULT_GEOMETRY, Geometry, TagActivity, WindowActivity


@dataclass(slots=True)
class Counts:
    """One tag in one window bucket."""

    account_buckets: int = 0
    tweets: int = 0
    latest: set[int] = field(default_factory=set)  # authors whose last use is in this bucket


class MemoryTrendStore:
    def __init__(self, geometry: Geometry = DEFAULT_GEOMETRY) -> None:
        self.geometry = geometry
        self.windows: dict[int, dict[str, Counts]] = {}
        self.hours: dict[int, dict[str, int]] = {}
        self.last: dict[str, dict[int, int]] = {}
        self.newest_ms = 0  # the latest time recorded or read: what retention counts from

    async def record(self, tags: Sequence[str], author_id: int, at_ms: int) -> None:
        self.record_now(tags, author_id, at_ms)

    def record_now(self, tags: Sequence[str], author_id: int, at_ms: int) -> None:
        g = self.geometry
        self._advance(at_ms)
        if at_ms < self.newest_ms - g.baseline_retention_ms:
            return  # no read reaches it any more
        bucket = at_ms // g.bucket_ms
        bucket_start = bucket * g.bucket_ms
        hour = at_ms // g.baseline_bucket_ms
        hour_start = hour * g.baseline_bucket_ms
        counts = self.windows.setdefault(bucket, {})
        accounts = self.hours.setdefault(hour, {})
        for tag in tags:
            users = self.last.setdefault(tag, {})
            previous = users.get(author_id)
            if previous == at_ms:
                continue  # this tweet again (a redelivered job)
            entry = counts.get(tag)
            if entry is None:
                entry = counts[tag] = Counts()
            entry.tweets += 1
            if previous is not None and previous > at_ms:
                continue  # out of order: the author is counted where their later use is
            users[author_id] = at_ms
            if previous is not None:
                held = self.windows.get(previous // g.bucket_ms, {}).get(tag)
                if held is not None:
                    held.latest.discard(author_id)
            entry.latest.add(author_id)
            if previous is None or previous < bucket_start:
                entry.account_buckets += 1
            if previous is None or previous < hour_start:
                accounts[tag] = accounts.get(tag, 0) + 1

    async def window(
        self, now_ms: int, window_ms: int, limit: int, min_accounts: int = 1
    ) -> WindowActivity:
        g = self.geometry
        self._advance(now_ms)
        buckets = g.window_buckets(now_ms, window_ms)
        start = buckets.start * g.bucket_ms
        sums: dict[str, list[int]] = {}  # tag -> [account-buckets, tweets, accounts]
        for bucket in buckets:
            for tag, counts in self.windows.get(bucket, {}).items():
                total = sums.get(tag)
                if total is None:
                    total = sums[tag] = [0, 0, 0]
                total[0] += counts.account_buckets
                total[1] += counts.tweets
                total[2] += len(counts.latest)
        ranked = sorted(
            (item for item in sums.items() if item[1][0] >= min_accounts),
            key=lambda item: (-item[1][0], item[0]),
        )[: max(limit, 0)]
        hours = [self.hours.get(hour, {}) for hour in g.baseline_hours(start)]
        tags = [
            TagActivity(tag, accounts, tweets, tuple(hour.get(tag, 0) for hour in hours))
            for tag, (_, tweets, accounts) in ranked
        ]
        return WindowActivity(start, tags)

    def _advance(self, at_ms: int) -> None:
        """Move the newest time on to ``at_ms``, dropping what no read reaches any more."""
        if at_ms <= self.newest_ms:
            return
        g = self.geometry
        before = self.newest_ms
        self.newest_ms = at_ms
        if at_ms // g.bucket_ms == before // g.bucket_ms:
            return
        window_floor = (at_ms - g.window_retention_ms) // g.bucket_ms
        for bucket in [b for b in self.windows if b < window_floor]:
            for tag, counts in self.windows.pop(bucket).items():
                users = self.last.get(tag)
                if users is None:
                    continue
                for author in counts.latest:
                    users.pop(author, None)
                if not users:
                    del self.last[tag]
        hour_floor = (at_ms - g.baseline_retention_ms) // g.baseline_bucket_ms
        for hour in [h for h in self.hours if h < hour_floor]:
            del self.hours[hour]

    def held(self) -> tuple[int, int, int]:
        """(window buckets, baseline buckets, last uses) held: what memory is spent on."""
        return len(self.windows), len(self.hours), sum(len(u) for u in self.last.values())

    async def open(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self.windows.clear()
        self.hours.clear()
        self.last.clear()
