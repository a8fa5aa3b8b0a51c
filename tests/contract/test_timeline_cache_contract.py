"""The TimelineCache contract (timeline/port.py): every adapter must pass these tests."""

from __future__ import annotations

from timeline.port import TimelineCache

CAP = 800
ALICE, BOB, CAROL = 1, 2, 3


async def test_ping_answers_when_the_cache_is_up(timeline_cache: TimelineCache) -> None:
    await timeline_cache.ping()


async def test_an_absent_timeline_reads_as_none(timeline_cache: TimelineCache) -> None:
    assert await timeline_cache.get(ALICE, 10) is None
    assert await timeline_cache.get(ALICE, 10, before_id=100) is None


async def test_storing_an_empty_list_makes_the_timeline_present(
    timeline_cache: TimelineCache,
) -> None:
    await timeline_cache.store(ALICE, [], CAP)
    assert await timeline_cache.get(ALICE, 10) == []
    assert await timeline_cache.get(BOB, 10) is None


async def test_stored_ids_read_back_newest_first(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [30, 10, 50, 20, 40], CAP)
    assert await timeline_cache.get(ALICE, 10) == [50, 40, 30, 20, 10]
    assert await timeline_cache.get(ALICE, 2) == [50, 40]
    assert await timeline_cache.get(ALICE, 0) == []


async def test_store_merges_with_what_the_timeline_had(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 30], CAP)
    await timeline_cache.store(ALICE, [20, 30, 40], CAP)
    assert await timeline_cache.get(ALICE, 10) == [40, 30, 20, 10]


async def test_store_keeps_only_the_newest_cap_ids(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, list(range(1, 11)), 4)
    assert await timeline_cache.get(ALICE, 100) == [10, 9, 8, 7]
    await timeline_cache.store(ALICE, [5, 12], 4)
    assert await timeline_cache.get(ALICE, 100) == [12, 10, 9, 8]


async def test_get_pages_by_before_id(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, list(range(10, 110, 10)), CAP)
    assert await timeline_cache.get(ALICE, 3, before_id=80) == [70, 60, 50]
    assert await timeline_cache.get(ALICE, 3, before_id=75) == [70, 60, 50]
    assert await timeline_cache.get(ALICE, 100, before_id=10) == []
    assert await timeline_cache.get(ALICE, 2, before_id=10_000) == [100, 90]

    seen: list[int] = []
    before: int | None = None
    while page := await timeline_cache.get(ALICE, 3, before):
        seen.extend(page)
        before = page[-1]
    assert seen == list(range(100, 0, -10))[:10]


async def test_timelines_of_different_users_are_separate(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [1, 2], CAP)
    await timeline_cache.store(BOB, [3], CAP)
    assert await timeline_cache.get(ALICE, 10) == [2, 1]
    assert await timeline_cache.get(BOB, 10) == [3]


async def test_push_goes_only_into_present_timelines(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10], CAP)
    await timeline_cache.store(BOB, [], CAP)
    assert await timeline_cache.push([ALICE, BOB, CAROL], 20, CAP) == 2
    assert await timeline_cache.get(ALICE, 10) == [20, 10]
    assert await timeline_cache.get(BOB, 10) == [20]
    assert await timeline_cache.get(CAROL, 10) is None  # an absent timeline stays absent
    assert await timeline_cache.push([], 30, CAP) == 0


async def test_push_is_idempotent(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10], CAP)
    await timeline_cache.push([ALICE], 20, CAP)
    await timeline_cache.push([ALICE], 20, CAP)
    await timeline_cache.push([ALICE, ALICE], 20, CAP)
    assert await timeline_cache.get(ALICE, 10) == [20, 10]


async def test_push_inserts_an_older_id_in_order(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 30], CAP)
    assert await timeline_cache.push([ALICE], 20, CAP) == 1
    assert await timeline_cache.get(ALICE, 10) == [30, 20, 10]


async def test_push_respects_the_cap(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 20, 30], 3)
    await timeline_cache.push([ALICE], 40, 3)
    assert await timeline_cache.get(ALICE, 10) == [40, 30, 20]
    await timeline_cache.push([ALICE], 5, 3)  # older than all a full timeline keeps
    assert await timeline_cache.get(ALICE, 10) == [40, 30, 20]
    await timeline_cache.push([ALICE], 25, 3)
    assert await timeline_cache.get(ALICE, 10) == [40, 30, 25]


async def test_remove_takes_ids_out_of_one_timeline(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 20, 30], CAP)
    await timeline_cache.store(BOB, [10, 20, 30], CAP)
    await timeline_cache.remove(ALICE, [20, 30, 999])
    assert await timeline_cache.get(ALICE, 10) == [10]
    assert await timeline_cache.get(BOB, 10) == [30, 20, 10]
    await timeline_cache.remove(ALICE, [10])
    assert await timeline_cache.get(ALICE, 10) == []  # still present, now empty
    await timeline_cache.remove(ALICE, [])


async def test_remove_from_an_absent_timeline_leaves_it_absent(
    timeline_cache: TimelineCache,
) -> None:
    await timeline_cache.remove(CAROL, [10])
    assert await timeline_cache.get(CAROL, 10) is None


async def test_drop_forgets_the_timeline(timeline_cache: TimelineCache) -> None:
    await timeline_cache.store(ALICE, [10, 20], CAP)
    await timeline_cache.store(BOB, [10], CAP)
    await timeline_cache.drop(ALICE)
    assert await timeline_cache.get(ALICE, 10) is None
    assert await timeline_cache.push([ALICE], 30, CAP) == 0
    assert await timeline_cache.get(ALICE, 10) is None
    assert await timeline_cache.get(BOB, 10) == [10]
    await timeline_cache.drop(CAROL)  # dropping an absent timeline is fine


async def test_large_snowflake_ids_keep_their_order(timeline_cache: TimelineCache) -> None:
    big = [2**62 + n for n in (5, 1, 3)]
    await timeline_cache.store(ALICE, big, CAP)
    assert await timeline_cache.get(ALICE, 10) == sorted(big, reverse=True)
    await timeline_cache.push([ALICE], 2**63 - 1, CAP)
    assert await timeline_cache.get(ALICE, 1) == [2**63 - 1]
