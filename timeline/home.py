"""Reading home timelines: the cached list, the celebrity merge, the pull path, the filters.

A hybrid read asks the graph which celebrities the viewer follows
(from the few marked users, not the viewer's followee list). The cached ids
of the viewer's timeline are merged with those celebrities' recent lists;
the candidates are hydrated newest first, in chunks of what the page still
needs plus a small margin, and filtered: deleted tweets, authors no longer
followed (one batched edge check of the chunk's distinct authors; the
viewer's own tweets are always kept), retweets whose original is gone, and a
second showing of the same original. So a read of a warm timeline costs
O(page size), whatever the number of followees. The whole followee list is
loaded, once per read, only by the paths that need every followee: rebuilding
an absent timeline, the store's answer for an empty one, the pull
continuation past the cache, the pull strategy and the cache-down fallback.
A cached list is authoritative only down to the oldest id it holds (an empty
one, which deletes or unfollows may have emptied, not at all); below that,
pages come from the stores, so scrolling back never ends early. When the
cache fails, the whole read is served by the pull path.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core import metrics
from core.models import TweetRecord
from docstore.port import TweetStore
from graph.port import SocialGraph
from timeline.config import UNAVAILABLE, TimelineConfig
from timeline.feeds import Feeds
from timeline.port import TimelineCache, Window

log = logging.getLogger("chirp.timeline")


@dataclass(frozen=True)
class _Listed:
    """A window read for a page, and whether the stores answered it (exact to the end)."""

    window: Window
    from_store: bool


def _exact_bound(lists: Sequence[_Listed], size: int) -> int | None:
    """The id down to which every list is exact below the cursor it was read at.

    A list read ``size`` ids deep is exact down to the last id it returned. One
    that returned fewer is exact down to the oldest id it holds; if it returned
    nothing, the cursor is at or below its oldest id (or removals emptied it) and
    it knows nothing more: None, the stores must answer. A window the stores
    answered short holds everything there is: exact down to 0.
    """
    bounds: list[int] = []
    for listed in lists:
        ids = listed.window.ids
        if len(ids) >= size:
            bounds.append(ids[-1])
        elif listed.from_store:
            bounds.append(0)
        elif not ids:
            return None
        else:
            bounds.append(min(listed.window.oldest, ids[-1]))
    return max(bounds)


class _Followees:
    """Whom one read's viewer follows, asked of the graph as narrowly as the read needs.

    The viewer counts as followed (their own tweets are always kept), and so do
    the celebrities the read found the viewer following. Other authors are
    checked with one batched edge lookup (``existing_follows``) per chunk of
    candidates, each author once per read. The whole followee list is loaded
    only when a path needs every followee, at most once, and then answers
    every later question of the read.
    """

    def __init__(
        self,
        graph: SocialGraph,
        viewer_id: int,
        known: Iterable[int] = (),
        every: Iterable[int] | None = None,
    ) -> None:
        self._graph = graph
        self.viewer_id = viewer_id
        self._viewer_id = viewer_id
        self._followed: set[int] = {viewer_id, *known}
        self._not_followed: set[int] = set()
        # ``every``: a fixed set of authors standing for the followees (a list's members)
        self._all: set[int] | None = None if every is None else set(every)
        self._hidden: set[int] | None = None

    async def hidden(self) -> set[int]:
        """Whom the viewer must not see (blocks either way, active mutes): asked once per
        read, so a block or a mute holds on the next page, whatever the cache holds."""
        if self._hidden is None:
            now_ms = int(time.time() * 1000)
            self._hidden = await self._graph.hidden_ids(self._viewer_id, now_ms)
        return self._hidden

    async def all(self) -> set[int]:
        """The viewer and every followee."""
        if self._all is None:
            self._all = {self._viewer_id, *await self._graph.following_ids(self._viewer_id)}
        return self._all

    async def among(self, authors: Iterable[int]) -> set[int]:
        """Those of ``authors`` that the viewer follows (or is)."""
        wanted = set(authors)
        if self._all is not None:
            return wanted & self._all
        unknown = wanted - self._followed - self._not_followed
        if unknown:
            pairs = [(self._viewer_id, author) for author in sorted(unknown)]
            found = {followee for _, followee in await self._graph.existing_follows(pairs)}
            self._followed |= found
            self._not_followed |= unknown - found
        return wanted & self._followed


class HomeTimeline:
    def __init__(
        self,
        graph: SocialGraph,
        tweets: TweetStore,
        cache: TimelineCache,
        feeds: Feeds,
        config: TimelineConfig,
        unavailable: tuple[type[BaseException], ...] = UNAVAILABLE,
    ) -> None:
        self.graph = graph
        self.tweets = tweets
        self.cache = cache
        self.feeds = feeds
        self.config = config
        # errors of the cache that mean "down right now": serve by pull, don't fail
        self.unavailable = unavailable

    async def read(
        self,
        viewer_id: int,
        limit: int,
        before_id: int | None,
        shown: Iterable[int] = (),
    ) -> list[TweetRecord]:
        """Up to ``limit`` tweets of the viewer's home timeline below ``before_id``, newest first.

        Each original is shown once, at its newest appearance: an older retweet of it,
        or the original itself, is folded into the showing above. ``shown``: the
        originals earlier pages showed (a cursor carries them), so that a page never
        depends on the page size.
        """
        if limit <= 0:
            return []
        seen = set(shown)
        if self.config.strategy == "pull":
            metrics.TIMELINE_READS.labels("store").inc()
            followees = _Followees(self.graph, viewer_id)
            return await self._pull(followees, limit, before_id, seen)
        celebrities = (
            sorted(set(await self.graph.followed_celebrities(viewer_id)) - {viewer_id})
            if self.config.strategy == "hybrid"
            else []
        )
        followees = _Followees(self.graph, viewer_id, celebrities)
        try:
            return await self._cached(
                viewer_id, followees, celebrities, limit, before_id, set(seen)
            )
        except self.unavailable as exc:
            log.warning("timeline cache unavailable (%s): serving %s by pull", exc, viewer_id)
            metrics.TIMELINE_READS.labels("store").inc()
            return await self._pull(followees, limit, before_id, seen)

    async def read_authors(
        self,
        viewer_id: int,
        authors: Iterable[int],
        limit: int,
        before_id: int | None,
        shown: Iterable[int] = (),
    ) -> list[TweetRecord]:
        """A timeline of these authors' tweets and retweets (a list's members), newest
        first, as the viewer may see it: the pull path with the home timeline's
        batching and filters (blocks and mutes, the reply rule with the authors as
        the ones followed, each original once). A page costs a constant number of
        store calls, whatever the number of authors."""
        if limit <= 0:
            return []
        members = _Followees(self.graph, viewer_id, every=authors)
        return await self._pull(members, limit, before_id, set(shown))

    async def admits(self, viewer_id: int, tweet: TweetRecord) -> bool:
        """Whether a new tweet by someone the viewer follows (or by the viewer) belongs in
        their home timeline now, by the rules a read applies: for the live feed."""
        followees = _Followees(self.graph, viewer_id)
        kept = await self._filter_records(
            viewer_id,
            [tweet],
            await followees.among({tweet.author_id} | answered_authors([tweet])),
            set(),
            await followees.hidden(),
        )
        return bool(kept)

    async def _cached(
        self,
        viewer_id: int,
        followees: _Followees,
        celebrities: list[int],
        limit: int,
        before_id: int | None,
        seen: set[int],
    ) -> list[TweetRecord]:
        window = max(2 * limit, limit + 20)  # room for what filtering drops (ids only)
        page: list[TweetRecord] = []
        cursor = before_id
        sources = {"cache"}
        for _ in range(self.config.max_windows):
            home = await self.cache.get(viewer_id, window, cursor)
            if home is None:
                pushed = await followees.all() - set(celebrities)
                await self.feeds.rebuild(viewer_id, pushed)
                sources = (sources - {"cache"}) | {"rebuild"}
                home = await self.cache.get(viewer_id, window, cursor) or Window([], 0)
            if home.ids:
                lists = [_Listed(home, from_store=False)]
            elif home.oldest:
                break  # the cursor is past the cached timeline: only the stores know
            else:
                # An empty timeline holds nothing, or was emptied by deletes and unfollows
                # while older tweets remain: the store answers for the pushed authors.
                sources.add("store")
                pushed = await followees.all() - set(celebrities)
                lists = [await self._stored(sorted(pushed), window, cursor)]
            if celebrities:
                metrics.CELEBRITY_MERGES.inc()
                lists += await self._celebrity_windows(celebrities, window, cursor)
            bound = _exact_bound(lists, window)
            if bound is None:
                break  # a list knows nothing below the cursor: only the stores do
            candidates = sorted(
                {i for w in lists for i in w.window.ids if i >= bound}, reverse=True
            )
            page += await self._filter(candidates, limit - len(page), followees, seen)
            if len(page) >= limit or bound == 0:
                return self._served(page[:limit], sources)
            cursor = bound
            if all(len(w.window.ids) < window for w in lists):
                break  # below every list's oldest id: only the stores know
        # The rest of the page (past the cache, or past max_windows of filtered-out ids)
        # comes from the stores, so a short page always means the end of the timeline.
        page += await self._pull(followees, limit - len(page), cursor, seen)
        return self._served(page[:limit], sources | {"store"})

    @staticmethod
    def _served(page: list[TweetRecord], sources: set[str]) -> list[TweetRecord]:
        """Count the page once, under the costliest source it needed."""
        source = next(s for s in ("rebuild", "store", "cache") if s in sources | {"cache"})
        metrics.TIMELINE_READS.labels(source).inc()
        return page

    async def _stored(self, authors: list[int], window: int, cursor: int | None) -> _Listed:
        """A window the tweet store answers: exact to the end when it comes back short."""
        stored = await self.tweets.tweets_by_authors(authors, window, cursor)
        ids = [t.id for t in stored]
        return _Listed(Window(ids, ids[-1] if ids else 0), from_store=True)

    async def _celebrity_windows(
        self, celebrities: list[int], window: int, cursor: int | None
    ) -> list[_Listed]:
        recent = await self.cache.recent_get(celebrities, window, cursor)
        lists = [_Listed(w, from_store=False) for w in recent.values() if w is not None]
        missing = [author for author, w in recent.items() if w is None]
        if missing and cursor is None:
            # Recent lists lost (the cache was flushed or restarted): a first page fills
            # them as the celebrity's next post would, so later reads find them again.
            await asyncio.gather(*(self.feeds.fill_recent(author) for author in missing))
            recent = await self.cache.recent_get(missing, window, cursor)
            lists += [_Listed(w, from_store=False) for w in recent.values() if w is not None]
            missing = [author for author, w in recent.items() if w is None]
        if missing:  # still not cached, or a deeper page: the store answers
            lists.append(await self._stored(missing, window, cursor))
        return lists

    async def _pull(
        self, followees: _Followees, limit: int, before_id: int | None, seen: set[int]
    ) -> list[TweetRecord]:
        """The pull path: the followees' tweets straight from the tweet store."""
        page: list[TweetRecord] = []
        cursor = before_id
        batch = max(2 * limit, limit + 20)
        following = await followees.all()
        hidden = await followees.hidden()
        authors = list(following - hidden)
        for _ in range(self.config.max_windows):
            rows = await self.tweets.tweets_by_authors(authors, batch, cursor)
            page += await self._filter_records(followees.viewer_id, rows, following, seen, hidden)
            if len(page) >= limit or len(rows) < batch:
                break
            cursor = rows[-1].id
        return page[:limit]

    async def _filter(
        self, ids: Sequence[int], need: int, followees: _Followees, seen: set[int]
    ) -> list[TweetRecord]:
        """The tweets among ``ids`` (newest first) a reader may see, until ``need`` are found.

        Hydrates in chunks of what is still needed plus a margin, so a page reads
        about its own size of tweets however many candidates the lists gave; the
        result is what filtering every candidate at once would give, cut at ``need``
        (or a little past it).
        """
        kept: list[TweetRecord] = []
        start = 0
        while start < len(ids) and len(kept) < need:
            chunk = ids[start : start + need - len(kept) + self.config.hydrate_margin]
            start += len(chunk)
            found = await self.tweets.get_tweets(chunk)
            rows = [found[i] for i in chunk if i in found]
            followed = await followees.among({r.author_id for r in rows} | answered_authors(rows))
            hidden = await followees.hidden()
            kept += await self._filter_records(followees.viewer_id, rows, followed, seen, hidden)
        return kept

    async def _filter_records(
        self,
        viewer_id: int,
        rows: Sequence[TweetRecord],
        followed: set[int],
        seen: set[int],
        hidden: set[int],
    ) -> list[TweetRecord]:
        """Drop what a reader must not see.

        ``followed`` holds the viewer and at least those of the rows' authors (and of
        the authors their replies answer) that the viewer follows; ``seen`` holds the
        originals already shown (on this page or, carried by the cursor, on earlier
        ones); ``hidden`` the accounts blocked either way or muted.
        """
        originals = {r.retweet_of_id for r in rows if r.retweet_of_id is not None}
        alive = await self.tweets.get_tweets(list(originals)) if originals else {}
        kept: list[TweetRecord] = []
        for row in rows:
            if row.author_id not in followed:
                continue  # unfollowed since it was cached
            if row.author_id in hidden:
                continue  # blocked or muted
            if row.retweet_of_id is not None:
                shown = alive.get(row.retweet_of_id)
                if shown is None:
                    continue  # a retweet of a deleted tweet
                if shown.author_id in hidden:
                    continue  # a retweet of a blocked or muted account's tweet
            elif not reply_reaches(row, viewer_id, followed):
                continue
            original = row.retweet_of_id if row.retweet_of_id is not None else row.id
            if original in seen:
                continue  # the same original, shown already: folded into that showing
            seen.add(original)
            kept.append(row)
        return kept


def reply_reaches(tweet: TweetRecord, reader_id: int, followed: set[int]) -> bool:
    """Whether a tweet by someone the reader follows may be in the reader's home
    timeline, as Twitter decides for replies.

    Not a reply: yes. A reply reaches a reader who follows both its author and the
    author it answers (``followed`` holds whom the reader follows, among them the
    answered author if followed), the reader it answers, and everyone when the
    author answers themself (a thread). The reader's own replies are always there.
    """
    answered = tweet.in_reply_to_user_id
    if tweet.in_reply_to_id is None or answered is None:
        return True
    return (
        tweet.author_id == reader_id
        or answered == tweet.author_id
        or answered == reader_id
        or answered in followed
    )


def answered_authors(rows: Iterable[TweetRecord]) -> set[int]:
    """The authors these rows' replies answer (whose follow the reply rule asks about)."""
    return {
        r.in_reply_to_user_id
        for r in rows
        if r.in_reply_to_user_id is not None and r.retweet_of_id is None
    }
