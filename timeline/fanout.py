"""Fan-out on write: what posting, deleting, following and unfollowing do to cached timelines.

Posting stores the tweet (marked for fan-out), then ``posted`` enqueues a fan-out
job and publishes a realtime event. A worker applies the job: for an
author below the celebrity threshold it pushes the tweet id into the cached
timeline of every follower that has one (a timeline exists only while its
owner keeps reading it, so inactive followers are skipped), in batches of one
pipeline each; for a celebrity it only adds the id to the author's recent
list. A tweet whose job never ran stays marked, and the repair pass enqueues
it again. Jobs run at least once; every step is idempotent.

Jobs come from the fan-out queue through the workers (``timeline/worker.py``),
which call ``apply`` and, every few seconds, ``repair``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import TypeVar

from core import metrics
from core.ids import id_timestamp_ms, min_id_for_ms
from core.models import TweetRecord
from docstore.port import TweetStore
from graph.port import SocialGraph
from timeline.config import UNAVAILABLE, TimelineConfig
from timeline.feeds import Feeds
from timeline.port import EventBus, FanoutQueue, Job, TimelineCache

log = logging.getLogger("chirp.timeline")
T = TypeVar("T")
PUSHES_IN_FLIGHT = 2  # a post's pushes (one batch of followers each) sent at once


async def _read_ahead(items: AsyncGenerator[T, None]) -> AsyncGenerator[T, None]:
    """``items``, each next one already being read while the caller works on the last.

    An error reading ahead is raised where that item would have been; a caller that
    stops early (or fails) cancels the read ahead and closes ``items``.
    """
    pending = asyncio.ensure_future(anext(items))
    try:
        while True:
            try:
                item = await pending
            except StopAsyncIteration:
                return
            pending = asyncio.ensure_future(anext(items))
            yield item
    finally:
        if not pending.done():
            pending.cancel()
            await asyncio.wait([pending])
        if not pending.cancelled():
            pending.exception()  # retrieved: it is the caller's error that counts
        await items.aclose()


class FanOut:
    def __init__(
        self,
        graph: SocialGraph,
        tweets: TweetStore,
        cache: TimelineCache,
        queue: FanoutQueue,
        events: EventBus,
        feeds: Feeds,
        config: TimelineConfig,
        unavailable: tuple[type[BaseException], ...] = UNAVAILABLE,
        after_post: Callable[[TweetRecord], Awaitable[None]] | None = None,
    ) -> None:
        self.graph = graph
        self.tweets = tweets
        self.cache = cache
        self.queue = queue
        self.events = events
        self.feeds = feeds
        self.config = config
        # errors of the cache, queue and bus that mean "down right now": degrade, don't fail
        self.unavailable = unavailable
        self._fanned_out: dict[int, asyncio.Event] = {}  # posts waiting for their fan-out
        # what else a post's job does, at least once, before the post counts as fanned
        # out (its notifications): set by the composition root
        self.after_post = after_post

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

    async def apply(self, job: Job) -> None:
        """Apply one fan-out job; safe to apply twice."""
        if job.kind == "post":
            tweet = (await self.tweets.get_tweets([job.tweet_id])).get(job.tweet_id)
            if tweet is not None:  # else deleted before its fan-out: nothing to deliver
                delivered = await self._fan_out(tweet)
                if self.after_post is not None:
                    await self.after_post(tweet)
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
        return [batch async for batch in self._follower_pages(author_id)]

    async def _follower_pages(self, author_id: int) -> AsyncGenerator[list[int], None]:
        after: tuple[int, int] | None = None
        while True:
            edges = await self.graph.followers(author_id, self.config.batch, after)
            if edges:
                yield [e.user_id for e in edges]
            if len(edges) < self.config.batch:
                return
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
            await self.feeds.fill_recent(author)
            return delivered
        audience = await self._audience(tweet)
        batches: list[list[int]] = []

        async def readers_of_batches() -> AsyncGenerator[list[int], None]:
            async for batch in self._follower_pages(author):
                batches.append(batch)
                yield await audience(batch)

        # The graph's questions for the next batch run while this one is pushed, and
        # PUSHES_IN_FLIGHT pushes overlap: the client sends one while the cache applies
        # the other.
        pushes: set[asyncio.Future[int]] = set()
        try:
            async with contextlib.aclosing(_read_ahead(readers_of_batches())) as ahead:
                async for readers in ahead:
                    if not readers:
                        continue
                    if len(pushes) >= PUSHES_IN_FLIGHT:
                        done, pushes = await asyncio.wait(
                            pushes, return_when=asyncio.FIRST_COMPLETED
                        )
                        delivered += sum(push.result() for push in done)
                    pushes.add(
                        asyncio.ensure_future(self.cache.push(readers, tweet.id, config.cap))
                    )
            while pushes:
                delivered += await pushes.pop()
        finally:
            for push in pushes:
                push.cancel()
            if pushes:
                await asyncio.wait(pushes)
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

    async def _audience(self, tweet: TweetRecord) -> Callable[[list[int]], Awaitable[list[int]]]:
        """Which followers of a batch the tweet is pushed to: one graph question per batch.

        Left out: followers who block, are blocked by or mute its author (or, for a
        retweet, the original's author); for a reply to someone else, followers who
        do not follow the author it answers (the reply rule, ``reply_reaches``). Reads
        apply the same rules again, so what a later block or mute hides never shows.
        """
        authors = [tweet.author_id]
        must_follow: int | None = None
        if tweet.retweet_of_id is not None:
            original = (await self.tweets.get_tweets([tweet.retweet_of_id])).get(
                tweet.retweet_of_id
            )
            if original is not None:
                authors.append(original.author_id)
        elif (
            tweet.in_reply_to_id is not None
            and tweet.in_reply_to_user_id is not None
            and tweet.in_reply_to_user_id != tweet.author_id
        ):
            must_follow = tweet.in_reply_to_user_id

        async def readers(batch: list[int]) -> list[int]:
            now_ms = int(time.time() * 1000)
            kept = await self.graph.audience(batch, now_ms, authors, must_follow)
            return [reader for reader in batch if reader in kept]

        return readers

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
