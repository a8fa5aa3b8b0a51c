"""The production timeline adapters: Redis through redis.asyncio.

Key names (one key per list; the ``{...}`` hash tag names the Redis Cluster slot)::

    chirp:tl2:{<user_id>}       sorted set: the user's home timeline (expires when unread)
    chirp:recent2:{<author_id>} sorted set: a celebrity author's recent tweets
    chirp:fanout                stream: the fan-out queue (consumer group ``fanout``)
    chirp:events                pub/sub channel: realtime events

**Timeline cache.** Snowflake ids need 63 bits, more than a sorted-set score (a
double) holds exactly, so an id is kept as score = its millisecond field
(``id >> 22``, core/ids.py: 41 bits, exact in a double) and member = the id as
8 bytes big-endian. Ids of one millisecond share a score and order by member
bytes, which is numeric order for big-endian unsigned ints: (score, member)
order is id order. A page below a cursor starts at the cursor's reverse rank:
ZREVRANK when the cursor is in the list (the usual case, the previous page's
last id), else the count of entries above it (ZCOUNT of the higher scores,
plus the cursor's millisecond's entries compared in Lua). The empty member
``""`` at score -1 marks a list as present even when it holds no tweet; it
sorts before every id and is never returned.

Memory: an 800-entry list is about 16 KB while Redis keeps it as a listpack,
which it does only up to ``zset-max-listpack-entries`` entries (default 128):
the server needs ``zset-max-listpack-entries`` of at least the timeline cap + 1
(README, "Redis memory"); ``open()`` logs a warning when it reads a lower value
(about 84 KB per 800 entries as a skiplist). bench/redis_memory.py measures both.

Old keys: the 19-digit lexicographic format (before issue 16) lived under
``chirp:tl:`` and ``chirp:recent:``; these prefixes are new, so old keys are
never read: a timeline is rebuilt from the stores on its first read, and its
old key is deleted then (old timeline keys not rebuilt expire with their TTL;
old recent lists have none: README says how to delete them).

On Redis Cluster (a ``RedisCluster`` client) each command or script touches one
key; a pipeline of scripts (a fan-out batch, the celebrities' lists) is sent as
raw EVALSHA commands, split by node, by ``_each``. On one server a fan-out
batch is a few ``_PUSH`` calls of ``PUSH_KEYS_PER_SCRIPT`` keys each, in one
pipeline: per key the same steps as ``_ADD``'s, atomic as a script is, at a
fraction of the client's and the server's cost per command (BENCHMARKS.md,
"Fan-out at 10,000 followers").

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
from core.ids import MAX_ID, TIMESTAMP_SHIFT
from timeline.port import Delivery, Event, Job, Window

log = logging.getLogger("chirp.events")  # the event bus
cache_log = logging.getLogger("chirp.timeline")  # the cache, at open()

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

TIMELINE_PREFIX = "chirp:tl2:"
RECENT_PREFIX = "chirp:recent2:"
# Where the 19-digit lexicographic format (before issue 16) kept its lists: never read,
# deleted when the list is rebuilt under the new prefix.
LEGACY_TIMELINE_PREFIX = "chirp:tl:"
LEGACY_RECENT_PREFIX = "chirp:recent:"
STREAM = "chirp:fanout"
GROUP = "fanout"
CHANNEL = "chirp:events"
LISTPACK_SETTING = "zset-max-listpack-entries"
LEGACY_LISTPACK_SETTING = "zset-max-ziplist-entries"  # its name before Redis 7

# The low 24 bits of an 8-byte big-endian member: all that can differ between two ids
# of one millisecond (their 41-bit score field starts at bit 22). Compared as numbers,
# never as strings: Lua compares strings with strcoll, in Redis's LC_COLLATE.
_LOW = """
local function low(m)
  local a, b, c = string.byte(m, 6, 8)
  return (a * 256 + b) * 256 + c
