"""A circuit breaker with a deadline per call: a slow or frozen backend fails fast.

A stopped server refuses connections at once; a frozen one (a process
stopped with SIGSTOP, a full network buffer, a partition) leaves the socket
open and never answers, so every call would wait for its socket timeout and
every request behind it too. Each call here has a deadline of its own (tens of
milliseconds on a hot path). After ``failures`` calls in a row miss their
deadline or fail, the breaker opens: calls fail at once, without touching the
backend, for ``reset_after`` seconds; then one call is let through as a probe
(half-open), and its success closes the breaker again. Callers treat the
failure as "unavailable" and take their degraded path (a timeline read by
pull, a fan-out left to the repair pass), so the answer is fast and nothing is
retried in a storm.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

log = logging.getLogger("chirp.breaker")

T = TypeVar("T")


class CircuitOpen(Exception):
    """The breaker is open: the backend was not asked."""


class Breaker:
    """One backend's breaker, shared by every adapter that talks to it."""

    def __init__(
        self,
        name: str,
        *,
        failures: int = 3,
        reset_after: float = 1.0,
        errors: tuple[type[BaseException], ...] = (OSError,),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.threshold = failures
        self.reset_after = reset_after
        # what counts as the backend failing: a missed deadline, or one of ``errors``
        self.failing: tuple[type[BaseException], ...] = (TimeoutError, *errors)
        self.clock = clock
        self.failures = 0
        self.opened_at: float | None = None
        self.probing = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        return "half-open" if self.clock() - self.opened_at >= self.reset_after else "open"

    async def call(self, make: Callable[[], Awaitable[T]], deadline: float) -> T:
        """``make()``'s result within ``deadline`` seconds.

        Raises CircuitOpen when open, TimeoutError when the deadline passes, or
        the backend's own error.
        """
        probe = False
        if self.opened_at is not None:
            if self.clock() - self.opened_at < self.reset_after or self.probing:
                raise CircuitOpen(f"{self.name} is unavailable (circuit open)")
            self.probing = probe = True
        try:
            result = await asyncio.wait_for(make(), deadline)
        except self.failing:
            self._failed(probe)
            raise
        except BaseException:
            if probe:
                self.probing = False
            raise
        self._succeeded(probe)
        return result

    def _failed(self, probe: bool) -> None:
        self.failures += 1
        if probe:
            self.probing = False
            self.opened_at = self.clock()
        elif self.opened_at is None and self.failures >= self.threshold:
            self.opened_at = self.clock()
            log.warning(
                "%s: %d calls failed in a row; failing fast for %.1f s",
                self.name,
                self.failures,
                self.reset_after,
            )

    def _succeeded(self, probe: bool) -> None:
        if self.opened_at is not None and probe:
            log.warning("%s answers again; circuit closed", self.name)
            self.opened_at = None
        self.probing = False
        self.failures = 0


async def within(breaker: Breaker | None, make: Callable[[], Awaitable[T]], deadline: float) -> T:
    """``make()`` through ``breaker`` with its deadline, or as it is when there is none."""
    if breaker is None:
        return await make()
    return await breaker.call(make, deadline)
