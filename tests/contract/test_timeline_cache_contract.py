"""The TimelineCache contract (timeline/port.py): every adapter must pass these tests.

Home timelines and recent lists are lists of ids, newest first, that are
either present or absent. A present list is authoritative from its newest id
down to ``Window.oldest``: adds into it (extend, push, recent_add) never go
below that id, while store / recent_store are not limited. The time-to-live
is adapter configuration, so it is checked per adapter at the end.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from core.ids import TIMESTAMP_SHIFT, WORKER_SHIFT
from timeline.memory import MemoryTimelineCache
from timeline.port import TimelineCache, Window
from timeline.redis import RedisTimelineCache, recent_key, timeline_key

CAP = 800
ALICE, BOB, CAROL = 1, 2, 3
MAX_ID = 2**63 - 1


async def ids_of(cache: TimelineCache, user_id: int, limit: int = 10_000) -> list[int] | None:
    window = await cache.get(user_id, limit)
    return None if window is None else window.ids


async def recent_of(cache: TimelineCache, author_id: int, limit: int = 10_000) -> Window | None:
    return (await cache.recent_get([author_id], limit))[author_id]


# --- get / store -----------------------------------------------------------------


async def test_ping_answers_when_the_cache_is_up(timeline_cache: TimelineCache) -> None:
    await timeline_cache.ping()


async def test_an_absent_timeline_reads_as_none(timeline_cache: TimelineCache) -> None:
    assert await timeline_cache.get(ALICE, 10) is None
    assert await timeline_cache.get(ALICE, 10, before_id=100) is None
    assert await timeline_cache.get(ALICE, 0) is None


async def test_storing_an_empty_list_makes_the_timeline_present_with_oldest_0(
    timeline_cache: TimelineCache,
) -> None:
    await timeline_cache.store(ALICE, [], CAP)
    assert await timeline_cache.get(ALICE, 10) == Window([], 0)
    assert await timeline_cache.get(ALICE, 10, before_id=5) == Window([], 0)
    assert await timeline_cache.get(BOB, 10) is None


async def test_stored_ids_read_back_newest_first_with_the_oldest_held(
    timeline_cache: TimelineCache,
) -> None:
    await timeline_cache.store(ALICE, [30, 10, 50, 20, 40], CAP)
    assert await timeline_cache.get(ALICE, 10) == Window([50, 40, 30, 20, 10], 10)
    # oldest is the oldest id the whole list holds, whatever the page asked for
    assert await timeline_cache.get(ALICE, 2) == Window([50, 40], 10)
    assert await timeline_cache.get(ALICE, 0) == Window([], 10)
    assert await timeline_cache.get(ALICE, 2, before_id=40) == Window([30, 20], 10)


async def test_store_merges_with_what_the_timeline_had(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 30], CAP)
    await timeline_cache.store(ALICE, [20, 30, 40], CAP)
    assert await timeline_cache.get(ALICE, 10) == Window([40, 30, 20, 10], 10)
    await timeline_cache.store(ALICE, [], CAP)
    assert await ids_of(timeline_cache, ALICE) == [40, 30, 20, 10]


async def test_store_is_not_limited_to_the_authoritative_region(
    timeline_cache: TimelineCache,
) -> None:
    await timeline_cache.store(ALICE, [50, 60], CAP)
    await timeline_cache.store(ALICE, [10, 55], CAP)  # 10 is older than the oldest, 50
    assert await timeline_cache.get(ALICE, 10) == Window([60, 55, 50, 10], 10)


async def test_store_keeps_only_the_newest_cap_ids(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, list(range(1, 11)), 4)
    assert await timeline_cache.get(ALICE, 100) == Window([10, 9, 8, 7], 7)
    await timeline_cache.store(ALICE, [5, 12], 4)
    assert await timeline_cache.get(ALICE, 100) == Window([12, 10, 9, 8], 8)


async def test_store_and_extend_many_ids_at_once(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, list(range(1, 1201)), 1000)
    window = await timeline_cache.get(ALICE, 2000)
    assert window == Window(list(range(1200, 200, -1)), 201)
    await timeline_cache.store(BOB, [5000], 1000)
    assert await timeline_cache.extend(BOB, list(range(5001, 6201)), 1000) is True
    assert await timeline_cache.get(BOB, 2000) == Window(list(range(6200, 5200, -1)), 5201)


async def test_get_pages_by_before_id(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, list(range(10, 110, 10)), CAP)
    assert await ids_of(timeline_cache, ALICE) == list(range(100, 0, -10))
    page = await timeline_cache.get(ALICE, 3, before_id=80)
    assert page == Window([70, 60, 50], 10)
    assert await timeline_cache.get(ALICE, 3, before_id=75) == Window([70, 60, 50], 10)
    assert await timeline_cache.get(ALICE, 100, before_id=10) == Window([], 10)
    assert await timeline_cache.get(ALICE, 2, before_id=10_000) == Window([100, 90], 10)

    seen: list[int] = []
    before: int | None = None
    while (window := await timeline_cache.get(ALICE, 3, before)) is not None and window.ids:
        seen.extend(window.ids)
        before = window.ids[-1]
    assert seen == list(range(100, 0, -10))


async def test_timelines_of_different_users_are_separate(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [1, 2], CAP)
    await timeline_cache.store(BOB, [3], CAP)
    assert await timeline_cache.get(ALICE, 10) == Window([2, 1], 1)
    assert await timeline_cache.get(BOB, 10) == Window([3], 3)
    assert await timeline_cache.get(CAROL, 10) is None


# --- extend ----------------------------------------------------------------------


async def test_extend_of_an_absent_timeline_is_false_and_leaves_it_absent(
    timeline_cache: TimelineCache,
) -> None:
    assert await timeline_cache.extend(ALICE, [10, 20], CAP) is False
    assert await timeline_cache.get(ALICE, 10) is None
    assert await timeline_cache.extend(ALICE, [], CAP) is False
    assert await timeline_cache.get(ALICE, 10) is None


async def test_extend_adds_ids_not_older_than_the_oldest(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [20, 40], CAP)
    assert await timeline_cache.extend(ALICE, [50, 30, 20, 10, 5], CAP) is True
    # 10 and 5 lie below the authoritative region: the stores know them, the list must not
    assert await timeline_cache.get(ALICE, 10) == Window([50, 40, 30, 20], 20)
    assert await timeline_cache.extend(ALICE, [], CAP) is True
    assert await timeline_cache.extend(ALICE, [50, 30], CAP) is True  # already there
    assert await timeline_cache.get(ALICE, 10) == Window([50, 40, 30, 20], 20)


async def test_extend_of_an_empty_present_timeline_takes_every_id(
    timeline_cache: TimelineCache,
) -> None:
    await timeline_cache.store(ALICE, [], CAP)
    assert await timeline_cache.extend(ALICE, [3, 1, 2], CAP) is True
    assert await timeline_cache.get(ALICE, 10) == Window([3, 2, 1], 1)


async def test_extend_respects_the_cap(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 20], 3)
    assert await timeline_cache.extend(ALICE, [30, 40, 50, 15], 3) is True
    assert await timeline_cache.get(ALICE, 10) == Window([50, 40, 30], 30)


# --- push ------------------------------------------------------------------------


async def test_push_goes_only_into_present_timelines(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10], CAP)
    await timeline_cache.store(BOB, [], CAP)
    assert await timeline_cache.push([ALICE, BOB, CAROL], 20, CAP) == 2
    assert await timeline_cache.get(ALICE, 10) == Window([20, 10], 10)
    assert await timeline_cache.get(BOB, 10) == Window([20], 20)
    assert await timeline_cache.get(CAROL, 10) is None  # an absent timeline stays absent
    assert await timeline_cache.push([], 30, CAP) == 0
    assert await timeline_cache.push([CAROL], 30, CAP) == 0
    assert await timeline_cache.get(CAROL, 10) is None


async def test_push_is_idempotent(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10], CAP)
    assert await timeline_cache.push([ALICE], 20, CAP) == 1
    assert await timeline_cache.push([ALICE], 20, CAP) == 0
    assert await timeline_cache.push([ALICE, ALICE], 20, CAP) == 0
    assert await timeline_cache.get(ALICE, 10) == Window([20, 10], 10)


async def test_push_to_a_repeated_user_counts_once(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10], CAP)
    assert await timeline_cache.push([ALICE, ALICE, ALICE], 20, CAP) == 1
    assert await ids_of(timeline_cache, ALICE) == [20, 10]


async def test_push_inserts_an_older_id_in_order(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 30], CAP)
    assert await timeline_cache.push([ALICE], 20, CAP) == 1
    assert await timeline_cache.get(ALICE, 10) == Window([30, 20, 10], 10)


async def test_push_of_an_id_older_than_the_oldest_is_ignored(
    timeline_cache: TimelineCache,
) -> None:
    await timeline_cache.store(ALICE, [10, 30], CAP)
    await timeline_cache.store(BOB, [1], CAP)
    # ALICE's list is authoritative only down to 10; BOB's down to 1
    assert await timeline_cache.push([ALICE, BOB], 5, CAP) == 1
    assert await timeline_cache.get(ALICE, 10) == Window([30, 10], 10)
    assert await timeline_cache.get(BOB, 10) == Window([5, 1], 1)
    assert await timeline_cache.push([ALICE], 10, CAP) == 0  # the oldest itself: already there


async def test_push_respects_the_cap(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 20, 30], 3)
    assert await timeline_cache.push([ALICE], 40, 3) == 1
    assert await timeline_cache.get(ALICE, 10) == Window([40, 30, 20], 20)
    assert await timeline_cache.push([ALICE], 5, 3) == 0  # older than all a full timeline keeps
    assert await timeline_cache.get(ALICE, 10) == Window([40, 30, 20], 20)
    assert await timeline_cache.push([ALICE], 25, 3) == 1
    assert await timeline_cache.get(ALICE, 10) == Window([40, 30, 25], 25)
    assert await timeline_cache.push([ALICE], 22, 3) == 0  # now below the oldest, 25


# --- remove / remove_from_many / drop ---------------------------------------------


async def test_remove_takes_ids_out_of_one_timeline(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 20, 30], CAP)
    await timeline_cache.store(BOB, [10, 20, 30], CAP)
    await timeline_cache.remove(ALICE, [20, 30, 999])
    assert await timeline_cache.get(ALICE, 10) == Window([10], 10)
    assert await timeline_cache.get(BOB, 10) == Window([30, 20, 10], 10)
    await timeline_cache.remove(ALICE, [10])
    assert await timeline_cache.get(ALICE, 10) == Window([], 0)  # still present, now empty
    await timeline_cache.remove(ALICE, [])
    assert await timeline_cache.get(ALICE, 10) == Window([], 0)


async def test_remove_from_an_absent_timeline_leaves_it_absent(
    timeline_cache: TimelineCache,
) -> None:
    await timeline_cache.remove(CAROL, [10])
    assert await timeline_cache.get(CAROL, 10) is None


async def test_remove_from_many_takes_one_id_out_of_each_timeline(
    timeline_cache: TimelineCache,
) -> None:
    await timeline_cache.store(ALICE, [10, 20, 30], CAP)
    await timeline_cache.store(BOB, [20], CAP)
    await timeline_cache.store(CAROL, [10, 20], CAP)
    await timeline_cache.remove_from_many([ALICE, BOB, BOB, 404], 20)
    assert await timeline_cache.get(ALICE, 10) == Window([30, 10], 10)
    assert await timeline_cache.get(BOB, 10) == Window([], 0)  # present, now empty
    assert await timeline_cache.get(CAROL, 10) == Window([20, 10], 10)  # not asked
    assert await timeline_cache.get(404, 10) is None  # absent stays absent
    await timeline_cache.remove_from_many([], 10)
    await timeline_cache.remove_from_many([ALICE], 999)
    assert await ids_of(timeline_cache, ALICE) == [30, 10]


async def test_drop_forgets_the_timeline(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 20], CAP)
    await timeline_cache.store(BOB, [10], CAP)
    await timeline_cache.drop(ALICE)
    assert await timeline_cache.get(ALICE, 10) is None
    assert await timeline_cache.push([ALICE], 30, CAP) == 0
    assert await timeline_cache.extend(ALICE, [30], CAP) is False
    assert await timeline_cache.get(ALICE, 10) is None
    assert await timeline_cache.get(BOB, 10) == Window([10], 10)
    await timeline_cache.drop(CAROL)  # dropping an absent timeline is fine
    await timeline_cache.store(ALICE, [5], CAP)  # a rebuild starts from nothing
    assert await timeline_cache.get(ALICE, 10) == Window([5], 5)


# --- recent lists ----------------------------------------------------------------


async def test_an_absent_recent_list_reads_as_none(timeline_cache: TimelineCache) -> None:
    assert await timeline_cache.recent_get([ALICE, BOB], 10) == {ALICE: None, BOB: None}
    assert await timeline_cache.recent_get([ALICE], 10, before_id=5) == {ALICE: None}
    assert await timeline_cache.recent_get([], 10) == {}


async def test_recent_store_makes_the_list_present_merged_and_capped(
    timeline_cache: TimelineCache,
) -> None:
    await timeline_cache.recent_store(ALICE, [], 3)
    assert await recent_of(timeline_cache, ALICE) == Window([], 0)
    await timeline_cache.recent_store(ALICE, [20, 10], 3)
    await timeline_cache.recent_store(ALICE, [5, 40, 30], 3)  # not limited by the oldest
    assert await recent_of(timeline_cache, ALICE) == Window([40, 30, 20], 20)
    await timeline_cache.recent_store(BOB, [7, 5], 3)
    assert await recent_of(timeline_cache, BOB) == Window([7, 5], 5)


async def test_recent_get_answers_per_author_with_limit_and_before_id(
    timeline_cache: TimelineCache,
) -> None:
    await timeline_cache.recent_store(ALICE, [10, 20, 30, 40], CAP)
    await timeline_cache.recent_store(BOB, [15, 25], CAP)
    assert await timeline_cache.recent_get([ALICE, BOB, CAROL, ALICE], 10) == {
        ALICE: Window([40, 30, 20, 10], 10),
        BOB: Window([25, 15], 15),
        CAROL: None,
    }
    assert await timeline_cache.recent_get([ALICE, BOB], 2, before_id=30) == {
        ALICE: Window([20, 10], 10),
        BOB: Window([25, 15], 15),
    }
    assert await timeline_cache.recent_get([BOB], 10, before_id=15) == {BOB: Window([], 15)}
    assert await timeline_cache.recent_get([ALICE], 0) == {ALICE: Window([], 10)}


async def test_recent_add_goes_only_into_a_present_list(timeline_cache: TimelineCache) -> None:
    assert await timeline_cache.recent_add(ALICE, 10, CAP) is False
    assert await recent_of(timeline_cache, ALICE) is None
    await timeline_cache.recent_store(ALICE, [10], CAP)
    assert await timeline_cache.recent_add(ALICE, 30, CAP) is True
    assert await timeline_cache.recent_add(ALICE, 20, CAP) is True
    assert await timeline_cache.recent_add(ALICE, 30, CAP) is True  # idempotent
    assert await recent_of(timeline_cache, ALICE) == Window([30, 20, 10], 10)


async def test_recent_add_never_goes_below_the_oldest(timeline_cache: TimelineCache) -> None:
    await timeline_cache.recent_store(ALICE, [10, 20], CAP)
    assert await timeline_cache.recent_add(ALICE, 5, CAP) is True  # present, id not kept
    assert await recent_of(timeline_cache, ALICE) == Window([20, 10], 10)
    await timeline_cache.recent_store(BOB, [], CAP)
    assert await timeline_cache.recent_add(BOB, 5, CAP) is True
    assert await recent_of(timeline_cache, BOB) == Window([5], 5)


async def test_recent_add_respects_the_cap(timeline_cache: TimelineCache) -> None:
    await timeline_cache.recent_store(ALICE, [10, 20, 30], 3)
    assert await timeline_cache.recent_add(ALICE, 40, 3) is True
    assert await recent_of(timeline_cache, ALICE) == Window([40, 30, 20], 20)


async def test_recent_remove_takes_ids_out(timeline_cache: TimelineCache) -> None:
    await timeline_cache.recent_store(ALICE, [10, 20, 30], CAP)
    await timeline_cache.recent_remove(ALICE, [20, 999])
    assert await recent_of(timeline_cache, ALICE) == Window([30, 10], 10)
    await timeline_cache.recent_remove(ALICE, [])
    await timeline_cache.recent_remove(ALICE, [10, 30])
    assert await recent_of(timeline_cache, ALICE) == Window([], 0)  # present, now empty
    await timeline_cache.recent_remove(BOB, [10])
    assert await recent_of(timeline_cache, BOB) is None


async def test_recent_lists_are_independent_of_timelines(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 20], CAP)
    assert await recent_of(timeline_cache, ALICE) is None
    await timeline_cache.recent_store(BOB, [30, 40], CAP)
    assert await timeline_cache.get(BOB, 10) is None
    assert await timeline_cache.push([BOB], 50, CAP) == 0
    assert await timeline_cache.extend(BOB, [50], CAP) is False

    await timeline_cache.recent_store(ALICE, [15], CAP)
    assert await timeline_cache.push([ALICE], 25, CAP) == 1
    await timeline_cache.remove_from_many([ALICE], 15)
    await timeline_cache.remove(ALICE, [20])
    assert await recent_of(timeline_cache, ALICE) == Window([15], 15)
    await timeline_cache.recent_add(ALICE, 35, CAP)
    await timeline_cache.recent_remove(ALICE, [15])
    await timeline_cache.store(ALICE, [15], CAP)
    assert await ids_of(timeline_cache, ALICE) == [25, 15, 10]
    await timeline_cache.drop(ALICE)
    assert await recent_of(timeline_cache, ALICE) == Window([35], 35)
    assert await recent_of(timeline_cache, BOB) == Window([40, 30], 30)


# --- 63-bit snowflake ids --------------------------------------------------------


async def test_ids_of_different_lengths_up_to_63_bits_keep_their_order(
    timeline_cache: TimelineCache,
) -> None:
    ids = [999_999_999, 1_000_000_000, 99_999_999, 1_000_000_001, 2**62 + 5, MAX_ID - 1, 7]
    newest_first = sorted(ids, reverse=True)
    await timeline_cache.store(ALICE, ids, CAP)
    assert await timeline_cache.get(ALICE, 100) == Window(newest_first, 7)
    assert await timeline_cache.get(ALICE, 2, before_id=1_000_000_000) == Window(
        [999_999_999, 99_999_999], 7
    )
    assert await timeline_cache.get(ALICE, 1, before_id=MAX_ID) == Window([MAX_ID - 1], 7)
    assert await timeline_cache.push([ALICE], MAX_ID, CAP) == 1
    assert await timeline_cache.get(ALICE, 1) == Window([MAX_ID], 7)
    assert await timeline_cache.push([ALICE], 9_999_999_999, CAP) == 1
    assert (await timeline_cache.get(ALICE, 100, before_id=2**62)) == Window(
        [9_999_999_999, 1_000_000_001, 1_000_000_000, 999_999_999, 99_999_999, 7], 7
    )
    await timeline_cache.remove(ALICE, [MAX_ID, 7])
    assert await timeline_cache.get(ALICE, 1) == Window([MAX_ID - 1], 99_999_999)


async def test_large_snowflake_ids_in_the_authoritative_region_rule(
    timeline_cache: TimelineCache,
) -> None:
    base = 2**62
    await timeline_cache.store(ALICE, [base + 100, base + 300], CAP)
    assert await timeline_cache.push([ALICE], base + 99, CAP) == 0
    assert await timeline_cache.push([ALICE], 999_999_999, CAP) == 0
    assert await timeline_cache.extend(ALICE, [base + 200, base + 1, 10**9], CAP) is True
    assert await timeline_cache.get(ALICE, 10) == Window(
        [base + 300, base + 200, base + 100], base + 100
    )
    await timeline_cache.recent_store(BOB, [1_000_000_000], CAP)
    assert await timeline_cache.recent_add(BOB, 999_999_999, CAP) is True  # below the oldest
    assert await timeline_cache.recent_add(BOB, MAX_ID, CAP) is True
    assert await recent_of(timeline_cache, BOB) == Window([MAX_ID, 1_000_000_000], 1_000_000_000)


# --- snowflake ids of one millisecond (the Redis adapter scores ids by millisecond) ---


def snowflake(ms: int, worker: int = 0, sequence: int = 0) -> int:
    return (ms << TIMESTAMP_SHIFT) | (worker << WORKER_SHIFT) | sequence


MS = 190_000_000_000  # about six years after the id epoch


async def test_ids_of_one_millisecond_keep_their_order(timeline_cache: TimelineCache) -> None:
    same = [snowflake(MS, w, q) for w, q in [(0, 1), (3, 0), (0, 0), (1023, 4095), (512, 7)]]
    before, after = snowflake(MS - 1, 1023, 4095), snowflake(MS + 1)
    await timeline_cache.store(ALICE, [*same, before, after], CAP)
    newest_first = sorted([*same, before, after], reverse=True)
    assert await timeline_cache.get(ALICE, 100) == Window(newest_first, before)
    # a cursor at an entry of that millisecond, and between two of its entries
    assert await timeline_cache.get(ALICE, 2, before_id=snowflake(MS, 512, 7)) == Window(
        [snowflake(MS, 3, 0), snowflake(MS, 0, 1)], before
    )
    assert await timeline_cache.get(ALICE, 10, before_id=snowflake(MS, 2, 0)) == Window(
        [snowflake(MS, 0, 1), snowflake(MS, 0, 0), before], before
    )
    assert await timeline_cache.get(ALICE, 1, before_id=snowflake(MS, 0, 0)) == Window(
        [before], before
    )
    # a cursor in an empty millisecond, and just above and below all of them
    assert await timeline_cache.get(ALICE, 1, before_id=snowflake(MS + 1)) == Window(
        [snowflake(MS, 1023, 4095)], before
    )
    assert await timeline_cache.get(ALICE, 1, before_id=snowflake(MS + 1, 0, 1)) == Window(
        [after], before
    )
    assert await timeline_cache.get(ALICE, 10, before_id=before) == Window([], before)
    assert await timeline_cache.get(ALICE, 10, before_id=snowflake(MS - 1)) == Window([], before)

    seen: list[int] = []
    cursor: int | None = None
    while (window := await timeline_cache.get(ALICE, 2, cursor)) is not None and window.ids:
        seen.extend(window.ids)
        cursor = window.ids[-1]
    assert seen == newest_first


async def test_cursors_beyond_the_ids_range(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [snowflake(MS), MAX_ID], CAP)
    assert await timeline_cache.get(ALICE, 10, before_id=2**64) == Window(
        [MAX_ID, snowflake(MS)], snowflake(MS)
    )
    assert await timeline_cache.get(ALICE, 10, before_id=MAX_ID) == Window(
        [snowflake(MS)], snowflake(MS)
    )
    assert await timeline_cache.get(ALICE, 10, before_id=1) == Window([], snowflake(MS))
    assert await timeline_cache.get(ALICE, 10, before_id=0) == Window([], snowflake(MS))


async def test_the_authoritative_region_within_one_millisecond(
    timeline_cache: TimelineCache,
) -> None:
    oldest = snowflake(MS, 5, 5)
    await timeline_cache.store(ALICE, [oldest, snowflake(MS + 3)], CAP)
    assert await timeline_cache.push([ALICE], snowflake(MS, 5, 4), CAP) == 0  # just below
    assert await timeline_cache.push([ALICE], snowflake(MS, 4, 4095), CAP) == 0
    assert await timeline_cache.push([ALICE], snowflake(MS - 1, 1023, 4095), CAP) == 0
    assert await timeline_cache.push([ALICE], snowflake(MS, 5, 6), CAP) == 1  # just above
    assert await timeline_cache.extend(
        ALICE, [snowflake(MS, 6, 0), snowflake(MS, 0, 4095), oldest], CAP
    )
    assert await timeline_cache.get(ALICE, 10) == Window(
        [snowflake(MS + 3), snowflake(MS, 6, 0), snowflake(MS, 5, 6), oldest], oldest
    )
    await timeline_cache.recent_store(BOB, [oldest], CAP)
    assert await timeline_cache.recent_add(BOB, snowflake(MS, 5, 4), CAP) is True
    assert await timeline_cache.recent_add(BOB, snowflake(MS, 5, 6), CAP) is True
    assert await recent_of(timeline_cache, BOB) == Window([snowflake(MS, 5, 6), oldest], oldest)


async def test_trimming_keeps_the_newest_across_one_millisecond(
    timeline_cache: TimelineCache,
) -> None:
    ids = [snowflake(MS + ms, 0, q) for ms in range(3) for q in range(4)]  # 12 ids, 3 ms
    await timeline_cache.store(ALICE, ids, 6)
    newest = sorted(ids, reverse=True)[:6]
    assert await timeline_cache.get(ALICE, 100) == Window(newest, newest[-1])
    assert newest[-1] == snowflake(MS + 1, 0, 2)
    assert await timeline_cache.push([ALICE], snowflake(MS + 1, 0, 1), 6) == 0  # below it
    assert await timeline_cache.push([ALICE], snowflake(MS + 1, 1, 0), 6) == 1  # trims one
    newest = sorted([*newest, snowflake(MS + 1, 1, 0)], reverse=True)[:6]
    assert await timeline_cache.get(ALICE, 100) == Window(newest, newest[-1])
    assert newest[-1] == snowflake(MS + 1, 0, 3)  # (MS + 1, 0, 2) trimmed
    await timeline_cache.recent_store(BOB, ids, 5)
    assert await recent_of(timeline_cache, BOB) == Window(
        sorted(ids, reverse=True)[:5], sorted(ids, reverse=True)[4]
    )


async def test_an_emptied_list_of_snowflakes_stays_present(timeline_cache: TimelineCache) -> None:
    ids = [snowflake(MS, 0, 0), snowflake(MS, 0, 1), MAX_ID]
    await timeline_cache.store(ALICE, ids, CAP)
    await timeline_cache.remove(ALICE, ids)
    assert await timeline_cache.get(ALICE, 10) == Window([], 0)
    assert await timeline_cache.get(ALICE, 10, before_id=MAX_ID) == Window([], 0)
    assert await timeline_cache.push([ALICE], snowflake(MS, 0, 0), CAP) == 1  # anything goes
    assert await timeline_cache.get(ALICE, 10) == Window([snowflake(MS, 0, 0)], snowflake(MS))
    await timeline_cache.recent_store(BOB, [MAX_ID], CAP)
    await timeline_cache.recent_remove(BOB, [MAX_ID])
    assert await recent_of(timeline_cache, BOB) == Window([], 0)
    assert await timeline_cache.recent_add(BOB, 1, CAP) is True
    assert await recent_of(timeline_cache, BOB) == Window([1], 1)


# --- time-to-live: adapter configuration, checked per adapter ----------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_memory_timelines_expire_unless_read() -> None:
    clock = FakeClock()
    cache = MemoryTimelineCache(ttl_seconds=100, clock=clock)
    await cache.store(ALICE, [10], CAP)
    await cache.store(BOB, [10], CAP)
    clock.now += 60
    assert await cache.push([ALICE, BOB], 20, CAP) == 2  # a push does not keep a timeline alive
    assert await cache.get(ALICE, 10) == Window([20, 10], 10)  # a read does
    clock.now += 60  # BOB's 100 s have passed; ALICE read 60 s ago
    assert await cache.get(BOB, 10) is None
    assert await cache.push([ALICE, BOB], 30, CAP) == 1
    assert await cache.extend(BOB, [30], CAP) is False
    assert await cache.get(ALICE, 10, before_id=25) == Window([20, 10], 10)
    clock.now += 99
    assert await cache.get(ALICE, 10) == Window([30, 20, 10], 10)
    clock.now += 101
    assert await cache.get(ALICE, 10) is None
    assert await cache.push([ALICE], 40, CAP) == 0
    await cache.store(ALICE, [5], CAP)  # a rebuild after expiry starts from nothing
    assert await cache.get(ALICE, 10) == Window([5], 5)


async def test_memory_recent_lists_do_not_expire() -> None:
    clock = FakeClock()
    cache = MemoryTimelineCache(ttl_seconds=100, clock=clock)
    await cache.recent_store(ALICE, [10], CAP)
    clock.now += 10_000
    assert await cache.recent_add(ALICE, 20, CAP) is True
    assert await cache.recent_get([ALICE], 10) == {ALICE: Window([20, 10], 10)}


@pytest.fixture
async def redis_cache(redis_url: str) -> AsyncIterator[RedisTimelineCache]:
    cache = RedisTimelineCache(Redis.from_url(redis_url), ttl_seconds=1000)
    await cache.redis.flushdb()
    try:
        yield cache
    finally:
        await cache.redis.flushdb()
        await cache.close()


async def test_redis_timelines_have_a_ttl_that_reads_refresh(
    redis_cache: RedisTimelineCache,
) -> None:
    redis = redis_cache.redis
    await redis_cache.store(ALICE, [10], CAP)
    assert 990 <= await redis.ttl(timeline_key(ALICE)) <= 1000
    await redis_cache.store(BOB, [], CAP)  # an empty timeline expires too
    assert 990 <= await redis.ttl(timeline_key(BOB)) <= 1000

    await redis.expire(timeline_key(ALICE), 50)
    await redis_cache.push([ALICE], 20, CAP)
    await redis_cache.extend(ALICE, [30], CAP)
    assert 0 < await redis.ttl(timeline_key(ALICE)) <= 50  # writes keep the TTL as it was
    assert await redis_cache.get(ALICE, 1) == Window([30], 10)
    assert 990 <= await redis.ttl(timeline_key(ALICE)) <= 1000  # a read refreshes it

    await redis.expire(timeline_key(ALICE), 50)
    assert await redis_cache.get(ALICE, 10, before_id=5) == Window([], 10)
    assert 990 <= await redis.ttl(timeline_key(ALICE)) <= 1000

    await redis.delete(timeline_key(ALICE))  # what expiry does
    assert await redis_cache.get(ALICE, 10) is None
    assert await redis.exists(timeline_key(ALICE)) == 0  # a read does not resurrect it


async def test_redis_recent_lists_have_no_ttl(redis_cache: RedisTimelineCache) -> None:
    redis = redis_cache.redis
    await redis_cache.recent_store(ALICE, [10], CAP)
    assert await redis_cache.recent_add(ALICE, 20, CAP) is True
    assert await redis_cache.recent_get([ALICE], 10) == {ALICE: Window([20, 10], 10)}
    assert await redis.ttl(recent_key(ALICE)) == -1  # exists, never expires
    assert await redis_cache.recent_add(BOB, 20, CAP) is False
    assert await redis.exists(recent_key(BOB)) == 0


async def test_redis_keeps_a_full_timeline_as_a_listpack_of_at_most_24_kb(
    redis_cache: RedisTimelineCache,
) -> None:
    """With tests/servers.py's zset-max-listpack-entries (README, "Redis memory")."""
    redis = redis_cache.redis
    ids = [snowflake(MS + n // 3, n % 7, n % 3) for n in range(CAP)]
    await redis_cache.store(ALICE, ids, CAP)
    assert await redis.object("encoding", timeline_key(ALICE)) == b"listpack"
    used = await redis.memory_usage(timeline_key(ALICE), samples=0)
    assert used is not None
    assert used <= 24 * 1024
    window = await redis_cache.get(ALICE, CAP)
    assert window == Window(sorted(ids, reverse=True), min(ids))


async def test_redis_lists_of_the_old_format_are_never_read_and_go_on_rebuild(
    redis_cache: RedisTimelineCache,
) -> None:
    redis = redis_cache.redis
    old_member = str(snowflake(MS)).zfill(19)  # the format before issue 16
    await redis.zadd(f"chirp:tl:{{{ALICE}}}", {"0": 0, old_member: 0})
    await redis.zadd(f"chirp:recent:{{{BOB}}}", {"0": 0, old_member: 0})
    assert await redis_cache.get(ALICE, 10) is None
    assert await redis_cache.push([ALICE], snowflake(MS + 1), CAP) == 0
    assert await redis_cache.recent_get([BOB], 10) == {BOB: None}
    assert await redis_cache.recent_add(BOB, snowflake(MS + 1), CAP) is False
    await redis_cache.store(ALICE, [snowflake(MS + 2)], CAP)
    await redis_cache.recent_store(BOB, [snowflake(MS + 2)], CAP)
    assert await redis.exists(f"chirp:tl:{{{ALICE}}}", f"chirp:recent:{{{BOB}}}") == 0
    assert await redis_cache.get(ALICE, 10) == Window([snowflake(MS + 2)], snowflake(MS + 2))


async def test_redis_open_warns_when_full_timelines_would_not_be_listpacks(
    redis_cache: RedisTimelineCache,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    redis = redis_cache.redis
    setting = "zset-max-listpack-entries"
    was = await redis_cache.listpack_entries()
    assert was == 1024  # tests/servers.py's REDIS_TIMELINE_SETTINGS
    caplog.set_level(logging.INFO, logger="chirp.timeline")
    try:
        await redis.config_set(setting, 801)
        await redis_cache.open()
        assert not caplog.records
        await redis.config_set(setting, 800)
        await redis_cache.open()
        (record,) = caplog.records
        assert record.levelno == logging.WARNING
        assert "zset-max-listpack-entries 800" in record.getMessage()
        assert "zset-max-listpack-entries 801 or more" in record.getMessage()
    finally:
        await redis.config_set(setting, was)
    caplog.clear()

    async def refused(*args: object, **kwargs: object) -> None:
        raise ResponseError("unknown command 'CONFIG'")  # as managed Redis may answer

    monkeypatch.setattr(redis, "config_get", refused)
    await redis_cache.open()
    (record,) = caplog.records
    assert record.levelno == logging.INFO
    assert "cannot read zset-max-listpack-entries" in record.getMessage()
