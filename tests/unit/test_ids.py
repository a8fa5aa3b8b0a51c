"""Snowflake ids (core/ids.py): layout, monotonicity, clock trouble, parsing."""

from __future__ import annotations

import asyncio
import itertools
import threading
from datetime import UTC, datetime

import pytest

from core.ids import (
    EPOCH_MS,
    MAX_BACKWARDS_WAIT_MS,
    MAX_ID,
    MAX_SEQUENCE,
    MAX_WORKER_ID,
    SEQUENCE_BITS,
    TIMESTAMP_SHIFT,
    WORKER_SHIFT,
    ClockMovedBackwardsError,
    SnowflakeGenerator,
    id_datetime,
    id_timestamp_ms,
    min_id_for_ms,
    parse_id,
)

T0 = EPOCH_MS + 1_000_000_000  # a fixed instant well inside the id epoch


class FakeClock:
    """A millisecond clock the test moves by hand; counts how often it was read."""

    def __init__(self, now: int = T0) -> None:
        self.now = now
        self.reads = 0

    def __call__(self) -> int:
        self.reads += 1
        return self.now


def worker_of(snowflake: int) -> int:
    return (snowflake >> WORKER_SHIFT) & MAX_WORKER_ID


def sequence_of(snowflake: int) -> int:
    return snowflake & MAX_SEQUENCE


def assert_strictly_increasing(ids: list[int]) -> None:
    for earlier, later in itertools.pairwise(ids):
        assert earlier < later, f"{later} issued after {earlier}"


# --- layout -------------------------------------------------------------------


def test_the_layout_is_41_bits_of_ms_then_10_of_worker_then_12_of_sequence() -> None:
    assert SEQUENCE_BITS == 12
    assert WORKER_SHIFT == 12
    assert TIMESTAMP_SHIFT == 22
    assert MAX_ID == 2**63 - 1
    assert MAX_WORKER_ID == 1023
    assert MAX_SEQUENCE == 4095


def test_an_id_packs_the_elapsed_ms_the_worker_and_the_sequence() -> None:
    generator = SnowflakeGenerator(worker_id=0b1010101010, clock_ms=FakeClock())
    first, second = generator.next_id(), generator.next_id()
    assert first == ((T0 - EPOCH_MS) << 22) | (0b1010101010 << 12) | 0
    assert second == first + 1  # same millisecond: only the sequence moves


def test_an_id_decodes_to_its_timestamp_and_worker() -> None:
    generator = SnowflakeGenerator(worker_id=777, clock_ms=FakeClock(T0 + 123))
    snowflake = generator.next_id()
    assert id_timestamp_ms(snowflake) == T0 + 123
    assert worker_of(snowflake) == 777
    assert sequence_of(snowflake) == 0
    assert id_datetime(snowflake) == datetime.fromtimestamp((T0 + 123) / 1000, tz=UTC)


def test_ids_fit_in_a_signed_64_bit_integer() -> None:
    generator = SnowflakeGenerator(worker_id=MAX_WORKER_ID)
    snowflake = generator.next_id()
    assert 0 < snowflake <= MAX_ID
    assert snowflake >> 63 == 0


def test_min_id_for_ms_is_a_lower_bound_of_every_id_of_that_millisecond() -> None:
    for worker in (0, 1, MAX_WORKER_ID):
        snowflake = SnowflakeGenerator(worker, clock_ms=FakeClock(T0)).next_id()
        assert min_id_for_ms(T0) <= snowflake < min_id_for_ms(T0 + 1)
    assert min_id_for_ms(EPOCH_MS - 5) == 0


def test_ids_of_a_later_millisecond_sort_after_any_worker_of_an_earlier_one() -> None:
    early = SnowflakeGenerator(MAX_WORKER_ID, clock_ms=FakeClock(T0)).next_id()
    late = SnowflakeGenerator(0, clock_ms=FakeClock(T0 + 1)).next_id()
    assert early < late


# --- worker id ----------------------------------------------------------------


