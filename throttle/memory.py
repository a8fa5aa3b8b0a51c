"""The in-process limiter: a dict of arrival times, swept as it grows."""

from __future__ import annotations

import time
from collections.abc import Callable

from throttle.port import Rule, Verdict, gcra


class MemoryLimiter:
    """Budgets of one process. A hit costs a dict lookup; finished budgets are swept lazily."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.arrivals: dict[tuple[str, str], float] = {}
        self.sweep_at = 1024  # size at which spent-and-refilled budgets are dropped

    async def hit(self, rule: Rule, key: str, cost: int = 1) -> Verdict:
        return self.hit_now(rule, key, cost)

    def hit_now(self, rule: Rule, key: str, cost: int = 1) -> Verdict:
        now = self.clock()
        slot = (rule.name, key)
        stored, verdict = gcra(rule, self.arrivals.get(slot), now, cost)
        if stored is not None:
            self.arrivals[slot] = stored
            if len(self.arrivals) >= self.sweep_at:
                self.sweep(now)
        return verdict

    def sweep(self, now: float) -> None:
        """Drop budgets that are whole again: amortised O(1) a hit."""
        self.arrivals = {k: v for k, v in self.arrivals.items() if v > now}
        self.sweep_at = max(1024, 2 * len(self.arrivals))

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        self.arrivals.clear()
