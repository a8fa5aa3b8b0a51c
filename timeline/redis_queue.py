"""The production fan-out queue: a Redis Stream with a consumer group.

Keys: ``chirp:fanout`` (the stream), consumer group ``fanout``. XREADGROUP
hands each job to one consumer and keeps it in the group's pending list until
XACK; XAUTOCLAIM moves jobs left pending by a dead consumer to a live one.
The stream is trimmed to about ``max_length`` entries; a job trimmed before it
ran is not lost, since its tweet stays marked for fan-out and the repair pass
finds it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from timeline.queue import Delivery, Job

STREAM = "chirp:fanout"
GROUP = "fanout"


def _deliveries(entries: Sequence[Any]) -> list[Delivery]:
    found: list[Delivery] = []
    for entry_id, fields in entries:
        if fields is None:  # an entry trimmed while pending
            continue
        decoded = {_text(k): _text(v) for k, v in fields.items()}
        found.append(Delivery(_text(entry_id), Job.from_fields(decoded)))
    return found


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisFanoutQueue:
    def __init__(self, redis: Redis, max_length: int = 1_000_000) -> None:
        self.redis = redis
        self.max_length = max_length

    async def open(self) -> None:
        try:
            await self.redis.xgroup_create(STREAM, GROUP, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def ping(self) -> None:
        await self.redis.ping()

    async def close(self) -> None:
        await self.redis.aclose()

    async def enqueue(self, job: Job) -> None:
        await self.redis.xadd(
            STREAM,
            job.fields(),  # type: ignore[arg-type]
            maxlen=self.max_length,
            approximate=True,
        )

    async def take(self, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        reply: Any
        try:
            reply = await self.redis.xreadgroup(
                GROUP, consumer, {STREAM: ">"}, count=count, block=block_ms or None
            )
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            await self.open()  # the stream was deleted (e.g. FLUSHDB): recreate it
            return []
        return [d for _, entries in reply or [] for d in _deliveries(entries)]

    async def ack(self, delivery_ids: Sequence[str]) -> None:
        if delivery_ids:
            await self.redis.xack(STREAM, GROUP, *delivery_ids)

    async def claim_stale(self, consumer: str, min_idle_ms: int, count: int) -> list[Delivery]:
        reply = await self.redis.xautoclaim(
            STREAM, GROUP, consumer, min_idle_time=min_idle_ms, start_id="0-0", count=count
        )
        return _deliveries(reply[1])

    async def depth(self) -> int:
        groups = await self.redis.xinfo_groups(STREAM)
        for group in groups:
            if _text(group["name"]) == GROUP:
                return int(group.get("lag") or 0) + int(group["pending"])
        return 0