@pytest.mark.parametrize("worker_id", [0, 1, 512, 1023])
def test_worker_ids_0_to_1023_are_accepted(worker_id: int) -> None:
    assert SnowflakeGenerator(worker_id).worker_id == worker_id


@pytest.mark.parametrize("worker_id", [-1, 1024, 2000, 2**32])
def test_worker_ids_outside_10_bits_are_refused(worker_id: int) -> None:
    with pytest.raises(ValueError, match="worker id"):
        SnowflakeGenerator(worker_id)


def test_two_workers_never_collide_in_the_same_millisecond() -> None:
    clock = FakeClock()
    one, two = SnowflakeGenerator(1, clock_ms=clock), SnowflakeGenerator(2, clock_ms=clock)
    a = [one.next_id() for _ in range(100)]
    b = [two.next_id() for _ in range(100)]
    assert set(a).isdisjoint(b)
    assert {id_timestamp_ms(i) for i in a + b} == {T0}


# --- monotonicity and the sequence ----------------------------------------------


def test_ids_from_one_generator_strictly_increase_on_the_real_clock() -> None:
    generator = SnowflakeGenerator(worker_id=3)
    assert_strictly_increasing([generator.next_id() for _ in range(10_000)])


def test_a_new_millisecond_restarts_the_sequence() -> None:
    clock = FakeClock()
    generator = SnowflakeGenerator(0, clock_ms=clock)
    generator.next_id()
    generator.next_id()
    clock.now += 1
    snowflake = generator.next_id()
    assert sequence_of(snowflake) == 0
    assert id_timestamp_ms(snowflake) == T0 + 1


def test_sequence_overflow_waits_for_the_next_millisecond() -> None:
    """The 4097th id of one millisecond is issued in the next one, with sequence 0."""

    class StuckThenTicks(FakeClock):
        def __call__(self) -> int:
            value = super().__call__()
            if self.reads > MAX_SEQUENCE + 1 + 3:  # a few busy-wait reads, then tick
                return value + 1
            return value

    clock = StuckThenTicks()
    generator = SnowflakeGenerator(5, clock_ms=clock)
    ids = [generator.next_id() for _ in range(MAX_SEQUENCE + 1)]
    assert [sequence_of(i) for i in ids] == list(range(MAX_SEQUENCE + 1))
    assert {id_timestamp_ms(i) for i in ids} == {T0}

    overflow = generator.next_id()
    assert id_timestamp_ms(overflow) == T0 + 1
    assert sequence_of(overflow) == 0
    assert worker_of(overflow) == 5
    assert_strictly_increasing([*ids, overflow])
    assert len(set(ids) | {overflow}) == MAX_SEQUENCE + 2


def test_a_clock_stepping_back_a_little_is_waited_out() -> None:
    clock = FakeClock()
    sleeps: list[float] = []

    def fake_sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.now += round(seconds * 1000)  # time passes while we sleep

    generator = SnowflakeGenerator(0, clock_ms=clock, sleep=fake_sleep)
    before = generator.next_id()
    clock.now -= 10
    after = generator.next_id()

    assert sleeps == [pytest.approx(0.010)]
    assert after > before
    assert id_timestamp_ms(after) == T0


def test_a_clock_stepping_back_exactly_the_tolerated_amount_is_waited_out() -> None:
    clock = FakeClock()

    def fake_sleep(seconds: float) -> None:
        clock.now += round(seconds * 1000)

    generator = SnowflakeGenerator(0, clock_ms=clock, sleep=fake_sleep)
    before = generator.next_id()
    clock.now -= MAX_BACKWARDS_WAIT_MS
    assert generator.next_id() > before


