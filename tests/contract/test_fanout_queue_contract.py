"""The FanoutQueue contract (timeline/port.py): every adapter must pass these tests
(timeline/memory.py, timeline/redis.py).

Jobs are delivered at least once: a taken job stays pending until acknowledged,
and a job left pending for ``min_idle_ms`` is claimed by another consumer.
"""

from __future__ import annotations

import asyncio
import time

from timeline.port import Delivery, FanoutQueue, Job

MAX_ID = 2**63 - 1


def post(n: int) -> Job:
    return Job("post", 1_000_000_000_000 + n, 42)


def jobs_of(deliveries: list[Delivery]) -> list[Job]:
    return [d.job for d in deliveries]


async def drain(queue: FanoutQueue, consumer: str, count: int = 100) -> list[Delivery]:
    """Everything new for ``consumer`` right now, without waiting."""
    taken: list[Delivery] = []
    while batch := await queue.take(consumer, count, 0):
        taken += batch
    return taken


async def test_ping_answers_when_the_queue_is_up(fanout_queue: FanoutQueue) -> None:
    await fanout_queue.ping()


def test_a_job_round_trips_through_its_fields() -> None:
    for job in (Job("post", MAX_ID, MAX_ID - 1), Job("delete", 1, 2)):
        assert Job.from_fields(job.fields()) == job
        assert all(isinstance(v, str) for v in job.fields().values())


async def test_jobs_round_trip_through_the_queue_in_order(fanout_queue: FanoutQueue) -> None:
    sent = [
        Job("post", MAX_ID, MAX_ID - 1),
        Job("delete", 123_456_789, 7),
        Job("post", 1, 2),
        Job("delete", 2**62 + 3, 10**12),
    ]
    for job in sent:
        await fanout_queue.enqueue(job)
    taken = await fanout_queue.take("c1", 10, 0)
    assert jobs_of(taken) == sent
    assert all(isinstance(d.id, str) for d in taken)
    assert len({d.id for d in taken}) == len(sent)


async def test_take_hands_out_at_most_count_jobs(fanout_queue: FanoutQueue) -> None:
    sent = [post(n) for n in range(5)]
    for job in sent:
        await fanout_queue.enqueue(job)
    assert jobs_of(await fanout_queue.take("c1", 2, 0)) == sent[:2]
    assert jobs_of(await fanout_queue.take("c1", 2, 100)) == sent[2:4]
    assert jobs_of(await fanout_queue.take("c1", 2, 100)) == sent[4:]
    assert await fanout_queue.take("c1", 2, 0) == []


async def test_take_of_an_empty_queue_waits_up_to_block_ms_then_returns_nothing(
    fanout_queue: FanoutQueue,
) -> None:
    started = time.monotonic()
    assert await fanout_queue.take("c1", 10, 0) == []
    assert time.monotonic() - started < 0.5
    started = time.monotonic()
    assert await fanout_queue.take("c1", 10, 300) == []
    waited = time.monotonic() - started
    assert 0.25 <= waited < 2.0


async def test_a_blocked_take_returns_as_soon_as_a_job_arrives(
    fanout_queue: FanoutQueue,
) -> None:
    started = time.monotonic()
    waiting = asyncio.create_task(fanout_queue.take("c1", 10, 10_000))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await fanout_queue.enqueue(post(1))
    taken = await asyncio.wait_for(waiting, 5)
    assert jobs_of(taken) == [post(1)]
    assert time.monotonic() - started < 3.0


async def test_acked_jobs_are_never_delivered_again(fanout_queue: FanoutQueue) -> None:
    await fanout_queue.enqueue(post(1))
    await fanout_queue.enqueue(post(2))
    taken = await fanout_queue.take("c1", 10, 0)
    await fanout_queue.ack([d.id for d in taken])
    await fanout_queue.ack([])
    await fanout_queue.ack([taken[0].id])  # acking twice is harmless
    assert await fanout_queue.take("c1", 10, 0) == []
    assert await fanout_queue.take("c2", 10, 0) == []
    await asyncio.sleep(0.05)
    assert await fanout_queue.claim_stale("c2", 0, 10) == []
    assert await fanout_queue.depth() == 0


