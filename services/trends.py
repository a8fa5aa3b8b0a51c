"""Trending hashtags: the tags whose use is most unusual now against their own baseline.

Counting is the trend store's (trends/port.py): per tag, the tweets and the
distinct authors of the window, and the distinct authors of each of the 24
hours before it. Accounts, not tweets, are what is scored, so one account
repeating a tag counts once however often it does.

**The score.** For a window of ``span`` milliseconds (``windowMinutes``
rounded out to whole 5-minute buckets) and a tag with ``observed`` distinct
authors in it and ``b_1 .. b_24`` distinct authors in the baseline hours
(oldest first, the last one ending where the window's first hour starts)::

    rate     = sum(w_i * b_i) / sum(w_i),  w_i = 0.5 ** (age_i / HALF_LIFE_HOURS)
    expected = rate * span / 1 hour
    score    = (observed - expected) ** 2 / max(expected, MIN_ACCOUNTS)

where ``age_i`` is how many hours hour ``i`` ended before the baseline ends,
so the hour just before counts most and the oldest (23 hours earlier) about
1/54. A tag is a trend only when ``observed >= MIN_ACCOUNTS`` (3 distinct
accounts), ``observed > expected`` and its score is at least ``MIN_SCORE``
(1). The most unusual first (scores to a millionth, so rounding noise decides
nothing); ties by more accounts, then by name. The store hands over the
``CANDIDATES`` (200) tags with the most account-buckets in the window; only
those are scored, so a tag must be among the 200 busiest of the moment to trend.

**Why.** It is Mastodon's score (Trends::Tags: ``(observed - expected)**2 /
expected`` on unique accounts, nothing under a threshold of accounts or below
the expected count, shown from a score of 1), measured against each tag's own
recent past rather than against the same tag's count a day earlier. The
squared excess over the expected count is the chi-squared term: a tag that is
always big scores 0 however big it is (200 accounts every hour, 200 now), and
little when a bit above its usual (220 now: 400 / 200 = 2), while one that
jumps from nothing to 12 accounts scores 144 / 3 = 48: "popular now rather
than popular for a while", as Twitter puts it. Mastodon halves a tag's peak
score every 4 hours; here the same half-life weighs the baseline, so the
baseline follows a tag that has become big and a burst stops trending once it
is the tag's normal (12 new accounts an hour, every hour: out of the trends
after about nine hours). The floor in the denominator (Mastodon's is 1 account) keeps a tag with
no history from scoring out of all proportion, and the floor of accounts keeps
two friends, or one bot, from trending. For a window longer than an hour the
expected count is the sum of its hours' distinct authors, which counts a
regular author once per hour: an upper bound, so long windows favour tags that
are new over tags that are regular, as they should.

Reading is cached in process for ``cache_seconds`` (trends are read on every
page and change by the minute), one store read per window length however many
readers ask at once; when the store is down the last answer (up to
``stale_seconds`` old) is served, else none. Recording never fails a post: a
store that is down loses that tweet's counts. Tags on the block list
(``blocked``) are counted but never shown.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.errors import BadUserInput
from core.ids import id_timestamp_ms, min_id_for_ms
from core.models import TweetRecord
from docstore.port import TweetStore
from trends.port import HOUR_MS, MINUTE_MS, TagActivity, TrendStore, TrendsUnavailable

log = logging.getLogger("chirp.trends")

MAX_LIMIT = 50
MIN_WINDOW_MINUTES = 5
MAX_WINDOW_MINUTES = 24 * 60
MIN_ACCOUNTS = 3
MIN_SCORE = 1.0
HALF_LIFE_HOURS = 4.0
CANDIDATES = 200  # tags scored per read: the most active ones in the window
REBUILD_BATCH = 1000


@dataclass(frozen=True)
class Trend:
    """A trending tag: the contract's ``Trend { name, tweetCount, accountCount }``, and why."""

    name: str
    tweet_count: int  # tweets carrying it within the window
    account_count: int  # distinct authors of those tweets
    score: float  # how unusual: see the module docstring


@dataclass
class _Answer:
    trends: list[Trend]
    at_ms: int


