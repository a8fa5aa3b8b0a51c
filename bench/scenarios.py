"""The measurements: (a) GraphQL against the floor, (b) the three timeline strategies,
(c) fan-out delivery on Redis, (d) the embedded default against the production stores,
(e) the read-heavy mix, (f) latency at lower concurrency."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bench import procs, wrk
from bench.production import ProductionStores
from bench.seed import READER_CLASSES, Manifest
from bootstrap.settings import load_settings
from bootstrap.stores import open_stores
from core.security import Tokens
from graph.sqlite import SqliteSocialGraph
from timeline.redis import RedisTimelineCache, member, timeline_key

HOME_QUERY = (
    "query Home { homeTimeline(first: 20) { edges { cursor node { id text createdAt likeCount"
    " retweetCount viewerHasLiked viewerHasRetweeted author { id handle displayName } } }"
    " pageInfo { hasNextPage endCursor } } }"
)
POST_MUTATION = (
    "mutation Post($text: String!) { createTweet(input: {text: $text}) {"
    " tweet { id } errors { code message } } }"
)


@dataclass(frozen=True)
class Durations:
    measure: float  # seconds of each measured wrk run
    warm: float  # seconds of the wrk warm-up run before it
    connections: int = 20
    posts: int = 20  # posts per poster kind for the time-to-post figures
    fanout_repeats: int = 3
    engine: float = 10.0  # seconds of engine-alone reads per reader pool, (b)


@dataclass
class Row:
    section: str
    name: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    errors: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Bench:
    """Shared state of one run: where the seeded data is and what it holds."""

    workdir: Path
    seed_dir: Path
    manifest: Manifest
    durations: Durations
    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # checks that failed (exit status 1)
    threshold: int = 10_000
    log: Callable[[str], None] = print

    def __post_init__(self) -> None:
        self.tokens = Tokens(self.manifest.secret, 30 * 86_400)
        body = self.workdir / "home-body.json"
        body.write_text(json.dumps({"query": HOME_QUERY, "operationName": "Home"}))
        self.body_file = body

    def token(self, user_id: int) -> str:
        return self.tokens.issue(user_id)

    def tokens_file(self, name: str, user_ids: Sequence[int]) -> Path:
        path = self.workdir / f"tokens-{name}.txt"
        path.write_text("".join(f"{self.token(u)}\n" for u in user_ids))
        return path

    def fresh_dir(self, name: str) -> Path:
        """A copy of the seeded data, so every server starts from the same state."""
        target = self.workdir / "runs" / name
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(self.seed_dir, target)
        # Write the copy out now: left to the kernel, the flush of a few hundred MB
        # of dirty pages competes with the server measured next (up to a third of
        # its throughput in the first seconds on this machine).
        os.sync()
        return target

    def settings(self, strategy: str = "hybrid", **extra: str) -> dict[str, str]:
        return {
            "CHIRP_TIMELINE_STRATEGY": strategy,
            "CHIRP_CELEBRITY_THRESHOLD": str(self.threshold),
            "CHIRP_SECRET_KEY": self.manifest.secret,
            **extra,
        }

    @contextmanager
    def server(
        self,
        name: str,
        settings: dict[str, str],
        *,
        floor: bool = False,
        physical: tuple[str, Path] | None = None,
    ) -> Iterator[procs.Server]:
        if physical is None:
            data_dir = self.fresh_dir(name)
        else:  # serves from memory: a folder for its log only
            data_dir = self.workdir / "runs" / name
            data_dir.mkdir(parents=True, exist_ok=True)
        started = procs.start(name, data_dir, settings, floor=floor, physical=physical)
        try:
            yield started
        finally:
            started.stop()

    def fail(self, message: str) -> None:
        """A check that failed: logged now, and the run exits non-zero at the end."""
        self.failures.append(message)
        self.log(f"  CHECK FAILED: {message}")

    def add(self, row: Row) -> Row:
        self.rows.append(row)
        shown = ", ".join(f"{k}={v}" for k, v in row.extra.items() if not isinstance(v, dict))
        figures = (
            f"{row.rps:.0f} req/s p50 {row.p50_ms:.1f} ms p99 {row.p99_ms:.1f} ms "
            f"errors {row.errors}"
            if row.rps is not None and row.p50_ms is not None and row.p99_ms is not None
            else ""
        )
        self.log(f"  [{row.section}] {row.name}: {figures} {shown}".rstrip())
        return row


# ----------------------------------------------------------------- HTTP helpers


async def _post_json(
    session: aiohttp.ClientSession, url: str, token: str, payload: dict[str, Any]
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with session.post(url, json=payload, headers=headers) as answer:
        body: dict[str, Any] = await answer.json(content_type=None)
        if answer.status != 200:
            raise RuntimeError(f"{url}: HTTP {answer.status}: {body}")
        return body


async def read_pages(url: str, tokens: Sequence[str]) -> list[dict[str, Any]]:
    """One home page per token, in turn (fills each reader's cached timeline)."""
    pages = []
    async with aiohttp.ClientSession() as session:
        for token in tokens:
            body = await _post_json(session, url, token, {"query": HOME_QUERY})
            if "errors" in body:
                raise RuntimeError(f"home timeline failed: {body['errors']}")
            pages.append(body)
    return pages


async def post_tweets(
    server: procs.Server, tokens: Sequence[str], count: int, label: str
) -> list[tuple[float, int]]:
    """``count`` posts through GraphQL cycling over ``tokens``: (seconds, tweet id) each."""
    results = []
    async with aiohttp.ClientSession() as session:
        for n in range(count):
            text = f"bench {label} post {n} at {time.time_ns()} #bench"
            started = time.perf_counter()
            body = await _post_json(
                session,
                f"{server.url}/graphql",
                tokens[n % len(tokens)],
                {"query": POST_MUTATION, "variables": {"text": text}},
            )
            elapsed = time.perf_counter() - started
            payload = (body.get("data") or {}).get("createTweet") or {}
            if body.get("errors") or payload.get("errors") or not payload.get("tweet"):
                raise RuntimeError(f"createTweet failed: {body}")
            results.append((elapsed, int(payload["tweet"]["id"])))
            server.posts += 1
    return results


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _ms(values: Sequence[float]) -> dict[str, float]:
    return {
        "p50_ms": round(_pct(values, 0.5) * 1000, 2),
        "p95_ms": round(_pct(values, 0.95) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
    }


def load_run(
    bench: Bench,
    server: procs.Server,
    tokens_file: Path,
    measure: float | None = None,
    warm: float | None = None,
) -> wrk.WrkResult:
    """A warm-up wrk run (discarded), then the measured one (the run's durations unless given)."""
    d = bench.durations
    warm = d.warm if warm is None else warm
    if warm > 0:
        wrk.run(server.url, tokens_file, bench.body_file, warm, d.connections)
    return wrk.run(
        server.url, tokens_file, bench.body_file, d.measure if measure is None else measure,
        d.connections,
    )  # fmt: skip


def measured_with_cpu(
    pids: Mapping[str, int], run: Callable[[], wrk.WrkResult]
) -> tuple[wrk.WrkResult, dict[str, float]]:
    """``run()``, and the CPU each process used meanwhile, in % of one core."""
    before = {name: procs.cpu_seconds(pid) for name, pid in pids.items()}
    started = time.monotonic()
    result = run()
    elapsed = time.monotonic() - started
    used = {
        name: round(100 * (procs.cpu_seconds(pid) - before[name]) / elapsed, 1)
        for name, pid in pids.items()
    }
    return result, used


def warm_celebrities(bench: Bench, server: procs.Server) -> None:
    """One post per celebrity: their recent lists get cached, as after any first post."""
    tokens = [bench.token(c) for c in bench.manifest.celebrities]
    if tokens:
        asyncio.run(post_tweets(server, tokens, len(tokens), "warm-celebrity"))


def _row(section: str, name: str, result: wrk.WrkResult, **extra: Any) -> Row:
    return Row(
        section,
        name,
        result.rps,
        result.p50_ms,
        result.p99_ms,
        result.errors,
        {"requests": result.requests, "p75_ms": result.p75_ms, "p90_ms": result.p90_ms,
         "command": result.command, **extra},
    )  # fmt: skip


# ------------------------------------------------------- (a) GraphQL vs the floor


ROUNDS = 3  # (a): alternating GraphQL and floor runs


def graphql_vs_floor(bench: Bench) -> None:
    """The three servers up at once, measured in alternation, the ratios taken per round.

    GraphQL (``app.py``), the engine floor (``bench.floor``: the same services, no
    GraphQL) and the physical floor (``bench.physical_floor``: the page's bytes,
    captured from the GraphQL server once warm, from memory). This machine's speed
    drifts by up to a third between runs a minute apart, so a GraphQL run followed
    by a floor run measures the drift as much as the servers. Each round runs
    GraphQL, the engine floor and the physical floor back to back (each after its
    own short warm-up); each reported ratio is the median of the rounds' ratios,
    the per-server figures those of the round with the median GraphQL/engine ratio.
    """
    readers = bench.manifest.readers["mixed"]
    tokens_file = bench.tokens_file("mixed", readers)
    tokens = tokens_file.read_text().split()
    pages: dict[str, dict[str, Any]] = {}
    measure = max(
        1.0,
        bench.durations.measure / 2 if bench.durations.measure >= 6 else bench.durations.measure,
    )
    rounds: list[dict[str, wrk.WrkResult]] = []
    with (
        bench.server("a-graphql", bench.settings("hybrid")) as graphql,
        bench.server("a-floor", bench.settings("hybrid"), floor=True) as floor,
    ):
        servers = {"graphql": graphql, "floor": floor}
        for kind, server in servers.items():
            url = f"{server.url}/graphql"
            # the first page before any post: both servers hold the same seeded data
            pages[kind] = asyncio.run(read_pages(url, tokens[:1]))[0]
            warm_celebrities_via(bench, server, floor=kind == "floor")
            asyncio.run(read_pages(url, tokens))
        capture_from = (f"{graphql.url}/graphql", tokens_file)
        with bench.server("a-physical", {}, physical=capture_from) as physical:
            servers["physical"] = physical
            for _ in range(ROUNDS):
                results = {}
                for kind, server in servers.items():
                    warm = 1.0 if bench.durations.warm > 0 else 0.0
                    results[kind] = load_run(bench, server, tokens_file, measure, warm)
                rounds.append(results)
    ratios = [r["graphql"].rps / r["floor"].rps for r in rounds]
    physical_ratios = [r["graphql"].rps / r["physical"].rps for r in rounds]
    engine_physical = [r["floor"].rps / r["physical"].rps for r in rounds]
    median = sorted(range(len(rounds)), key=lambda i: ratios[i])[len(rounds) // 2]
    for kind in ("graphql", "floor", "physical"):
        bench.add(
            _row(
                "a",
                f"home page, {kind}",
                rounds[median][kind],
                readers=len(readers),
                rps_by_round=[round(r[kind].rps, 1) for r in rounds],
            )
        )
    g, f = rounds[median]["graphql"], rounds[median]["floor"]
    bench.add(
        Row(
            "a",
            "ratio graphql/floor",
            extra={
                "throughput_ratio_graphql_over_floor": round(ratios[median], 3),
                "throughput_ratio_by_round": [round(r, 3) for r in ratios],
                "throughput_ratio_graphql_over_physical": round(
                    statistics.median(physical_ratios), 3
                ),
                "throughput_ratio_graphql_over_physical_by_round": [
                    round(r, 3) for r in physical_ratios
                ],
                "throughput_ratio_floor_over_physical": round(
                    statistics.median(engine_physical), 3
                ),
                "p50_ratio": round(g.p50_ms / f.p50_ms, 2),
                "p99_ratio": round(g.p99_ms / f.p99_ms, 2),
                # the data only: GraphQL's answer also reports its cost (extensions)
                "same_first_page": pages["graphql"]["data"] == pages["floor"]["data"],
            },
        )
    )


def warm_celebrities_via(bench: Bench, server: procs.Server, *, floor: bool) -> None:
    if floor:
        tokens = [bench.token(c) for c in bench.manifest.celebrities]
        asyncio.run(_floor_posts(server, tokens))
    else:
        warm_celebrities(bench, server)


async def _floor_posts(server: procs.Server, tokens: Sequence[str]) -> None:
    async with aiohttp.ClientSession() as session:
        for n, token in enumerate(tokens):
            await _post_json(session, f"{server.url}/post", token, {"text": f"warm {n}"})
            server.posts += 1


# ------------------------------------------------- (b) hybrid vs pull vs push


def engine_reads(
    bench: Bench, strategy: str, classes: Sequence[int], seconds: float
) -> dict[int, dict[str, Any]]:
    """``bench.engine`` on a fresh copy of the data, pinned to the server core."""
    data_dir = bench.fresh_dir(f"b-engine-{strategy}")
    command = [
        "taskset", "-c", "0", sys.executable, "-m", "bench.engine", "--data-dir", str(data_dir),
        "--pools", ",".join(map(str, classes)), "--seconds", str(seconds),
    ]  # fmt: skip
    env = {**os.environ, **bench.settings(strategy), "CHIRP_LOG_LEVEL": "WARNING"}
    done = subprocess.run(command, cwd=procs.ROOT, env=env, capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"bench.engine failed: {done.stderr.decode()[-3000:]}")
    found = json.loads(done.stdout)
    return {c: found[str(c)] for c in classes}


def strategies(
    bench: Bench,
    classes: Sequence[int] = READER_CLASSES,
    floor_classes: Sequence[int] | None = None,
) -> None:
    manifest = bench.manifest
    files = {c: bench.tokens_file(f"follow{c}", manifest.readers[str(c)]) for c in classes}
    normal = [bench.token(u) for u in manifest.normal_posters]
    celebs = [bench.token(u) for u in manifest.celebrities]
    counts = manifest.follower_counts
    by_strategy: dict[str, dict[int, wrk.WrkResult]] = {}
    for strategy in ("hybrid", "pull", "push"):
        by_strategy[strategy] = {}
        with bench.server(f"b-{strategy}", bench.settings(strategy)) as server:
            warm_celebrities(bench, server)
            for c in classes:
                asyncio.run(read_pages(f"{server.url}/graphql", files[c].read_text().split()))
                result = load_run(bench, server, files[c])
                by_strategy[strategy][c] = result
                bench.add(_row("b", f"{strategy}, readers following {c}", result))
            posts: dict[str, Any] = {}
            for kind, tokens, authors in (
                ("normal", normal, manifest.normal_posters),
                ("celebrity", celebs, manifest.celebrities),
            ):
                if not tokens:
                    continue
                # every earlier post's fan-out done before, this group's after: the
                # deliveries in between are this group's own
                server.wait_for_fanout()
                before = server.metrics().get(procs.FANOUT_DELIVERIES, 0.0)
                timed = asyncio.run(post_tweets(server, tokens, bench.durations.posts, kind))
                drained = server.wait_for_fanout()
                after = server.metrics().get(procs.FANOUT_DELIVERIES, 0.0)
                followers = [counts.get(str(a), 0) for a in authors]
                posts[kind] = {
                    **_ms([t for t, _ in timed]),
                    "posts": len(timed),
                    "insertions_per_tweet": round((after - before) / len(timed), 1),
                    "mean_followers_of_posters": round(statistics.mean(followers), 1),
                    "fanout_drain_ms": round(drained * 1000, 1),
                }
            extra: dict[str, Any] = {
                f"post_{k}_{m}": v for k, d in posts.items() for m, v in d.items()
            }
            if "normal" in posts and "celebrity" in posts:
                extra["post_p50_ratio_celebrity_over_normal"] = round(
                    posts["celebrity"]["p50_ms"] / posts["normal"]["p50_ms"], 2
                )
            bench.add(Row("b", f"{strategy}, posting", extra=extra))
        # the same reads on the floor: the engine's own cost, without GraphQL's in front
        by_strategy[f"floor-{strategy}"] = {}
        with bench.server(f"b-floor-{strategy}", bench.settings(strategy), floor=True) as server:
            warm_celebrities_via(bench, server, floor=True)
            for c in floor_classes if floor_classes is not None else classes:
                asyncio.run(read_pages(f"{server.url}/graphql", files[c].read_text().split()))
                result = load_run(bench, server, files[c])
                by_strategy[f"floor-{strategy}"][c] = result
                bench.add(_row("b", f"floor {strategy}, readers following {c}", result))
    # the engine alone, one read at a time: what the strategy itself costs
    engine_classes = floor_classes if floor_classes is not None else classes
    engine: dict[str, dict[int, dict[str, Any]]] = {}
    for strategy in ("hybrid", "pull", "push"):
        engine[strategy] = engine_reads(bench, strategy, engine_classes, bench.durations.engine)
        for c, got in engine[strategy].items():
            bench.add(
                Row(
                    "b",
                    f"engine {strategy}, readers following {c}",
                    got["reads_per_s"],
                    got["p50_ms"],
                    got["p99_ms"],
                    0,
                    {k: got[k] for k in ("reads", "p90_ms", "max_ms")},
                )
            )
    top = max(classes)
    if top in engine["hybrid"] and top in engine["pull"]:
        alone_h, alone_p = engine["hybrid"][top], engine["pull"][top]
        bench.add(
            Row(
                "b",
                f"ratio pull/hybrid at {top} followees, engine alone",
                extra={
                    "p99_ratio_pull_over_hybrid": round(alone_p["p99_ms"] / alone_h["p99_ms"], 2),
                    "p50_ratio_pull_over_hybrid": round(alone_p["p50_ms"] / alone_h["p50_ms"], 2),
                    "throughput_ratio_hybrid_over_pull": round(
                        alone_h["reads_per_s"] / alone_p["reads_per_s"], 2
                    ),
                },
            )
        )
    for prefix in ("", "floor-"):
        h, p = by_strategy[f"{prefix}hybrid"].get(top), by_strategy[f"{prefix}pull"].get(top)
        if h is None or p is None:
            continue
        bench.add(
            Row(
                "b",
                f"ratio pull/hybrid at {top} followees, {'floor' if prefix else 'GraphQL'}",
                extra={
                    "p99_ratio_pull_over_hybrid": round(p.p99_ms / h.p99_ms, 2),
                    "p50_ratio_pull_over_hybrid": round(p.p50_ms / h.p50_ms, 2),
                    "throughput_ratio_hybrid_over_pull": round(h.rps / p.rps, 2),
                },
            )
        )


# --------------------------------------------------- (c) fan-out delivery on Redis


async def _followers_in_fanout_order(seed_dir: Path, author: int) -> list[int]:
    settings = load_settings(env={"CHIRP_DATA_DIR": str(seed_dir)})
    stores = await open_stores(settings)
    try:
        assert isinstance(stores.graph, SqliteSocialGraph)
        edges = await stores.graph.followers(author, 1_000_000)
        return [e.user_id for e in edges]
    finally:
        await stores.close()


async def _activate(redis_url: str, users: Sequence[int]) -> None:
    """Give each user a present (empty) cached timeline: an active reader, for fan-out."""
    cache = RedisTimelineCache(Redis.from_url(redis_url), 30 * 86_400, 1000)
    try:
        for start in range(0, len(users), 50):
            await asyncio.gather(*(cache.store(u, [], 800) for u in users[start : start + 50]))
    finally:
        await cache.close()


async def _deliver(
    server: procs.Server, redis_url: str, token: str, followers: Sequence[int]
) -> dict[str, float]:
    """Post, then poll the last follower in fan-out order until the id is there."""
    redis = Redis.from_url(redis_url)
    try:
        started = time.perf_counter()
        ((posted, tweet_id),) = await post_tweets(server, [token], 1, "fanout")
        last = timeline_key(followers[-1])
        while await redis.zscore(last, member(tweet_id)) is None:
            if time.perf_counter() - started > 60:
                raise RuntimeError("fan-out not delivered within 60 s")
            await asyncio.sleep(0.002)
        delivered_at = time.perf_counter() - started
        async with redis.pipeline(transaction=False) as pipe:
            for user in followers:
                pipe.zscore(timeline_key(user), member(tweet_id))
            present = sum(score is not None for score in await pipe.execute())
        return {"post_s": posted, "delivered_s": delivered_at, "present": float(present)}
    finally:
        await redis.aclose()


def fanout(bench: Bench, redis_url: str) -> None:
    authors = {int(k): v for k, v in bench.manifest.fanout_authors.items()}
    if not authors:
        bench.add(Row("c", "fan-out", extra={"skipped": "no fan-out authors in this data set"}))
        return
    ordered = {
        n: asyncio.run(_followers_in_fanout_order(bench.seed_dir, a)) for n, a in authors.items()
    }
    asyncio.run(_activate(redis_url, sorted({u for f in ordered.values() for u in f})))
    settings = bench.settings(
        "push", REDIS_URL=redis_url, CHIRP_FANOUT_WAIT="0", CHIRP_FANOUT_BATCH="1000"
    )
    with bench.server("c-fanout", settings) as server:
        for size, author in sorted(authors.items()):
            token = bench.token(author)
            runs = []
            for _ in range(bench.durations.fanout_repeats):
                m0 = server.metrics()
                runs.append(asyncio.run(_deliver(server, redis_url, token, ordered[size])))
                server.wait_for_fanout()  # the lag is observed after the last delivery
                m1 = server.metrics()
                lag_sum = m1.get("chirp_fanout_lag_seconds_sum", 0.0) - m0.get(
                    "chirp_fanout_lag_seconds_sum", 0.0
                )
                jobs = m1.get("chirp_fanout_lag_seconds_count", 0.0) - m0.get(
                    "chirp_fanout_lag_seconds_count", 0.0
                )
                runs[-1]["lag_metric_s"] = lag_sum / jobs if jobs else float("nan")
            bench.add(
                Row(
                    "c",
                    f"fan-out to {size} followers (Redis, push)",
                    extra={
                        "followers": len(ordered[size]),
                        "delivered_to_last_ms_median": round(
                            statistics.median(r["delivered_s"] for r in runs) * 1000, 1
                        ),
                        "delivered_to_last_ms_max": round(
                            max(r["delivered_s"] for r in runs) * 1000, 1
                        ),
                        "fanout_lag_metric_ms_median": round(
                            statistics.median(r["lag_metric_s"] for r in runs) * 1000, 1
                        ),
                        "post_ms_median": round(
                            statistics.median(r["post_s"] for r in runs) * 1000, 1
                        ),
                        "followers_with_tweet_min": int(min(r["present"] for r in runs)),
                        "repeats": len(runs),
                    },
                )
            )
        if len(authors) > 1:
            reply_fanout(bench, server, redis_url, authors, ordered)


REPLY_MUTATION = (
    "mutation Reply($text: String!, $to: ID!) { createTweet(input: {text: $text,"
    " inReplyToId: $to}) { tweet { id } errors { code message } } }"
)


async def _reply(server: procs.Server, token: str, parent: int) -> int:
    async with aiohttp.ClientSession() as session:
        body = await _post_json(
            session,
            f"{server.url}/graphql",
            token,
            {"query": REPLY_MUTATION, "variables": {"text": "bench reply", "to": str(parent)}},
        )
    payload = (body.get("data") or {}).get("createTweet") or {}
    if body.get("errors") or payload.get("errors") or not payload.get("tweet"):
        raise RuntimeError(f"reply failed: {body}")
    server.posts += 1
    return int(payload["tweet"]["id"])


async def _holders(redis_url: str, users: Sequence[int], tweet_id: int) -> set[int]:
    redis = Redis.from_url(redis_url)
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for user in users:
                pipe.zscore(timeline_key(user), member(tweet_id))
            scores = await pipe.execute()
        return {u for u, score in zip(users, scores, strict=True) if score is not None}
    finally:
        await redis.aclose()


def _job_ms(server: procs.Server, before: Mapping[str, float]) -> float:
    """The mean fan-out lag of the jobs since ``before`` (the server's own metric), in ms."""
    after = server.metrics()
    total = after.get("chirp_fanout_lag_seconds_sum", 0.0) - before.get(
        "chirp_fanout_lag_seconds_sum", 0.0
    )
    jobs = after.get("chirp_fanout_lag_seconds_count", 0.0) - before.get(
        "chirp_fanout_lag_seconds_count", 0.0
    )
    return total / jobs * 1000 if jobs else float("nan")


def reply_fanout(
    bench: Bench,
    server: procs.Server,
    redis_url: str,
    authors: Mapping[int, int],
    ordered: Mapping[int, list[int]],
) -> None:
    """The largest author's reply to a smaller author's tweet against the same author's
    plain post: the reply's fan-out asks the graph, per batch of followers, which of
    them follow the answered author too (the follows-both rule), and only those get it.
    Times: the server's fan-out lag metric per job (tweet id to last delivery)."""
    size, author = max(authors.items())
    small, answered = min(authors.items())
    followers = ordered[size]
    # who follows both, and the answered author if they follow the replier
    both = set(followers) & (set(ordered[small]) | {answered})
    token = bench.token(author)
    plain_ms, reply_ms, wrong = [], [], 0
    for _ in range(bench.durations.fanout_repeats):
        ((_, parent),) = asyncio.run(post_tweets(server, [bench.token(answered)], 1, "parent"))
        server.wait_for_fanout()
        before = server.metrics()
        asyncio.run(post_tweets(server, [token], 1, "plain"))
        server.wait_for_fanout()
        plain_ms.append(_job_ms(server, before))
        before = server.metrics()
        reply = asyncio.run(_reply(server, token, parent))
        server.wait_for_fanout()
        reply_ms.append(_job_ms(server, before))
        holders = asyncio.run(_holders(redis_url, followers, reply))
        wrong += len(holders ^ both)
    plain, replied = statistics.median(plain_ms), statistics.median(reply_ms)
    if wrong:
        bench.fail(f"c: the reply reached {wrong} followers it should not have, or missed them")
    bench.add(
        Row(
            "c",
            f"reply fan-out, {len(followers)} followers (follows-both rule)",
            extra={
                "followers": len(followers),
                "followers_following_both": len(both),
                "reply_job_ms_median": round(replied, 1),
                "plain_job_ms_median": round(plain, 1),
                "reply_over_plain": round(replied / plain, 2) if plain else None,
                "wrong_recipients": wrong,
                "repeats": len(reply_ms),
            },
        )
    )


# ---------------------------------------- (d) embedded default vs production stores


def stores_compare(
    bench: Bench,
    redis_url: str,
    production: ProductionStores | None = None,
    redis_pid: int | None = None,
) -> None:
    """The (a) GraphQL run on each store configuration; all hybrid, mixed pool.

    Each row also has the CPU the server and each store process used during the
    measured run (% of one core): the stores share the load core with wrk.
    """
    readers = bench.manifest.readers["mixed"]
    tokens_file = bench.tokens_file("mixed", readers)
    redis = {"REDIS_URL": redis_url}
    configs: list[tuple[str, dict[str, str]]] = [("embedded", {}), ("Redis timelines", redis)]
    if production is not None:
        graph, tweets = production.graph_settings(), production.tweet_settings()
        configs += [
            ("Neo4j graph", graph),
            ("MongoDB tweets", tweets),
            ("Neo4j + MongoDB + Redis", {**graph, **tweets, **redis}),
        ]
    if production is not None:
        bench.add(Row("d", "seeding the stand-ins (ArcadeDB, nx-27017)", extra=production.timings))
    results: dict[str, wrk.WrkResult] = {}
    for kind, extra in configs:
        if "REDIS_URL" in extra:
            asyncio.run(_flush(redis_url))
        slug = kind.lower().replace(" + ", "-").replace(" ", "-")
        with bench.server(f"d-{slug}", bench.settings("hybrid", **extra)) as server:
            tokens = [bench.token(c) for c in bench.manifest.celebrities]
            posted = asyncio.run(post_tweets(server, tokens, len(tokens), "warm-celebrity"))
            started = time.perf_counter()
            asyncio.run(read_pages(f"{server.url}/graphql", tokens_file.read_text().split()))
            first_reads = time.perf_counter() - started
            pids = {"server": server.process.pid}
            if redis_pid is not None and "REDIS_URL" in extra:
                pids["redis"] = redis_pid
            if production is not None:
                pids |= {
                    name: pid
                    for name, pid, key in (
                        ("arcadedb", production.neo4j.pid, "NEO4J_URI"),
                        ("nx-27017", production.mongo.pid, "MONGODB_URI"),
                    )
                    if key in extra
                }
            d = bench.durations
            if d.warm > 0:
                wrk.run(server.url, tokens_file, bench.body_file, d.warm, d.connections)
            measure = partial(
                wrk.run, server.url, tokens_file, bench.body_file, d.measure, d.connections
            )
            results[kind], cpu = measured_with_cpu(pids, measure)
        if production is not None and "MONGODB_URI" in extra:
            production.delete_tweets([tweet_id for _, tweet_id in posted])
        bench.add(
            _row(
                "d",
                f"{kind} ({len(bench.manifest.user_ids):,} users)",
                results[kind],
                readers=len(readers),
                first_read_of_each_reader_s=round(first_reads, 1),
                cpu_pct=cpu,
            )
        )
    base = results["embedded"]
    for kind, r in results.items():
        if kind != "embedded":
            bench.add(
                Row(
                    "d",
                    f"ratio {kind} / embedded",
                    extra={
                        "throughput_ratio": round(r.rps / base.rps, 3),
                        "p50_ratio": round(r.p50_ms / base.p50_ms, 2),
                        "p99_ratio": round(r.p99_ms / base.p99_ms, 2),
                    },
                )
            )


async def _flush(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        await redis.flushall()
    finally:
        await redis.aclose()


# ------------------------------------------------------- (e) read-heavy mix

MIX_POST_EVERY = 101  # every 101st request posts: 100 home-page reads per createTweet
MIX_TEXT = "bench mix"


def _post_body(bench: Bench, name: str, marker: str) -> Path:
    """The createTweet body home.lua sends in the mix ("@N@" becomes a counter)."""
    path = bench.workdir / f"post-body-{name}.json"
    text = f"{marker} @N@ #bench"
    path.write_text(
        json.dumps({"query": POST_MUTATION, "operationName": "Post", "variables": {"text": text}})
    )
    return path


def _readonly(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


def _mix_posts_in_store(data_dir: Path, marker: str) -> list[tuple[int, int]]:
    """(tweet id, author id) of the tweets whose text starts with ``marker`` in the
    embedded tweet store, newest first."""
    with closing(_readonly(data_dir / "tweets.sqlite3")) as db:
        rows = db.execute(
            "SELECT id, author_id FROM tweets WHERE text LIKE ? ORDER BY id DESC",
            (f"{marker}%",),
        ).fetchall()
    return [(int(t), int(a)) for t, a in rows]


def _followers_among(data_dir: Path, author: int, users: Sequence[int]) -> list[int]:
    with closing(_readonly(data_dir / "graph.sqlite3")) as db:
        rows = db.execute(
            "SELECT follower_id FROM follows WHERE followee_id = ?", (author,)
        ).fetchall()
    pool = set(users)
    return [int(f) for (f,) in rows if int(f) in pool and int(f) != author]


def _visible_followee_post(
    bench: Bench,
    server: procs.Server,
    data_dir: Path,
    posts: Sequence[tuple[int, int]],
    readers: Sequence[int],
) -> dict[str, Any]:
    """The newest mix post with a follower in the pool, looked for on that reader's home page."""
    for tweet_id, author in posts:  # newest first
        followers = _followers_among(data_dir, author, readers)
        if not followers:
            continue
        reader = followers[0]
        (page,) = asyncio.run(read_pages(f"{server.url}/graphql", [bench.token(reader)]))
        edges = page["data"]["homeTimeline"]["edges"]
        ids = [int(edge["node"]["id"]) for edge in edges]
        return {
            "checked_tweet": tweet_id,
            "checked_reader": reader,
            "followee_post_visible": tweet_id in ids,
        }
    return {
        "followee_post_visible": None,
        "checked_tweet": "no mix post had a follower in the pool",
    }


def read_heavy_mix(bench: Bench, post_every: int = MIX_POST_EVERY) -> None:
    """The design brief's mix: about 100 home-timeline reads per post, hybrid, embedded."""
    readers = bench.manifest.readers["mixed"]
    tokens_file = bench.tokens_file("mixed", readers)
    warm_body = _post_body(bench, "mix-warm", f"{MIX_TEXT}-warm")
    body = _post_body(bench, "mix", MIX_TEXT)
    d = bench.durations
    with bench.server("e-mix", bench.settings("hybrid")) as server:
        data_dir = server.data_dir
        warm_celebrities(bench, server)
        asyncio.run(read_pages(f"{server.url}/graphql", tokens_file.read_text().split()))
        warm = wrk.run(
            server.url, tokens_file, bench.body_file, d.warm, d.connections,
            post_every=post_every, post_body_file=warm_body,
        )  # fmt: skip
        server.posts += warm.counts.get("posts_ok", 0)
        _settle(bench, server)
        m0 = server.metrics()
        result = wrk.run(
            server.url, tokens_file, bench.body_file, d.measure, d.connections,
            post_every=post_every, post_body_file=body,
        )  # fmt: skip
        counts = result.counts
        server.posts += counts.get("posts_ok", 0)
        drained = server.wait_for_fanout()
        m1 = server.metrics()
        _settle(bench, server)
        stored = _mix_posts_in_store(data_dir, f"{MIX_TEXT} ")
        visible = _visible_followee_post(bench, server, data_dir, stored, readers)
    posts_ok = counts.get("posts_ok", 0)
    # a post still in flight when wrk stopped may have been stored, unanswered
    stored_ok = posts_ok <= len(stored) <= counts.get("posts_sent", 0)
    bench.add(
        _row(
            "e",
            f"mix, {post_every - 1} reads per post, hybrid, embedded",
            result,
            readers=len(readers),
            reads=counts.get("reads_ok", 0),
            posts=posts_ok,
            posts_per_s=round(posts_ok / result.seconds, 2) if result.seconds else 0.0,
            posts_sent=counts.get("posts_sent", 0),
            graphql_errors=counts.get("graphql_errors", 0),
            payload_errors=counts.get("payload_errors", 0),
            http_errors=counts.get("http_errors", 0),
            socket_errors=result.socket_errors,
            insertions_per_post=round(
                (m1.get(procs.FANOUT_DELIVERIES, 0.0) - m0.get(procs.FANOUT_DELIVERIES, 0.0))
                / posts_ok,
                1,
            )
            if posts_ok
            else None,
            fanout_drain_ms=round(drained * 1000, 1),
            posts_in_store=len(stored),
            posts_in_store_match=stored_ok,
            **visible,
        )
    )
    if posts_ok == 0 or not stored_ok or visible.get("followee_post_visible") is False:
        bench.fail(
            f"(e) read-heavy mix: {posts_ok} posts answered ({counts.get('posts_sent', 0)}"
            f" sent), {len(stored)} in the store, followee post visible:"
            f" {visible.get('followee_post_visible')}"
        )


def _settle(bench: Bench, server: procs.Server) -> None:
    """Wait for the fan-out of every mix post in the store, answered or not.

    A post in flight when wrk stopped may be stored without wrk seeing the answer:
    the store's count of mix posts (warm-up's included) is the number made.
    """
    server.wait_for_fanout()
    time.sleep(0.2)
    made = len(_mix_posts_in_store(server.data_dir, MIX_TEXT))
    server.posts = max(server.posts, len(bench.manifest.celebrities) + made)
    server.wait_for_fanout()


# ------------------------------------------- (f) latency at lower concurrency

SWEEP_CONNECTIONS = (1, 2, 5, 10, 20)
P99_TARGET_MS = 50.0


def best_under(
    results: Sequence[tuple[int, wrk.WrkResult]], p99_ms: float = P99_TARGET_MS
) -> dict[str, Any]:
    """Of a sweep's (connections, result): the highest error-free throughput, and the
    highest error-free throughput whose p99 is under ``p99_ms``."""
    clean = [(c, r) for c, r in results if r.ok]
    summary: dict[str, Any] = {}
    if clean:
        c, top = max(clean, key=lambda cr: cr[1].rps)
        summary |= {
            "max_error_free_rps": top.rps,
            "max_error_free_at_connections": c,
            "max_error_free_p99_ms": top.p99_ms,
            "p99_under_target_at_max_error_free": top.p99_ms < p99_ms,
        }
    under = [(c, r) for c, r in clean if r.p99_ms < p99_ms]
    if under:
        c, best = max(under, key=lambda cr: cr[1].rps)
        summary |= {
            f"best_rps_p99_under_{p99_ms:g}ms": best.rps,
            "best_at_connections": c,
            "best_p50_ms": best.p50_ms,
            "best_p99_ms": best.p99_ms,
        }
    else:
        summary[f"best_rps_p99_under_{p99_ms:g}ms"] = None
    return summary


def concurrency_sweep(
    bench: Bench, connections: Sequence[int] = SWEEP_CONNECTIONS, floor: bool = True
) -> None:
    """wrk at each connection count against GraphQL and the floor (hybrid, mixed pool)."""
    readers = bench.manifest.readers["mixed"]
    tokens_file = bench.tokens_file("mixed", readers)
    d = bench.durations
    for kind in ("graphql", "floor") if floor else ("graphql",):
        results: list[tuple[int, wrk.WrkResult]] = []
        with bench.server(f"f-{kind}", bench.settings("hybrid"), floor=kind == "floor") as server:
            warm_celebrities_via(bench, server, floor=kind == "floor")
            asyncio.run(read_pages(f"{server.url}/graphql", tokens_file.read_text().split()))
            if d.warm > 0:
                wrk.run(server.url, tokens_file, bench.body_file, d.warm, max(connections))
            for c in connections:
                measure = partial(wrk.run, server.url, tokens_file, bench.body_file, d.measure, c)
                result, cpu = measured_with_cpu({"server": server.process.pid}, measure)
                results.append((c, result))
                name = f"{kind}, {c} connection{'s' if c > 1 else ''}"
                bench.add(_row("f", name, result, server_cpu_pct=cpu["server"]))
        bench.add(Row("f", f"{kind}: highest throughput, p99 target", extra=best_under(results)))
