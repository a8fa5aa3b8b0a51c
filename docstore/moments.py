"""The moments port: tweets a user curated into a titled set, in the order added.

A moment is a record (owner, title, description, when it was made) and its entries:
each tweet at most once, at a ``position`` the store gives it (``MomentEntry``): one
more than the last position the moment ever gave, so the tweets read first added
first, and a position is the cursor of ``moment_tweets``. Adding a tweet that is in
the moment already changes nothing: it keeps its first position. ``tweet_count`` is
kept on the record and changed in the same transaction as the entry it counts, so
it is exact under concurrency.

Moment ids are snowflakes the service makes; "newest first" is "highest id first".
Who may change a moment (its owner only) is the service's to decide: it reads the
moment first; a mutation answers None when the moment is not there (any more), and
the moment as it now is otherwise. A deleted tweet leaves every moment through
``remove_tweet_everywhere``, which the tweet-delete path calls (an index on the
entries' tweet id makes it a range read, however many moments there are).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.models import MomentEntry, MomentRecord


class MomentStore(Protocol):
    async def create_moment(
        self, moment: MomentRecord, tweet_ids: Sequence[int] = ()
    ) -> MomentRecord:
        """Store the moment (its ``tweet_count`` is ignored) with these tweets, in this
        order (a tweet named twice keeps its first place), in one transaction; returns it
        as stored, counted."""
        ...

    async def get_moments(self, ids: Sequence[int]) -> dict[int, MomentRecord]:
        """Moments by id (Query.moment, Query.node); missing ids are absent."""
        ...

    async def moments_of(
        self, owner_id: int, limit: int, before_id: int | None = None
    ) -> list[MomentRecord]:
        """The owner's moments with id < before_id, newest first."""
        ...

    async def add_tweet(self, moment_id: int, tweet_id: int) -> MomentRecord | None:
        """Put the tweet last in the moment, unless it is in it already (then nothing
        changes). None: no such moment."""
        ...

    async def remove_tweet(self, moment_id: int, tweet_id: int) -> MomentRecord | None:
        """Take the tweet out of the moment, if it is in it. None: no such moment."""
        ...

    async def delete_moment(self, moment_id: int) -> MomentRecord | None:
        """Delete the moment and its entries; returns what was deleted, or None."""
        ...

    async def moment_tweets(
        self, moment_id: int, limit: int, after_position: int | None = None
    ) -> list[MomentEntry]:
        """The moment's entries with position > after_position, first added first."""
        ...

    async def remove_tweet_everywhere(self, tweet_id: int) -> int:
        """Take this (deleted) tweet out of every moment holding it, each one's count
        with it; how many moments it left."""
        ...

    async def open(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
