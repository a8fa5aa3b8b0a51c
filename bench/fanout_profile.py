"""``python -m bench.fanout_profile [--repeats N] [--fill N] [--profile] [--json PATH]``:
one post's fan-out to 10,000 followers, the worker's job alone (issue 16, item 7).

Section (c)'s 10,000-follower author and its followers, from the seeded data of a
full run (``bench/.data``, seeded first if missing, as ``python -m bench`` does; a
copy of it is used, so the seed is never written), on a fresh ``redis-server``
(``tests.servers.start_redis``, ``zset-max-listpack-entries 1024``) where every
follower has a present timeline holding ``--fill`` older ids (0, as in (c):
empty timelines; 800: full ones, every push trims). Per repeat: a tweet is
stored, then ``FanOut.apply`` runs its job against the SQLite graph and tweet
store and ``RedisTimelineCache`` (the composition root's own adapters, from
``open_stores``), in this process, timed:

- ``job_ms``: the job's wall time (post stored to last delivery, as
  ``chirp_fanout_lag_seconds`` but without the queue);
- ``client_cpu_ms``: this process's CPU time during the job;
- ``graph_ms`` / ``push_ms``: wall time inside the graph's calls and the
  cache's ``push`` (the rest: the tweet store, the recent list);
- ``redis_cpu_ms``: ``used_cpu_user + used_cpu_sys`` growth of the server
  (``INFO cpu``), and ``redis_usec_per_call`` per EVALSHA / ZADD
  (``INFO commandstats``: Redis's own time inside the command).

``--profile`` prints cProfile's top functions over the repeats as well.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar

from redis.asyncio import Redis

from bench.__main__ import configure, seed_data
from bench.capacity import snowflakes
from bootstrap.services import timeline_config
from bootstrap.settings import load_settings
from bootstrap.stores import open_stores
from core.ids import SnowflakeGenerator
from core.models import TweetRecord
from tests.servers import start_redis
from timeline.fanout import FanOut
from timeline.feeds import Feeds
from timeline.port import Job
from timeline.redis import RedisTimelineCache, member, timeline_key

T = TypeVar("T")
DAY_MS = 86_400_000


@dataclass
class Run:
    job_ms: float
    client_cpu_ms: float
    graph_ms: float
    audience_ms: float  # of graph_ms: the audience question per batch
    push_ms: float
    redis_cpu_ms: float
    redis_calls: int  # script calls during the job (ZADD when no script ran)
    redis_usec_per_call: float
    delivered: int


class Timer:
    """Wall time spent inside wrapped coroutine functions."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        async def timed(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        return timed


async def _redis_cpu(redis: Redis) -> float:
    cpu = await redis.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


async def _script_stats(redis: Redis) -> tuple[int, int]:
    """Calls and usec of the commands a fan-out sends: its scripts (whose usec holds
    the commands they call, counted apart as well), or ZADD when no script ran."""
    stats = await redis.info("commandstats")
    calls = usec = 0
    for name in ("cmdstat_evalsha", "cmdstat_eval", "cmdstat_fcall"):
        if name in stats:
            calls += int(stats[name]["calls"])
            usec += int(stats[name]["usec"])
    if calls == 0 and "cmdstat_zadd" in stats:
        calls, usec = int(stats["cmdstat_zadd"]["calls"]), int(stats["cmdstat_zadd"]["usec"])
    return calls, usec


async def _activate(redis_url: str, users: Sequence[int], fill: int, cap: int) -> None:
    cache = RedisTimelineCache(Redis.from_url(redis_url), 30 * 86_400, 1000)
    rng = random.Random(1)
    now_ms = int(time.time() * 1000)
    try:
        for start in range(0, len(users), 50):
            chunk = users[start : start + 50]
            await asyncio.gather(
                *(cache.store(u, snowflakes(rng, fill, now_ms, DAY_MS), cap) for u in chunk)
            )
    finally:
        await cache.close()


