"""``RedisTimelineCache.push`` on one server: one multi-key script per
``PUSH_KEYS_PER_SCRIPT`` timelines (a fan-out batch is a few such calls in one
pipeline). Whatever mix of absent, empty, full and newer timelines a batch holds,
it must leave each as the in-process cache does, and each (over-long ones too,
after a lower cap) as the one-key script that ``extend`` and Redis Cluster use."""

from __future__ import annotations

from redis.asyncio import Redis

from core.ids import TIMESTAMP_SHIFT
from timeline.memory import MemoryTimelineCache
from timeline.port import TimelineCache, Window
from timeline.redis import (
    PUSH_KEYS_PER_SCRIPT,
    RedisTimelineCache,
    member,
    score,
    timeline_key,
)

CAP = 5
USERS = list(range(1, 2 * PUSH_KEYS_PER_SCRIPT + 51))  # three scripts, the last one short
OVER_LONG = 6  # the kind of timeline the in-process cache does not trim on a push


def tweet(ms: int, low: int = 0) -> int:
    return (ms << TIMESTAMP_SHIFT) | low


PUSHED = tweet(1_000, 7)


async def prepare(cache: TimelineCache, user: int) -> None:
    """One of seven kinds of timeline, by the user's id."""
    kind = user % 7
    if kind == 0:
        return  # absent: the push skips it
    if kind == 1:
        await cache.store(user, [], CAP)  # present, empty
    elif kind == 2:
        await cache.store(user, [tweet(500 + n) for n in range(CAP)], CAP)  # full: trims
    elif kind == 3:
        await cache.store(user, [tweet(2_000 + n) for n in range(3)], CAP)  # all newer
    elif kind == 4:  # the oldest shares the pushed id's millisecond, lower and higher
        await cache.store(user, [tweet(1_000, 3 if user % 2 else 9), tweet(1_500)], CAP)
    elif kind == 5:
        await cache.store(user, [PUSHED, tweet(900)], CAP)  # holds it already
    else:  # longer than the push's cap: trimmed to it, the pushed id with the rest
        await cache.store(user, [tweet(990), *(tweet(1_001 + n) for n in range(CAP))], CAP + 1)


async def timelines(cache: TimelineCache, users: list[int]) -> dict[int, Window | None]:
    return {user: await cache.get(user, 100) for user in users}


async def test_a_batch_across_several_scripts_ends_as_one_key_scripts_and_memory(
    redis_url: str,
) -> None:
    client = Redis.from_url(redis_url)
    redis = RedisTimelineCache(client, batch_size=1000)
    try:
        for cap in (CAP, CAP - 1):
            await client.flushdb()
            for user in USERS:
                await prepare(redis, user)
            delivered = await redis.push(USERS, PUSHED, cap)
            got = await timelines(redis, USERS)

            await client.flushdb()  # the same, one ``_ADD`` script per timeline
            one_key = 0
            for user in USERS:
                await prepare(redis, user)
                args: list[int | bytes] = [cap, 0, 1, score(PUSHED), member(PUSHED)]
                one_key += max(int(await redis._add(keys=[timeline_key(user)], args=args)), 0)
            assert (delivered, got) == (one_key, await timelines(redis, USERS))

            memory = MemoryTimelineCache(None)
            common = [user for user in USERS if user % 7 != OVER_LONG]
            for user in USERS:
                await prepare(memory, user)
            assert delivered == await memory.push(USERS, PUSHED, cap) > 0
            assert {u: got[u] for u in common} == await timelines(memory, common)
    finally:
        await redis.close()
