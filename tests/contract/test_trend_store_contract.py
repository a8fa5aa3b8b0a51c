"""The TrendStore contract (trends/port.py): every adapter counts alike.

Times are chosen, not read from a clock: ``NOW`` is 30 minutes and 17 seconds
past an hour, so a 60-minute window starts at the bucket of half past the hour
before (5-minute buckets), and its baseline is the 24 whole hours before that
hour. Redis keys expire counted from each record's time, so chosen times far
from the server's clock are fine.
"""

from __future__ import annotations

import random
import time
from typing import Any

from redis.asyncio import Redis

from trends.memory import MemoryTrendStore
from trends.port import DEFAULT_GEOMETRY, HOUR_MS, MINUTE_MS, TagActivity, TrendStore
from trends.redis import PREFIX, SCRATCH, RedisTrendStore

BUCKET = DEFAULT_GEOMETRY.bucket_ms
NOW = 1_790_000_000_000 // HOUR_MS * HOUR_MS + 30 * MINUTE_MS + 17_000
WINDOW = 60 * MINUTE_MS
START = (NOW - WINDOW) // BUCKET * BUCKET  # half past the hour before NOW's
FIRST_HOUR = START // HOUR_MS * HOUR_MS  # the window's first hour: the baseline ends here
ALICE, BOB, CAROL, DAVE = 11, 22, 33, 44
NO_BASELINE = (0,) * DEFAULT_GEOMETRY.baseline_buckets


def baseline_hour(before: int) -> int:
    """A time in the baseline hour that ends ``before - 1`` hours before the baseline does
    (1: the last hour of the baseline, 24: its first)."""
    return FIRST_HOUR - before * HOUR_MS + 7 * MINUTE_MS


async def activity(store: TrendStore, window: int = WINDOW, limit: int = 10) -> list[TagActivity]:
    return (await store.window(NOW, window, limit)).tags


async def test_an_empty_store_has_no_trends_and_says_where_the_window_starts(
    trend_store: TrendStore,
) -> None:
    found = await trend_store.window(NOW, WINDOW, 10)
    assert found.tags == []
    assert found.start_ms == START
    assert NOW - START == WINDOW + 17_000  # rounded out to the bucket holding NOW - WINDOW


async def test_one_account_repeating_a_tag_counts_once_in_the_window_each_tweet_counts(
    trend_store: TrendStore,
) -> None:
    uses = [(ALICE, 55), (ALICE, 31), (ALICE, 1), (BOB, 10), (CAROL, 30), (CAROL, 29)]
    for author, minutes_ago in uses:
        await trend_store.record(["python"], author, NOW - minutes_ago * MINUTE_MS)
    assert await activity(trend_store) == [TagActivity("python", 3, 6, NO_BASELINE)]


async def test_a_long_window_counts_an_author_once_across_all_its_buckets(
    trend_store: TrendStore,
) -> None:
    for hour in range(24):
        await trend_store.record(["daily"], ALICE, NOW - hour * HOUR_MS)
    [daily] = await activity(trend_store, window=24 * HOUR_MS)
    assert (daily.accounts, daily.tweets) == (1, 24)


async def test_every_tag_of_a_tweet_counts_on_its_own(trend_store: TrendStore) -> None:
    await trend_store.record(["a", "b"], ALICE, NOW - 5 * MINUTE_MS)
    await trend_store.record(["b"], BOB, NOW - 4 * MINUTE_MS)
    assert await activity(trend_store) == [
        TagActivity("b", 2, 2, NO_BASELINE),
        TagActivity("a", 1, 1, NO_BASELINE),
    ]


async def test_the_window_holds_its_first_bucket_and_nothing_before_it(
    trend_store: TrendStore,
) -> None:
    await trend_store.record(["edge"], ALICE, START - 1)
    await trend_store.record(["edge"], BOB, START)
    await trend_store.record(["edge"], CAROL, NOW)
    [edge] = await activity(trend_store)
    assert (edge.accounts, edge.tweets) == (2, 2)


