"""The Redis trend store: time-bucketed sorted sets with expiry, one slot, two scripts.

Keys (trends/port.py says what is counted; ``<bucket>`` is time // 5 min,
``<hour>`` time // 1 h)::

    chirp:{trends}:n:<bucket>  sorted set  tag -> tweets in the window bucket
    chirp:{trends}:a:<bucket>  sorted set  tag -> account-buckets (first uses in the bucket)
    chirp:{trends}:h:<hour>    sorted set  tag -> distinct authors in the hour (the baseline)
    chirp:{trends}:u:<tag>     sorted set  author id -> last use (ms) of the tag
    chirp:{trends}:scratch     a read's union, made and deleted inside its script

**Cluster.** Every key carries the hash tag ``{trends}``, so all of them live in
one slot: the read's ZUNIONSTORE over a window's buckets and both scripts are
legal on Redis Cluster, with every key they touch declared. The trade-off: one
slot, hence one primary (and its replicas), holds all the trends and takes all
their writes; the cluster's other nodes do not share that load. Trends are
small (the counts of two days, trimmed and expiring) and one script per tagged
tweet is cheap, so one node is ample; splitting them by tag would turn every
read into a scatter-gather across the nodes.

**Writing** is one script per tweet (``_RECORD``): O(tags in the tweet), each
tag a ZSCORE, a few ZINCRBYs and a ZADD. Every key it writes gets an expiry,
counted from the record's time: a window bucket (and a last use) lives as long
as a window can reach it, an hour as long as a baseline can.

**Reading** is two scripts, whatever the number of tags or buckets: ``_WINDOW``
unions the window's account-buckets (in C, by ZUNIONSTORE into the scratch key,
kept out of replication and the AOF: it is deleted before the script returns)
to pick the candidates, then reads their tweets and their baseline hours with
ZMSCORE; ``_ACCOUNTS`` counts each candidate's last uses in the window (ZCOUNT).
The second is a script of its own because its keys (one per candidate) are
known only once the first has answered, and a script must declare its keys.

**Deadlines.** Given a ``Breaker`` (core/breaker.py, the one shared by the
adapters of this Redis server), a record waits at most ``timeout`` seconds and
a read ``read_timeout``; a missed deadline, an open circuit or a Redis error is
``TrendsUnavailable``, which the service turns into a skipped count or a stale
answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from core.breaker import Breaker, CircuitOpen, within
from trends.port import DEFAULT_GEOMETRY, Geometry, TagActivity, TrendsUnavailable, WindowActivity

PREFIX = "chirp:{trends}:"
SCRATCH = PREFIX + "scratch"
T = TypeVar("T")

# KEYS[1] n:<bucket>, KEYS[2] a:<bucket>, KEYS[3] h:<hour>, KEYS[3 + i] u:<tag i>.
# ARGV[1] author, ARGV[2] time (ms), ARGV[3] bucket start, ARGV[4] hour start,
# ARGV[5] bucket and last-use expiry (ms), ARGV[6] hour expiry (ms), ARGV[7] oldest last
# use kept, ARGV[8..] the tags.
_RECORD = """
local author = ARGV[1]
local at = tonumber(ARGV[2])
local bucket_start = tonumber(ARGV[3])
local hour_start = tonumber(ARGV[4])
for i = 8, #ARGV do
  local tag = ARGV[i]
  local users = KEYS[i - 4]
  local previous = tonumber(redis.call('ZSCORE', users, author))
  if previous ~= at then  -- else this very tweet again: a redelivered job
    redis.call('ZINCRBY', KEYS[1], 1, tag)
    redis.call('PEXPIRE', KEYS[1], ARGV[5])
    if previous == nil or previous < at then  -- else out of order: counted where it is later
      redis.call('ZADD', users, at, author)
      redis.call('ZREMRANGEBYSCORE', users, '-inf', '(' .. ARGV[7])
      redis.call('PEXPIRE', users, ARGV[5])
      if previous == nil or previous < bucket_start then
        redis.call('ZINCRBY', KEYS[2], 1, tag)
        redis.call('PEXPIRE', KEYS[2], ARGV[5])
      end
      if previous == nil or previous < hour_start then
        redis.call('ZINCRBY', KEYS[3], 1, tag)
        redis.call('PEXPIRE', KEYS[3], ARGV[6])
      end
    end
  end
