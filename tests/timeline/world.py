"""A small Chirp "world" for the timeline tests: the real services on real stores.

A world is the tweet store and social graph on embedded SQLite files, a
timeline cache, a fan-out queue and an event bus (in-process or Redis), with
the services built exactly as the app builds them (``build_services`` with
``app.UNAVAILABLE_ERRORS``). No worker runs unless a test starts one: fan-out
happens when a test calls ``settle()``, so every test decides when jobs run.

The expected pages come from a naive recomputation: every tweet by the viewer
and the users the viewer follows, minus deleted tweets and retweets of deleted
originals, newest first, cut into pages of ``size`` where a page shows each
original once, at its newest occurrence, across pages as well as within one
(the home timeline's cursors carry the originals shown above them).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from redis.asyncio import Redis

from bootstrap.services import build_services
from bootstrap.stores import UNAVAILABLE_ERRORS
from core import metrics
from core.ids import SnowflakeGenerator
from core.models import TweetRecord
from core.security import Passwords, Tokens
from docstore.notifications_sqlite import SqliteNotificationStore
from docstore.sqlite import SqliteTweetStore
from graph.sqlite import SqliteSocialGraph
from services.container import Services, Stores
from timeline.config import TimelineConfig
from timeline.fanout import FanOut
from timeline.memory import MemoryEventBus, MemoryFanoutQueue, MemoryTimelineCache
from timeline.port import EventBus, FanoutQueue, Job, TimelineCache, Window
from timeline.redis import RedisEventBus, RedisFanoutQueue, RedisTimelineCache

FAST_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
SECRET = "timeline-test-signing-key-of-at-least-32-characters"
PASSWORD = "correct horse"
MANY = 100_000  # more tweets than any test stores
SMALL = TimelineConfig(cap=6, celebrity_threshold=3, recent_cap=3, batch=2)
TTL = 30 * 24 * 3600


@dataclass
class World:
    services: Services
    config: TimelineConfig
    applied: list[Job] = field(default_factory=list)  # every job applied, in order

    @property
    def fanout(self) -> FanOut:
        return self.services.fanout

    @property
    def cache(self) -> TimelineCache:
        return self.services.stores.timelines

    @property
    def queue(self) -> FanoutQueue:
        return self.services.stores.queue

    async def user(self, handle: str) -> int:
        _token, user = await self.services.accounts.sign_up(handle, PASSWORD, None, None)
        return user.id

    async def users(self, *handles: str) -> list[int]:
        return [await self.user(h) for h in handles]

    async def post(self, author: int, text: str = "hello") -> TweetRecord:
        return await self.services.tweets.create(author, text)

    async def follow(self, follower: int, *followees: int) -> None:
        for followee in followees:
            await self.services.social.follow(follower, followee)

    async def unfollow(self, follower: int, followee: int) -> None:
        await self.services.social.unfollow(follower, followee)

    async def delete(self, tweet: TweetRecord) -> None:
        await self.services.tweets.delete(tweet.author_id, tweet.id)

    async def settle(self, at_most: int | None = None) -> int:
        """Apply queued fan-out jobs (all, or ``at_most``) as a worker would; how many ran."""
        done = 0
        while at_most is None or done < at_most:
            want = 100 if at_most is None else at_most - done
            deliveries = await self.queue.take("tests", want, 0)
            if not deliveries:
                break
            for delivery in deliveries:
                await self.fanout.apply(delivery.job)
                self.applied.append(delivery.job)
            await self.queue.ack([d.id for d in deliveries])
            done += len(deliveries)
        return done

    async def flush_cache(self) -> None:
        """Lose every cached timeline and recent list, as a Redis restart or FLUSHDB would."""
        if isinstance(self.cache, MemoryTimelineCache):
            await self.cache.close()  # clears both kinds of list; the cache stays usable
        elif isinstance(self.cache, RedisTimelineCache):
            async for key in self.cache.redis.scan_iter(match="chirp:[tr]*:{*}"):
                await self.cache.redis.delete(key)
        else:
            raise TypeError(f"cannot flush {self.cache!r}")

    async def page(
        self,
        viewer: int,
        size: int = 20,
        before: int | None = None,
        shown: frozenset[int] = frozenset(),
    ) -> list[int]:
        return [t.id for t in await self.services.home.read(viewer, size, before, shown)]

    async def pages(self, viewer: int, size: int) -> list[list[int]]:
        """Every page of the viewer's home timeline, walked with before_id cursors.

        Stops at the first page shorter than ``size`` (the end, as the API's
        hasNextPage sees it); each page must lie strictly below the cursor.
        """
        pages: list[list[int]] = []
        before: int | None = None
        shown: frozenset[int] = frozenset()
        while True:
            rows = await self.services.home.read(viewer, size, before, shown)
            page = [t.id for t in rows]
            assert len(page) <= size, page
            assert page == sorted(set(page), reverse=True), page  # newest first, no repeat
            if before is not None:
                assert all(t < before for t in page), (before, page)
            pages.append(page)
            if len(page) < size:
                return pages
            assert len(pages) < 1000, "pages never end"
            before = page[-1]
            # what the API's cursor carries: retweeted originals that may appear below
            carried = shown | {t.retweet_of_id for t in rows if t.retweet_of_id is not None}
            shown = frozenset(o for o in carried if o < before)

    async def cached(self, user_id: int) -> list[int] | None:
        """The ids of the user's cached home timeline (None when absent); touches it."""
        window = await self.cache.get(user_id, MANY)
        return None if window is None else window.ids

    async def recent(self, author_id: int) -> Window | None:
        return (await self.cache.recent_get([author_id], MANY))[author_id]

    async def expected(self, viewer: int, size: int) -> list[list[int]]:
        """The naive recomputation of the viewer's pages, from the stores themselves."""
        authors = [viewer, *await self.services.stores.graph.following_ids(viewer)]
        tweets = self.services.stores.tweets
        rows = await tweets.tweets_by_authors(authors, MANY)
        originals = await tweets.get_tweets([r.retweet_of_id for r in rows if r.retweet_of_id])
        return naive_pages(
            [
                (r.id, r.retweet_of_id or r.id)
                for r in rows
                if r.retweet_of_id is None or r.retweet_of_id in originals
            ],
            size,
        )

    async def check(self, viewer: int, *sizes: int) -> None:
        """The viewer's pages equal the naive recomputation, for each page size."""
        for size in sizes or (1, 3, 20):
            assert await self.pages(viewer, size) == await self.expected(viewer, size), size


