"""The timeline engine: hybrid push/pull home timelines, written once above the ports.

Write path. Posting stores the tweet (marked for fan-out), then enqueues a
fan-out job and publishes a realtime event. A worker applies the job: for an
author below the celebrity threshold it pushes the tweet id into the cached
timeline of every follower that has one (a timeline exists only while its
owner keeps reading it, so inactive followers are skipped), in batches of one
pipeline each; for a celebrity it only adds the id to the author's recent
list. A tweet whose job never ran stays marked, and the repair pass enqueues
it again. Jobs run at least once; every step is idempotent.

Read path. A hybrid read asks the graph which celebrities the viewer follows
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
import contextlib
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core import metrics
from core.ids import id_timestamp_ms, min_id_for_ms
from core.models import TweetRecord
from docstore.port import TweetStore
from graph.port import SocialGraph
from timeline.events import EventBus
from timeline.port import TimelineCache, Window
from timeline.queue import FanoutQueue, Job

log = logging.getLogger("chirp.timeline")


@dataclass(frozen=True)
class TimelineConfig:
    strategy: str = "hybrid"  # hybrid | push | pull
    celebrity_threshold: int = 10_000
    cap: int = 800
    recent_cap: int = 200  # ids kept in a celebrity's recent list
    batch: int = 1000  # followers per fan-out batch
    max_windows: int = 4  # cache windows tried per page before going to the stores
    # Candidates hydrated per chunk beyond what the page still needs, for what filtering drops.
    hydrate_margin: int = 5
    # With fan-out workers in this process, a post waits up to this long for its
    # fan-out, so followers reading right after see it (0: return at once).
    wait_for_fanout_seconds: float = 0.0


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

    def __init__(self, graph: SocialGraph, viewer_id: int, known: Iterable[int] = ()) -> None:
        self._graph = graph
        self._viewer_id = viewer_id
        self._followed: set[int] = {viewer_id, *known}
        self._not_followed: set[int] = set()
        self._all: set[int] | None = None

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


class TimelineEngine:
    def __init__(
        self,
        graph: SocialGraph,
        tweets: TweetStore,
        cache: TimelineCache,
        queue: FanoutQueue,
        events: EventBus,
        config: TimelineConfig | None = None,
        unavailable: tuple[type[BaseException], ...] = (),
    ) -> None:
        self.graph = graph
        self.tweets = tweets
        self.cache = cache
        self.queue = queue
        self.events = events
        self.config = config or TimelineConfig()
        # errors of the cache, queue and bus that mean "down right now": degrade, don't fail
        self.unavailable = unavailable or (ConnectionError, OSError)
        self._fanned_out: dict[int, asyncio.Event] = {}  # posts waiting for their fan-out

    # ------------------------------------------------------------------ reads

    async def home(self, viewer_id: int, limit: int, before_id: int | None) -> list[TweetRecord]:
        """Up to ``limit`` tweets of the viewer's home timeline below ``before_id``, newest first."""
        if limit <= 0:
            return []
        if self.config.strategy == "pull":
            metrics.TIMELINE_READS.labels("store").inc()
            following = await _Followees(self.graph, viewer_id).all()
            return await self._pull(following, limit, before_id, set())
        celebrities = (
            sorted(set(await self.graph.followed_celebrities(viewer_id)) - {viewer_id})
            if self.config.strategy == "hybrid"
            else []
        )
        followees = _Followees(self.graph, viewer_id, celebrities)
        try:
            return await self._cached(viewer_id, followees, celebrities, limit, before_id)
        except self.unavailable as exc:
            log.warning("timeline cache unavailable (%s): serving %s by pull", exc, viewer_id)
            metrics.TIMELINE_READS.labels("store").inc()
            return await self._pull(await followees.all(), limit, before_id, set())

    async def user(
        self, user_id: int, limit: int, before_id: int | None, include_replies: bool
    ) -> list[TweetRecord]:
        return await self.tweets.tweets_by_authors(
            [user_id], limit, before_id, include_replies=include_replies
        )

    async def _cached(
        self,
        viewer_id: int,
        followees: _Followees,
        celebrities: list[int],
        limit: int,
        before_id: int | None,
    ) -> list[TweetRecord]:
        window = max(2 * limit, limit + 20)  # room for what filtering drops (ids only)
        page: list[TweetRecord] = []
        seen: set[int] = set()
        cursor = before_id
        sources = {"cache"}
        for _ in range(self.config.max_windows):
            home = await self.cache.get(viewer_id, window, cursor)
            if home is None:
                pushed = await followees.all() - set(celebrities)
                await self._rebuild(viewer_id, pushed)
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
        page += await self._pull(await followees.all(), limit - len(page), cursor, seen)
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
            await asyncio.gather(*(self._fill_recent(author) for author in missing))
            recent = await self.cache.recent_get(missing, window, cursor)
            lists += [_Listed(w, from_store=False) for w in recent.values() if w is not None]
            missing = [author for author, w in recent.items() if w is None]
        if missing:  # still not cached, or a deeper page: the store answers
            lists.append(await self._stored(missing, window, cursor))
        return lists

    async def _fill_recent(self, author_id: int) -> None:
        """Make a celebrity's recent list present, from the tweet store.

        Called by the fan-out of a celebrity's post when the list is absent, and by a
        first page that found it lost. ``recent_store`` merges: an id a concurrent
        post added meanwhile stays. An id deleted meanwhile may come back into the
        list, where reads drop it (every candidate is hydrated, and a deleted tweet
        is not found).
        """
        cap = self.config.recent_cap
        newest = await self.tweets.tweets_by_authors([author_id], cap)
        await self.cache.recent_store(author_id, [t.id for t in newest], cap)

    async def _rebuild(self, viewer_id: int, authors: set[int]) -> None:
        """Fill an absent timeline from the stores, then catch up with what arrived meanwhile.

        A tweet fanned out while the rebuild read the store found no timeline to
        enter; the second, smaller read picks it up.
        """
        cap = self.config.cap
        newest = await self.tweets.tweets_by_authors(list(authors), cap)
        await self.cache.store(viewer_id, [t.id for t in newest], cap)
        caught_up = await self.tweets.tweets_by_authors(list(authors), min(cap, 100))
        await self.cache.extend(viewer_id, [t.id for t in caught_up], cap)

    async def _pull(
        self, following: set[int], limit: int, before_id: int | None, seen: set[int]
    ) -> list[TweetRecord]:
        """The pull path: the followees' tweets straight from the tweet store."""
        page: list[TweetRecord] = []
        cursor = before_id
        batch = max(2 * limit, limit + 20)
        for _ in range(self.config.max_windows):
            rows = await self.tweets.tweets_by_authors(list(following), batch, cursor)
            page += await self._filter_records(rows, following, seen)
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
            followed = await followees.among({row.author_id for row in rows})
            kept += await self._filter_records(rows, followed, seen)
        return kept

    async def _filter_records(
        self, rows: Sequence[TweetRecord], followed: set[int], seen: set[int]
    ) -> list[TweetRecord]:
        """Drop what a reader must not see.

        ``followed`` holds the viewer and at least those of the rows' authors that the
        viewer follows; ``seen`` holds the originals already shown.
        """
        originals = {r.retweet_of_id for r in rows if r.retweet_of_id is not None}
        alive = await self.tweets.get_tweets(list(originals)) if originals else {}
        kept: list[TweetRecord] = []
        for row in rows:
            if row.author_id not in followed:
                continue  # unfollowed since it was cached
            original = row.retweet_of_id if row.retweet_of_id is not None else row.id
            if row.retweet_of_id is not None and original not in alive:
                continue  # a retweet of a deleted tweet
            if original in seen:
                continue  # the same original, already on this page
            seen.add(original)
            kept.append(row)
        return kept

    # ----------------------------------------------------------------- writes

    async def posted(self, tweet: TweetRecord) -> None:
        """After a tweet (or retweet) is stored: queue its fan-out, tell live subscribers.

        The author's own cached timeline takes the tweet at once, so an author
        always reads their own writes; followers get it from the fan-out job.
        """
        if self.config.strategy != "pull":
            try:
                own = await self.cache.push([tweet.author_id], tweet.id, self.config.cap)
                metrics.FANOUT_DELIVERIES.inc(own)
            except self.unavailable as exc:
                log.warning("timeline cache unavailable (%s): own timeline not updated", exc)
        done = asyncio.Event() if self.config.wait_for_fanout_seconds > 0 else None
        if done is not None:
            self._fanned_out[tweet.id] = done
        try:
            try:
                await self.queue.enqueue(Job("post", tweet.id, tweet.author_id))
            except self.unavailable as exc:
                log.warning(
                    "fan-out queue unavailable (%s): tweet %s waits for repair", exc, tweet.id
                )
                done = None
            await self.publish(tweet)
            if done is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), self.config.wait_for_fanout_seconds)
        finally:
            self._fanned_out.pop(tweet.id, None)

    async def publish(self, tweet: TweetRecord) -> None:
        event = {
            "tweet_id": tweet.id,
            "author_id": tweet.author_id,
            "hashtags": list(tweet.hashtags),
        }
        try:
            await self.events.publish(event)
        except self.unavailable as exc:
            log.warning("event bus unavailable (%s): no realtime event for %s", exc, tweet.id)

    async def deleted(self, tweet: TweetRecord) -> None:
        """After a tweet is deleted: take it out of every timeline it reached."""
        try:
            await self.queue.enqueue(Job("delete", tweet.id, tweet.author_id))
        except self.unavailable as exc:
            # readers filter deleted tweets out anyway; the ids expire with the timelines
            log.warning("fan-out queue unavailable (%s): delete of %s not purged", exc, tweet.id)

    async def followed(self, follower_id: int, followee_id: int) -> None:
        """Backfill the followee's recent tweets into the follower's cached timeline."""
        if self.config.strategy == "pull":
            return
        try:
            recent = await self.tweets.tweets_by_authors([followee_id], self.config.cap)
            await self.cache.extend(follower_id, [t.id for t in recent], self.config.cap)
        except self.unavailable as exc:
            log.warning("timeline cache unavailable (%s): no backfill for %s", exc, follower_id)

    async def unfollowed(self, follower_id: int, followee_id: int) -> None:
        """Take the followee's tweets out of the follower's cached timeline."""
        if self.config.strategy == "pull":
            return
        try:
            recent = await self.tweets.tweets_by_authors([followee_id], self.config.cap)
            await self.cache.remove(follower_id, [t.id for t in recent])
        except self.unavailable as exc:
            # readers filter unfollowed authors out anyway
            log.warning(
                "timeline cache unavailable (%s): unfollow not purged for %s", exc, follower_id
            )

    # ------------------------------------------------------------- fan-out

    async def apply(self, job: Job) -> None:
        """Apply one fan-out job; safe to apply twice."""
        if job.kind == "post":
            tweet = (await self.tweets.get_tweets([job.tweet_id])).get(job.tweet_id)
            if tweet is not None:  # else deleted before its fan-out: nothing to deliver
                delivered = await self._fan_out(tweet)
                await self.tweets.mark_fanned_out([tweet.id])
                if (waiting := self._fanned_out.get(tweet.id)) is not None:
                    waiting.set()
                metrics.FANOUT_DELIVERIES.inc(delivered)
                lag = time.time() - id_timestamp_ms(tweet.id) / 1000
                metrics.FANOUT_LAG.observe(max(lag, 0.0))
        elif job.kind == "delete":
            await self._fan_out_delete(job.tweet_id, job.author_id)
        else:
            log.error("unknown fan-out job kind %r: dropped", job.kind)
            return
        metrics.FANOUT_JOBS.labels(job.kind).inc()

    async def _followers_batches(self, author_id: int) -> list[list[int]]:
        batches: list[list[int]] = []
        after: tuple[int, int] | None = None
        while True:
            edges = await self.graph.followers(author_id, self.config.batch, after)
            if edges:
                batches.append([e.user_id for e in edges])
            if len(edges) < self.config.batch:
                return batches
            after = (edges[-1].since_ms, edges[-1].user_id)

    async def _fan_out(self, tweet: TweetRecord) -> int:
        config = self.config
        author = tweet.author_id
        delivered = await self.cache.push([author], tweet.id, config.cap)  # the author's own
        if config.strategy == "pull":
            return delivered
        followers = (await self.graph.count_followers([author])).get(author, 0)
        celebrity = config.strategy == "hybrid" and followers >= config.celebrity_threshold
        if celebrity:
            was_celebrity = await self.graph.set_celebrity(author, True)
            # Readers merge the recent list: no fan-out, whatever the follower count.
            if was_celebrity and await self.cache.recent_add(author, tweet.id, config.recent_cap):
                return delivered
            await self._fill_recent(author)
            return delivered
        batches = await self._followers_batches(author)
        for batch in batches:
            delivered += await self.cache.push(batch, tweet.id, config.cap)
        # An author back under the threshold: its tweets posted as a celebrity went to no
        # timeline, and the recent list holds only the newest of them. Before readers stop
        # merging that list, the followers get what a follow's backfill gives (the author's
        # newest `cap` tweets), so no timeline claims a region the author's tweets miss.
        recent = (await self.cache.recent_get([author], config.recent_cap)).get(author)
        merged = recent is not None and bool(recent.ids)
        if merged:
            await self._backfill_followers(batches, author)
        if await self.graph.set_celebrity(author, False) and not merged:
            # the recent list was lost (cache flushed) or emptied: the store has the tweets
            await self._backfill_followers(batches, author)
        if recent is not None and recent.ids:
            await self.cache.recent_remove(author, recent.ids)
        return delivered

    async def _backfill_followers(self, batches: list[list[int]], author_id: int) -> None:
        newest = await self.tweets.tweets_by_authors([author_id], self.config.cap)
        for batch in batches:
            for tweet in newest:
                await self.cache.push(batch, tweet.id, self.config.cap)

    async def _fan_out_delete(self, tweet_id: int, author_id: int) -> None:
        await self.cache.remove_from_many([author_id], tweet_id)
        await self.cache.recent_remove(author_id, [tweet_id])
        for batch in await self._followers_batches(author_id):
            await self.cache.remove_from_many(batch, tweet_id)

    async def repair(self, older_than_ms: int, limit: int = 500) -> int:
        """Enqueue again tweets stored more than ``older_than_ms`` ago whose fan-out never ran."""
        cutoff = min_id_for_ms(int(time.time() * 1000) - older_than_ms)
        stuck = await self.tweets.pending_fanout(cutoff, limit)
        for tweet in stuck:
            await self.queue.enqueue(Job("post", tweet.id, tweet.author_id))
        if stuck:
            metrics.FANOUT_REPAIRED.inc(len(stuck))
            log.info("repair: %d tweet(s) queued again for fan-out", len(stuck))
        return len(stuck)