end
"""
# KEYS[1] list; ARGV[1] cursor member ('' none); ARGV[2] cursor score; ARGV[3] limit;
# ARGV[4] ttl seconds (0: none). nil if absent, else {oldest member held or '', members...}.
_GET = (
    _LOW
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
if tonumber(ARGV[4]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[4]) end
local found = {redis.call('ZRANGE', KEYS[1], 1, 1)[1] or ''}
local limit = tonumber(ARGV[3])
if limit <= 0 then return found end
-- the page starts at the reverse rank of the first entry below the cursor
local start = 0
if ARGV[1] ~= '' then
  local rank = redis.call('ZREVRANK', KEYS[1], ARGV[1])
  if rank then
    start = rank + 1
  else
    start = redis.call('ZCOUNT', KEYS[1], '(' .. ARGV[2], '+inf')
    local below = low(ARGV[1])
    for _, m in ipairs(redis.call('ZRANGE', KEYS[1], ARGV[2], ARGV[2], 'BYSCORE')) do
      if low(m) > below then start = start + 1 end
    end
  end
end
for _, m in ipairs(redis.call('ZRANGE', KEYS[1], start, start + limit - 1, 'REV')) do
  if m ~= '' then found[#found + 1] = m end  -- '' (the marker) is last: nothing follows
end
return found
"""
)
# KEYS[1] list; ARGV[1] cap; ARGV[2] ttl (0: none); ARGV[3] 1: only if present;
# ARGV[4..] score, member pairs. Returns how many ids the list newly keeps, or -1 when
# absent and only-if-present.
_ADD = (
    _LOW
    + """
local present = redis.call('EXISTS', KEYS[1]) == 1
if not present then
  if ARGV[3] == '1' then return -1 end
  redis.call('ZADD', KEYS[1], -1, '')
end
-- into a present list, nothing below its oldest id: that region belongs to the stores
local floor_score, floor_low = -1, 0
if ARGV[3] == '1' then
  local oldest = redis.call('ZRANGE', KEYS[1], 1, 1, 'WITHSCORES')
  if oldest[1] then floor_score, floor_low = tonumber(oldest[2]), low(oldest[1]) end
end
local added = 0
local args = {}
for i = 4, #ARGV - 1, 2 do
  local score = tonumber(ARGV[i])
  if score > floor_score or (score == floor_score and low(ARGV[i + 1]) >= floor_low) then
    args[#args + 1] = ARGV[i]
    args[#args + 1] = ARGV[i + 1]
  end
  if #args >= 1000 or (i + 1 == #ARGV and #args > 0) then
    added = added + redis.call('ZADD', KEYS[1], unpack(args))
    args = {}
  end
end
local extra = redis.call('ZCARD', KEYS[1]) - 1 - tonumber(ARGV[1])
if extra > 0 then
  redis.call('ZREMRANGEBYRANK', KEYS[1], 1, extra)
  if #ARGV == 5 and added > 0 then  -- one id: was it trimmed, i.e. below the oldest kept?
    local kept = redis.call('ZRANGE', KEYS[1], 1, 1, 'WITHSCORES')
    local s = tonumber(ARGV[4])
    if not kept[1] or s < tonumber(kept[2])
        or (s == tonumber(kept[2]) and low(ARGV[5]) < low(kept[1])) then
      added = 0
    end
  end
end
if not present and tonumber(ARGV[2]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return added
"""
)

# One id into many present lists, on a single server (a multi-key script is refused on
# Redis Cluster: each list has its own slot). KEYS the lists; ARGV[1] cap; ARGV[2] score;
# ARGV[3] member. Per list, what ``_ADD`` does with one pair and only-if-present (absent:
# skipped; below the oldest id: not added; trimmed to the cap, and an id trimmed at once
# not counted); returns how many lists newly keep the id. The script is atomic, so each
# list's steps are too. ZCARD tells presence (a present list holds its marker) and size.
_PUSH = (
    _LOW
    + """
local cap, s, m = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
local lo = low(m)
local function below(entry)  -- is the id below this {member, score} (or below nothing)?
  if not entry[1] then return true end
  local es = tonumber(entry[2])
  return s < es or (s == es and lo < low(entry[1]))
end
local delivered = 0
for _, key in ipairs(KEYS) do
  local size = redis.call('ZCARD', key)
  if size > 0 then
    local added = 0
    local oldest = redis.call('ZRANGE', key, 1, 1, 'WITHSCORES')
    if not oldest[1] or not below(oldest) then added = redis.call('ZADD', key, s, m) end
    local extra = size + added - 1 - cap
    if extra > 0 then
      redis.call('ZREMRANGEBYRANK', key, 1, extra)
      if added > 0 and below(redis.call('ZRANGE', key, 1, 1, 'WITHSCORES')) then added = 0 end
    end
    delivered = delivered + added
  end
end
return delivered
"""
)
# Lists per ``_PUSH`` call: one call keeps Redis from other clients for about 3-5 us per
# list (empty to full 800-id listpacks), so a few hundred microseconds at 100.
PUSH_KEYS_PER_SCRIPT = 100


