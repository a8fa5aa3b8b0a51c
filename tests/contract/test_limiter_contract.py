"""The rate limiter port: every adapter spends budgets alike, atomically."""

from __future__ import annotations

import asyncio
import time

import pytest

from throttle.port import Limiter, Rule

FIVE_A_SECOND = Rule("test", 5, 1)
PER_MINUTE = Rule("minute", 10, 60)


async def test_a_whole_budget_can_be_spent_at_once_and_no_more(limiter: Limiter) -> None:
    verdicts = [await limiter.hit(PER_MINUTE, "alice") for _ in range(10)]
    assert [v.allowed for v in verdicts] == [True] * 10
    assert [v.remaining for v in verdicts] == list(range(9, -1, -1))
    refused = await limiter.hit(PER_MINUTE, "alice")
    assert not refused.allowed
    assert refused.remaining == 0
    assert 0 < refused.retry_after <= 6.5  # one point back every 6 s


async def test_a_refused_hit_spends_nothing(limiter: Limiter) -> None:
    await limiter.hit(PER_MINUTE, "alice", cost=8)
    refused = await limiter.hit(PER_MINUTE, "alice", cost=3)
    assert not refused.allowed
    assert refused.remaining == 2
    assert (await limiter.hit(PER_MINUTE, "alice", cost=2)).allowed


async def test_points_are_charged_by_cost(limiter: Limiter) -> None:
    first = await limiter.hit(PER_MINUTE, "alice", cost=4)
    assert first.allowed
    assert first.remaining == 6
    assert first.limit == 10
    now = time.time()
    # the budget is whole again once the 4 points have come back: 4 x 6 s
    assert now + 20 < first.reset_at <= now + 25


async def test_a_cost_over_the_limit_is_never_allowed(limiter: Limiter) -> None:
    refused = await limiter.hit(PER_MINUTE, "alice", cost=11)
    assert not refused.allowed
    assert refused.remaining == 10  # nothing spent


async def test_budgets_are_per_key_and_per_rule(limiter: Limiter) -> None:
    await limiter.hit(PER_MINUTE, "alice", cost=10)
    assert not (await limiter.hit(PER_MINUTE, "alice")).allowed
    assert (await limiter.hit(PER_MINUTE, "bob")).allowed
    assert (await limiter.hit(Rule("other", 10, 60), "alice")).allowed


async def test_points_come_back_over_the_period(limiter: Limiter) -> None:
    for _ in range(5):
        assert (await limiter.hit(FIVE_A_SECOND, "alice")).allowed
    refused = await limiter.hit(FIVE_A_SECOND, "alice")
    assert not refused.allowed
    assert 0 < refused.retry_after <= 0.25
    await asyncio.sleep(refused.retry_after + 0.05)
    assert (await limiter.hit(FIVE_A_SECOND, "alice")).allowed


async def test_an_idle_budget_is_whole_again_after_its_period(limiter: Limiter) -> None:
    await limiter.hit(FIVE_A_SECOND, "alice", cost=5)
    await asyncio.sleep(1.1)
    assert (await limiter.hit(FIVE_A_SECOND, "alice")).remaining == 4


async def test_concurrent_hits_never_overspend(limiter: Limiter) -> None:
    verdicts = await asyncio.gather(*(limiter.hit(PER_MINUTE, "alice") for _ in range(40)))
    assert sum(v.allowed for v in verdicts) == 10


@pytest.mark.parametrize("cost", [1, 7])
async def test_remaining_never_goes_negative(limiter: Limiter, cost: int) -> None:
    for _ in range(5):
        verdict = await limiter.hit(PER_MINUTE, "alice", cost=cost)
        assert verdict.remaining >= 0
