"""The production timeline adapters: Redis through redis.asyncio.

Key names (one key per list; the ``{...}`` hash tag names the Redis Cluster slot)::

    chirp:tl:{<user_id>}       sorted set: the user's home timeline (expires when unread)
    chirp:recent:{<author_id>} sorted set: a celebrity author's recent tweets
    chirp:fanout               stream: the fan-out queue (consumer group ``fanout``)
    chirp:events               pub/sub channel: realtime events

**Timeline cache.** Snowflake ids need 63 bits, more than a sorted-set score (a double) holds
exactly, so every member has score 0 and is the id zero-padded to 19 digits:
lexicographic order is then numeric order, read with ZREVRANGEBYLEX. The
member ``"0"`` marks a list as present even when it holds no tweet; it sorts
before every id and is never returned. Each command or script touches one
key, so the cache works on Redis Cluster (a ``RedisCluster`` client) too;
there a pipeline of scripts (a fan-out batch, the celebrities' lists) is sent
as raw EVALSHA commands, split by node, by ``_each``.

**Fan-out queue.** XREADGROUP hands each job to one consumer and keeps it in
the group's pending list until XACK; XAUTOCLAIM moves jobs left pending by a
dead consumer to a live one. The stream is trimmed to about ``max_length``
entries; a job trimmed before it ran is not lost, since its tweet stays marked
for fan-out and the repair pass finds it.

**Event bus.** Pub/sub on one channel, so a subscriber connected to one
instance receives tweets posted through another. On Redis Cluster a PUBLISH
reaches every node; redis-py's ``ClusterPubSub`` subscribes on the node that
serves the channel's slot.

**Deadlines.** Given a ``Breaker`` (core/breaker.py, one per Redis server,
shared by these adapters), every call a request waits on (a timeline read,
the author's own push, an enqueue, a publish) has a deadline of
``request_timeout`` seconds, and a bulk call of the fan-out worker one of
``bulk_timeout``; a missed deadline is a RedisTimeoutError and an open circuit
a RedisConnectionError, both "unavailable" to the timeline engine, which then
reads by pull and leaves fan-out to the repair pass. The worker's blocking
reads (XREADGROUP) wait on their own.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.breaker import Breaker, CircuitOpen, within
from timeline.port import Delivery, Event, Job, Window

log = logging.getLogger("chirp.events")  # the event bus is the only one that logs

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)
T = TypeVar("T")


class Deadlines:
    """How long the adapters wait for Redis, through one breaker (None: as the client does)."""

    def __init__(
        self,
        breaker: Breaker | None = None,
        request_timeout: float = 0.05,
        bulk_timeout: float = 5.0,
    ) -> None:
        self.breaker = breaker
        self.request_timeout = request_timeout
        self.bulk_timeout = bulk_timeout

    async def run(self, make: Callable[[], Awaitable[T]], bulk: bool = False) -> T:
        timeout = self.bulk_timeout if bulk else self.request_timeout
        try:
            return await within(self.breaker, make, timeout)
        except CircuitOpen as exc:
            raise RedisConnectionError(str(exc)) from exc
        except TimeoutError as exc:
            raise RedisTimeoutError(f"Redis did not answer within {timeout * 1000:.0f} ms") from exc


NO_DEADLINES = Deadlines()

WIDTH = 19  # digits of the largest 63-bit id
TIMELINE_PREFIX = "chirp:tl:"
RECENT_PREFIX = "chirp:recent:"
STREAM = "chirp:fanout"
GROUP = "fanout"
CHANNEL = "chirp:events"

# KEYS[1] list; ARGV[1] upper bound; ARGV[2] limit; ARGV[3] ttl seconds (0: none).
# nil if absent, else {oldest id held or '0', ids...}.
_GET = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
local oldest = redis.call('ZRANGE', KEYS[1], 1, 1)[1] or '0'
local ids = redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], '(0', 'LIMIT', 0, tonumber(ARGV[2]))
table.insert(ids, 1, oldest)
return ids
"""
# KEYS[1] list; ARGV[1] cap; ARGV[2] ttl (0: none); ARGV[3] 1: only if present; ARGV[4..] ids.
# Returns how many ids the list newly keeps, or -1 when absent and only-if-present.
_ADD = """
local present = redis.call('EXISTS', KEYS[1]) == 1
if not present then
  if ARGV[3] == '1' then return -1 end
  redis.call('ZADD', KEYS[1], 0, '0')
end
-- into a present list, nothing below its oldest id: that region belongs to the stores
local floor = '0'
if ARGV[3] == '1' then floor = redis.call('ZRANGE', KEYS[1], 1, 1)[1] or '0' end
local added = 0
local args = {}
for i = 4, #ARGV do
  if ARGV[i] >= floor then
    args[#args + 1] = 0
    args[#args + 1] = ARGV[i]
  end
  if #args >= 1000 or (i == #ARGV and #args > 0) then
    added = added + redis.call('ZADD', KEYS[1], unpack(args))
    args = {}
  end
end
local extra = redis.call('ZCARD', KEYS[1]) - 1 - tonumber(ARGV[1])
if extra > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 1, extra)
  if #ARGV == 4 and not redis.call('ZSCORE', KEYS[1], ARGV[4]) then added = 0 end
end
if not present and tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return added
"""


