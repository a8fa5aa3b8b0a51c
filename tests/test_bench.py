"""Tests of the bench's own logic: wrk output, home.lua's counts, the sweep's pick, the plan.

Not collected by ``make test`` (pytest's testpaths is tests/): run them with
``.venv/bin/pytest bench/test_bench.py``. The home.lua test needs ``wrk``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web

from bench import discovery_api, engine, scenarios, seed, wrk
from bootstrap.settings import load_settings
from bootstrap.stores import open_stores

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:4000
  1 threads and 20 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency    60.12ms   20.01ms 191.00ms   80.00%
    Req/Sec   316.00     30.00   400.00     70.00%
  Latency Distribution
     50%   60.20ms
     75%   70.71ms
     90%   79.74ms
     99%  191.00ms
  945 requests in 3.01s, 4.10MB read
  Non-2xx or 3xx responses: 2
Requests/sec:    314.20
Transfer/sec:      1.36MB
BENCH failed_responses 5
BENCH reads_ok 931
BENCH posts_sent 10
BENCH posts_ok 9
BENCH graphql_errors 2
BENCH payload_errors 1
BENCH http_errors 2
"""


def test_parse_reads_figures_and_home_lua_counts() -> None:
    result = wrk.parse(WRK_OUTPUT, "wrk ...")
    assert result.requests == 945
    assert result.seconds == pytest.approx(3.01)
    assert result.rps == pytest.approx(314.2)
    assert result.p50_ms == pytest.approx(60.2)
    assert result.p99_ms == pytest.approx(191.0)
    assert result.non_2xx == 2
    assert result.failed_responses == 5
    assert result.errors == 5  # non-2xx are among the script's failures: not counted twice
    assert result.counts == {
        "reads_ok": 931,
        "posts_sent": 10,
        "posts_ok": 9,
        "graphql_errors": 2,
        "payload_errors": 1,
        "http_errors": 2,
    }
    assert not result.ok


def _result(rps: float, p99: float, errors: int = 0) -> wrk.WrkResult:
    return wrk.WrkResult(
        requests=1000, seconds=10, rps=rps, p50_ms=p99 / 3, p75_ms=p99 / 2, p90_ms=p99 / 1.5,
        p99_ms=p99, errors=errors, non_2xx=0, socket_errors=errors, failed_responses=0,
        command="wrk",
    )  # fmt: skip


def test_best_under_picks_the_fastest_clean_run_under_the_target() -> None:
    sweep = [
        (1, _result(100, 12)),
        (2, _result(180, 30)),
        (5, _result(250, 49)),
        (10, _result(300, 80)),
        (20, _result(320, 150, errors=3)),  # fastest, but not error-free
    ]
    summary = scenarios.best_under(sweep, 50.0)
    assert summary["max_error_free_rps"] == 300
    assert summary["max_error_free_at_connections"] == 10
    assert summary["p99_under_target_at_max_error_free"] is False
    assert summary["best_rps_p99_under_50ms"] == 250
    assert summary["best_at_connections"] == 5


def test_best_under_says_none_when_no_run_meets_the_target() -> None:
    summary = scenarios.best_under([(1, _result(100, 60)), (2, _result(150, 70))], 50.0)
    assert summary["best_rps_p99_under_50ms"] is None
    assert summary["max_error_free_rps"] == 150


def test_the_plan_is_the_same_again_from_its_manifest_clock() -> None:
    config = seed.SeedConfig(
        users=300, celebrity_threshold=75, celebrities=2, readers_per_class=5, mixed_readers=10
    )
    first = seed.plan(config)
    again = seed.plan(config, now_ms=first.manifest.now_ms)
    assert again.manifest.user_ids == first.manifest.user_ids
    assert again.follows == first.follows
    assert [t.id for t in again.tweets] == [t.id for t in first.tweets]
    assert again.likes == first.likes


# ------------------------------------------------ home.lua against a fake server

READ = {"data": {"homeTimeline": {"edges": [], "pageInfo": {"hasNextPage": False}}}}
POST_OK = {"data": {"createTweet": {"tweet": {"id": "1"}, "errors": []}}}
POST_REFUSED = {
    "data": {"createTweet": {"tweet": None, "errors": [{"code": "EMPTY", "message": "no"}]}}
}
TOP_LEVEL = {"data": None, "errors": [{"message": "bad", "extensions": {"code": "X"}}]}


