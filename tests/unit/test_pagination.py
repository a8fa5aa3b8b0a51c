"""Relay pagination helpers (resolvers/pagination.py)."""

from __future__ import annotations

import base64

import pytest

from core.errors import BadUserInput
from resolvers.pagination import (
    DEFAULT_PAGE_SIZE,
    MAX_PAGE_SIZE,
    Page,
    decode_cursor,
    encode_cursor,
    page_size,
)


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# --- page sizes -------------------------------------------------------------------


@pytest.mark.parametrize(("first", "size"), [(None, DEFAULT_PAGE_SIZE), (0, 0), (1, 1), (100, 100)])
def test_page_size_defaults_to_20_and_allows_0_to_100(first: int | None, size: int) -> None:
    assert DEFAULT_PAGE_SIZE == 20
    assert MAX_PAGE_SIZE == 100
    assert page_size(first) == size


@pytest.mark.parametrize("first", [101, 10**9, -1, -100])
def test_page_size_outside_0_to_100_is_bad_user_input(first: int) -> None:
    with pytest.raises(BadUserInput) as caught:
        page_size(first)
    assert caught.value.code == "BAD_USER_INPUT"


# --- cursors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "parts"),
    [("t", (1,)), ("t", (2**63 - 1,)), ("f", (1_700_000_000_000, 42)), ("l", (0,))],
)
def test_a_cursor_round_trips(kind: str, parts: tuple[int, ...]) -> None:
    cursor = encode_cursor(kind, *parts)
    assert decode_cursor(kind, cursor, len(parts)) == parts


def test_a_cursor_is_opaque_url_safe_and_unpadded() -> None:
    cursor = encode_cursor("f", 1_700_000_000_000, 2**62)
    assert "=" not in cursor
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert "1700000000000" not in cursor


def test_no_cursor_means_the_first_page() -> None:
    assert decode_cursor("t", None) is None


@pytest.mark.parametrize(
    ("kind", "cursor", "parts"),
    [
        ("t", "", 1),  # empty
        ("t", "garbage!", 1),
        ("t", "%%%%", 1),  # not base64 at all
        ("t", "a", 1),  # impossible base64 length
        ("t", "////", 1),  # decodes to bytes that are not ASCII
        ("t", encode_cursor("l", 5), 1),  # a cursor of another list
        ("f", encode_cursor("t", 5), 2),
        ("t", encode_cursor("t", 5, 6), 1),  # too many parts
        ("f", encode_cursor("f", 5), 2),  # too few parts
        ("t", raw_cursor("t:"), 1),
        ("t", raw_cursor("t:-5"), 1),
        ("t", raw_cursor("t:+5"), 1),
        ("t", raw_cursor("t: 5"), 1),
        ("t", raw_cursor("t:5.0"), 1),
        ("t", raw_cursor("t:" + "9" * 20), 1),  # more digits than an int64 has
        ("t", raw_cursor("T:5"), 1),
        ("t", "A" * 101, 1),  # huge
        ("t", encode_cursor("t", 1) + "A" * 200, 1),
    ],
)
def test_invalid_cursors_are_bad_user_input(kind: str, cursor: str, parts: int) -> None:
    with pytest.raises(BadUserInput) as caught:
        decode_cursor(kind, cursor, parts)
    assert caught.value.code == "BAD_USER_INPUT"
    assert "cursor" in caught.value.message.lower()


def test_a_cursor_value_above_int64_is_bad_user_input() -> None:
    """19 digits but more than 2**63 - 1: the stores cannot take it (SQLite overflows)."""
    with pytest.raises(BadUserInput):
        decode_cursor("t", raw_cursor("t:9999999999999999999"))
    with pytest.raises(BadUserInput):
        decode_cursor("f", raw_cursor(f"f:1:{2**63}"), 2)


# --- pages -------------------------------------------------------------------


def cursor_of(n: int) -> str:
    return encode_cursor("t", n)


def test_a_page_with_the_extra_row_has_a_next_page_and_drops_that_row() -> None:
    page = Page.of([30, 20, 10], 2, cursor_of)
    assert [item for _, item in page.items] == [30, 20]
    assert page.has_next is True
    assert page.end_cursor == cursor_of(20)


def test_a_page_of_exactly_limit_rows_is_the_last() -> None:
    page = Page.of([30, 20], 2, cursor_of)
    assert [item for _, item in page.items] == [30, 20]
    assert page.has_next is False


def test_a_short_page_is_the_last() -> None:
    page = Page.of([30], 2, cursor_of)
    assert page.has_next is False
    assert page.items == [(cursor_of(30), 30)]


def test_an_empty_page_has_no_end_cursor() -> None:
    page = Page[int].of([], 5, cursor_of)
    assert page.items == []
    assert page.has_next is False
    assert page.end_cursor is None


def test_a_zero_size_page_only_says_whether_there_is_more() -> None:
    assert Page.of([1], 0, cursor_of).has_next is True
    assert Page.of([1], 0, cursor_of).items == []
    assert Page.of([], 0, cursor_of).has_next is False
