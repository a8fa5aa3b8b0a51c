"""Realtime events between processes: the event bus port and its two adapters.

An event is a small dict (``{"tweet_id", "author_id", "hashtags"}``). Every
process listens to every event and picks, for its own connected subscribers,
the ones they asked for. In production the bus is Redis pub/sub (channel
``chirp:events``), so a subscriber connected to one instance receives tweets
posted through another; embedded, it is in-process.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from redis.asyncio import Redis

log = logging.getLogger("chirp.events")

CHANNEL = "chirp:events"
Event = dict[str, Any]


class EventBus(Protocol):
    async def publish(self, event: Event) -> None: ...

    def listen(self) -> AsyncIterator[Event]:
        """Every event published from now on, by any process, until cancelled."""
        ...

    async def close(self) -> None: ...


class MemoryEventBus:
    def __init__(self) -> None:
        self._listeners: set[asyncio.Queue[Event]] = set()

    async def open(self) -> None:
        """Nothing to connect to."""

    async def publish(self, event: Event) -> None:
        for queue in self._listeners:
            queue.put_nowait(event)

    async def listen(self) -> AsyncIterator[Event]:
        queue: asyncio.Queue[Event] = asyncio.Queue()
        self._listeners.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._listeners.discard(queue)

    async def close(self) -> None:
        self._listeners.clear()


class RedisEventBus:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def open(self) -> None:
        await self.redis.ping()

    async def publish(self, event: Event) -> None:
        await self.redis.publish(CHANNEL, json.dumps(event))

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