@pytest.fixture
def fake_graphql() -> Iterator[str]:
    """Reads answer a page; posts in turn: ok, refused in the payload, GraphQL error, 500."""
    posts = 0

    async def graphql(request: web.Request) -> web.Response:
        nonlocal posts
        body = await request.json()
        if "createTweet" not in body["query"]:
            return web.json_response(READ, dumps=_compact)
        assert "@N@" not in body["variables"]["text"]  # the counter went in
        posts += 1
        kind = posts % 4
        if kind == 0:
            return web.json_response({"error": "boom"}, status=500)
        return web.json_response((POST_OK, POST_REFUSED, TOP_LEVEL)[kind - 1], dumps=_compact)

    loop = asyncio.new_event_loop()
    app = web.Application()
    app.router.add_post("/graphql", graphql)
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))  # as the app answers


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_home_lua_counts_reads_posts_and_each_kind_of_error(
    fake_graphql: str, tmp_path: Path
) -> None:
    tokens = tmp_path / "tokens.txt"
    tokens.write_text("a\nb\nc\n")
    home = tmp_path / "home.json"
    home.write_text(json.dumps({"query": scenarios.HOME_QUERY}))
    post = tmp_path / "post.json"
    post.write_text(json.dumps({"query": scenarios.POST_MUTATION, "variables": {"text": "x @N@"}}))
    result = wrk.run(
        fake_graphql, tokens, home, 1, connections=2, post_every=5, post_body_file=post
    )
    counts = result.counts
    answered = counts["posts_ok"] + counts["payload_errors"] + counts["http_errors"]
    answered += counts["graphql_errors"]
    assert counts["reads_ok"] + answered == result.requests
    assert counts["posts_sent"] >= answered >= 8
    # 4 reads per post; at most one request per connection unanswered at the end
    assert counts["reads_ok"] >= 4 * counts["posts_sent"] - 2
    for kind in ("posts_ok", "payload_errors", "graphql_errors", "http_errors"):
        assert counts[kind] >= 1, kind
    assert result.failed_responses == answered - counts["posts_ok"]
    assert result.errors == result.failed_responses


# ------------------------------------------------------- bench.engine, in process


def seeded_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, strategy: str) -> seed.Manifest:
    """A small seeded data set in ``tmp_path``, with the settings to read it."""
    config = seed.SeedConfig(
        users=300, celebrity_threshold=75, celebrities=2, readers_per_class=5, mixed_readers=10
    )
    planned = seed.plan(config)
    for name, value in {
        "CHIRP_TIMELINE_STRATEGY": strategy,
        "CHIRP_CELEBRITY_THRESHOLD": "75",
        "CHIRP_SECRET_KEY": planned.manifest.secret,
    }.items():
        monkeypatch.setenv(name, value)

    async def seeded() -> None:
        stores = await open_stores(load_settings(env={"CHIRP_DATA_DIR": str(tmp_path)}))
        try:
            await seed.write(planned, stores)
        finally:
            await stores.close()

    asyncio.run(seeded())
    planned.manifest.save(tmp_path)
    return planned.manifest


@pytest.mark.parametrize("strategy", ["hybrid", "pull"])
def test_engine_reads_every_pool_and_reports_its_latency(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, strategy: str
) -> None:
    manifest = seeded_dir(tmp_path, monkeypatch, strategy)

    found = asyncio.run(engine.measure(tmp_path, ["10", "100"], 0.2))

    assert found["strategy"] == strategy
    for pool in ("10", "100"):
        figures = found[pool]
        assert figures["reads"] >= len(manifest.readers[pool])
        assert 0 < figures["p50_ms"] <= figures["p90_ms"] <= figures["p99_ms"] <= figures["max_ms"]
        assert figures["reads_per_s"] > 0


def test_engine_reads_whole_home_pages_through_graphql_a_given_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded_dir(tmp_path, monkeypatch, "hybrid")

    found = asyncio.run(engine.measure(tmp_path, ["10"], 60.0, graphql=True, reads=7))

    assert found["graphql"] is True
    assert found["10"]["reads"] == 7  # a count, not a duration: instruction counts compare
    assert 0 < found["10"]["p50_ms"] <= found["10"]["max_ms"]


def test_section_g_measures_search_trends_and_who_to_follow_through_the_api(
    tmp_path: Path, redis_url: str
) -> None:
    """Section g on a small data set: every measurement runs against a real server, the
    answers are checked (#jump trends above the always-big #always, on both trend
    stores; every suggestion list is full) and the figures are reported."""
    rows: list[scenarios.Row] = []
    failures: list[str] = []
    config = discovery_api.DiscoveryConfig(users=2_500, tweets=3_000, reps=5)
    summary = discovery_api.run(tmp_path, config, redis_url, rows.append, failures.append, print)
    assert failures == []
    names = [row.name for row in rows]
    assert len([n for n in names if n.startswith("search: ")]) == 6
    for expected in (
        "searchUsers: prefixes and names",
        "trends, 60-minute window (uncached)",
        "trends on Redis, 60-minute window (uncached)",
        "whoToFollow: viewer following 2,000 (uncached)",
        "whoToFollow: new user, follows nobody (uncached)",
        "homeTimeline: viewer following 2,000 (for comparison)",
        "notifications: a page of 20",
        "notificationGroups: a page of 20",
    ):
        assert expected in names
    for row in rows:
        assert row.section == "g"
        assert row.errors == 0
        assert row.p50_ms is not None
        assert row.p99_ms is not None
        assert 0 < row.p50_ms <= row.p99_ms
    common = next(r for r in rows if r.name == "search: two words, both common")
    assert common.extra["mean_found"] > 0  # the queries find tweets
    assert summary["tweets"] == 3_000
