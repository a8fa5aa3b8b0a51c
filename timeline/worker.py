"""Fan-out workers: take jobs from the queue, apply them, acknowledge them.

Each worker runs ``concurrency`` consumers plus two housekeeping loops: one
claims jobs another worker took but never acknowledged (it died mid-job), one
re-queues tweets whose fan-out never ran (the repair pass). A job that fails
is left unacknowledged and is retried through the claim loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable

from timeline.fanout import FanOut
from timeline.port import Delivery, FanoutQueue

log = logging.getLogger("chirp.worker")


def consumer_name(worker_id: int) -> str:
    """Unique per process: a restarted worker gets a new name, and its old jobs get claimed."""
    return f"{socket.gethostname()}-{os.getpid()}-w{worker_id}"


class FanoutWorker:
    def __init__(
        self,
        fanout: FanOut,
        queue: FanoutQueue,
        consumer: str,
        concurrency: int = 4,
        claim_idle_ms: int = 30_000,
        repair_after_ms: int = 60_000,
        housekeeping_seconds: float = 5.0,
    ) -> None:
        self.fanout = fanout
        self.queue = queue
        self.consumer = consumer
        self.concurrency = concurrency
        self.claim_idle_ms = claim_idle_ms
        self.repair_after_ms = repair_after_ms
        self.housekeeping_seconds = housekeeping_seconds
        self.applied = 0

    async def run(self, stop: asyncio.Event) -> None:
        log.info("fan-out worker %s: %d consumer(s)", self.consumer, self.concurrency)
        loops = [self._consume(stop) for _ in range(self.concurrency)]
        loops += [self._housekeeping(stop)]
        await asyncio.gather(*loops)
        log.info("fan-out worker %s stopped", self.consumer)

    async def _apply(self, delivery: Delivery) -> None:
        try:
            await self.fanout.apply(delivery.job)
        except Exception:
            log.exception("fan-out job %s failed; it will be retried", delivery.job)
            return
        self.applied += 1
        try:
            await self.queue.ack([delivery.id])
        except Exception as exc:
            # still pending: claimed and applied again later, which is harmless
            log.warning("fan-out job %s done but not acknowledged (%s)", delivery.job, exc)

    async def _consume(self, stop: asyncio.Event) -> None:
        backoff = 0.2
        while not stop.is_set():
            try:
                deliveries = await _unless_stopped(stop, self.queue.take(self.consumer, 1, 1000))
                backoff = 0.2
            except Exception as exc:
                log.warning("fan-out queue unavailable (%s); retrying in %.1f s", exc, backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            for delivery in deliveries:
                await self._apply(delivery)

    async def _housekeeping(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                for delivery in await self.queue.claim_stale(self.consumer, self.claim_idle_ms, 50):
                    log.info("claimed fan-out job %s left by another worker", delivery.id)
                    await self._apply(delivery)
                await self.fanout.repair(self.repair_after_ms)
            except Exception as exc:
                log.warning("fan-out housekeeping failed (%s); trying again later", exc)
            await _sleep_or_stop(stop, self.housekeeping_seconds)


async def _unless_stopped(
    stop: asyncio.Event, waiting: Awaitable[list[Delivery]]
) -> list[Delivery]:
    """The result of a blocking take, or nothing as soon as ``stop`` is set.

    A take cancelled on stop loses nothing: whatever it had claimed stays
    pending and is claimed again by a live worker.
    """
    take = asyncio.ensure_future(waiting)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({take, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if take.done():
        return take.result()
    take.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await take
    return []


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
