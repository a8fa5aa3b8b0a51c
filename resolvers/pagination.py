"""Relay pagination: page sizes, opaque cursors and pages of records."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from core.errors import BadUserInput

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_INT64 = (1 << 63) - 1


def page_size(first: int | None) -> int:
    if first is None:
        return DEFAULT_PAGE_SIZE
    if first < 0:
        raise BadUserInput("`first` cannot be negative.")
    if first > MAX_PAGE_SIZE:
        raise BadUserInput(
            f"`first` is capped at {MAX_PAGE_SIZE}; ask for {MAX_PAGE_SIZE} or fewer."
        )
    return first


def encode_cursor(kind: str, *parts: int) -> str:
    raw = ":".join([kind, *(str(p) for p in parts)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str | None, parts: int = 1) -> tuple[int, ...] | None:
    """The integers a cursor of ``kind`` holds; None for no cursor; BAD_USER_INPUT if invalid."""
    if cursor is None:
        return None
    invalid = BadUserInput("Invalid cursor: pass an endCursor from a previous page of this list.")
    if len(cursor) > 100:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    head, _, rest = raw.partition(":")
    values = rest.split(":")
    if (
        head != kind
        or len(values) != parts
        or not all(v.isascii() and v.isdigit() and int(v) <= MAX_INT64 for v in values)
    ):
        raise invalid
    return tuple(int(v) for v in values)


# A home timeline cursor carries the originals shown above it that could appear again
# below it (see HomeTimeline.read): a few dozen in practice, at most this many.
MAX_CARRIED = 500
_MAX_CARRYING_CURSOR = 16 + 14 * (MAX_CARRIED + 1)


def encode_carrying_cursor(kind: str, position: int, carried: Iterable[int]) -> str:
    """A cursor at ``position`` that also carries a set of ids (base-36, sorted)."""
    ids = sorted(set(carried))[-MAX_CARRIED:]
    raw = f"{kind}:{position}:{','.join(_base36(i) for i in ids)}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_carrying_cursor(kind: str, cursor: str | None) -> tuple[int, frozenset[int]] | None:
    """(position, carried ids) of a cursor from ``encode_carrying_cursor``; None for no
    cursor; BAD_USER_INPUT if invalid."""
    if cursor is None:
        return None
    invalid = BadUserInput("Invalid cursor: pass an endCursor from a previous page of this list.")
    if len(cursor) > _MAX_CARRYING_CURSOR:
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        head, position, carried = raw.split(":")
        ids = frozenset(int(part, 36) for part in carried.split(",") if part)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid from None
    if (
        head != kind
        or not (position.isdigit() and int(position) <= MAX_INT64)
        or len(ids) > MAX_CARRIED
        or any(not 0 < i <= MAX_INT64 for i in ids)
    ):
        raise invalid
    return int(position), ids


def _base36(value: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        value, rest = divmod(value, 36)
        out = digits[rest] + out
        if not value:
            return out


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a connection: (cursor, item) pairs, newest first."""

    items: list[tuple[str, T]]
    has_next: bool

    @classmethod
    def of(cls, rows: Sequence[T], limit: int, cursor: Callable[[T], str]) -> Page[T]:
        """Page from up to ``limit + 1`` rows: the extra row only says a next page exists."""
        kept = rows[:limit]
        return cls([(cursor(row), row) for row in kept], len(rows) > limit)

    @property
    def end_cursor(self) -> str | None:
        return self.items[-1][0] if self.items else None
