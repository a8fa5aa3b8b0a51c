"""The trends port: how many tweets and distinct accounts used each hashtag, and when.

The store counts; the service (services/trends.py) scores. Counting happens in
time buckets of a fixed ``Geometry``:

- **Window buckets** (5 minutes): per tag, the tweets carrying it, and its
  *account-buckets* (how many authors used it for the first time in that
  bucket). Summed over a window they rank the candidates cheaply; one account
  repeating a tag adds one account-bucket per bucket at most, never one per tweet.
- **Last use** per (tag, author): the time of the author's latest use of the
  tag. The distinct accounts of a window are the authors whose last use falls
  in it: exact, whatever the window's length, however often one account
  repeats a tag.
- **Baseline buckets** (1 hour): per tag, the distinct authors of each hour.
  The 24 hours before a window are its tag's own baseline.

A read (``window``) answers for one window: the candidates (the tags with the
most account-buckets in it), each with its tweets and distinct accounts in the
window and its distinct accounts per baseline hour. A window is rounded out to
whole window buckets: it starts at the beginning of the bucket holding
``now_ms - window_ms`` and ends with the bucket holding ``now_ms``. Its
baseline is the ``baseline_buckets`` whole hours before the hour the window
starts in.

Writing (``record``) is O(tags in the tweet). It is idempotent for a
redelivered tweet: a record with the same author, tag and millisecond as that
author's last use of the tag is the same tweet again and changes nothing. A
record older than the author's last use of the tag (out of order) adds its
tweet but no account: the author is already counted where their later use is.

Nothing is kept past what a read can ask for (``Geometry.history_ms``): the
memory adapter drops older buckets and last uses, the Redis adapter gives
every key an expiry. A read's ``now_ms`` is the present: a read as of an
earlier time may find the oldest of its buckets gone.

Adapters: ``trends/memory.py`` (in process; the embedded default rebuilds it
from the tweet store at start-up) and ``trends/redis.py`` (time-bucketed keys
with expiry, Cluster-safe), through the same contract suite
(tests/contract/test_trend_store_contract.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS


@dataclass(frozen=True)
class Geometry:
    """The buckets a trend store counts in; every adapter and the service share one."""

    bucket_ms: int = 5 * MINUTE_MS  # window buckets
    baseline_bucket_ms: int = HOUR_MS  # baseline buckets
    baseline_buckets: int = 24  # baseline buckets before a window
    max_window_ms: int = 24 * HOUR_MS  # the longest window a read may ask for

    def __post_init__(self) -> None:
        if self.bucket_ms < 1 or self.baseline_bucket_ms % self.bucket_ms:
            raise ValueError("a baseline bucket must be a whole number of window buckets")
        if self.baseline_buckets < 1 or self.max_window_ms < self.bucket_ms:
            raise ValueError("need at least one baseline bucket and one window bucket")

    def window_start(self, now_ms: int, window_ms: int) -> int:
        """Where the window ending at ``now_ms`` starts: a window-bucket boundary."""
        return (now_ms - window_ms) // self.bucket_ms * self.bucket_ms

    def window_buckets(self, now_ms: int, window_ms: int) -> range:
        """The window's bucket numbers (time // bucket_ms), oldest first."""
        return range(
            self.window_start(now_ms, window_ms) // self.bucket_ms,
            self.bucket_end(now_ms) // self.bucket_ms,
        )

    def bucket_end(self, at_ms: int) -> int:
        """The end (exclusive) of the window bucket holding ``at_ms``."""
        return (at_ms // self.bucket_ms + 1) * self.bucket_ms

    def baseline_hours(self, window_start_ms: int) -> range:
        """The baseline's bucket numbers (time // baseline_bucket_ms), oldest first."""
        first = window_start_ms // self.baseline_bucket_ms - self.baseline_buckets
        return range(first, first + self.baseline_buckets)

    @property
    def window_retention_ms(self) -> int:
        """How long after its end a window bucket (or a last use) may still be read."""
        return self.max_window_ms + self.bucket_ms

    @property
    def baseline_retention_ms(self) -> int:
        """How long after its end a baseline bucket may still be read."""
        return self.max_window_ms + self.bucket_ms + self.baseline_buckets * self.baseline_bucket_ms

    @property
    def history_ms(self) -> int:
        """How far back of now any read can reach: what a rebuild must replay."""
        return self.baseline_retention_ms + self.baseline_bucket_ms


DEFAULT_GEOMETRY = Geometry()


@dataclass(frozen=True)
class TagActivity:
    """One tag's use in a window, and in each baseline bucket before it."""

    tag: str
    accounts: int  # distinct authors in the window
    tweets: int  # tweets in the window
    baseline: tuple[int, ...]  # distinct authors per baseline bucket, oldest first


@dataclass(frozen=True)
class WindowActivity:
    """The answer to a read: the window as rounded, and its candidates."""

    start_ms: int  # the window is [start_ms, now_ms]
    tags: list[TagActivity]  # most account-buckets first, then by name


class TrendsUnavailable(Exception):
    """The trend store did not answer (in time)."""


class TrendStore(Protocol):
    geometry: Geometry

    async def record(self, tags: Sequence[str], author_id: int, at_ms: int) -> None:
        """A tweet by ``author_id`` at ``at_ms`` carried these tags (case-folded, unique)."""
        ...

    async def window(
        self, now_ms: int, window_ms: int, limit: int, min_accounts: int = 1
    ) -> WindowActivity:
        """The (at most ``limit``) tags with the most account-buckets in the window
        ending at ``now_ms`` (ties by name), leaving out those with fewer than
        ``min_accounts`` (which cannot have that many distinct accounts either).
        One or two round trips, whatever the number of tags or buckets."""
        ...

    async def open(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
