"""Trending hashtags (services/trends.py): what trends, in what order, and from what.

Tweets get real snowflake ids at chosen times (a generator on a fake clock),
are stored in a real SQLite tweet store when the test needs one, and are
counted in the in-process trend store. ``NOW`` is 40 minutes past an hour: a
60-minute window starts at 11:40 (say), its baseline is the 24 hours before
11:00.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.errors import BadUserInput
from core.ids import SnowflakeGenerator, id_timestamp_ms
from core.models import TweetRecord
from docstore.sqlite import SqliteTweetStore
from services.trends import Trend, TrendService
from trends.memory import MemoryTrendStore
from trends.port import HOUR_MS, MINUTE_MS, WindowActivity
from trends.redis import RedisTrendStore

NOW = 1_790_000_000_000 // HOUR_MS * HOUR_MS + 40 * MINUTE_MS


class Clock:
    def __init__(self, now_ms: int = NOW) -> None:
        self.now_ms = now_ms

    def __call__(self) -> int:
        return self.now_ms

    def advance(self, ms: int) -> None:
        self.now_ms += ms


class Posting:
    """Tweets at chosen times, recorded as a live post is, and stored when asked."""

    def __init__(self, service: TrendService, tweets: SqliteTweetStore | None = None) -> None:
        self.service = service
        self.tweets = tweets
        self.generators: dict[int, SnowflakeGenerator] = {}  # one per millisecond: any order

    def next_id(self, at_ms: int) -> int:
        if at_ms not in self.generators:
            self.generators[at_ms] = SnowflakeGenerator(7, clock_ms=lambda: at_ms)
        return self.generators[at_ms].next_id()

    async def post(self, author: int, tags: Sequence[str], at_ms: int) -> TweetRecord:
        tweet = TweetRecord(
            id=self.next_id(at_ms),
            author_id=author,
            text=" ".join(f"#{tag}" for tag in tags) or "no tags",
            created_at_ms=at_ms,
            hashtags=tuple(tags),
        )
        if self.tweets is not None:
            await self.tweets.insert_tweet(tweet)
        await self.service.record(tweet)
        return tweet

    async def retweet(self, author: int, original: TweetRecord, at_ms: int) -> None:
        retweet = TweetRecord(
            id=self.next_id(at_ms),
            author_id=author,
            text="",
            created_at_ms=at_ms,
            retweet_of_id=original.id,
            hashtags=original.hashtags,
        )
        if self.tweets is not None:
            await self.tweets.retweet(retweet)
        await self.service.record(retweet)

    async def accounts(self, tag: str, authors: range, at_ms: int) -> None:
        for author in authors:
            await self.post(author, [tag], at_ms)


@pytest.fixture
async def tweets(tmp_path: Path) -> AsyncIterator[SqliteTweetStore]:
    store = SqliteTweetStore(tmp_path / "tweets.sqlite3")
    await store.open()
    try:
        yield store
    finally:
        await store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(tweets: SqliteTweetStore, clock: Clock) -> TrendService:
    return TrendService(MemoryTrendStore(), tweets, clock_ms=clock)


@pytest.fixture
def posting(service: TrendService) -> Posting:
    return Posting(service)


def names(trends: list[Trend]) -> list[str]:
    return [t.name for t in trends]


async def test_a_tag_that_jumps_beats_a_tag_that_is_always_big(
    service: TrendService, posting: Posting
) -> None:
    regulars = range(1000, 1200)  # the same 200 accounts, every hour for a day and more
    for hours_ago in range(30, 0, -1):
        await posting.accounts("big", regulars, NOW - hours_ago * HOUR_MS - 30 * MINUTE_MS)
        if hours_ago % 8 == 0:  # "jump" had one account now and then
            await posting.post(5000 + hours_ago, ["jump"], NOW - hours_ago * HOUR_MS)
    await posting.accounts("big", range(1000, 1220), NOW - 20 * MINUTE_MS)  # 10 % more now
    await posting.accounts("jump", range(1, 13), NOW - 20 * MINUTE_MS)  # 12 accounts now

    jump, big = await service.trends(10, 60)
    assert (jump.name, jump.account_count, jump.tweet_count) == ("jump", 12, 12)
    assert (big.name, big.account_count, big.tweet_count) == ("big", 220, 220)
    assert jump.score > 10 * big.score


async def test_a_tag_always_as_big_as_now_is_no_trend_however_big(
    service: TrendService, posting: Posting
) -> None:
    for hours_ago in range(30, -1, -1):
        await posting.accounts("big", range(1000, 1200), NOW - hours_ago * HOUR_MS - MINUTE_MS)
    assert await service.trends(10, 60) == []


async def test_one_account_repeating_a_tag_50_times_counts_once(
    service: TrendService, posting: Posting, clock: Clock
) -> None:
    for i in range(50):  # across the window's buckets
        await posting.post(1, ["solo"], NOW - i * MINUTE_MS)
    assert await service.trends(10, 60) == []  # one account is under the floor
    await posting.accounts("solo", range(2, 13), NOW - 3 * MINUTE_MS)
    clock.advance(10_000)  # past the cached answer
    [solo] = await service.trends(10, 60)
    assert (solo.account_count, solo.tweet_count) == (12, 61)
    assert solo.score == (12 - 0) ** 2 / 3


async def test_fewer_than_three_accounts_never_trend(
    service: TrendService, posting: Posting, clock: Clock
) -> None:
    await posting.accounts("few", range(1, 3), NOW - MINUTE_MS)
    assert await service.trends(10, 60) == []
    await posting.post(3, ["few"], NOW)
    clock.advance(10_000)  # past the cached answer
    assert await service.trends(10, 60) == [Trend("few", 3, 3, 3.0)]


async def test_a_burst_stops_trending_once_it_is_the_tags_normal(
    service: TrendService, posting: Posting, clock: Clock
) -> None:
    scores = []
    for hour in range(14):  # 12 new accounts an hour, every hour from now on
        now = NOW + hour * HOUR_MS
        await posting.accounts("burst", range(100 * hour, 100 * hour + 12), now - 30 * MINUTE_MS)
        clock.now_ms = now
        found = await service.trends(10, 60)
        scores.append(found[0].score if found else 0.0)
    assert scores[0] == 12**2 / 3
    assert scores == sorted(scores, reverse=True)  # fading, hour after hour
    assert scores[2] > 10  # still trending well two hours in
    assert scores[8] > 1  # and a little eight hours in
    assert scores[10:] == [0.0] * 4  # no more after ten: it is what the tag is now


async def test_blocked_tags_are_counted_but_never_shown(
    tweets: SqliteTweetStore, clock: Clock
) -> None:
    service = TrendService(MemoryTrendStore(), tweets, frozenset({"#Spam", "nsfw"}), clock)
    posting = Posting(service)
    await posting.accounts("spam", range(1, 30), NOW - MINUTE_MS)
    await posting.accounts("nsfw", range(1, 20), NOW - MINUTE_MS)
    await posting.accounts("news", range(1, 5), NOW - MINUTE_MS)
    assert names(await service.trends(1, 60)) == ["news"]


async def test_retweets_and_untagged_tweets_count_for_nothing(
    service: TrendService, posting: Posting
) -> None:
    original = await posting.post(1, ["quiet"], NOW - 2 * MINUTE_MS)
    for author in range(2, 10):
        await posting.retweet(author, original, NOW - MINUTE_MS)
        await posting.post(author, [], NOW - MINUTE_MS)
    assert await service.trends(10, 60) == []


async def test_most_unusual_first_then_more_accounts_then_by_name(
    service: TrendService, posting: Posting
) -> None:
    await posting.accounts("b", range(1, 7), NOW - MINUTE_MS)  # new: 6 ** 2 / 3 = 12
    await posting.accounts("a", range(1, 7), NOW - MINUTE_MS)  # the same: by name
    await posting.accounts("c", range(1, 5), NOW - MINUTE_MS)  # new: 4 ** 2 / 3
    for hours_ago in range(25, 1, -1):  # in time order, as tweets are recorded
        await posting.accounts("d", range(1, 4), NOW - hours_ago * HOUR_MS)
    await posting.accounts("d", range(1, 10), NOW - MINUTE_MS)  # 3 as usual, 9 now: 6 ** 2 / 3
    found = await service.trends(10, 60)
    assert [(t.name, t.account_count, t.score) for t in found] == [
        ("d", 9, 12.0),
        ("a", 6, 12.0),
        ("b", 6, 12.0),
        ("c", 4, 5.333333),
    ]
    assert names(await service.trends(2, 60)) == ["d", "a"]


async def test_the_window_length_chooses_what_is_counted(
    service: TrendService, posting: Posting
) -> None:
    await posting.accounts("recent", range(1, 5), NOW - 2 * MINUTE_MS)
    await posting.accounts("earlier", range(1, 5), NOW - 3 * HOUR_MS)
    assert names(await service.trends(10, 5)) == ["recent"]
    assert names(await service.trends(10, 60)) == ["recent"]
    assert sorted(names(await service.trends(10, 240))) == ["earlier", "recent"]


@pytest.mark.parametrize(
    ("limit", "window", "message"),
    [
        (0, 60, "limit must be between 1 and 50; got 0."),
        (51, 60, "limit must be between 1 and 50; got 51."),
        (10, 4, "windowMinutes must be between 5 and 1440 (24 hours); got 4."),
        (10, 1441, "windowMinutes must be between 5 and 1440 (24 hours); got 1441."),
    ],
)
async def test_limit_and_window_out_of_range_are_refused_saying_what_is_allowed(
    service: TrendService, limit: int, window: int, message: str
) -> None:
    with pytest.raises(BadUserInput) as refused:
        await service.trends(limit, window)
    assert refused.value.message == message
    assert refused.value.code == "BAD_USER_INPUT"


@pytest.mark.parametrize(("limit", "window"), [(1, 5), (50, 1440), (10, 60)])
async def test_the_bounds_themselves_are_allowed(
    service: TrendService, limit: int, window: int
) -> None:
    assert await service.trends(limit, window) == []


class CountingStore(MemoryTrendStore):
    """The in-process store, counting its reads."""

    reads = 0

    async def window(
        self, now_ms: int, window_ms: int, limit: int, min_accounts: int = 1
    ) -> WindowActivity:
        self.reads += 1
        await asyncio.sleep(0)  # let the other readers arrive while this one reads
        return await super().window(now_ms, window_ms, limit, min_accounts)


async def test_answers_are_cached_a_few_seconds_and_read_once_for_many_readers(
    tweets: SqliteTweetStore, clock: Clock
) -> None:
    store = CountingStore()
    service = TrendService(store, tweets, clock_ms=clock, cache_seconds=5)
    posting = Posting(service)
    await posting.accounts("first", range(1, 4), NOW - MINUTE_MS)
    answers = await asyncio.gather(*(service.trends(10, 60) for _ in range(20)))
    assert store.reads == 1
    assert {tuple(names(a)) for a in answers} == {("first",)}
    assert names(await service.trends(1, 60)) == ["first"]  # any limit, the same read
    await posting.accounts("second", range(1, 10), NOW - MINUTE_MS)
    clock.advance(4_000)
    assert names(await service.trends(10, 60)) == ["first"]
    assert store.reads == 1
    clock.advance(1_000)
    assert names(await service.trends(10, 60)) == ["second", "first"]
    assert store.reads == 2
    await service.trends(10, 30)  # another window: another read
    assert store.reads == 3


async def test_a_store_that_is_down_loses_counts_and_serves_the_last_answer(
    service: TrendService, posting: Posting, clock: Clock
) -> None:
    await posting.accounts("before", range(1, 4), NOW - MINUTE_MS)
    assert names(await service.trends(10, 60)) == ["before"]
    working = service.store
    service.store = RedisTrendStore(Redis.from_url("redis://127.0.0.1:9"))  # nothing there
    try:
        await posting.accounts("during", range(1, 10), NOW - MINUTE_MS)  # does not raise
        clock.advance(60_000)
        assert names(await service.trends(10, 60)) == ["before"]  # stale, not nothing
        assert await service.trends(10, 30) == []  # never read: nothing to serve
        clock.advance(3600_000)
        assert await service.trends(10, 60) == []  # too old to serve
    finally:
        await service.store.close()
        service.store = working
    assert names(await service.trends(10, 1440)) == ["before"]  # "during" was never counted


# --- rebuilding at start-up -----------------------------------------------------------


async def test_a_rebuild_from_the_tweet_store_gives_the_trends_recorded_live(
    tweets: SqliteTweetStore, clock: Clock
) -> None:
    live = TrendService(MemoryTrendStore(), tweets, clock_ms=clock)
    posting = Posting(live, tweets)
    # three days of tweets: some older than any read reaches, a baseline, bursts now
    for hours_ago in range(72, 0, -1):
        at = NOW - hours_ago * HOUR_MS
        await posting.accounts("steady", range(10, 15), at)
        if hours_ago % 5 == 0:
            await posting.post(20 + hours_ago, ["rare", "steady"], at + 7 * MINUTE_MS)
    original = await posting.post(1, ["burst"], NOW - 50 * MINUTE_MS)
    for author in range(14, 1, -1):
        await posting.post(author, ["burst", "news"], NOW - author * MINUTE_MS)
        await posting.retweet(100 + author, original, NOW - author * MINUTE_MS + 1)
    for i in range(29, -1, -1):  # one account, thirty times
        await posting.post(15, ["burst"], NOW - i * MINUTE_MS)
    await posting.accounts("late", range(1, 6), NOW - 2 * MINUTE_MS)

    rebuilt = TrendService(MemoryTrendStore(), tweets, clock_ms=clock)
    counted = await rebuilt.rebuild(batch=7)
    reached = NOW - rebuilt.store.geometry.history_ms
    uses = await tweets.hashtag_uses(0, 10_000)  # every tagged tweet but the retweets
    assert counted == sum(1 for tweet_id, _, _ in uses if id_timestamp_ms(tweet_id) >= reached)
    assert counted < len(uses)  # the oldest are past what any read reaches
    for window in (5, 60, 240, 1440):
        found = await rebuilt.trends(50, window)
        assert found == await live.trends(50, window), window
        assert found, window
        assert await rebuilt.store.window(NOW, window * MINUTE_MS, 100) == (
            await live.store.window(NOW, window * MINUTE_MS, 100)
        )
    assert names(await rebuilt.trends(3, 60)) == ["burst", "news", "late"]


async def test_a_rebuild_leaves_tweets_posted_after_it_began_to_live_recording(
    tweets: SqliteTweetStore, clock: Clock
) -> None:
    posting = Posting(TrendService(MemoryTrendStore(), tweets, clock_ms=clock), tweets)
    await posting.accounts("before", range(1, 4), NOW - MINUTE_MS)
    await posting.accounts("after", range(1, 4), NOW + 1)  # a millisecond after "now"
    rebuilt = TrendService(MemoryTrendStore(), tweets, clock_ms=clock)
    assert await rebuilt.rebuild() == 3
    assert names(await rebuilt.trends(10, 60)) == ["before"]
