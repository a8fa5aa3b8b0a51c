"""The trends port: how many distinct accounts used each hashtag, per time bucket.

Writing a tweet records each of its hashtags once for its author in the bucket of
its time (``record``: O(hashtags in the tweet)). Reading returns, for the tags
used in a recent window, the distinct accounts and tweets in that window and in
the baseline before it (``window``), from which the service scores them. One
account using a tag many times in a bucket counts once there. Buckets expire
after the baseline has passed them.

Adapters: ``trends/memory.py`` (in process; the embedded default rebuilds it from
the tweet store at start-up) and ``trends/redis.py`` (time-bucketed keys with
expiry, Cluster-safe), through the same contract suite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class TagActivity:
    """One tag's use: in the window, and per baseline bucket before it."""

    tag: str
    accounts: int  # distinct authors in the window
    tweets: int  # tweets in the window
    baseline_accounts: tuple[
        int, ...
    ]  # distinct authors per bucket before the window, oldest first


class TrendStore(Protocol):
    async def record(self, tags: Sequence[str], author_id: int, at_ms: int) -> None:
        """A tweet by ``author_id`` at ``at_ms`` carried these (case-folded) tags."""
        ...

    async def window(
        self, now_ms: int, window_ms: int, baseline_ms: int, limit: int
    ) -> list[TagActivity]:
        """The (at most ``limit``) tags with the most distinct accounts in the window
        ``[now_ms - window_ms, now_ms]``, each with its baseline over the
        ``baseline_ms`` before the window. One or two round trips."""
        ...

    async def open(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