async def measure(
    seed_dir: Path, author: int, repeats: int, fill: int, batch: int, profile: bool
) -> dict[str, Any]:
    server = start_redis()
    folder = Path(tempfile.mkdtemp(prefix="chirp-fanout-profile-"))
    profiler = cProfile.Profile() if profile else None
    try:
        for name in ("graph.sqlite3", "tweets.sqlite3"):
            shutil.copy(seed_dir / name, folder / name)
        env = {
            "CHIRP_DATA_DIR": str(folder),
            "REDIS_URL": server.url,
            "CHIRP_TIMELINE_STRATEGY": "push",
            "CHIRP_FANOUT_BATCH": str(batch),
        }
        settings = load_settings(env=env)
        stores = await open_stores(settings, worker=True)
        redis = Redis.from_url(server.url)
        try:
            config = timeline_config(settings)
            followers = [e.user_id for e in await stores.graph.followers(author, 1_000_000, None)]
            await _activate(server.url, followers, fill, config.cap)
            graph_timer, audience_timer, push_timer = Timer(), Timer(), Timer()
            graph = stores.graph
            for name in ("followers", "count_followers", "set_celebrity"):
                setattr(graph, name, graph_timer.wrap(getattr(graph, name)))
            cache = stores.timelines
            wrapped: list[tuple[object, str, Timer]] = [
                (graph, "audience", audience_timer),
                (cache, "push", push_timer),
            ]
            for target, name, timer in wrapped:
                setattr(target, name, timer.wrap(getattr(target, name)))
            fanout = FanOut(
                graph,
                stores.tweets,
                cache,
                stores.queue,
                stores.events,
                Feeds(stores.tweets, cache, config),
                config,
            )
            ids = SnowflakeGenerator(7)
            runs: list[Run] = []
            for i in range(repeats + 1):  # the first warms the connections and the page cache
                tweet_id = ids.next_id()
                tweet = TweetRecord(
                    tweet_id, author, f"fan-out profile {i}", int(time.time() * 1000)
                )
                await stores.tweets.insert_tweet(tweet)
                graph_timer.seconds = audience_timer.seconds = push_timer.seconds = 0.0
                cpu0, (calls0, usec0) = await _redis_cpu(redis), await _script_stats(redis)
                wall0, proc0 = time.perf_counter(), time.process_time()
                if profiler is not None and i > 0:
                    profiler.enable()
                await fanout.apply(Job("post", tweet_id, author))
                if profiler is not None:
                    profiler.disable()
                wall1, proc1 = time.perf_counter(), time.process_time()
                cpu1, (calls1, usec1) = await _redis_cpu(redis), await _script_stats(redis)
                async with redis.pipeline(transaction=False) as pipe:
                    for user in followers:
                        pipe.zscore(timeline_key(user), member(tweet_id))
                    delivered = sum(s is not None for s in await pipe.execute())
                if delivered != len(followers):
                    raise RuntimeError(f"delivered to {delivered} of {len(followers)} followers")
                calls = calls1 - calls0
                if i > 0:
                    runs.append(
                        Run(
                            job_ms=round((wall1 - wall0) * 1000, 1),
                            client_cpu_ms=round((proc1 - proc0) * 1000, 1),
                            graph_ms=round(
                                (graph_timer.seconds + audience_timer.seconds) * 1000, 1
                            ),
                            audience_ms=round(audience_timer.seconds * 1000, 1),
                            push_ms=round(push_timer.seconds * 1000, 1),
                            redis_cpu_ms=round((cpu1 - cpu0) * 1000, 1),
                            redis_calls=calls,
                            redis_usec_per_call=round((usec1 - usec0) / calls, 2) if calls else 0,
                            delivered=delivered,
                        )
                    )
            version = str((await redis.info("server"))["redis_version"])
        finally:
            await redis.aclose()
            await stores.close()
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    result: dict[str, Any] = {
        "redis_version": version,
        "followers": len(followers),
        "fill": fill,
        "batch": batch,
        "runs": [asdict(r) for r in runs],
        "median": {
            field: round(statistics.median(getattr(r, field) for r in runs), 2)
            for field in Run.__dataclass_fields__
        },
    }
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out)
        stats.sort_stats("tottime").print_stats(25)
        result["profile"] = out.getvalue()
    return result


def report(result: dict[str, Any]) -> str:
    fields = list(Run.__dataclass_fields__)
    lines = [
        f"redis-server {result['redis_version']}: {result['followers']} followers, "
        f"timelines holding {result['fill']} ids, batch {result['batch']}",
        "",
        "| run | " + " | ".join(fields) + " |",
        "|---" * (len(fields) + 1) + "|",
    ]
    for i, run in enumerate(result["runs"], 1):
        lines.append(f"| {i} | " + " | ".join(str(run[f]) for f in fields) + " |")
    lines.append("| median | " + " | ".join(str(result["median"][f]) for f in fields) + " |")
    if "profile" in result:
        lines += ["", result["profile"]]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout_profile", description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--fill", type=int, default=0, help="older ids per timeline (0-800)")
    parser.add_argument("--batch", type=int, default=1000, help="CHIRP_FANOUT_BATCH")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument("--workdir", type=Path, default=Path("bench/.data"))
    args = parser.parse_args(argv)
    config, _ = configure(quick=False, users=None, seed_value=1, duration=None)
    seed_dir, manifest = seed_data(config, args.workdir, lambda line: print(line, file=sys.stderr))
    author = int(manifest.fanout_authors["10000"])
    result = asyncio.run(
        measure(seed_dir, author, args.repeats, args.fill, args.batch, args.profile)
    )
    print(report(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
