"""Feed operations shared by reading and fan-out: rebuilding a home timeline, refilling a
celebrity's recent list.

Both paths meet a cached list that is absent (never made, expired, or lost with
the cache) and make it present again from the tweet store, as Mastodon's
``FeedManager#populate_home`` does for its feeds. The reader does it when it finds
a timeline or recent list missing; fan-out when a celebrity's post finds no recent
list to add to.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from docstore.port import TweetStore
from timeline.config import TimelineConfig
from timeline.port import TimelineCache


class Feeds:
    def __init__(self, tweets: TweetStore, cache: TimelineCache, config: TimelineConfig) -> None:
        self.tweets = tweets
        self.cache = cache
        self.config = config
        # Fills under way, by what they fill: concurrent readers of one missing list (every
        # reader of a celebrity, after Redis came back empty) share one fill, not one each.
        self._filling: dict[tuple[str, int], asyncio.Task[None]] = {}

    async def _once(self, what: tuple[str, int], fill: Callable[[], Awaitable[None]]) -> None:
        running = self._filling.get(what)
        if running is None:
            running = asyncio.ensure_future(fill())
            self._filling[what] = running
            running.add_done_callback(lambda _: self._filling.pop(what, None))
        await asyncio.shield(running)  # a reader that gives up leaves the fill to the others

    async def rebuild(self, viewer_id: int, authors: set[int]) -> None:
        """Fill an absent timeline from the stores, then catch up with what arrived meanwhile.

        A tweet fanned out while the rebuild read the store found no timeline to
        enter; the second, smaller read picks it up. Concurrent rebuilds of one
        timeline are one.
        """
        await self._once(("home", viewer_id), lambda: self._rebuild(viewer_id, authors))

    async def _rebuild(self, viewer_id: int, authors: set[int]) -> None:
        cap = self.config.cap
        newest = await self.tweets.tweets_by_authors(list(authors), cap)
        await self.cache.store(viewer_id, [t.id for t in newest], cap)
        try:
            caught_up = await self.tweets.tweets_by_authors(list(authors), min(cap, 100))
            await self.cache.extend(viewer_id, [t.id for t in caught_up], cap)
        except BaseException:
            # Present but maybe short of a tweet pushed while the first read ran (its
            # push found no timeline): absent again, so the next read rebuilds it.
            with contextlib.suppress(Exception):
                await self.cache.drop(viewer_id)
            raise

    async def fill_recent(self, author_id: int) -> None:
        """Make a celebrity's recent list present, from the tweet store.

        Called by the fan-out of a celebrity's post when the list is absent, and by a
        first page that found it lost. ``recent_store`` merges: an id a concurrent
        post added meanwhile stays. An id deleted meanwhile may come back into the
        list, where reads drop it (every candidate is hydrated, and a deleted tweet
        is not found). Concurrent fills of one list are one.
        """
        await self._once(("recent", author_id), lambda: self._fill_recent(author_id))

    async def _fill_recent(self, author_id: int) -> None:
        cap = self.config.recent_cap
        newest = await self.tweets.tweets_by_authors([author_id], cap)
        await self.cache.recent_store(author_id, [t.id for t in newest], cap)
