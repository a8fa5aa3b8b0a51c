"""Live feeds for GraphQL subscriptions: one listener per process, many subscribers.

The hub listens to the event bus once and hands each event to the local
subscribers that want it. Each subscriber has a bounded buffer: one too slow
to keep up loses its oldest events (counted in chirp_realtime_dropped_total),
never the server's memory. A subscriber that disconnects is removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from core import metrics
from timeline.port import Event, EventBus

log = logging.getLogger("chirp.realtime")

BUFFER = 100


def is_tweet(event: Event) -> bool:
    """A new tweet's event (the other kinds carry a ``type``: notifications)."""
    return bool(event.get("type", "tweet") == "tweet")


class _Subscriber:
    def __init__(self, wants: Callable[[Event], bool], buffer: int) -> None:
        self.wants = wants
        self.queue: asyncio.Queue[Event] = asyncio.Queue(buffer)

    def offer(self, event: Event) -> None:
        try:
            wanted = self.wants(event)
        except (KeyError, TypeError, ValueError):
            wanted = False  # an event of another shape than this feed reads
        if not wanted:
            return
        if self.queue.full():
            self.queue.get_nowait()  # drop the oldest: the newest matter most on a live feed
            metrics.REALTIME_DROPPED.inc()
        self.queue.put_nowait(event)


class Hub:
    def __init__(self, bus: EventBus, buffer: int = BUFFER) -> None:
        self.bus = bus
        self.buffer = buffer
        self._subscribers: set[_Subscriber] = set()
        self._task: asyncio.Task[None] | None = None

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._dispatch(), name="realtime-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _dispatch(self) -> None:
        async for event in self.bus.listen():
            for subscriber in list(self._subscribers):
                subscriber.offer(event)

    async def _feed(
        self,
        wants: Callable[[Event], bool],
        refresh: Callable[[], Awaitable[None]] | None = None,
        refresh_seconds: float = 5.0,
    ) -> AsyncIterator[Event]:
        subscriber = _Subscriber(wants, self.buffer)
        self._subscribers.add(subscriber)
        refreshed = time.monotonic()
        try:
            while True:
                try:
                    event: Event | None = await asyncio.wait_for(
                        subscriber.queue.get(), refresh_seconds
                    )
                except TimeoutError:
                    event = None
                if event is not None:
                    yield event
                if refresh is not None and time.monotonic() - refreshed >= refresh_seconds:
                    await refresh()
                    refreshed = time.monotonic()
        finally:
            self._subscribers.discard(subscriber)

    async def events(self, wants: Callable[[Event], bool]) -> AsyncIterator[Event]:
        """Every event ``wants`` accepts, as it is published on any instance."""
        async for event in self._feed(wants):
            yield event

    async def home(
        self, viewer_id: int, followees: Callable[[], Awaitable[set[int]]]
    ) -> AsyncIterator[int]:
        """Ids of tweets entering the viewer's home timeline, as they are posted."""
        sources = {viewer_id, *await followees()}

        async def refresh() -> None:
            # ask first, then swap in one step: events dispatched while the graph answers
            # still meet the old set, never an empty one
            current = {viewer_id, *await followees()}
            sources.intersection_update(current)
            sources.update(current)

        def wants(event: Event) -> bool:
            return is_tweet(event) and int(event["author_id"]) in sources

        async for event in self._feed(wants, refresh):
            yield int(event["tweet_id"])

    async def hashtag(self, name: str) -> AsyncIterator[int]:
        """Ids of new tweets carrying the hashtag."""
        tag = name.casefold().lstrip("#")
        async for event in self._feed(lambda e: is_tweet(e) and tag in e.get("hashtags", ())):
            yield int(event["tweet_id"])
