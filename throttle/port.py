"""The rate limiter port: spend points from a budget, atomically, and learn what is left.

A ``Rule`` is a budget: ``limit`` points per ``period`` seconds, refilled
continuously (GCRA, the generic cell rate algorithm: a caller that spent the
whole budget gets ``limit / period`` points back each second, and may spend
the whole budget at once after a quiet ``period``). Each key (a user, an app,
an IP address) has its own budget per rule. A hit that costs more than is left
is refused and spends nothing; it answers when enough will be back.

Adapters: ``memory.MemoryLimiter`` (one process) and ``redis.RedisLimiter``
(one atomic script per key, Cluster-safe, the server's clock). Both compute
with the same ``gcra`` function, so they answer alike; the contract suite in
tests/contract/test_limiter_contract.py runs against each.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Rule:
    """``limit`` points per ``period`` seconds, under a name (used in keys and headers)."""

    name: str
    limit: int
    period: int

    def __post_init__(self) -> None:
        if self.limit < 1 or self.period < 1:
            raise ValueError(f"rule {self.name!r}: limit and period must be at least 1")


@dataclass(frozen=True)
class Verdict:
    """The answer to one hit."""

    rule: Rule
    allowed: bool
    remaining: int  # points left after this hit (before it, when refused)
    reset_at: float  # epoch seconds when the budget is whole again
    retry_after: float  # seconds until this hit would be allowed (0 when allowed)

    @property
    def limit(self) -> int:
        return self.rule.limit

    @classmethod
    def whole(cls, rule: Rule) -> Verdict:
        """A budget not charged (a safelisted caller, a limiter that is down): all of it."""
        return cls(rule, True, rule.limit, time.time(), 0.0)


class LimiterUnavailable(Exception):
    """The limiter's store did not answer (in time)."""


class Limiter(Protocol):
    async def hit(self, rule: Rule, key: str, cost: int = 1) -> Verdict:
        """Spend ``cost`` points of ``key``'s budget under ``rule``, if it has them."""
        ...

    async def close(self) -> None: ...


def gcra(rule: Rule, tat: float | None, now: float, cost: int) -> tuple[float | None, Verdict]:
    """One hit on a budget whose theoretical arrival time is ``tat`` (None: untouched).

    Returns the new arrival time to store (None: refused, store nothing) and the
    verdict. The budget is full when ``tat <= now``; each point moves ``tat``
    ``period / limit`` seconds on; a hit is allowed while ``tat`` stays within
    ``period`` of now.
    """
    interval = rule.period / rule.limit
    start = max(tat if tat is not None else now, now)
    after = start + cost * interval
    allow_at = after - rule.period
    if allow_at > now + 1e-6:
        remaining = max(0, math.floor((rule.period - (start - now)) / interval + 1e-3))
        return None, Verdict(rule, False, remaining, start, allow_at - now)
    remaining = max(0, math.floor((rule.period - (after - now)) / interval + 1e-3))
    return after, Verdict(rule, True, remaining, after, 0.0)
