"""``python -m bench.redis_memory [--json PATH] [--seed N]``: Redis bytes per cached timeline.

Issue 16: a home timeline of ``CHIRP_TIMELINE_CAP`` (800) ids, and one of 100,
measured with ``MEMORY USAGE key SAMPLES 0`` on a real ``redis-server``
(``tests.servers.start_redis``) in four forms: the format before issue 16
(score 0, the id zero-padded to 19 digits, the ``"0"`` marker; written here with
ZADD, as the old ``timeline/redis.py`` did) and today's (``RedisTimelineCache.store``:
score = the id's millisecond, member = 8 bytes big-endian, the ``""`` marker),
each with Redis's default ``zset-max-listpack-entries 128`` (an 801-entry set is
then a skiplist) and with ``1024`` (a listpack, README "Production"). The ids are
realistic snowflakes from the last 3 days (``bench.capacity.snowflakes``).

Also the cost of the listpack's O(n) inserts and reads: ``RedisTimelineCache.push``
of a few tweets into present, full 800-id timelines (each push trims the oldest id)
and ``get`` of 20 ids below a cursor, per encoding (one Python client; the round
trip dominates both).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from redis.asyncio import Redis

from bench.capacity import snowflakes
from core.ids import TIMESTAMP_SHIFT
from tests.servers import start_redis
from timeline.redis import LISTPACK_SETTING, RedisTimelineCache, timeline_key

DAY_MS = 86_400_000
SIZES = (800, 100)
SETTINGS = (128, 1024)  # Redis's default, and README's production setting


@dataclass
class Row:
    form: str  # "before" (19-digit members) or "after" (8-byte members)
    entries: int  # ids held, the marker not counted
    listpack_entries: int  # the server's zset-max-listpack-entries when the key was built
    encoding: str
    memory_usage_bytes: int


@dataclass
class Speed:
    encoding: str
    timelines: int
    used_memory_per_timeline_bytes: float  # used_memory growth / timelines, 800 ids each
    push_tweets: int
    push_insertions_per_s: float
    gets: int
    get_per_s: float


async def _encoding(redis: Redis, key: str) -> str:
    found = await redis.object("encoding", key)
    return found.decode() if isinstance(found, bytes) else str(found)


async def _usage(redis: Redis, key: str) -> int:
    used = await redis.memory_usage(key, samples=0)
    if used is None:
        raise RuntimeError(f"MEMORY USAGE {key}: key absent")
    return int(used)


async def _old_format(redis: Redis, key: str, ids: Sequence[int]) -> None:
    """The timeline as ``timeline/redis.py`` kept it before issue 16."""
    await redis.zadd(key, {"0": 0, **{str(i).zfill(19): 0 for i in ids}})


async def measure(seed: int, timelines: int, push_tweets: int, gets: int) -> dict[str, object]:
    rng = random.Random(seed)
    now_ms = int(time.time() * 1000)
    server = start_redis()
    rows: list[Row] = []
    speeds: list[Speed] = []
    try:
        redis = Redis.from_url(server.url)
        cache = RedisTimelineCache(redis)
        version = str((await redis.info("server"))["redis_version"])
        user = 0
        for setting in SETTINGS:
            await redis.config_set(LISTPACK_SETTING, setting)
            for size in SIZES:
                ids = snowflakes(rng, size, now_ms, 3 * DAY_MS)
                old_key = f"old:{{{size}-{setting}}}"
                await _old_format(redis, old_key, ids)
                user += 1
                await cache.store(user, ids, 800)
                new_key = timeline_key(user)
                for form, key in (("before", old_key), ("after", new_key)):
                    rows.append(
                        Row(
                            form,
                            size,
                            setting,
                            await _encoding(redis, key),
                            await _usage(redis, key),
                        )
                    )

            # Speed of today's format in this encoding: full timelines, pushes that trim;
            # and what the allocator spends per such timeline (the TTL entry included).
            users = list(range(10_000 * setting, 10_000 * setting + timelines))
            before = int((await redis.info("memory"))["used_memory"])
            for u in users:
                await cache.store(u, snowflakes(rng, 800, now_ms, 3 * DAY_MS), 800)
            per_key = (int((await redis.info("memory"))["used_memory"]) - before) / len(users)
            encoding = await _encoding(redis, timeline_key(users[0]))
            started = time.perf_counter()
            delivered = 0
            for tweet_id in snowflakes(rng, push_tweets, now_ms + 1000, 1):
                delivered += await cache.push(users, tweet_id + (1 << TIMESTAMP_SHIFT), 800)
            push_s = time.perf_counter() - started
            if delivered != len(users) * push_tweets:
                raise RuntimeError(f"push delivered {delivered} of {len(users) * push_tweets}")
            window = await cache.get(users[0], 800)
            if window is None or len(window.ids) != 800:
                raise RuntimeError(f"expected a full timeline, read {window}")
            cursors = [window.ids[rng.randrange(800)] for _ in range(gets)]
            started = time.perf_counter()
            for cursor in cursors:  # the usual cursor: an id of the page before
                await cache.get(users[0], 20, cursor)
            get_s = time.perf_counter() - started
            speeds.append(
                Speed(
                    encoding,
                    len(users),
                    round(per_key, 1),
                    push_tweets,
                    round(delivered / push_s, 1),
                    gets,
                    round(gets / get_s, 1),
                )
            )
        await redis.aclose()
    finally:
        server.stop()
    return {
        "redis_version": version,
        "seed": seed,
        "memory": [asdict(r) for r in rows],
        "speed": [asdict(s) for s in speeds],
    }


def report(result: dict[str, object]) -> str:
    lines = [
        f"redis-server {result['redis_version']}, seed {result['seed']}",
        "",
        "| format | ids | zset-max-listpack-entries | encoding | MEMORY USAGE (bytes) |",
        "|---|---|---|---|---|",
    ]
    for row in result["memory"]:  # type: ignore[attr-defined]
        lines.append(
            f"| {row['form']} | {row['entries']} | {row['listpack_entries']} | "
            f"{row['encoding']} | {row['memory_usage_bytes']:,} |"
        )
    lines += [
        "",
        "| encoding (800 ids, today's format) | used_memory per timeline (bytes) "
        "| push insertions/s | get(20, cursor)/s |",
        "|---|---|---|---|",
    ]
    for speed in result["speed"]:  # type: ignore[attr-defined]
        lines.append(
            f"| {speed['encoding']} ({speed['timelines']} timelines x {speed['push_tweets']} "
            f"tweets; {speed['gets']} gets) | {speed['used_memory_per_timeline_bytes']:,.0f} | "
            f"{speed['push_insertions_per_s']:,.0f} | "
            f"{speed['get_per_s']:,.0f} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.redis_memory", description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timelines", type=int, default=500, help="for the push rate")
    parser.add_argument("--push-tweets", type=int, default=10)
    parser.add_argument("--gets", type=int, default=2000)
    args = parser.parse_args(argv)
    result = asyncio.run(measure(args.seed, args.timelines, args.push_tweets, args.gets))
    print(report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
