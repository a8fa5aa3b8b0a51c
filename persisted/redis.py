"""Persisted queries in Redis: one key per document, expiring a day after its last use.

Keys ``chirp:pq:<sha256>``, one per command, so it works on Redis Cluster. The
size is bounded by the expiry and by the longest document stored (the caller's
``max_length``); memory beyond that is Redis's ``maxmemory`` policy to keep.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisError

from core.breaker import Breaker, CircuitOpen, within

log = logging.getLogger("chirp.persisted")

PREFIX = "chirp:pq:"
T = TypeVar("T")


class RedisQueryStore:
    def __init__(
        self,
        client: Redis | RedisCluster,
        ttl_seconds: int = 24 * 3600,
        breaker: Breaker | None = None,
        timeout: float = 0.05,
    ) -> None:
        self.client = client
        self.ttl_seconds = ttl_seconds
        self.breaker = breaker
        self.timeout = timeout

    async def _run(self, make: Callable[[], Awaitable[T]]) -> T | None:
        """The answer, or None when Redis does not give one: a cache forgets."""
        try:
            return await within(self.breaker, make, self.timeout)
        except (RedisError, OSError, CircuitOpen, TimeoutError) as exc:
            log.warning("persisted queries unavailable (%s: %s)", type(exc).__name__, exc)
            return None

    async def get(self, sha256: str) -> str | None:
        found = await self._run(lambda: self.client.getex(PREFIX + sha256, ex=self.ttl_seconds))
        return found.decode() if isinstance(found, bytes) else found

    async def put(self, sha256: str, query: str) -> None:
        await self._run(lambda: self.client.set(PREFIX + sha256, query, ex=self.ttl_seconds))

    async def open(self) -> None:
        await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()
