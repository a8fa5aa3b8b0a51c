"""Concurrent fills of one missing list are one fill (no rebuild storm after a cache loss)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any, cast

from core.models import TweetRecord
from docstore.port import TweetStore
from timeline.config import TimelineConfig
from timeline.feeds import Feeds
from timeline.memory import MemoryTimelineCache


class SlowStore:
    """The one read a fill makes, slow enough for readers to pile up; calls counted."""

    def __init__(self) -> None:
        self.reads = 0

    async def tweets_by_authors(
        self, author_ids: Sequence[int], limit: int, before_id: int | None = None
    ) -> list[TweetRecord]:
        self.reads += 1
        await asyncio.sleep(0.05)
        return []


def feeds(store: SlowStore) -> Feeds:
    return Feeds(cast("TweetStore", store), MemoryTimelineCache(), TimelineConfig())


async def test_concurrent_rebuilds_of_one_timeline_read_the_store_once() -> None:
    store = SlowStore()
    engine = feeds(store)
    await asyncio.gather(*(engine.rebuild(7, {1, 2, 3}) for _ in range(20)))
    assert store.reads == 2  # one rebuild: its read and its catch-up read
    await engine.rebuild(7, {1, 2, 3})  # a later one is a new fill
    assert store.reads == 4


async def test_rebuilds_of_different_timelines_run_apart() -> None:
    store = SlowStore()
    engine = feeds(store)
    await asyncio.gather(engine.rebuild(7, {1}), engine.rebuild(8, {1}))
    assert store.reads == 4


async def test_a_reader_that_gives_up_leaves_the_fill_to_the_others() -> None:
    store = SlowStore()
    engine = feeds(store)
    quitter = asyncio.ensure_future(engine.fill_recent(5))
    stayer = asyncio.ensure_future(engine.fill_recent(5))
    await asyncio.sleep(0.01)
    quitter.cancel()
    await stayer
    assert store.reads == 1
    window: Any = (await engine.cache.recent_get([5], 10))[5]
    assert window is not None  # the list was made present