def timeline_key(user_id: int) -> str:
    return f"{TIMELINE_PREFIX}{{{user_id}}}"


def recent_key(author_id: int) -> str:
    return f"{RECENT_PREFIX}{{{author_id}}}"


def member(tweet_id: int) -> bytes:
    """The id's sorted-set member: 8 bytes, big-endian."""
    return tweet_id.to_bytes(8, "big")


def score(tweet_id: int) -> int:
    """The id's sorted-set score: its millisecond field, exact in a double."""
    return tweet_id >> TIMESTAMP_SHIFT


def _entries(tweet_ids: Sequence[int]) -> list[int | bytes]:
    """Score, member pairs for ZADD (as ``_ADD`` takes them)."""
    found: list[int | bytes] = []
    for tweet_id in tweet_ids:
        found += (score(tweet_id), member(tweet_id))
    return found


def _window(found: list[bytes] | None) -> Window | None:
    if found is None:
        return None
    oldest, *ids = found
    return Window([int.from_bytes(m, "big") for m in ids], int.from_bytes(oldest, "big"))


def _page_args(before_id: int | None, limit: int, ttl: int) -> tuple[bytes | int, ...]:
    """``_GET``'s arguments. A cursor above every id is no cursor; one at 0 or below
    leaves nothing to read (the oldest is still answered, the TTL still refreshed)."""
    if before_id is not None and before_id > MAX_ID:
        before_id = None
    if before_id is None:
        return (b"", 0, max(limit, 0), ttl)
    if before_id <= 0:
        return (b"", 0, 0, ttl)
    return (member(before_id), score(before_id), max(limit, 0), ttl)


