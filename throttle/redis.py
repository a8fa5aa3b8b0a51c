"""The Redis limiter: one atomic script per hit, one key per budget (Cluster-safe).

The script is ``port.gcra`` in Lua, on the Redis server's clock (``TIME``), so
every app instance agrees whatever its own clock says. The key holds the
budget's arrival time and expires when the budget is whole again, so an idle
budget costs no memory. Floats leave Lua as strings (Redis would truncate
numbers to integers).
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from core.breaker import Breaker, CircuitOpen, within
from throttle.port import LimiterUnavailable, Rule, Verdict

PREFIX = "chirp:rl:"

GCRA = """
local period = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local interval = period / limit
local start = tonumber(redis.call('GET', KEYS[1]) or now)
if start < now then start = now end
local after = start + cost * interval
local allow_at = after - period
if allow_at > now + 1e-6 then
  local remaining = math.floor((period - (start - now)) / interval + 1e-3)
  return {0, remaining, tostring(start), tostring(allow_at - now)}
end
redis.call('SET', KEYS[1], tostring(after), 'PX', math.ceil((after - now) * 1000) + 1)
return {1, math.floor((period - (after - now)) / interval + 1e-3), tostring(after), '0'}
"""


def key(rule: Rule, who: str) -> str:
    return f"{PREFIX}{rule.name}:{who}"


class RedisLimiter:
    """Budgets in Redis; with a ``breaker``, each hit waits at most ``timeout`` seconds."""

    def __init__(
        self, client: Redis | RedisCluster, breaker: Breaker | None = None, timeout: float = 0.05
    ) -> None:
        self.client = client
        self.script: Any = client.register_script(GCRA)
        self.breaker = breaker
        self.timeout = timeout

    async def hit(self, rule: Rule, key_: str, cost: int = 1) -> Verdict:
        def send() -> Any:
            return self.script(keys=[key(rule, key_)], args=[rule.period, rule.limit, cost])

        try:
            reply = await within(self.breaker, send, self.timeout)
        except (RedisError, OSError, CircuitOpen, TimeoutError) as exc:
            raise LimiterUnavailable(f"{type(exc).__name__}: {exc}") from exc
        allowed, remaining, reset_at, retry = reply
        return Verdict(rule, bool(allowed), max(0, int(remaining)), float(reset_at), float(retry))

    async def open(self) -> None:
        await self.client.ping()

    async def ping(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()
