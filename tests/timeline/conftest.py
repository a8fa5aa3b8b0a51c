"""Worlds for the timeline tests, on the in-process cache and queue or on real Redis.

``make_world`` is parametrized: each test that uses it runs once on
MemoryTimelineCache + MemoryFanoutQueue + MemoryEventBus and once on
RedisTimelineCache + RedisFanoutQueue + RedisEventBus against the session's
redis-server (database flushed first). Both keep the tweet store and the
graph on embedded SQLite. A test makes one world.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from tests.timeline.world import WorldMaker


@pytest.fixture(params=["memory", "redis"])
async def make_world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[WorldMaker]:
    backend: str = request.param
    redis_url: str | None = request.getfixturevalue("redis_url") if backend == "redis" else None
    async with AsyncExitStack() as stack:
        yield WorldMaker(backend, tmp_path / "world", redis_url, stack)