def timeline_key(user_id: int) -> str:
    return f"{TIMELINE_PREFIX}{{{user_id}}}"


def recent_key(author_id: int) -> str:
    return f"{RECENT_PREFIX}{{{author_id}}}"


def member(tweet_id: int) -> str:
    return str(tweet_id).zfill(WIDTH)


def _window(found: list[bytes] | None) -> Window | None:
    if found is None:
        return None
    oldest, *ids = found
    return Window([int(m) for m in ids], int(oldest))


def _upper(before_id: int | None) -> str:
    return "+" if before_id is None else "(" + member(before_id)


async def _each(
    redis: Redis | RedisCluster,
    script: AsyncScript,
    calls: Sequence[tuple[str, Sequence[str | int]]],
) -> list[Any]:
    """``script`` run once per (key, args), in one pipeline: the replies, in order.

    On Redis Cluster the pipeline is split by node (redis-py sends each node its part
    at once), but a cluster pipeline refuses ``evalsha`` and loads no scripts: EVALSHA
    goes as a raw command, and calls a node answers NOSCRIPT (a new or restarted node)
    run again once the script is loaded on every primary.
    """
    if not isinstance(redis, RedisCluster):
        async with redis.pipeline(transaction=False) as pipe:
            for key, args in calls:
                await script(keys=[key], args=args, client=pipe)
            replies: list[Any] = await pipe.execute()
            return replies
    found: list[Any] = [None] * len(calls)
    todo = list(range(len(calls)))
    for _ in range(2):
        async with redis.pipeline(transaction=False) as cluster_pipe:
            for i in todo:
                key, args = calls[i]
                cluster_pipe.execute_command("EVALSHA", script.sha, 1, key, *args)
            answers = await cluster_pipe.execute(raise_on_error=False)
        missing = []
        for i, answer in zip(todo, answers, strict=True):
            if isinstance(answer, NoScriptError):
                missing.append(i)
            elif isinstance(answer, Exception):
                raise answer
            else:
                found[i] = answer
        if not missing:
            return found
        await redis.script_load(script.script)  # on every primary
        todo = missing
    raise NoScriptError(f"a node still lacks script {script.sha} after loading it")


class RedisTimelineCache:
    def __init__(
        self,
        redis: Redis | RedisCluster,
        ttl_seconds: int = 30 * 24 * 3600,
        batch_size: int = 1000,
        deadlines: Deadlines = NO_DEADLINES,
    ) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds
        self.batch_size = batch_size
        self.deadlines = deadlines
        self._get = redis.register_script(_GET)
        self._add = redis.register_script(_ADD)

    async def open(self) -> None:
        await self.redis.ping()

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()

    async def _page(self, key: str, limit: int, before_id: int | None, ttl: int) -> Window | None:
        found = await self.deadlines.run(
            lambda: self._get(keys=[key], args=[_upper(before_id), max(limit, 0), ttl])
        )
        return _window(found)

    async def get(self, user_id: int, limit: int, before_id: int | None = None) -> Window | None:
        return await self._page(timeline_key(user_id), limit, before_id, self.ttl_seconds)

    async def store(self, user_id: int, tweet_ids: Sequence[int], cap: int) -> None:
        await self.deadlines.run(
            lambda: self._add(
                keys=[timeline_key(user_id)],
                args=[cap, self.ttl_seconds, 0, *map(member, tweet_ids)],
            ),
            bulk=True,
        )

    async def extend(self, user_id: int, tweet_ids: Sequence[int], cap: int) -> bool:
        added = await self.deadlines.run(
            lambda: self._add(
                keys=[timeline_key(user_id)], args=[cap, 0, 1, *map(member, tweet_ids)]
            ),
            bulk=True,
        )
        return int(added) >= 0

    async def push(self, user_ids: Sequence[int], tweet_id: int, cap: int) -> int:
        unique = list(dict.fromkeys(user_ids))
        delivered = 0
        for start in range(0, len(unique), self.batch_size):
            batch = unique[start : start + self.batch_size]

            async def send(batch: list[int] = batch) -> list[Any]:
                one = member(tweet_id)
                calls = [(timeline_key(user_id), (cap, 0, 1, one)) for user_id in batch]
                return await _each(self.redis, self._add, calls)

            replies = await self.deadlines.run(send, bulk=len(batch) > 1)
            delivered += sum(max(int(r), 0) for r in replies)
        return delivered

    async def remove(self, user_id: int, tweet_ids: Sequence[int]) -> None:
        if tweet_ids:
            await self.deadlines.run(
                lambda: self.redis.zrem(timeline_key(user_id), *map(member, tweet_ids)),
                bulk=True,
            )

    async def remove_from_many(self, user_ids: Sequence[int], tweet_id: int) -> None:
        unique = list(dict.fromkeys(user_ids))
        for start in range(0, len(unique), self.batch_size):
            batch = unique[start : start + self.batch_size]

            async def send(batch: list[int] = batch) -> None:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for user_id in batch:
                        pipe.zrem(timeline_key(user_id), member(tweet_id))
                    await pipe.execute()

            await self.deadlines.run(send, bulk=True)

    async def drop(self, user_id: int) -> None:
        await self.deadlines.run(lambda: self.redis.delete(timeline_key(user_id)), bulk=True)

    async def recent_get(
        self, author_ids: Sequence[int], limit: int, before_id: int | None = None
    ) -> dict[int, Window | None]:
        authors = list(dict.fromkeys(author_ids))
        if not authors:
            return {}

        async def send() -> list[Any]:
            args = (_upper(before_id), max(limit, 0), 0)
            return await _each(self.redis, self._get, [(recent_key(a), args) for a in authors])

        found = await self.deadlines.run(send)
        return {author: _window(got) for author, got in zip(authors, found, strict=True)}

    async def recent_store(self, author_id: int, tweet_ids: Sequence[int], cap: int) -> None:
        await self.deadlines.run(
            lambda: self._add(
                keys=[recent_key(author_id)], args=[cap, 0, 0, *map(member, tweet_ids)]
            ),
            bulk=True,
        )

    async def recent_add(self, author_id: int, tweet_id: int, cap: int) -> bool:
        added = await self.deadlines.run(
            lambda: self._add(keys=[recent_key(author_id)], args=[cap, 0, 1, member(tweet_id)])
        )
        return int(added) >= 0

    async def recent_remove(self, author_id: int, tweet_ids: Sequence[int]) -> None:
        if tweet_ids:
            await self.deadlines.run(
                lambda: self.redis.zrem(recent_key(author_id), *map(member, tweet_ids)),
                bulk=True,
            )