end
return 1
"""

# KEYS[1] scratch, KEYS[2 .. k + 1] the window's a:<bucket>, KEYS[k + 2 .. 2k + 1] its
# n:<bucket>, KEYS[2k + 2 ..] the baseline's h:<hour>, oldest first.
# ARGV[1] k, ARGV[2] limit, ARGV[3] fewest account-buckets.
# Returns {tags, tweets per tag, then per baseline hour the accounts per tag}.
_WINDOW = """
local k = tonumber(ARGV[1])
local scratch = KEYS[1]
redis.set_repl(redis.REPL_NONE)  -- the scratch union is this script's own business
local function union(first)
  local args = {'ZUNIONSTORE', scratch, k}
  for i = first, first + k - 1 do args[#args + 1] = KEYS[i] end
  args[#args + 1] = 'WEIGHTS'
  for i = 1, k do args[#args + 1] = -1 end  -- negated: ascending order is most first
  redis.call(unpack(args))
end
union(2)
local tags = redis.call('ZRANGE', scratch, '-inf', -tonumber(ARGV[3]), 'BYSCORE',
  'LIMIT', 0, tonumber(ARGV[2]))
local answer = {tags}
if #tags > 0 then
  union(k + 2)
  local tweets = redis.call('ZMSCORE', scratch, unpack(tags))
  for i = 1, #tweets do tweets[i] = -(tonumber(tweets[i]) or 0) end
  answer[2] = tweets
  for h = 2 * k + 2, #KEYS do
    local counts = redis.call('ZMSCORE', KEYS[h], unpack(tags))
    for i = 1, #counts do counts[i] = tonumber(counts[i]) or 0 end
    answer[#answer + 1] = counts
  end
end
redis.call('DEL', scratch)
return answer
"""

# KEYS: u:<tag> per candidate. ARGV[1] window start, ARGV[2] window end (exclusive).
_ACCOUNTS = """
local counts = {}
for i = 1, #KEYS do counts[i] = redis.call('ZCOUNT', KEYS[i], ARGV[1], '(' .. ARGV[2]) end
return counts
"""


def tweets_key(bucket: int) -> str:
    return f"{PREFIX}n:{bucket}"


def account_buckets_key(bucket: int) -> str:
    return f"{PREFIX}a:{bucket}"


def hour_key(hour: int) -> str:
    return f"{PREFIX}h:{hour}"


def users_key(tag: str) -> str:
    return f"{PREFIX}u:{tag}"


class RedisTrendStore:
    """Trends in Redis (or Redis Cluster); with a ``breaker``, every call has a deadline."""

    def __init__(
        self,
        client: Redis | RedisCluster,
        geometry: Geometry = DEFAULT_GEOMETRY,
        breaker: Breaker | None = None,
        timeout: float = 0.05,
        read_timeout: float = 0.5,
    ) -> None:
        self.client = client
        self.geometry = geometry
        self.breaker = breaker
        self.timeout = timeout
        self.read_timeout = read_timeout
        self._record: Any = client.register_script(_RECORD)
        self._window: Any = client.register_script(_WINDOW)
        self._accounts: Any = client.register_script(_ACCOUNTS)

    async def _run(self, make: Callable[[], Awaitable[T]], deadline: float) -> T:
        try:
            return await within(self.breaker, make, deadline)
        except (RedisError, OSError, CircuitOpen, TimeoutError) as exc:
            raise TrendsUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def record(self, tags: Sequence[str], author_id: int, at_ms: int) -> None:
        if not tags:
            return
        g = self.geometry
        bucket = at_ms // g.bucket_ms
        hour = at_ms // g.baseline_bucket_ms
        bucket_ttl = (bucket + 1) * g.bucket_ms + g.window_retention_ms - at_ms
        hour_ttl = (hour + 1) * g.baseline_bucket_ms + g.baseline_retention_ms - at_ms
        keys = [tweets_key(bucket), account_buckets_key(bucket), hour_key(hour)]
        keys += [users_key(tag) for tag in tags]
        args = [
            author_id,
            at_ms,
            bucket * g.bucket_ms,
            hour * g.baseline_bucket_ms,
            bucket_ttl,
            hour_ttl,
            at_ms - g.window_retention_ms,
            *tags,
        ]
        await self._run(lambda: self._record(keys=keys, args=args), self.timeout)

    async def window(
        self, now_ms: int, window_ms: int, limit: int, min_accounts: int = 1
    ) -> WindowActivity:
        g = self.geometry
        buckets = g.window_buckets(now_ms, window_ms)
        start, end = buckets.start * g.bucket_ms, buckets.stop * g.bucket_ms
        if limit < 1:
            return WindowActivity(start, [])
        keys = [SCRATCH]
        keys += [account_buckets_key(b) for b in buckets]
        keys += [tweets_key(b) for b in buckets]
        keys += [hour_key(h) for h in g.baseline_hours(start)]
        args = [len(buckets), limit, max(min_accounts, 1)]

        async def read() -> tuple[list[Any], list[Any]]:
            found: list[Any] = await self._window(keys=keys, args=args)
            if not found[0]:
                return found, []
            users = [users_key(tag.decode()) for tag in found[0]]
            counted: list[Any] = await self._accounts(keys=users, args=[start, end])
            return found, counted

        found, accounts = await self._run(read, self.read_timeout)
        if not found[0]:
            return WindowActivity(start, [])
        names = [tag.decode() for tag in found[0]]
        tweets, hours = found[1], found[2:]
        return WindowActivity(
            start,
            [
                TagActivity(name, int(accounts[i]), int(tweets[i]), tuple(int(h[i]) for h in hours))
                for i, name in enumerate(names)
            ],
        )

    async def open(self) -> None:
        await self.client.ping()

    async def ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()
