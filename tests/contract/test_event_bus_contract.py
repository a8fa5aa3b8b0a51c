"""The EventBus contract (timeline/port.py): every adapter must pass these tests
(timeline/memory.py, timeline/redis.py).

A listener receives every event published once it listens. "Once it listens"
is made observable the same way for every adapter: the test publishes warm-up
events until each listener has received one, and only then the events under
test.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from timeline.port import Event, EventBus

WARMUP = "warm-up"


class Listener:
    """A task that collects what one ``listen()`` yields."""

    def __init__(self, bus: EventBus) -> None:
        self.events: list[Event] = []
        self._arrived = asyncio.Event()
        self.task = asyncio.create_task(self._run(bus))

    async def _run(self, bus: EventBus) -> None:
        async for event in bus.listen():
            self.events.append(event)
            self._arrived.set()

    @property
    def received(self) -> list[Event]:
        return [e for e in self.events if WARMUP not in e]

    async def wait_for(self, count: int) -> None:
        """Until ``count`` events under test have arrived (at most 5 s)."""
        async with asyncio.timeout(5.0):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


@asynccontextmanager
async def listening(bus: EventBus, count: int) -> AsyncIterator[list[Listener]]:
    """``count`` listeners, each known to receive what is published from now on."""
    listeners = [Listener(bus) for _ in range(count)]
    try:
        deadline = time.monotonic() + 5.0
        n = 0
        while not all(any(WARMUP in e for e in li.events) for li in listeners):
            assert time.monotonic() < deadline, "a listener never started"
            await bus.publish({WARMUP: n})
            n += 1
            await asyncio.sleep(0.02)
        yield listeners
    finally:
        for listener in listeners:
            await listener.stop()


def event(n: int) -> Event:
    return {"tweet_id": 2**62 + n, "author_id": 1000 + n, "hashtags": [f"tag{n}", "chirp"]}


async def test_a_listener_receives_every_event_in_order(event_bus: EventBus) -> None:
    async with listening(event_bus, 1) as [listener]:
        sent = [event(n) for n in range(25)]
        for e in sent:
            await event_bus.publish(e)
        await listener.wait_for(len(sent))
        await asyncio.sleep(0.05)  # nothing more arrives
        assert listener.received == sent


async def test_two_listeners_both_receive_every_event(event_bus: EventBus) -> None:
    async with listening(event_bus, 2) as listeners:
        sent = [event(n) for n in range(10)]
        for e in sent:
            await event_bus.publish(e)
        for listener in listeners:
            await listener.wait_for(len(sent))
        await asyncio.sleep(0.05)
        for listener in listeners:
            assert listener.received == sent


async def test_events_round_trip_ints_lists_and_strings(event_bus: EventBus) -> None:
    sent: list[Event] = [
        {"tweet_id": 2**63 - 1, "author_id": 1, "hashtags": []},
        {"tweet_id": 0, "author_id": -5, "hashtags": ["café", "🐦", "with space", ""]},
        {"ids": [1, 2**62, 999_999_999_999], "text": 'line one\nline "two" \\ end'},
    ]
    async with listening(event_bus, 1) as [listener]:
        for e in sent:
            await event_bus.publish(e)
        await listener.wait_for(len(sent))
        assert listener.received == sent
        for got in listener.received:
            assert isinstance(got, dict)
        assert type(listener.received[0]["tweet_id"]) is int
        assert type(listener.received[0]["hashtags"]) is list


async def test_a_stopped_listener_receives_nothing_more(event_bus: EventBus) -> None:
    async with listening(event_bus, 2) as [stopped, still]:
        await stopped.stop()
        await event_bus.publish(event(1))
        await still.wait_for(1)
        await asyncio.sleep(0.05)
        assert still.received == [event(1)]
        assert stopped.received == []


async def test_publishing_with_no_listener_is_fine(event_bus: EventBus) -> None:
    await event_bus.publish(event(1))
    async with listening(event_bus, 1) as [listener]:
        await event_bus.publish(event(2))
        await listener.wait_for(1)
        await asyncio.sleep(0.05)
        assert listener.received == [event(2)]  # not the one published before it listened