def normalize_tags(tags: Iterable[str]) -> list[str]:
    """Case-folded, without '#', each once, in order."""
    return list(dict.fromkeys(tag.lstrip("#").casefold() for tag in tags if tag.lstrip("#")))


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class TrendService:
    def __init__(
        self,
        store: TrendStore,
        tweets: TweetStore,
        blocked: frozenset[str] = frozenset(),
        clock_ms: Callable[[], int] = wall_clock_ms,
        *,
        min_accounts: int = MIN_ACCOUNTS,
        min_score: float = MIN_SCORE,
        half_life_hours: float = HALF_LIFE_HOURS,
        candidates: int = CANDIDATES,
        cache_seconds: float = 5.0,
        stale_seconds: float = 900.0,
    ) -> None:
        self.store = store
        self.tweets = tweets
        self.blocked = frozenset(normalize_tags(blocked))
        self.clock_ms = clock_ms
        self.min_accounts = min_accounts
        self.min_score = min_score
        self.half_life_hours = half_life_hours
        self.candidates = max(candidates, MAX_LIMIT) + len(self.blocked)
        self.cache_ms = int(cache_seconds * 1000)
        self.stale_ms = int(stale_seconds * 1000)
        self._answers: dict[int, _Answer] = {}  # window minutes -> the top MAX_LIMIT
        self._reading: dict[int, asyncio.Future[list[Trend]]] = {}

    # --- writing ----------------------------------------------------------------------

    async def record(self, tweet: TweetRecord) -> None:
        """Count a posted tweet's hashtags (not a retweet's: it repeats someone's tweet)."""
        if tweet.retweet_of_id is not None or not tweet.hashtags:
            return
        await self._record(tweet.id, tweet.author_id, tweet.hashtags)

    async def _record(self, tweet_id: int, author_id: int, hashtags: Iterable[str]) -> None:
        tags = normalize_tags(hashtags)
        if not tags:
            return
        try:
            # the id's time, not a clock's: live and rebuilt counts agree to the bucket
            await self.store.record(tags, author_id, id_timestamp_ms(tweet_id))
        except TrendsUnavailable as exc:
            log.warning("trend store unavailable (%s): tweet %s not counted", exc, tweet_id)

    async def rebuild(self, batch: int = REBUILD_BATCH) -> int:
        """Replay the tweet store's hashtag uses over the history a read can reach
        (``Geometry.history_ms``, about two days), oldest first, in batches: for the
        in-process store at start-up, before the first request. Returns the tweets
        counted. Tweets posted from now on are left to ``record``."""
        now = self.clock_ms()
        after = min_id_for_ms(now - self.store.geometry.history_ms) - 1
        stop = min_id_for_ms(now + 1)  # tweets of later milliseconds are recorded live
        counted = 0
        while True:
            uses = await self.tweets.hashtag_uses(after, batch)
            for tweet_id, author_id, hashtags in uses:
                if tweet_id >= stop:
                    return counted
                await self._record(tweet_id, author_id, hashtags)
                counted += 1
            if len(uses) < batch:
                return counted
            after = uses[-1][0]

    # --- reading ----------------------------------------------------------------------

    async def trends(self, limit: int = 10, window_minutes: int = 60) -> list[Trend]:
        """The ``limit`` most unusual tags of the last ``window_minutes``, most unusual first."""
        if not 1 <= limit <= MAX_LIMIT:
            raise BadUserInput(f"limit must be between 1 and {MAX_LIMIT}; got {limit}.")
        if not MIN_WINDOW_MINUTES <= window_minutes <= MAX_WINDOW_MINUTES:
            raise BadUserInput(
                f"windowMinutes must be between {MIN_WINDOW_MINUTES} and {MAX_WINDOW_MINUTES}"
                f" (24 hours); got {window_minutes}."
            )
        now = self.clock_ms()
        cached = self._answers.get(window_minutes)
        if cached is not None and now - cached.at_ms < self.cache_ms:
            return cached.trends[:limit]
        reading = self._reading.get(window_minutes)
        if reading is None:
            reading = asyncio.ensure_future(self._read(window_minutes, now))
            self._reading[window_minutes] = reading
            reading.add_done_callback(lambda _: self._reading.pop(window_minutes, None))
        found = await asyncio.shield(reading)
        return found[:limit]

    async def _read(self, window_minutes: int, now: int) -> list[Trend]:
        try:
            activity = await self.store.window(
                now, window_minutes * MINUTE_MS, self.candidates, self.min_accounts
            )
        except TrendsUnavailable as exc:
            stale = self._answers.get(window_minutes)
            if stale is not None and now - stale.at_ms < self.stale_ms:
                log.warning("trend store unavailable (%s): serving trends of %s", exc, stale.at_ms)
                return stale.trends
            log.warning("trend store unavailable (%s): no trends", exc)
            return []
        span = (now - activity.start_ms) / self.store.geometry.baseline_bucket_ms
        found = [
            trend
            for tag in activity.tags
            if tag.tag not in self.blocked
            and (trend := self.score(tag, span)) is not None
            and trend.score >= self.min_score
        ]
        found.sort(key=lambda t: (-t.score, -t.account_count, t.name))
        found = found[:MAX_LIMIT]
        self._answers[window_minutes] = _Answer(found, now)
        return found

    def expected(self, baseline: tuple[int, ...], span: float) -> float:
        """Distinct accounts a tag would have, as usual, in a window of ``span`` baseline
        buckets (hours)."""
        if not baseline:
            return 0.0
        hours = self.store.geometry.baseline_bucket_ms / HOUR_MS
        last = len(baseline) - 1
        weights = [
            math.pow(0.5, (last - i) * hours / self.half_life_hours) for i in range(len(baseline))
        ]
        rate = sum(w * b for w, b in zip(weights, baseline, strict=True)) / sum(weights)
        return rate * span

    def score(self, tag: TagActivity, span: float) -> Trend | None:
        """The tag as a trend, or None when its use is not above what is usual for it."""
        observed = tag.accounts
        expected = self.expected(tag.baseline, span)
        if observed < self.min_accounts or observed <= expected:
            return None
        value = (observed - expected) ** 2 / max(expected, float(self.min_accounts))
        # to a millionth: rounding noise in the baseline must not decide an order
        return Trend(tag.tag, tag.tweets, observed, round(value, 6))
