"""Fan-out workers: jobs taken, applied, acknowledged, and retried when that fails."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from tests.timeline.world import SMALL, open_world
from timeline.memory import MemoryFanoutQueue, MemoryTimelineCache
from timeline.worker import FanoutWorker


class FlakyAcks(MemoryFanoutQueue):
    """Its first acknowledgement fails, as a Redis blip would make it."""

    failed = False

    async def ack(self, delivery_ids: Sequence[str]) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("the queue blinked")
        await super().ack(delivery_ids)


async def until(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_failed_acknowledgement_leaves_the_job_for_a_retry_and_the_worker_running(
    tmp_path: Path,
) -> None:
    queue = FlakyAcks()
    async with open_world(tmp_path, SMALL, MemoryTimelineCache(), queue) as world:
        author, reader = await world.users("author", "reader")
        await world.follow(reader, author)
        await world.page(reader)
        stop = asyncio.Event()
        worker = FanoutWorker(
            world.fanout, queue, "w", concurrency=1, claim_idle_ms=50, housekeeping_seconds=0.05
        )
        task = asyncio.create_task(worker.run(stop))
        try:
            first = await world.post(author, "its acknowledgement fails")
            await until(lambda: asyncio.sleep(0, queue.failed))
            second = await world.post(author, "after the blip")

            async def drained() -> bool:
                return await queue.depth() == 0 and worker.applied == 3

            await until(drained)  # the first job twice (claimed again), the second once
            assert await world.page(reader) == [second.id, first.id]
        finally:
            stop.set()
            await asyncio.wait_for(task, 5)  # run() ends cleanly: its consumer never died