async def test_the_baseline_counts_distinct_accounts_per_hour_before_the_window(
    trend_store: TrendStore,
) -> None:
    await trend_store.record(["tag"], DAVE, baseline_hour(25))  # before the baseline
    await trend_store.record(["tag"], CAROL, baseline_hour(24))  # the baseline's first hour
    await trend_store.record(["tag"], ALICE, baseline_hour(3))
    await trend_store.record(["tag"], ALICE, baseline_hour(1))  # another hour: counts there too
    await trend_store.record(["tag"], ALICE, baseline_hour(1) + 20 * MINUTE_MS)  # again: once
    await trend_store.record(["tag"], BOB, baseline_hour(1) + 40 * MINUTE_MS)
    await trend_store.record(["tag"], DAVE, START - 1)  # between baseline and window
    await trend_store.record(["tag"], ALICE, NOW - MINUTE_MS)  # in the window
    [tag] = await activity(trend_store)
    assert tag.baseline == (1,) + (0,) * 20 + (1, 0, 2)
    assert (tag.accounts, tag.tweets) == (1, 1)


async def test_a_tag_only_in_the_baseline_is_no_candidate(trend_store: TrendStore) -> None:
    await trend_store.record(["yesterday"], ALICE, baseline_hour(2))
    await trend_store.record(["today"], ALICE, NOW)
    assert [t.tag for t in await activity(trend_store)] == ["today"]


async def test_uses_older_than_the_baseline_are_never_read(trend_store: TrendStore) -> None:
    for days in (3, 2):
        for author in (ALICE, BOB, CAROL):
            await trend_store.record(["old"], author, NOW - days * 24 * HOUR_MS)
    await trend_store.record(["old"], DAVE, NOW)
    assert await activity(trend_store) == [TagActivity("old", 1, 1, NO_BASELINE)]


async def test_a_redelivered_tweet_counts_once(trend_store: TrendStore) -> None:
    for _ in range(3):
        await trend_store.record(["again"], ALICE, NOW - MINUTE_MS)
        await trend_store.record(["again"], ALICE, baseline_hour(1))
    [again] = await activity(trend_store)
    assert (again.accounts, again.tweets) == (1, 1)


async def test_a_late_record_adds_its_tweet_and_no_second_account(trend_store: TrendStore) -> None:
    await trend_store.record(["late"], ALICE, NOW - MINUTE_MS)
    await trend_store.record(["late"], ALICE, NOW - 20 * MINUTE_MS)  # arrives after
    await trend_store.record(["late"], BOB, NOW - 20 * MINUTE_MS)
    [late] = await activity(trend_store)
    assert (late.accounts, late.tweets) == (2, 3)


async def test_candidates_are_ranked_by_accounts_not_tweets(trend_store: TrendStore) -> None:
    for i in range(40):  # one account, forty tweets, in one bucket
        await trend_store.record(["spam"], ALICE, NOW - i * 1000)
    for author in (BOB, CAROL, DAVE):
        await trend_store.record(["real"], author, NOW - MINUTE_MS)
    [first] = await activity(trend_store, limit=1)
    assert (first.tag, first.accounts, first.tweets) == ("real", 3, 3)


async def test_many_tags_the_most_active_first_then_by_name_up_to_the_limit(
    trend_store: TrendStore,
) -> None:
    for i in range(300):
        for author in range(i % 7 + 1):  # tag_006, tag_013, ... have 7 accounts
            await trend_store.record([f"tag_{i:03}"], 1000 + author, NOW - (i % 50) * MINUTE_MS)
    top = await activity(trend_store, limit=10)
    assert [t.tag for t in top] == [f"tag_{i:03}" for i in range(6, 300, 7)][:10]
    assert {(t.accounts, t.tweets) for t in top} == {(7, 7)}
    assert len(await activity(trend_store, limit=50)) == 50


async def test_min_accounts_leaves_out_tags_with_fewer_account_buckets(
    trend_store: TrendStore,
) -> None:
    for author in (ALICE, BOB, CAROL):
        await trend_store.record(["three"], author, NOW)
    await trend_store.record(["one"], DAVE, NOW)
    found = await trend_store.window(NOW, WINDOW, 10, min_accounts=3)
    assert [t.tag for t in found.tags] == ["three"]


async def test_tags_are_any_text(trend_store: TrendStore) -> None:
    tags = ["日本語", "café", "straße", "a{b}c"]
    await trend_store.record(tags, ALICE, NOW)
    await trend_store.record(tags[:2], BOB, NOW)
    assert [(t.tag, t.accounts) for t in await activity(trend_store)] == [
        ("café", 2),
        ("日本語", 2),
        ("a{b}c", 1),
        ("straße", 1),
    ]


# --- what each adapter keeps ----------------------------------------------------------