# ------------------------------------------------------------------ fan-out queue


def _deliveries(entries: Sequence[Any]) -> list[Delivery]:
    found: list[Delivery] = []
    for entry_id, fields in entries:
        if fields is None:  # an entry trimmed while pending
            continue
        decoded = {_text(k): _text(v) for k, v in fields.items()}
        found.append(Delivery(_text(entry_id), Job.from_fields(decoded)))
    return found


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisFanoutQueue:
    def __init__(
        self,
        redis: Redis | RedisCluster,
        max_length: int = 1_000_000,
        deadlines: Deadlines = NO_DEADLINES,
    ) -> None:
        self.redis = redis
        self.max_length = max_length
        self.deadlines = deadlines

    async def open(self) -> None:
        try:
            await self.redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()

    async def enqueue(self, job: Job) -> None:
        await self.deadlines.run(
            lambda: self.redis.xadd(
                STREAM,
                job.fields(),  # type: ignore[arg-type]
                maxlen=self.max_length,
                approximate=True,
            )
        )

    async def take(self, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        reply: Any
        try:
            reply = await self.redis.xreadgroup(
                GROUP, consumer, {STREAM: ">"}, count=count, block=block_ms or None
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await self.open()  # the stream was deleted (e.g. FLUSHDB): recreate it
            return []
        return [d for _, entries in reply or [] for d in _deliveries(entries)]

    async def ack(self, delivery_ids: Sequence[str]) -> None:
        if delivery_ids:
            await self.redis.xack(STREAM, GROUP, *delivery_ids)

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[Delivery]:
        reply = await self.redis.xautoclaim(
            STREAM, GROUP, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=count
        )
        return _deliveries(reply[1])

    async def depth(self) -> int:
        groups = await self.redis.xinfo_groups(STREAM)
        for group in groups:
            if _text(group["name"]) == GROUP:
                return int(group.get("lag") or 0) + int(group["pending"])
        return 0


# ------------------------------------------------------------------ event bus


class RedisEventBus:
    def __init__(self, redis: Redis | RedisCluster, deadlines: Deadlines = NO_DEADLINES) -> None:
        self.redis = redis
        self.deadlines = deadlines

    async def open(self) -> None:
        await self.redis.ping()

    async def publish(self, event: Event) -> None:
        await self.deadlines.run(lambda: self.redis.publish(CHANNEL, json.dumps(event)))

    async def listen(self) -> AsyncIterator[Event]:
        delay = 0.2
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CHANNEL)
                delay = 0.2
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is not None and message["type"] == "message":
                        yield json.loads(message["data"])
            except (ConnectionError, OSError) as exc:
                log.warning("events: Redis pub/sub lost (%s); reconnecting in %.1f s", exc, delay)
            except Exception as exc:
                if type(exc).__module__.startswith("redis"):
                    log.warning(
                        "events: Redis pub/sub lost (%s); reconnecting in %.1f s", exc, delay
                    )
                else:
                    raise
            finally:
                await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def close(self) -> None:
        await self.redis.aclose()
