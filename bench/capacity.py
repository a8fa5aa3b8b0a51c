"""``python -m bench.capacity [--json PATH] [--seed N] [--users N]``: capacity-model inputs.

Two parts, both feeding docs/capacity.md:

(a) Redis memory, measured on a real ``redis-server`` (``tests.servers.start_redis``):
    one home timeline of ``CHIRP_TIMELINE_CAP`` (800) realistic snowflake ids stored
    exactly as ``timeline/redis.py`` stores it (``RedisTimelineCache.store``), read
    back with ``MEMORY USAGE key SAMPLES 0``; a celebrity's recent list
    (``recent_store``, 200 ids); the ``used_memory`` growth per timeline over many
    timelines (what the allocator really spends, the expiry entry included); two
    packed encodings for comparison; and the push throughput of
    ``RedisTimelineCache.push`` into present 800-entry timelines. Also the BSON size
    of tweet documents as ``docstore/mongo.py`` builds them.

(b) A fan-out simulation over a sampled power-law follower graph (pure Python,
    ``random`` with a fixed seed): sampled users with Pareto follower counts scaled
    to a mean of 200, tweets per user drawn so the total is 100M tweets/day for
    200M daily users, then fan-out insertions per second for pure push against
    hybrid at several celebrity thresholds, the share of insertions the tail
    causes, and the celebrities a reader follows (the read-time merge cost).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import math
import random
import statistics
import struct
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import bson
from redis.asyncio import Redis

from core.ids import EPOCH_MS, TIMESTAMP_SHIFT, WORKER_SHIFT
from core.models import TweetRecord
from docstore.mongo import _doc
from tests.servers import start_redis
from timeline.redis import RedisTimelineCache, recent_key, timeline_key

CAP = 800  # CHIRP_TIMELINE_CAP default
RECENT_CAP = 200  # TimelineConfig.recent_cap default
DAY_S = 86_400

# The design brief's scale.
DAILY_USERS = 200_000_000
TWEETS_PER_DAY = 100_000_000
READS_PER_DAY = 28_000_000_000
PEAK_READS_PER_S = 1_000_000
MEAN_FOLLOWERS = 200.0


# ---------------------------------------------------------------------------
# (a) Redis and document sizes
# ---------------------------------------------------------------------------


def snowflakes(rng: random.Random, count: int, now_ms: int, span_ms: int) -> list[int]:
    """``count`` distinct snowflake ids spread over the ``span_ms`` before ``now_ms``."""
    ids: set[int] = set()
    while len(ids) < count:
        ms = now_ms - rng.randrange(span_ms) - EPOCH_MS
        worker = rng.randrange(1024)
        sequence = rng.randrange(4) if rng.random() < 0.9 else rng.randrange(4096)
        ids.add((ms << TIMESTAMP_SHIFT) | (worker << WORKER_SHIFT) | sequence)
    return sorted(ids)


@dataclass
class RedisFigures:
    redis_version: str
    timeline_entries: int  # tweet ids held (the "" marker not counted)
    timeline_encoding: str
    timeline_memory_usage_bytes: int  # MEMORY USAGE key SAMPLES 0
    timeline_used_memory_per_key_bytes: float  # used_memory growth / keys (TTL entry included)
    timelines_for_used_memory: int
    recent_entries: int
    recent_encoding: str
    recent_memory_usage_bytes: int
    listpack_timeline_memory_usage_bytes: int  # same zset, zset-max-listpack-entries 1024
    packed_string_memory_usage_bytes: int  # 800 x 8-byte big-endian ids in one string
    push_timelines: int
    push_tweets: int
    push_insertions_per_s: float  # RedisTimelineCache.push into present full timelines
    push_seconds: float


async def _memory_usage(redis: Redis, key: str) -> int:
    used = await redis.memory_usage(key, samples=0)
    if used is None:
        raise RuntimeError(f"MEMORY USAGE {key}: key absent")
    return int(used)


async def _encoding(redis: Redis, key: str) -> str:
    found = await redis.object("encoding", key)
    return found.decode() if isinstance(found, bytes) else str(found)


async def _used_memory(redis: Redis) -> int:
    info = await redis.info("memory")
    return int(info["used_memory"])


async def measure_redis(
    seed: int, many: int, push_timelines: int, push_tweets: int
) -> RedisFigures:
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    server = start_redis()
    try:
        redis = Redis.from_url(server.url)
        cache = RedisTimelineCache(redis)
        version = str((await redis.info("server"))["redis_version"])
        # The default encoding first: start_redis sets README's 1024 (see bench.redis_memory).
        await redis.config_set("zset-max-listpack-entries", 128)

        # One timeline: 800 ids from the last 3 days, as a real follower's would be.
        ids = snowflakes(rng, CAP, now_ms, 3 * DAY_S * 1000)
        await cache.store(1, ids, CAP)
        key = timeline_key(1)
        entries = int(await redis.zcard(key)) - 1
        encoding = await _encoding(redis, key)
        one = await _memory_usage(redis, key)

        # A celebrity's recent list: its own newest 200 ids over 30 days.
        await cache.recent_store(
            7, snowflakes(rng, RECENT_CAP, now_ms, 30 * DAY_S * 1000), RECENT_CAP
        )
        rkey = recent_key(7)
        recent_entries = int(await redis.zcard(rkey)) - 1
        recent_encoding = await _encoding(redis, rkey)
        recent = await _memory_usage(redis, rkey)

        # Many timelines: the allocator's real cost per key, the TTL entry included.
        before = await _used_memory(redis)
        for user in range(1000, 1000 + many):
            await cache.store(user, snowflakes(rng, CAP, now_ms, 3 * DAY_S * 1000), CAP)
        per_key = (await _used_memory(redis) - before) / many

        # Packed alternatives for the same 800 ids.
        await redis.config_set("zset-max-listpack-entries", 1024)
        await redis.config_set("zset-max-listpack-value", 64)
        await cache.store(2, ids, CAP)
        listpack = await _memory_usage(redis, timeline_key(2))
        if await _encoding(redis, timeline_key(2)) != "listpack":
            raise RuntimeError("expected a listpack-encoded sorted set")
        await redis.config_set("zset-max-listpack-entries", 128)
        await redis.config_set("zset-max-listpack-value", 64)
        await redis.set("packed:{1}", b"".join(struct.pack(">q", i) for i in ids))
        packed = await _memory_usage(redis, "packed:{1}")

        # Push throughput into present, full timelines (each push trims the oldest id).
        users = list(range(1000, 1000 + min(push_timelines, many)))
        started = time.perf_counter()
        delivered = 0
        for tweet_id in snowflakes(rng, push_tweets, now_ms + 1000, 1):
            delivered += await cache.push(users, tweet_id + (1 << TIMESTAMP_SHIFT), CAP)
        seconds = time.perf_counter() - started
        if delivered != len(users) * push_tweets:
            raise RuntimeError(f"push delivered {delivered}, expected {len(users) * push_tweets}")
        await redis.aclose()
    finally:
        server.stop()
    return RedisFigures(
        redis_version=version,
        timeline_entries=entries,
        timeline_encoding=encoding,
        timeline_memory_usage_bytes=one,
        timeline_used_memory_per_key_bytes=round(per_key, 1),
        timelines_for_used_memory=many,
        recent_entries=recent_entries,
        recent_encoding=recent_encoding,
        recent_memory_usage_bytes=recent,
        listpack_timeline_memory_usage_bytes=listpack,
        packed_string_memory_usage_bytes=packed,
        push_timelines=len(users),
        push_tweets=push_tweets,
        push_insertions_per_s=round(delivered / seconds, 1),
        push_seconds=round(seconds, 3),
    )


@dataclass
class TweetDocSizes:
    """``len(bson.encode(doc))`` for ``docstore.mongo._doc`` of representative tweets."""

    text_chars: int
    plain_bytes: int  # no entities, a thread root, fan-out done (fanout_pending unset)
    reply_with_hashtag_bytes: int  # a reply with 2 hashtags
    with_link_and_media_bytes: int  # 1 link and 1 media id
    pending_flag_bytes: int  # what ``fanout_pending: true`` adds until fan-out completes


def measure_docs(text_chars: int) -> TweetDocSizes:
    rng = random.Random(0)
    now = int(time.time() * 1000)
    tid, author, parent = snowflakes(rng, 3, now, 1000)
    text = "x" * text_chars

    def size(tweet: TweetRecord, pending: bool = False) -> int:
        doc = _doc(tweet)
        if not pending:
            del doc["fanout_pending"]
        return len(bson.encode(doc))

    plain = TweetRecord(id=tid, author_id=author, text=text, created_at_ms=now)
    reply = TweetRecord(
        id=tid,
        author_id=author,
        text=text,
        created_at_ms=now,
        like_count=3,
        in_reply_to_id=parent,
        conversation_id=parent,
        hashtags=("python", "graphql"),
    )
    rich = TweetRecord(
        id=tid,
        author_id=author,
        text=text,
        created_at_ms=now,
        media_ids=(parent,),
        links=(("abc123", "https://example.com/some/article/path"),),
    )
    return TweetDocSizes(
        text_chars=text_chars,
        plain_bytes=size(plain),
        reply_with_hashtag_bytes=size(reply),
        with_link_and_media_bytes=size(rich),
        pending_flag_bytes=size(plain, pending=True) - size(plain),
    )


# ---------------------------------------------------------------------------
# (b) Fan-out simulation
# ---------------------------------------------------------------------------


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@dataclass
class ThresholdRow:
    threshold: int
    celebrity_share_of_users: float  # fraction of accounts at or above the threshold
    celebrities_in_population: int  # scaled to the daily users
    tweets_share: float  # fraction of tweets posted by celebrities
    hybrid_insertions_per_s: float
    tail_share_of_push_insertions: float  # what the hybrid scheme does not do
    celebrities_followed_mean: float  # per reader: recent lists merged per home read
    celebrities_followed_p50: float
    celebrities_followed_p99: float
    readers_following_any: float
    merge_lists_per_s_at_peak: float  # recent lists read per second at 1M reads/s


@dataclass
class Simulation:
    seed: int
    users: int
    readers: int
    pareto_alpha: float
    max_followers: int
    activity_exponent: float
    active_follower_fraction: float
    followers_mean: float
    followers_p50: float
    followers_p99: float
    followers_max: int
    tweets_sampled: int
    tweets_per_user_mean: float
    followees_mean: float
    push_insertions_per_day: float
    push_insertions_per_s: float
    insertions_per_tweet_mean: float
    rows: list[ThresholdRow] = field(default_factory=list)


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def simulate(
    seed: int,
    users: int,
    readers: int,
    alpha: float,
    max_followers: int,
    activity_exponent: float,
    active_fraction: float,
    thresholds: Sequence[int],
) -> Simulation:
    rng = random.Random(seed)
    scale = DAILY_USERS / users  # each sampled user stands for this many real users

    # Follower counts: Pareto tail (pdf ~ x^-alpha), clipped, then scaled to mean 200.
    # Stratified: one draw per quantile band of width 1/users, so every seed samples the
    # tail evenly (plain draws let one multi-million account rescale everyone else).
    raw = [
        min(float(max_followers), ((i + 1 - rng.random()) / users) ** (-1.0 / (alpha - 1.0)))
        for i in range(users)
    ]
    factor = MEAN_FOLLOWERS / statistics.fmean(raw)
    followers = [min(max_followers, round(x * factor)) for x in raw]

    # Tweets/day: Poisson with a rate ~ followers^activity_exponent (busier accounts post
    # more), gamma-mixed for burstiness, scaled so the mean is 100M / 200M = 0.5.
    weights = [(f + 1) ** activity_exponent * rng.gammavariate(0.5, 2.0) for f in followers]
    target = TWEETS_PER_DAY / DAILY_USERS
    wscale = target / statistics.fmean(weights)
    tweets = [poisson(rng, w * wscale) for w in weights]
    sampled_tweets = sum(tweets)
    # Normalise the drawn total to exactly 100M/day (the Poisson draw is off by ~0.1 %).
    tweet_norm = TWEETS_PER_DAY / (sampled_tweets * scale)

    def per_s(sample_total: float) -> float:
        return sample_total * scale * tweet_norm * active_fraction / DAY_S

    push_total = sum(t * f for t, f in zip(tweets, followers, strict=True))

    # Readers: followee counts lognormal, clipped to 10..2,000, mean 200 (bisection on mu);
    # each followee drawn with probability ~ its follower count (an edge endpoint).
    normals = [rng.gauss(0.0, 1.0) for _ in range(readers)]

    def degrees(mu: float) -> list[int]:
        return [min(2000, max(10, round(math.exp(mu + z)))) for z in normals]

    lo, hi = 0.0, 10.0
    for _ in range(40):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if statistics.fmean(degrees(mid)) < MEAN_FOLLOWERS else (lo, mid)
    out_degree = degrees((lo + hi) / 2)
    cumulative = list(itertools.accumulate(followers))
    total_edges = cumulative[-1]
    # Each draw stands for a distinct real account (a sampled user represents `scale` of
    # them), so draws are counted with repetition.
    followee_counts: list[list[int]] = []
    for degree in out_degree:
        picks = [
            followers[bisect.bisect_right(cumulative, rng.random() * total_edges)]
            for _ in range(degree)
        ]
        followee_counts.append(picks)

    rows: list[ThresholdRow] = []
    for threshold in thresholds:
        celebs = [i for i, f in enumerate(followers) if f >= threshold]
        tail = sum(tweets[i] * followers[i] for i in celebs)
        per_reader = [sum(1 for f in picks if f >= threshold) for picks in followee_counts]
        mean_followed = statistics.fmean(per_reader)
        rows.append(
            ThresholdRow(
                threshold=threshold,
                celebrity_share_of_users=len(celebs) / users,
                celebrities_in_population=round(len(celebs) * scale),
                tweets_share=sum(tweets[i] for i in celebs) / max(1, sampled_tweets),
                hybrid_insertions_per_s=round(per_s(push_total - tail), 1),
                tail_share_of_push_insertions=round(tail / push_total, 4),
                celebrities_followed_mean=round(mean_followed, 2),
                celebrities_followed_p50=_pct(per_reader, 0.5),
                celebrities_followed_p99=_pct(per_reader, 0.99),
                readers_following_any=round(sum(1 for c in per_reader if c) / readers, 4),
                merge_lists_per_s_at_peak=round(mean_followed * PEAK_READS_PER_S, 0),
            )
        )
    return Simulation(
        seed=seed,
        users=users,
        readers=readers,
        pareto_alpha=alpha,
        max_followers=max_followers,
        activity_exponent=activity_exponent,
        active_follower_fraction=active_fraction,
        followers_mean=round(statistics.fmean(followers), 2),
        followers_p50=_pct(followers, 0.5),
        followers_p99=_pct(followers, 0.99),
        followers_max=max(followers),
        tweets_sampled=sampled_tweets,
        tweets_per_user_mean=round(sampled_tweets / users, 4),
        followees_mean=round(statistics.fmean(out_degree), 2),
        push_insertions_per_day=round(per_s(push_total) * DAY_S),
        push_insertions_per_s=round(per_s(push_total), 1),
        insertions_per_tweet_mean=round(push_total / max(1, sampled_tweets), 1),
        rows=rows,
    )


# ---------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.capacity", description=__doc__)
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--users", type=int, default=100_000, help="sampled users")
    parser.add_argument("--readers", type=int, default=10_000, help="sampled readers")
    parser.add_argument("--alpha", type=float, default=2.2, help="follower pdf ~ x^-alpha")
    parser.add_argument("--max-followers", type=int, default=100_000_000)
    parser.add_argument(
        "--activity-exponent",
        type=float,
        default=0.2,
        help="tweet rate ~ followers^this (0: everyone posts alike)",
    )
    parser.add_argument(
        "--active-fraction",
        type=float,
        default=1.0,
        help="share of followers with a cached timeline (fan-out targets)",
    )
    parser.add_argument("--thresholds", default="1000,10000,100000")
    parser.add_argument("--text-chars", type=int, default=100, help="tweet text length assumed")
    parser.add_argument("--many", type=int, default=2000, help="timelines for used_memory")
    parser.add_argument("--push-tweets", type=int, default=5)
    parser.add_argument("--skip-redis", action="store_true", help="only the simulation")
    return parser.parse_args(argv)


def print_report(redis: RedisFigures | None, docs: TweetDocSizes, sim: Simulation) -> None:
    if redis is not None:
        print(f"Redis {redis.redis_version}")
        print(f"{'object':<52} {'bytes':>10}")
        rows: list[tuple[str, float]] = [
            (
                f"timeline, {redis.timeline_entries} ids ({redis.timeline_encoding}), MEMORY USAGE",
                redis.timeline_memory_usage_bytes,
            ),
            (
                f"timeline, used_memory growth per key (x{redis.timelines_for_used_memory})",
                redis.timeline_used_memory_per_key_bytes,
            ),
            (
                f"recent list, {redis.recent_entries} ids ({redis.recent_encoding})",
                redis.recent_memory_usage_bytes,
            ),
            ("same 800 ids as a listpack zset", redis.listpack_timeline_memory_usage_bytes),
            ("same 800 ids packed, 8-byte string", redis.packed_string_memory_usage_bytes),
        ]
        for name, value in rows:
            print(f"{name:<52} {value:>10,.0f}")
        print(
            f"push: {redis.push_tweets} tweets x {redis.push_timelines} full timelines in "
            f"{redis.push_seconds} s = {redis.push_insertions_per_s:,.0f} insertions/s"
        )
        print()
    print(
        f"tweet BSON ({docs.text_chars}-char text): plain {docs.plain_bytes} B, reply+2 "
        f"hashtags {docs.reply_with_hashtag_bytes} B, link+media "
        f"{docs.with_link_and_media_bytes} B, fanout_pending +{docs.pending_flag_bytes} B"
    )
    print()
    print(
        f"simulation: {sim.users:,} users (seed {sim.seed}), alpha {sim.pareto_alpha}, "
        f"followers mean {sim.followers_mean} p50 {sim.followers_p50:.0f} p99 "
        f"{sim.followers_p99:,.0f} max {sim.followers_max:,}; tweets/user/day "
        f"{sim.tweets_per_user_mean}; followees mean {sim.followees_mean}"
    )
    print(
        f"pure push: {sim.push_insertions_per_s:,.0f} insertions/s "
        f"({sim.push_insertions_per_day:,.0f}/day, {sim.insertions_per_tweet_mean} per tweet)"
    )
    header = (
        f"{'threshold':>10} {'celebs':>9} {'tweets%':>8} {'hybrid ins/s':>13} {'tail%':>7} "
        f"{'celebs/reader':>14} {'p50':>5} {'p99':>5} {'any%':>6} {'merges/s@1M':>13}"
    )
    print(header)
    for r in sim.rows:
        print(
            f"{r.threshold:>10,} {r.celebrities_in_population:>9,} {100 * r.tweets_share:>7.2f}% "
            f"{r.hybrid_insertions_per_s:>13,.0f} {100 * r.tail_share_of_push_insertions:>6.1f}% "
            f"{r.celebrities_followed_mean:>14.2f} {r.celebrities_followed_p50:>5.0f} "
            f"{r.celebrities_followed_p99:>5.0f} {100 * r.readers_following_any:>5.1f}% "
            f"{r.merge_lists_per_s_at_peak:>13,.0f}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    thresholds = [int(t) for t in args.thresholds.split(",") if t]
    started = time.perf_counter()
    redis = (
        None
        if args.skip_redis
        else asyncio.run(measure_redis(args.seed, args.many, args.many, args.push_tweets))
    )
    docs = measure_docs(args.text_chars)
    sim = simulate(
        args.seed,
        args.users,
        args.readers,
        args.alpha,
        args.max_followers,
        args.activity_exponent,
        args.active_fraction,
        thresholds,
    )
    print_report(redis, docs, sim)
    print(f"\n{time.perf_counter() - started:.1f} s")
    if args.json:
        report: dict[str, Any] = {
            "command": " ".join(["python -m bench.capacity", *(argv or sys.argv[1:])]),
            "redis": None if redis is None else asdict(redis),
            "tweet_bson": asdict(docs),
            "simulation": asdict(sim),
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
