"""The engine on real Redis: a fan-out worker task at scale, and Redis going away.

The behaviours of test_engine.py already run on Redis (RedisTimelineCache,
RedisFanoutQueue, RedisEventBus) through the parametrized ``make_world``;
this file adds what only makes sense there.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from redis.asyncio import Redis

from core import metrics
from core.ids import id_timestamp_ms
from core.models import NewUser
from tests.servers import free_port, start_redis
from tests.timeline.world import World, counter_value, open_world, reads, redis_parts
from timeline.config import TimelineConfig
from timeline.redis import RedisEventBus, RedisFanoutQueue, RedisTimelineCache
from timeline.worker import FanoutWorker

FOLLOWERS = 1000


async def read_counted(world: World, viewer: int, size: int) -> Counter[str]:
    start = reads()
    await world.page(viewer, size)
    return reads() - start


class RecordingCache(RedisTimelineCache):
    """Records the size of every push: one per batch of followers."""

    pushes: list[int]

    async def push(self, user_ids: Sequence[int], tweet_id: int, cap: int) -> int:
        self.pushes.append(len(user_ids))
        return await super().push(user_ids, tweet_id, cap)


async def test_a_worker_task_delivers_a_tweet_to_1000_followers_in_batches(
    redis_url: str, tmp_path: Path
) -> None:
    _, queue, events = await redis_parts(redis_url)
    cache = RecordingCache(Redis.from_url(redis_url), batch_size=1000)
    cache.pushes = []
    config = TimelineConfig(celebrity_threshold=10_000, batch=100)
    async with open_world(tmp_path, config, cache, queue, events) as world:
        graph = world.services.stores.graph
        author = await world.user("author")
        ids = world.services.accounts.ids
        followers = []
        for n in range(FOLLOWERS):  # straight into the graph: sign-up costs are not the point
            user_id = ids.next_id()
            await graph.create_user(NewUser(user_id, f"f{n}", f"f{n}", "", 0, "-"))
            await graph.follow(user_id, author, id_timestamp_ms(user_id))
            await cache.store(user_id, [], config.cap)  # an active reader: timeline cached
            followers.append(user_id)
        await world.page(author)

        stop = asyncio.Event()
        worker = FanoutWorker(world.fanout, queue, "test-worker", concurrency=2)
        task = asyncio.create_task(worker.run(stop))
        deliveries = counter_value(metrics.FANOUT_DELIVERIES)
        try:
            tweet = await world.post(author, "hello, all of you")
            deadline = time.monotonic() + 20
            while await queue.depth() or worker.applied < 1:
                assert time.monotonic() < deadline, "the worker did not deliver"
                await asyncio.sleep(0.01)
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)

        assert worker.applied == 1
        assert counter_value(metrics.FANOUT_DELIVERIES) - deliveries == FOLLOWERS + 1
        # the author's own at post time (read-your-writes) and again, harmlessly, in
        # the job (for when the first failed), then 10 batches of 100
        assert cache.pushes == [1, 1] + [100] * 10
        for follower in followers:
            assert await world.cached(follower) == [tweet.id]
        assert await world.services.stores.tweets.pending_fanout(tweet.id + 1, 10) == []


async def test_with_redis_unreachable_reads_use_the_pull_path_and_writes_still_work(
    tmp_path: Path,
) -> None:
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    cache = RedisTimelineCache(Redis.from_url(nowhere))
    queue = RedisFanoutQueue(Redis.from_url(nowhere))
    events = RedisEventBus(Redis.from_url(nowhere))
    config = TimelineConfig(cap=4, celebrity_threshold=2)
    async with open_world(tmp_path, config, cache, queue, events) as world:
        alice, bob, carol, star = await world.users("alice", "bob", "carol", "star")
        await world.follow(alice, bob, carol, star)  # the backfill fails quietly
        await world.services.stores.graph.set_celebrity(star, True)  # merged at read, if up
        posted = []
        for n in range(4):
            for author in (alice, bob, carol, star):
                posted.append(await world.post(author, f"{n}"))  # queue and bus down: fine
        tweets = world.services.tweets
        await tweets.retweet(bob, posted[-1].id)
        await tweets.retweet(carol, posted[-1].id)
        await world.delete(posted[0])
        await world.unfollow(alice, carol)

        start = reads()
        served = 0
        for size in (1, 3, 20):
            pages = await world.pages(alice, size)
            assert pages == await world.expected(alice, size)
            served += len(pages)
        delta = reads()
        delta.subtract(start)
        assert +delta == {"store": served}  # every page, whole, by the pull path

        # every stored tweet stays marked for fan-out: the repair pass finds it later
        pending = await world.services.stores.tweets.pending_fanout(posted[-1].id + 10**6, 100)
        assert {t.id for t in posted[1:]} <= {t.id for t in pending}


async def test_when_redis_goes_down_reads_fall_back_to_pull_and_posts_wait_for_repair(
    tmp_path: Path,
) -> None:
    server = start_redis()  # a server of its own: this test stops it
    try:
        cache, queue, events = await redis_parts(server.url)
        config = TimelineConfig(cap=4, celebrity_threshold=100)
        async with open_world(tmp_path, config, cache, queue, events) as world:
            alice, bob = await world.users("alice", "bob")
            await world.follow(alice, bob)
            await world.page(alice)
            for n in range(6):
                await world.post((alice, bob)[n % 2], f"{n}")
            await world.settle()
            assert len(await world.cached(alice) or []) == 4
            assert await read_counted(world, alice, 4) == {"cache": 1}

            server.stop()
            late = await world.post(bob, "while Redis is down")  # stored, not fanned out
            await world.delete(late)
            later = await world.post(bob, "still down")
            start = reads()
            await world.check(alice, 1, 4, 20)
            assert set(reads() - start) == {"store"}
            pending = await world.services.stores.tweets.pending_fanout(later.id + 1, 10)
            assert [t.id for t in pending] == [later.id]
    finally:
        server.stop()
