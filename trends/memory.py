"""The in-process trend store: the embedded default's, rebuilt from the tweet store at start-up.

It counts as the Redis adapter does (trends/port.py), in dictionaries:

    windows[bucket][tag] = [account-buckets, tweets]   one per 5-minute bucket
    hours[hour][tag] = distinct accounts               one per baseline hour
    last[tag][author] = last use (ms)

Memory is bounded by what a read can reach: each time the newest time seen
(recorded or read) enters a new window bucket, buckets older than their
retention are dropped, and each time it enters a new hour, so are last uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from trends.port import DEFAULT_GEOMETRY, Geometry, TagActivity, WindowActivity


class MemoryTrendStore:
    def __init__(self, geometry: Geometry = DEFAULT_GEOMETRY) -> None:
        self.geometry = geometry
        self.windows: dict[int, dict[str, list[int]]] = {}
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
            entry = counts.setdefault(tag, [0, 0])
            entry[1] += 1
            if previous is not None and previous > at_ms:
                continue  # out of order: the author is counted where their later use is
            users[author_id] = at_ms
            if previous is None or previous < bucket_start:
                entry[0] += 1
            if previous is None or previous < hour_start:
                accounts[tag] = accounts.get(tag, 0) + 1

    async def window(
        self, now_ms: int, window_ms: int, limit: int, min_accounts: int = 1
    ) -> WindowActivity:
        g = self.geometry
        self._advance(now_ms)
        buckets = g.window_buckets(now_ms, window_ms)
        start = buckets.start * g.bucket_ms
        end = buckets.stop * g.bucket_ms
        sums: dict[str, list[int]] = {}
        for bucket in buckets:
            for tag, (account_buckets, tweets) in self.windows.get(bucket, {}).items():
                total = sums.setdefault(tag, [0, 0])
                total[0] += account_buckets
                total[1] += tweets
        ranked = sorted(
            (item for item in sums.items() if item[1][0] >= min_accounts),
            key=lambda item: (-item[1][0], item[0]),
        )[: max(limit, 0)]
        hours = [self.hours.get(hour, {}) for hour in g.baseline_hours(start)]
        tags = [
            TagActivity(
                tag,
                sum(1 for at in self.last.get(tag, {}).values() if start <= at < end),
                tweets,
                tuple(hour.get(tag, 0) for hour in hours),
            )
            for tag, (_, tweets) in ranked
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
            del self.windows[bucket]
        hour_floor = (at_ms - g.baseline_retention_ms) // g.baseline_bucket_ms
        for hour in [h for h in self.hours if h < hour_floor]:
            del self.hours[hour]
        if at_ms // g.baseline_bucket_ms != before // g.baseline_bucket_ms:
            cutoff = at_ms - g.window_retention_ms
            for tag in list(self.last):
                users = self.last[tag]
                kept = {author: at for author, at in users.items() if at >= cutoff}
                if kept:
                    self.last[tag] = kept
                else:
                    del self.last[tag]

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
