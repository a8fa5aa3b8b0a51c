"""The production timeline cache: Redis through redis.asyncio.

Key names (one key per timeline; the ``{...}`` hash tag keeps any future
per-user keys in the same Redis Cluster slot)::

    chirp:tl:{<user_id>}   sorted set: the user's home timeline

Snowflake ids need 63 bits, more than a sorted-set score (a double) holds
exactly, so every member has score 0 and is the id zero-padded to 19 digits:
lexicographic order is then numeric order, read with ZREVRANGEBYLEX. The
member ``"0"`` marks the timeline as present even when it holds no tweet; it
sorts before every id and is never returned. Each command touches one key, so
the cache works unchanged on Redis Cluster.
"""

from __future__ import annotations

from collections.abc import Sequence

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)

WIDTH = 19  # digits of the largest 63-bit id
PRESENT = "0"
KEY_PREFIX = "chirp:tl:"

# KEYS[1] timeline; ARGV[1] upper bound; ARGV[2] limit. nil when absent.
_GET = """
if redis.call('EXISTS', KEYS[1]) == 0 then return false end
return redis.call('ZREVRANGEBYLEX', KEYS[1], ARGV[1], '(0', 'LIMIT', 0, tonumber(ARGV[2]))
"""
# KEYS[1] timeline; ARGV[1] cap; ARGV[2..] members. Makes the timeline present.
_STORE = """
redis.call('ZADD', KEYS[1], 0, '0')
for i = 2, #ARGV, 500 do
  local args = {}
  for j = i, math.min(i + 499, #ARGV) do
    args[#args + 1] = 0
    args[#args + 1] = ARGV[j]
  end
  redis.call('ZADD', KEYS[1], unpack(args))
end
local extra = redis.call('ZCARD', KEYS[1]) - 1 - tonumber(ARGV[1])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 1, extra) end
return 1
"""
# KEYS[1] timeline; ARGV[1] cap; ARGV[2] member. 1 if newly kept, else 0.
_PUSH = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local added = redis.call('ZADD', KEYS[1], 0, ARGV[2])
local extra = redis.call('ZCARD', KEYS[1]) - 1 - tonumber(ARGV[1])
if extra > 0 then redis.call('ZREMRANGEBYRANK', KEYS[1], 1, extra) end
if added == 1 and redis.call('ZSCORE', KEYS[1], ARGV[2]) then return 1 end
return 0
"""


def timeline_key(user_id: int) -> str:
    return f"{KEY_PREFIX}{{{user_id}}}"


def member(tweet_id: int) -> str:
    return str(tweet_id).zfill(WIDTH)


class RedisTimelineCache:
    def __init__(self, redis: Redis, batch_size: int = 1000) -> None:
        self.redis = redis
        self.batch_size = batch_size
        self._get = redis.register_script(_GET)
        self._store = redis.register_script(_STORE)
        self._push = redis.register_script(_PUSH)

    async def open(self) -> None:
        await self.redis.ping()

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()

    async def get(self, user_id: int, limit: int, before_id: int | None = None) -> list[int] | None:
        upper = "+" if before_id is None else "(" + member(before_id)
        found = await self._get(keys=[timeline_key(user_id)], args=[upper, max(limit, 0)])
        if found is None:
            return None
        return [int(m) for m in found] if limit > 0 else []

    async def store(self, user_id: int, tweet_ids: Sequence[int], cap: int) -> None:
        await self._store(keys=[timeline_key(user_id)], args=[cap, *map(member, tweet_ids)])

    async def push(self, user_ids: Sequence[int], tweet_id: int, cap: int) -> int:
        unique = list(dict.fromkeys(user_ids))
        delivered = 0
        for start in range(0, len(unique), self.batch_size):
            async with self.redis.pipeline(transaction=False) as pipe:
                for user_id in unique[start : start + self.batch_size]:
                    await self._push(
                        keys=[timeline_key(user_id)], args=[cap, member(tweet_id)], client=pipe
                    )
                delivered += sum(int(r) for r in await pipe.execute())
        return delivered

    async def remove(self, user_id: int, tweet_ids: Sequence[int]) -> None:
        if tweet_ids:
            await self.redis.zrem(timeline_key(user_id), *map(member, tweet_ids))

    async def drop(self, user_id: int) -> None:
        await self.redis.delete(timeline_key(user_id))