def naive_pages(visible: Sequence[tuple[int, int]], size: int) -> list[list[int]]:
    """Pages of ``size`` from (id, original id) pairs, newest first, all visible.

    Each original is shown once, at its first (newest) occurrence, whichever
    page that falls on; the next page starts right after the last tweet shown.
    The last page is the first one shorter than ``size`` (possibly empty). So
    the pages joined are the same for every page size.
    """
    pages: list[list[int]] = []
    position = 0
    shown: set[int] = set()
    while True:
        page: list[int] = []
        while position < len(visible) and len(page) < size:
            tweet_id, original = visible[position]
            position += 1
            if original not in shown:
                shown.add(original)
                page.append(tweet_id)
        pages.append(page)
        if len(page) < size:
            return pages


def reads() -> Counter[str]:
    """chirp_timeline_reads_total by source, as /metrics would show it."""
    counts: Counter[str] = Counter()
    for family in metrics.TIMELINE_READS.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                counts[sample.labels["source"]] += int(sample.value)
    return counts


def counter_value(counter: Any) -> float:
    """The current value of an unlabelled prometheus Counter."""
    for family in counter.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                return float(sample.value)
    return 0.0


async def redis_parts(
    url: str, ttl_seconds: int = 30 * 24 * 3600
) -> tuple[RedisTimelineCache, RedisFanoutQueue, RedisEventBus]:
    """Open Redis adapters on an emptied database, as app.py builds them."""
    cache = RedisTimelineCache(Redis.from_url(url), ttl_seconds, batch_size=1000)
    await cache.redis.flushdb()
    queue = RedisFanoutQueue(Redis.from_url(url))
    await queue.open()
    events = RedisEventBus(Redis.from_url(url))
    await events.open()
    return cache, queue, events


def redis_db(url: str, db: int) -> str:
    """The same server, another database number (redis://host:port/N)."""
    return f"{url.rsplit('/', 1)[0]}/{db}"


@asynccontextmanager
async def open_world(
    folder: Path,
    config: TimelineConfig,
    cache: TimelineCache | None = None,
    queue: FanoutQueue | None = None,
    events: EventBus | None = None,
    worker_id: int = 1,
    wrap: Any = None,
) -> AsyncIterator[World]:
    """A world on SQLite files in ``folder``; closes every adapter on exit.

    ``wrap`` (optional) is applied to the graph and the tweet store before the
    services see them, e.g. to count their calls.
    """
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    async with AsyncExitStack() as stack:
        graph = SqliteSocialGraph(folder / "graph.sqlite3")
        tweets = SqliteTweetStore(folder / "tweets.sqlite3")
        notifications = SqliteNotificationStore(folder / "notifications.sqlite3")
        await graph.open()
        await tweets.open()
        await notifications.open()
        stores = Stores(
            graph=wrap(graph, "graph") if wrap else graph,
            tweets=wrap(tweets, "tweets") if wrap else tweets,
            timelines=cache or MemoryTimelineCache(),
            queue=queue or MemoryFanoutQueue(),
            events=events or MemoryEventBus(),
            notifications=notifications,
        )
        stack.push_async_callback(stores.close)
        yield World(
            build_services(
                stores,
                SnowflakeGenerator(worker_id),
                Tokens(SECRET, 3600),
                "https://chirp.test",
                passwords=FAST_PASSWORDS,
                timeline=config,
                unavailable=UNAVAILABLE_ERRORS,
            ),
            config,
        )


@dataclass
class Clock:
    """Time as the cache's time-to-live sees it: fake in memory, real on Redis."""

    now: float = 1000.0
    real: bool = False

    def __call__(self) -> float:
        return self.now

    async def advance(self, seconds: float) -> None:
        if self.real:
            await asyncio.sleep(seconds)
        self.now += seconds


class WorldMaker:
    """Builds the test's world on its backend; the fixture closes it afterwards."""

    def __init__(
        self, backend: str, folder: Path, redis_url: str | None, stack: AsyncExitStack
    ) -> None:
        self.backend = backend
        self._folder = folder
        self._redis_url = redis_url
        self._stack = stack

    async def __call__(
        self,
        config: TimelineConfig = SMALL,
        ttl_seconds: int = TTL,
        clock: Clock | None = None,
        wrap: Callable[[Any, str], Any] | None = None,
    ) -> World:
        if self._redis_url is None:
            cache = MemoryTimelineCache(ttl_seconds, clock=clock or Clock())
            return await self._stack.enter_async_context(
                open_world(self._folder, config, cache, wrap=wrap)
            )
        if clock is not None:
            clock.real = True  # Redis expires keys on its own clock
        redis_cache, queue, events = await redis_parts(self._redis_url, ttl_seconds)
        return await self._stack.enter_async_context(
            open_world(self._folder, config, redis_cache, queue, events, wrap=wrap)
        )