async def test_a_job_taken_but_not_acked_is_claimed_after_min_idle_ms(
    fanout_queue: FanoutQueue,
) -> None:
    await fanout_queue.enqueue(post(1))
    await fanout_queue.enqueue(post(2))
    [first] = await fanout_queue.take("dead", 1, 0)  # taken, then its consumer dies
    [second] = await fanout_queue.take("live", 10, 0)  # the taken job is not new any more
    assert second.job == post(2)
    await fanout_queue.ack([second.id])
    assert await fanout_queue.claim_stale("live", 300, 10) == []  # not idle long enough

    await asyncio.sleep(0.35)
    claimed = await fanout_queue.claim_stale("live", 300, 10)
    assert claimed == [first]  # the same delivery id and job
    assert await fanout_queue.claim_stale("other", 300, 10) == []  # claiming resets idle time

    await fanout_queue.ack([claimed[0].id])
    await asyncio.sleep(0.05)
    assert await fanout_queue.claim_stale("other", 0, 10) == []
    assert await fanout_queue.take("other", 10, 0) == []
    assert await fanout_queue.depth() == 0


async def test_an_unacked_job_is_claimed_again_until_acked(fanout_queue: FanoutQueue) -> None:
    await fanout_queue.enqueue(post(1))
    [taken] = await fanout_queue.take("a", 1, 0)
    await asyncio.sleep(0.12)
    assert await fanout_queue.claim_stale("b", 100, 10) == [taken]  # b dies too
    await asyncio.sleep(0.12)
    assert await fanout_queue.claim_stale("c", 100, 10) == [taken]
    await fanout_queue.ack([taken.id])
    await asyncio.sleep(0.12)
    assert await fanout_queue.claim_stale("d", 100, 10) == []


async def test_claim_stale_hands_out_at_most_count_jobs(fanout_queue: FanoutQueue) -> None:
    for n in range(5):
        await fanout_queue.enqueue(post(n))
    taken = await fanout_queue.take("dead", 10, 0)
    await asyncio.sleep(0.05)
    first = await fanout_queue.claim_stale("live", 40, 2)
    assert len(first) == 2
    rest = await fanout_queue.claim_stale("live", 40, 10)  # not the two just claimed
    assert len(rest) == 3
    everything = first + rest
    assert sorted(d.id for d in everything) == sorted(d.id for d in taken)
    assert {d.job for d in everything} == {post(n) for n in range(5)}


async def test_two_consumers_never_get_the_same_new_job(fanout_queue: FanoutQueue) -> None:
    sent = [post(n) for n in range(30)]
    for job in sent:
        await fanout_queue.enqueue(job)

    async def consume(consumer: str) -> list[Delivery]:
        taken: list[Delivery] = []
        while batch := await fanout_queue.take(consumer, 3, 50):
            taken += batch
            await asyncio.sleep(0)
        return taken

    a, b = await asyncio.gather(consume("a"), consume("b"))
    assert not {d.id for d in a} & {d.id for d in b}
    assert sorted(jobs_of(a + b), key=lambda j: j.tweet_id) == sent
    assert len(a + b) == len(sent)


async def test_two_blocked_consumers_get_one_job_each(fanout_queue: FanoutQueue) -> None:
    waiting = [asyncio.create_task(fanout_queue.take(c, 1, 5_000)) for c in ("a", "b")]
    await asyncio.sleep(0.1)
    await fanout_queue.enqueue(post(1))
    await fanout_queue.enqueue(post(2))
    a, b = await asyncio.wait_for(asyncio.gather(*waiting), 5)
    assert sorted(jobs_of(a + b), key=lambda j: j.tweet_id) == [post(1), post(2)]


async def test_depth_counts_waiting_and_pending_jobs(fanout_queue: FanoutQueue) -> None:
    assert await fanout_queue.depth() == 0
    for n in range(3):
        await fanout_queue.enqueue(post(n))
    assert await fanout_queue.depth() == 3
    first = await fanout_queue.take("c1", 2, 0)
    assert await fanout_queue.depth() == 3  # two pending, one waiting
    await fanout_queue.ack([first[0].id])
    assert await fanout_queue.depth() == 2
    await asyncio.sleep(0.05)
    claimed = await fanout_queue.claim_stale("c2", 0, 10)
    assert claimed == [first[1]]
    assert await fanout_queue.depth() == 2  # a claim moves a job, it does not finish it
    rest = await drain(fanout_queue, "c2")
    assert jobs_of(rest) == [post(2)]
    assert await fanout_queue.depth() == 2
    await fanout_queue.ack([claimed[0].id, rest[0].id])
    assert await fanout_queue.depth() == 0
    await fanout_queue.enqueue(post(3))
    assert await fanout_queue.depth() == 1
