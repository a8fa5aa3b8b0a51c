"""The circuit breaker: deadlines per call, fail fast when open, one probe when half-open."""

from __future__ import annotations

import asyncio

import pytest

from core.breaker import Breaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def hang() -> int:
    await asyncio.sleep(10)
    return 0


async def answer() -> int:
    return 42


async def refuse() -> int:
    raise ConnectionRefusedError


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def breaker(clock: Clock) -> Breaker:
    return Breaker("test", failures=3, reset_after=1.0, clock=clock)


async def test_a_call_past_its_deadline_times_out(breaker: Breaker) -> None:
    with pytest.raises(TimeoutError):
        await breaker.call(hang, 0.01)
    assert breaker.state == "closed"


async def test_failures_in_a_row_open_the_circuit(breaker: Breaker) -> None:
    for make in (hang, refuse, hang):
        with pytest.raises((TimeoutError, ConnectionRefusedError)):
            await breaker.call(make, 0.01)
    assert breaker.state == "open"
    called = False

    async def tracked() -> int:
        nonlocal called
        called = True
        return 1

    with pytest.raises(CircuitOpen):
        await breaker.call(tracked, 1.0)
    assert not called  # an open circuit does not touch the backend


async def test_a_success_resets_the_count(breaker: Breaker) -> None:
    for _ in range(2):
        with pytest.raises(TimeoutError):
            await breaker.call(hang, 0.01)
    assert await breaker.call(answer, 1.0) == 42
    for _ in range(2):
        with pytest.raises(TimeoutError):
            await breaker.call(hang, 0.01)
    assert breaker.state == "closed"


async def test_after_the_reset_time_one_probe_closes_it(breaker: Breaker, clock: Clock) -> None:
    for _ in range(3):
        with pytest.raises(TimeoutError):
            await breaker.call(hang, 0.01)
    clock.now += 1.0
    assert breaker.state == "half-open"
    assert await breaker.call(answer, 1.0) == 42
    assert breaker.state == "closed"


async def test_a_failed_probe_opens_it_again(breaker: Breaker, clock: Clock) -> None:
    for _ in range(3):
        with pytest.raises(TimeoutError):
            await breaker.call(hang, 0.01)
    clock.now += 1.0
    with pytest.raises(TimeoutError):
        await breaker.call(hang, 0.01)
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen):
        await breaker.call(answer, 1.0)


async def test_only_one_probe_at_a_time(breaker: Breaker, clock: Clock) -> None:
    for _ in range(3):
        with pytest.raises(TimeoutError):
            await breaker.call(hang, 0.01)
    clock.now += 1.0
    probe = asyncio.create_task(breaker.call(hang, 0.05))
    await asyncio.sleep(0)
    with pytest.raises(CircuitOpen):
        await breaker.call(answer, 1.0)  # the probe is out: others still fail fast
    with pytest.raises(TimeoutError):
        await probe


async def test_errors_that_are_not_the_backends_do_not_count(breaker: Breaker) -> None:
    async def bug() -> int:
        raise ValueError("a bug, not an outage")

    for _ in range(5):
        with pytest.raises(ValueError, match="bug"):
            await breaker.call(bug, 1.0)
    assert breaker.state == "closed"
