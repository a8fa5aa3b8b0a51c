"""The live home feed keeps delivering while it refreshes whom the viewer follows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

from timeline.memory import MemoryEventBus
from timeline.port import Event
from timeline.realtime import Hub

ALICE, BOB = 1, 2


class QuickHub(Hub):
    """A hub whose feeds refresh their followees every 10 ms instead of every 5 s."""

    def _feed(
        self,
        wants: Callable[[Event], bool],
        refresh: Callable[[], Awaitable[None]] | None = None,
        refresh_seconds: float = 5.0,
    ) -> AsyncIterator[Event]:
        return super()._feed(wants, refresh, 0.01)


async def test_a_tweet_posted_while_the_feed_refreshes_its_followees_is_delivered() -> None:
    bus = MemoryEventBus()
    hub = QuickHub(bus)
    await hub.start()
    asked = 0
    refreshing = asyncio.Event()
    answer = asyncio.Event()

    async def followees() -> set[int]:
        nonlocal asked
        asked += 1
        if asked > 1:  # a refresh: the graph takes its time to answer
            refreshing.set()
            await answer.wait()
        return {BOB}

    feed = hub.home(ALICE, followees)
    first = asyncio.ensure_future(anext(feed))
    try:
        await asyncio.wait_for(refreshing.wait(), 2)
        await bus.publish({"tweet_id": 7, "author_id": BOB, "hashtags": []})
        await asyncio.sleep(0.01)  # the hub dispatches it while the refresh waits
        answer.set()
        assert await asyncio.wait_for(first, 2) == 7
    finally:
        first.cancel()
        await feed.aclose()  # type: ignore[attr-defined]
        await hub.stop()