def test_a_clock_stepping_back_a_lot_is_refused_and_no_id_is_reused() -> None:
    clock = FakeClock()
    sleeps: list[float] = []
    generator = SnowflakeGenerator(0, clock_ms=clock, sleep=sleeps.append)
    issued = [generator.next_id() for _ in range(3)]

    clock.now -= MAX_BACKWARDS_WAIT_MS + 1
    with pytest.raises(ClockMovedBackwardsError):
        generator.next_id()
    clock.now = T0 - 60_000  # a minute back: still refused, and nobody sleeps that long
    with pytest.raises(ClockMovedBackwardsError):
        generator.next_id()
    assert sleeps == []

    clock.now = T0  # the clock catches up: issuing resumes after what was issued
    resumed = generator.next_id()
    assert resumed > max(issued)
    assert resumed not in issued


def test_a_clock_before_the_epoch_is_refused() -> None:
    generator = SnowflakeGenerator(0, clock_ms=FakeClock(EPOCH_MS - 1))
    with pytest.raises(ClockMovedBackwardsError):
        generator.next_id()


# --- the required uniqueness test -----------------------------------------------


async def test_100k_ids_across_concurrent_tasks_are_unique_and_increase_in_issue_order() -> None:
    generator = SnowflakeGenerator(worker_id=42)
    issued: list[int] = []  # in the order each call returned
    tasks, batches, batch = 50, 40, 50  # 50 * 40 * 50 = 100,000

    async def worker() -> list[int]:
        mine: list[int] = []
        for _ in range(batches):
            for _ in range(batch):
                snowflake = generator.next_id()
                issued.append(snowflake)
                mine.append(snowflake)
            await asyncio.sleep(0)  # let the other tasks interleave
        return mine

    per_task = await asyncio.gather(*(worker() for _ in range(tasks)))

    assert len(issued) == 100_000
    assert len(set(issued)) == 100_000
    assert_strictly_increasing(issued)
    for mine in per_task:
        assert_strictly_increasing(mine)
    assert {worker_of(i) for i in issued} == {42}


def test_100k_ids_across_threads_are_unique_and_increase_per_thread() -> None:
    generator = SnowflakeGenerator(worker_id=7)
    threads, each = 8, 12_500
    results: list[list[int]] = [[] for _ in range(threads)]
    start = threading.Barrier(threads)

    def run(slot: int) -> None:
        start.wait()
        out = results[slot]
        for _ in range(each):
            out.append(generator.next_id())

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    every = [i for out in results for i in out]
    assert len(every) == 100_000
    assert len(set(every)) == 100_000
    for out in results:
        assert_strictly_increasing(out)


def test_ids_issued_under_a_shared_lock_increase_in_return_order_across_threads() -> None:
    """Threads record each id while holding a lock, so the list is the true return order."""
    generator = SnowflakeGenerator(worker_id=9)
    issued: list[int] = []
    lock = threading.Lock()

    def run() -> None:
        for _ in range(5_000):
            with lock:
                issued.append(generator.next_id())

    workers = [threading.Thread(target=run) for _ in range(4)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert len(issued) == 20_000
    assert_strictly_increasing(issued)


# --- parse_id -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", 1),
        ("42", 42),
        ("0001", 1),
        (str(MAX_ID), MAX_ID),
        ("1234567890123456789", 1234567890123456789),
    ],
)
def test_parse_id_accepts_positive_decimal_ids_up_to_63_bits(raw: str, expected: int) -> None:
    assert parse_id(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "0",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1_000",
        "1.0",
        "1e3",
        "0x10",
        "abc",
        str(MAX_ID + 1),  # 2**63: more than 63 bits
        "9" * 19,
        "1" * 20,
        "١٢٣",  # Arabic-Indic digits
        "１２３",  # full-width digits
        "²",  # a superscript: str.isdigit() says True
    ],
)
def test_parse_id_rejects_anything_but_a_plain_positive_63_bit_decimal(raw: str) -> None:
    assert parse_id(raw) is None


def test_parse_id_round_trips_generated_ids() -> None:
    generator = SnowflakeGenerator(worker_id=1)
    for _ in range(100):
        snowflake = generator.next_id()
        assert parse_id(str(snowflake)) == snowflake
