"""The measurements: GraphQL against the floor, the three timeline strategies, fan-out
delivery on Redis, and the embedded default against Redis."""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from app import open_stores
from bench import procs, wrk
from bench.seed import READER_CLASSES, Manifest
from core.security import Tokens
from core.settings import load_settings
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
        self, name: str, settings: dict[str, str], *, floor: bool = False
    ) -> Iterator[procs.Server]:
        data_dir = self.fresh_dir(name)
        started = procs.start(name, data_dir, settings, floor=floor)
        try:
            yield started
        finally:
            started.stop()

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


def load_run(bench: Bench, server: procs.Server, tokens_file: Path) -> wrk.WrkResult:
    """A warm-up wrk run (discarded), then the measured one."""
    if bench.durations.warm > 0:
        wrk.run(
            server.url,
            tokens_file,
            bench.body_file,
            bench.durations.warm,
            bench.durations.connections,
        )
    return wrk.run(
        server.url,
        tokens_file,
        bench.body_file,
        bench.durations.measure,
        bench.durations.connections,
    )


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


def graphql_vs_floor(bench: Bench) -> None:
    readers = bench.manifest.readers["mixed"]
    tokens_file = bench.tokens_file("mixed", readers)
    tokens = tokens_file.read_text().split()
    results: dict[str, wrk.WrkResult] = {}
    pages: dict[str, dict[str, Any]] = {}
    for kind in ("graphql", "floor"):
        with bench.server(f"a-{kind}", bench.settings("hybrid"), floor=kind == "floor") as server:
            url = f"{server.url}/graphql"
            # the first page before any post: both servers hold the same seeded data
            pages[kind] = asyncio.run(read_pages(url, tokens[:1]))[0]
            warm_celebrities_via(bench, server, floor=kind == "floor")
            asyncio.run(read_pages(url, tokens))
            results[kind] = load_run(bench, server, tokens_file)
        bench.add(_row("a", f"home page, {kind}", results[kind], readers=len(readers)))
    g, f = results["graphql"], results["floor"]
    same = pages["graphql"] == pages["floor"]
    bench.add(
        Row(
            "a",
            "ratio graphql/floor",
            extra={
                "throughput_ratio_graphql_over_floor": round(g.rps / f.rps, 3),
                "p50_ratio": round(g.p50_ms / f.p50_ms, 2),
                "p99_ratio": round(g.p99_ms / f.p99_ms, 2),
                "same_first_page": same,
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


# ------------------------------------------------- (b) hybrid vs pull vs push


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
                before = server.metrics().get("chirp_fanout_deliveries_total", 0.0)
                timed = asyncio.run(post_tweets(server, tokens, bench.durations.posts, kind))
                time.sleep(0.5)  # let a fan-out still running (wait cut short) finish
                after = server.metrics().get("chirp_fanout_deliveries_total", 0.0)
                followers = [counts.get(str(a), 0) for a in authors]
                posts[kind] = {
                    **_ms([t for t, _ in timed]),
                    "posts": len(timed),
                    "insertions_per_tweet": round((after - before) / len(timed), 1),
                    "mean_followers_of_posters": round(statistics.mean(followers), 1),
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
    top = max(classes)
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


# ------------------------------------------------ (d) embedded default vs Redis


def stores_compare(bench: Bench, redis_url: str) -> None:
    readers = bench.manifest.readers["mixed"]
    tokens_file = bench.tokens_file("mixed", readers)
    results: dict[str, wrk.WrkResult] = {}
    for kind, extra in (("embedded", {}), ("redis", {"REDIS_URL": redis_url})):
        if kind == "redis":
            asyncio.run(_flush(redis_url))
        with bench.server(f"d-{kind}", bench.settings("hybrid", **extra)) as server:
            warm_celebrities(bench, server)
            asyncio.run(read_pages(f"{server.url}/graphql", tokens_file.read_text().split()))
            results[kind] = load_run(bench, server, tokens_file)
        bench.add(_row("d", f"GraphQL home page, hybrid, {kind} timelines", results[kind]))
    e, r = results["embedded"], results["redis"]
    bench.add(
        Row(
            "d",
            "ratio redis/embedded",
            extra={
                "throughput_ratio": round(r.rps / e.rps, 3),
                "p99_ratio": round(r.p99_ms / e.p99_ms, 2),
            },
        )
    )


async def _flush(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        await redis.flushall()
    finally:
        await redis.aclose()