async def _each(
    redis: Redis | RedisCluster,
    script: AsyncScript,
    calls: Sequence[tuple[str, Sequence[str | bytes | int]]],
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
        cap: int = 800,
    ) -> None:
        self.redis = redis
        self.ttl_seconds = ttl_seconds
        self.batch_size = batch_size
        self.deadlines = deadlines
        self.cap = cap  # CHIRP_TIMELINE_CAP: what open() checks the listpack setting against
        self._get = redis.register_script(_GET)
        self._add = redis.register_script(_ADD)
        self._push = redis.register_script(_PUSH)

    async def open(self) -> None:
        await self.redis.ping()
        await self.check_listpack()

    async def listpack_entries(self) -> int | None:
        """The server's ``zset-max-listpack-entries`` (on a cluster, the least of the
        primaries'), or None when CONFIG GET is refused (as managed Redis may)."""
        values: list[int] = []
        for name in (LISTPACK_SETTING, LEGACY_LISTPACK_SETTING):
            try:
                if isinstance(self.redis, RedisCluster):
                    reply: Any = await self.redis.config_get(
                        name, target_nodes=RedisCluster.PRIMARIES
                    )
                else:
                    reply = await self.redis.config_get(name)
            except ResponseError:
                return None
            values = [int(v) for v in _config_values(reply)]
            if values:
                break
        return min(values) if values else None

    async def check_listpack(self) -> None:
        """Warn when the server keeps a full timeline as a skiplist (about 5x the memory)."""
        entries = await self.listpack_entries()
        if entries is None:
            cache_log.info(
                "timelines: cannot read %s (CONFIG GET refused); a timeline of %d ids is "
                "compact only with %s >= %d",
                LISTPACK_SETTING,
                self.cap,
                LISTPACK_SETTING,
                self.cap + 1,
            )
        elif entries < self.cap + 1:
            cache_log.warning(
                "timelines: Redis has %s %d, below the timeline cap + 1 (%d): full timelines "
                "are kept as skiplists, about 5x the memory of a listpack; set %s %d or more "
                '(README, "Redis memory: zset-max-listpack-entries")',
                LISTPACK_SETTING,
                entries,
                self.cap + 1,
                LISTPACK_SETTING,
                self.cap + 1,
            )

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()

    async def _page(self, key: str, limit: int, before_id: int | None, ttl: int) -> Window | None:
        found = await self.deadlines.run(
            lambda: self._get(keys=[key], args=_page_args(before_id, limit, ttl))
        )
        return _window(found)

    async def get(self, user_id: int, limit: int, before_id: int | None = None) -> Window | None:
        return await self._page(timeline_key(user_id), limit, before_id, self.ttl_seconds)

    async def store(self, user_id: int, tweet_ids: Sequence[int], cap: int) -> None:
        async def send() -> None:
            await self._add(
                keys=[timeline_key(user_id)], args=[cap, self.ttl_seconds, 0, *_entries(tweet_ids)]
            )
            await self.redis.delete(f"{LEGACY_TIMELINE_PREFIX}{{{user_id}}}")

        await self.deadlines.run(send, bulk=True)

    async def extend(self, user_id: int, tweet_ids: Sequence[int], cap: int) -> bool:
        added = await self.deadlines.run(
            lambda: self._add(keys=[timeline_key(user_id)], args=[cap, 0, 1, *_entries(tweet_ids)]),
            bulk=True,
        )
        return int(added) >= 0

    async def push(self, user_ids: Sequence[int], tweet_id: int, cap: int) -> int:
        unique = list(dict.fromkeys(user_ids))
        delivered = 0
        for start in range(0, len(unique), self.batch_size):
            batch = unique[start : start + self.batch_size]

            async def send(batch: list[int] = batch) -> int:
                if isinstance(self.redis, RedisCluster):
                    args = (cap, 0, 1, score(tweet_id), member(tweet_id))
                    calls = [(timeline_key(user_id), args) for user_id in batch]
                    replies = await _each(self.redis, self._add, calls)
                    return sum(max(int(r), 0) for r in replies)
                async with self.redis.pipeline(transaction=False) as pipe:
                    push_args = (cap, score(tweet_id), member(tweet_id))
                    for start in range(0, len(batch), PUSH_KEYS_PER_SCRIPT):
                        keys = [
                            timeline_key(u) for u in batch[start : start + PUSH_KEYS_PER_SCRIPT]
                        ]
                        await self._push(keys=keys, args=push_args, client=pipe)
                    return sum(int(r) for r in await pipe.execute())

            delivered += await self.deadlines.run(send, bulk=len(batch) > 1)
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
            args = _page_args(before_id, limit, 0)
            return await _each(self.redis, self._get, [(recent_key(a), args) for a in authors])

        found = await self.deadlines.run(send)
        return {author: _window(got) for author, got in zip(authors, found, strict=True)}

    async def recent_store(self, author_id: int, tweet_ids: Sequence[int], cap: int) -> None:
        async def send() -> None:
            await self._add(keys=[recent_key(author_id)], args=[cap, 0, 0, *_entries(tweet_ids)])
            await self.redis.delete(f"{LEGACY_RECENT_PREFIX}{{{author_id}}}")

        await self.deadlines.run(send, bulk=True)

    async def recent_add(self, author_id: int, tweet_id: int, cap: int) -> bool:
        added = await self.deadlines.run(
            lambda: self._add(
                keys=[recent_key(author_id)], args=[cap, 0, 1, score(tweet_id), member(tweet_id)]
            )
        )
        return int(added) >= 0

    async def recent_remove(self, author_id: int, tweet_ids: Sequence[int]) -> None:
        if tweet_ids:
            await self.deadlines.run(
                lambda: self.redis.zrem(recent_key(author_id), *map(member, tweet_ids)),
                bulk=True,
            )


def _config_values(reply: Any) -> list[str]:
    """The values of a CONFIG GET reply: ``{name: value}``, or per node ``{node: {...}}``."""
    if not isinstance(reply, dict):
        return []
    found: list[str] = []
    for value in reply.values():
        if isinstance(value, dict):
            found += _config_values(value)
        elif value is not None:
            found.append(_text(value))
    return found


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
