"""The bookmarks port: the tweets each user saved for later, visible to that user only.

A bookmark exists once per (user, tweet): bookmarking again, or concurrently, keeps
the first one, with its id, so its place in the list does not move. Its id is a
snowflake the service makes when the bookmark is asked for; ids sort by time, so
"most recently bookmarked first" is "highest bookmark id first", and a bookmark id is
the cursor. There is no cap on how many tweets a user bookmarks. Privacy (only the
user reads their bookmarks) is the service's: the store answers for whichever user
it is asked about.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.models import BookmarkEdge


class BookmarkStore(Protocol):
    async def bookmark(self, user_id: int, tweet_id: int, bookmark_id: int) -> bool:
        """Bookmark the tweet for the user: True if new, False if it was bookmarked
        already (then nothing changes, ``bookmark_id`` is not used)."""
        ...

    async def unbookmark(self, user_id: int, tweet_id: int) -> bool:
        """Remove the user's bookmark of the tweet: True if removed, False if there was none."""
        ...

    async def bookmarks_of(
        self, user_id: int, limit: int, before_bookmark_id: int | None = None
    ) -> list[BookmarkEdge]:
        """The user's bookmarks with bookmark_id < before_bookmark_id, most recent first."""
        ...

    async def bookmarked_tweet_ids(self, user_id: int, tweet_ids: Sequence[int]) -> set[int]:
        """Which of ``tweet_ids`` the user has bookmarked (Tweet.viewerHasBookmarked for a
        page of tweets in one call)."""
        ...

    async def remove_tweet_everywhere(self, tweet_id: int) -> int:
        """Remove every bookmark of this (deleted) tweet, whoever made it; how many."""
        ...

    async def open(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
