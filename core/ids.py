"""Snowflake ids: 64-bit, time-ordered, unique across processes.

Layout (most significant first): 1 zero bit, 41 bits of milliseconds since
``EPOCH_MS``, 10 bits of worker id, 12 bits of sequence. Ids from one
generator strictly increase; ids sort by creation time across generators
(to the millisecond), which makes them the timeline order and the cursor.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

EPOCH_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z
TIMESTAMP_BITS = 41
WORKER_BITS = 10
SEQUENCE_BITS = 12
MAX_WORKER_ID = (1 << WORKER_BITS) - 1
MAX_SEQUENCE = (1 << SEQUENCE_BITS) - 1
MAX_ID = (1 << (TIMESTAMP_BITS + WORKER_BITS + SEQUENCE_BITS)) - 1
WORKER_SHIFT = SEQUENCE_BITS
TIMESTAMP_SHIFT = SEQUENCE_BITS + WORKER_BITS

# A clock that steps back by at most this much is waited out; more is refused.
MAX_BACKWARDS_WAIT_MS = 50


class ClockMovedBackwardsError(RuntimeError):
    """The system clock went back further than the generator will wait."""


class SnowflakeGenerator:
    """Thread-safe generator of snowflake ids for one worker id."""

    def __init__(
        self,
        worker_id: int,
        clock_ms: Callable[[], int] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not 0 <= worker_id <= MAX_WORKER_ID:
            raise ValueError(f"worker id must be 0-{MAX_WORKER_ID}, got {worker_id}")
        self.worker_id = worker_id
        self._clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        self._sleep = sleep
        self._lock = threading.Lock()
        self._last_ms = -1
        self._sequence = 0

    def next_id(self) -> int:
        with self._lock:
            now = self._clock_ms()
            if now < self._last_ms:
                behind = self._last_ms - now
                if behind > MAX_BACKWARDS_WAIT_MS:
                    raise ClockMovedBackwardsError(
                        f"clock moved back {behind} ms; refusing to issue ids until it catches up"
                    )
                while now < self._last_ms:
                    self._sleep((self._last_ms - now) / 1000)
                    now = self._clock_ms()
            if now == self._last_ms:
                self._sequence = (self._sequence + 1) & MAX_SEQUENCE
                if self._sequence == 0:  # 4096 ids this millisecond: wait for the next
                    while now <= self._last_ms:
                        now = self._clock_ms()
            else:
                self._sequence = 0
            self._last_ms = now
            elapsed = now - EPOCH_MS
            if not 0 <= elapsed < (1 << TIMESTAMP_BITS):
                raise ClockMovedBackwardsError(f"clock {now} ms is outside the id epoch")
            return (elapsed << TIMESTAMP_SHIFT) | (self.worker_id << WORKER_SHIFT) | self._sequence


def id_timestamp_ms(snowflake: int) -> int:
    """Unix milliseconds at which the id was generated."""
    return (snowflake >> TIMESTAMP_SHIFT) + EPOCH_MS


def id_datetime(snowflake: int) -> datetime:
    return datetime.fromtimestamp(id_timestamp_ms(snowflake) / 1000, tz=UTC)


def min_id_for_ms(unix_ms: int) -> int:
    """Smallest id that any generator can issue at ``unix_ms`` (for time-range queries)."""
    return max(0, unix_ms - EPOCH_MS) << TIMESTAMP_SHIFT


def parse_id(raw: str) -> int | None:
    """A decimal id string to an int, or None when it is not a valid snowflake id."""
    if not raw or len(raw) > 19 or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    if value <= 0 or value > MAX_ID:
        return None
    return value