async def test_the_memory_store_drops_what_no_read_reaches() -> None:
    store = MemoryTrendStore()
    geometry = store.geometry
    for hour in range(5 * 24):  # five days, each hour three accounts on two tags
        for author in (ALICE, BOB, CAROL):
            await store.record(["a", "b"], author, NOW + hour * HOUR_MS)
    windows, hours, last_uses = store.held()
    assert windows <= geometry.window_retention_ms // geometry.bucket_ms + 1
    assert hours <= geometry.baseline_retention_ms // geometry.baseline_bucket_ms + 1
    assert last_uses == 2 * 3  # one per (tag, author)
    found = await store.window(NOW + 119 * HOUR_MS, 24 * HOUR_MS, 10)
    assert [(t.tag, t.accounts, t.tweets) for t in found.tags] == [("a", 3, 75), ("b", 3, 75)]
    assert found.tags[0].baseline == (3,) * 24


async def test_every_redis_key_expires_once_no_read_reaches_it(
    redis_trends: RedisTrendStore,
) -> None:
    geometry = redis_trends.geometry
    now = time.time_ns() // 1_000_000
    await redis_trends.record(["a", "b"], ALICE, now)
    await redis_trends.window(now, WINDOW, 10)
    keys = {k.decode(): k async for k in redis_trends.client.scan_iter(match=PREFIX + "*")}
    kinds = {name.removeprefix(PREFIX).split(":")[0] for name in keys}
    assert kinds == {"n", "a", "h", "u"}  # the read's scratch key is gone
    assert SCRATCH not in keys
    for name, key in keys.items():
        ttl = await redis_trends.client.pttl(key)
        longest = (
            geometry.baseline_retention_ms + geometry.baseline_bucket_ms
            if name.startswith(PREFIX + "h:")
            else geometry.window_retention_ms + geometry.bucket_ms
        )
        assert 0 < ttl <= longest, name


async def test_redis_answers_as_the_memory_store_does_on_two_random_days(
    redis_trends: RedisTrendStore,
) -> None:
    rnd = random.Random(20261201)
    memory = MemoryTrendStore()
    at = NOW - 48 * HOUR_MS
    records = []
    while at < NOW:
        at += rnd.randint(0, 3 * MINUTE_MS)
        tags = rnd.sample(["a", "b", "c", "d", "e", "f", "g"], rnd.randint(1, 3))
        records.append((tags, rnd.randint(1, 40), at))
        if rnd.random() < 0.05:  # a redelivered job, or one that comes late
            records.append(records[rnd.randint(max(0, len(records) - 5), len(records) - 1)])
    for tags, author, at in records:
        await memory.record(tags, author, at)
        await redis_trends.record(tags, author, at)
    for minutes in (5, 17, 60, 240, 1440):
        # and as of five hours ago, where that is within what a read at NOW can reach
        for now in (NOW, NOW - 5 * HOUR_MS) if minutes <= 240 else (NOW,):
            expected = await memory.window(now, minutes * MINUTE_MS, 5, 2)
            assert await redis_trends.window(now, minutes * MINUTE_MS, 5, 2) == expected
            assert expected.tags, (minutes, now)


class CountingRedis(Redis):
    """A Redis client that counts the commands it sends."""

    sent = 0

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        self.sent += 1
        # redis-py leaves execute_command untyped
        return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]


async def test_a_read_is_two_redis_calls_and_a_record_one_whatever_the_tags(
    redis_url: str,
) -> None:
    client = CountingRedis.from_url(redis_url)
    assert isinstance(client, CountingRedis)
    store = RedisTrendStore(client)
    await client.flushdb()
    try:
        await store.record(["warm"], ALICE, NOW)  # loads the scripts
        await store.window(NOW, WINDOW, 200)
        client.sent = 0
        await store.record([f"t{i}" for i in range(30)], BOB, NOW)
        assert client.sent == 1
        for i in range(300):
            await store.record([f"tag{i}"], i, baseline_hour(i % 24 + 1))
            await store.record([f"tag{i}"], i, NOW - i * MINUTE_MS % WINDOW)
        client.sent = 0
        found = await store.window(NOW, 24 * HOUR_MS, 200)
        assert len(found.tags) == 200
        assert client.sent == 2
        client.sent = 0
        assert (await store.window(NOW - 72 * HOUR_MS, WINDOW, 200)).tags == []
        assert client.sent == 1  # nothing in the window: no second call
    finally:
        await client.flushdb()
        await store.close()
