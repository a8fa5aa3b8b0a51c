"""The caller's rate-limit budget, as this request left it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from resolvers.context import Context


@dataclass(frozen=True)
class Budget:
    limit: int
    remaining: int
    cost: int
    reset_at: float  # epoch seconds


def rate_limit(ctx: Context) -> Budget:
    """The budget this request was charged to, after the charge (its own cost included)."""
    verdict = ctx.budget
    if verdict is None:  # not metered: an in-process call, or limits switched off
        return Budget(0, 0, ctx.cost, time.time())
    return Budget(verdict.limit, verdict.remaining, ctx.cost, max(verdict.reset_at, time.time()))
