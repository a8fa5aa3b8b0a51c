"""The rate-limit service: who is charged, and what happens when the limiter is down."""

from __future__ import annotations

import pytest

from core.errors import RateLimited
from services.limits import Budgets, Caller, RateLimits
from throttle.memory import MemoryLimiter
from throttle.port import LimiterUnavailable, Rule, Verdict

INTERNET = Budgets(safelist=(), log_in=Rule("log_in", 3, 300))


class DownLimiter:
    """A limiter whose store does not answer."""

    async def hit(self, rule: Rule, key: str, cost: int = 1) -> Verdict:
        raise LimiterUnavailable("TimeoutError: no answer within 50 ms")

    async def close(self) -> None:
        return None


async def test_a_user_is_charged_to_their_own_budget() -> None:
    limits = RateLimits(MemoryLimiter(), INTERNET)
    verdict = await limits.charge(Caller("203.0.113.7", user_id=42), 100)
    assert verdict.rule.name == "user"
    assert verdict.remaining == INTERNET.user.limit - 100
    anonymous = await limits.charge(Caller("203.0.113.7"), 100)
    assert anonymous.rule.name == "ip"


async def test_the_tighter_of_user_and_app_is_reported() -> None:
    limits = RateLimits(MemoryLimiter(), INTERNET)
    verdict = await limits.charge(Caller("203.0.113.7", 42, app_id=7, app_quota=500), 100)
    assert verdict.rule.name == "app"
    assert verdict.remaining == 400


async def test_operations_fail_open_when_the_limiter_is_down() -> None:
    limits = RateLimits(DownLimiter(), INTERNET)
    for _ in range(10):
        verdict = await limits.charge(Caller("203.0.113.7"), INTERNET.anonymous.limit)
        assert verdict.allowed


async def test_log_in_falls_back_to_this_process_when_the_limiter_is_down() -> None:
    limits = RateLimits(DownLimiter(), INTERNET)
    caller = Caller("203.0.113.7")
    for _ in range(3):
        await limits.attempt("log_in", caller, ["alice"], protects_subject=True)
    with pytest.raises(RateLimited):
        await limits.attempt("log_in", caller, ["alice"], protects_subject=True)


async def test_a_caller_without_an_address_runs_in_process_and_is_not_limited() -> None:
    limits = RateLimits(MemoryLimiter(), Budgets(anonymous=Rule("ip", 1, 300)))
    for _ in range(3):
        assert (await limits.charge(Caller(""), 1)).allowed
