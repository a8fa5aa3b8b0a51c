"""The soak's own logic (bench/soak.py, bench/traffic.py): its verdicts, its faults' times,
how it reads answers, and its load client against a fake server. The soak itself runs
with `make soak` (10 minutes) or `make soak-quick` (2, in CI)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bench import soak, traffic
from bench.traffic import Outcome

# ------------------------------------------------------------- the faults


def test_every_fault_happens_at_a_set_time_in_the_first_half() -> None:
    config = soak.SoakConfig(minutes=10)
    faults = soak.schedule(config)
    assert [(f.at, f.action) for f in faults] == [
        (60.0, "kill worker"),
        (65.0, "start worker"),
        (150.0, "stop redis"),
        (155.0, "start redis"),
        (240.0, "kill worker"),
        (245.0, "start worker"),
    ]
    assert all(f.at < config.warm_fraction * config.seconds for f in faults)


def test_an_outage_lasts_from_the_fault_until_the_service_is_back() -> None:
    events = [
        {"action": "kill worker", "at": 60.0, "done_at": 60.1},
        {"action": "start worker", "at": 65.0, "done_at": 67.5},
        {"action": "stop redis", "at": 150.0, "done_at": 150.1},
        {"action": "start redis", "at": 155.0, "done_at": 155.1},
    ]
    assert soak.outage_windows(events) == [
        ("worker down", 60.0, 67.5),
        ("redis down", 150.0, 155.1),
    ]


# ------------------------------------------------------------- the errors

WINDOWS = [("worker down", 60.0, 67.5), ("redis down", 150.0, 155.1)]


def failed(at: float, result: str) -> Outcome:
    return Outcome(at, "read", 10.0, result)


def test_no_error_at_all_passes() -> None:
    verdict = soak.judge_errors([Outcome(1.0, "read", 0.02, "ok")] * 3, WINDOWS)
    assert (verdict["errors"], verdict["degraded"], verdict["unexpected"]) == (0, 0, 0)
    assert verdict["by_window"] == {}


def test_a_timeout_while_redis_is_down_or_in_the_minute_after_is_a_degraded_answer() -> None:
    outcomes = [failed(152.0, "transport:TimeoutError"), failed(210.0, "transport:TimeoutError")]
    verdict = soak.judge_errors(outcomes, WINDOWS)
    assert verdict["degraded"] == 2
    assert verdict["unexpected"] == 0
    # how long after Redis was back the clients still felt it
    assert verdict["last_error_after_each_fault_s"][1] == {
        "outage": "redis down",
        "from_s": 150.0,
        "to_s": 155.1,
        "errors": 2,
        "last_error_after_end_s": 54.9,
    }


def test_an_error_outside_its_fault_or_of_another_kind_fails_the_soak() -> None:
    outcomes = [
        failed(10.0, "transport:TimeoutError"),  # no fault
        failed(220.0, "transport:TimeoutError"),  # Redis back 65 s ago
        failed(62.0, "transport:TimeoutError"),  # the worker down: not a degraded answer
        failed(152.0, "graphql:SERVICE_UNAVAILABLE"),  # Redis down, but not documented
        failed(152.0, "http:500"),
    ]
    verdict = soak.judge_errors(outcomes, WINDOWS)
    assert verdict["unexpected"] == 5
    assert verdict["by_window"] == {
        "no fault": {"transport:TimeoutError": 2},
        "worker down": {"transport:TimeoutError": 1},
        "redis down": {"graphql:SERVICE_UNAVAILABLE": 1, "http:500": 1},
    }


# ------------------------------------------------------------- the memory


def samples(values: list[int], every: float = 2.0) -> list[tuple[float, int]]:
    return [(n * every, kb) for n, kb in enumerate(values)]


def test_memory_that_stays_put_after_the_warm_up_is_flat() -> None:
    # steps up during the first half (the faults), then level
    curve = samples([100_000] * 50 + [130_000] * 50 + [131_000] * 50 + [131_500] * 150)
    verdict = soak.judge_memory(curve, duration=600, warm_fraction=0.5, limit=0.10)
    assert verdict["flat"] is True
    assert verdict["first_third_median_mb"] == pytest.approx(128.4, abs=0.1)


def test_memory_that_keeps_growing_is_not_flat() -> None:
    curve = samples([100_000 + 200 * n for n in range(300)])  # +6 MB a minute
    verdict = soak.judge_memory(curve, duration=600, warm_fraction=0.5, limit=0.10)
    assert verdict["flat"] is False
    assert verdict["growth"] > 0.10
    assert verdict["slope_mb_per_min"] == pytest.approx(5.86, abs=0.01)


def test_memory_that_shrinks_is_flat() -> None:
    curve = samples([150_000] * 200 + [120_000] * 100)
    assert soak.judge_memory(curve, 600, 0.5, 0.10)["flat"] is True


def test_too_few_samples_give_no_verdict() -> None:
    assert soak.judge_memory(samples([100_000] * 2), 600, 0.5, 0.10)["flat"] is None


def test_cpu_is_counted_per_process_and_starts_anew_with_a_new_pid() -> None:
    taken = [
        {"t": 0.0, "cpu": {"api": (1, 10.0), "worker": (7, 1.0)}},
        {"t": 2.0, "cpu": {"api": (1, 11.0), "worker": (7, 1.5)}},
        {"t": 4.0, "cpu": {"api": (1, 12.0), "worker": (8, 0.2)}},  # a new worker
        {"t": 6.0, "cpu": {"api": (1, 13.0), "worker": (8, 0.4)}},
    ]
    assert soak.cpu_between(taken, 0.0, 10.0) == {"api": 50.0, "worker": 11.7}


# ------------------------------------------------------------- the answers


@pytest.mark.parametrize(
    ("status", "body", "field", "expected"),
    [
        (200, {"data": {"homeTimeline": {"edges": []}}}, None, "ok"),
        (200, {"data": {"createTweet": {"tweet": {"id": "1"}, "errors": []}}}, "createTweet", "ok"),
        (
            200,
            {
                "data": None,
                "errors": [{"message": "x", "extensions": {"code": "SERVICE_UNAVAILABLE"}}],
            },
            None,
            "graphql:SERVICE_UNAVAILABLE",
        ),
        (
            200,
            {"data": {"likeTweet": {"tweet": None, "errors": [{"code": "NOT_FOUND"}]}}},
            "likeTweet",
            "payload:NOT_FOUND",
        ),
        (
            200,
            {"data": {"followUser": {"user": None, "errors": []}}},
            "followUser",
            "payload:EMPTY",
        ),
        (
            429,
            {"errors": [{"extensions": {"code": "RATE_LIMITED"}}]},
            None,
            "http:429:RATE_LIMITED",
        ),
        (502, "Bad Gateway", None, "http:502"),
    ],
)
def test_each_answer_is_ok_or_an_error_of_one_kind(
    status: int, body: Any, field: str | None, expected: str
) -> None:
    assert traffic.classify(status, body, field) == expected


def test_the_best_level_is_the_fastest_without_errors() -> None:
    levels = [
        {"concurrency": 5, "ok_rps": 80.0, "requests": 640, "errors": {}},
        {"concurrency": 10, "ok_rps": 95.0, "requests": 760, "errors": {}},
        {"concurrency": 20, "ok_rps": 99.0, "requests": 800, "errors": {"http:500": 1}},
    ]
    assert traffic.best_error_free(levels) == levels[1]


# ------------------------------------------------------------- the client


@pytest.fixture
async def fake_chirp() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A server answering the mix's four operations as Chirp would; the requests it got."""
    got: list[dict[str, Any]] = []
    ids = itertools.count(1000)

    async def graphql(request: web.Request) -> web.Response:
        body = await request.json()
        got.append({**body, "token": request.headers["Authorization"]})
        query = body["query"]
        if "createTweet" in query:
            data: dict[str, Any] = {"createTweet": {"tweet": {"id": str(next(ids))}, "errors": []}}
        elif "likeTweet" in query:
            data = {"likeTweet": {"tweet": {"id": body["variables"]["id"]}, "errors": []}}
        elif "followUser" in query:
            data = {"followUser": {"user": {"id": body["variables"]["id"]}, "errors": []}}
        else:
            edges = [{"cursor": "c", "node": {"id": str(n)}} for n in (7, 8, 9)]
            data = {"homeTimeline": {"edges": edges, "pageInfo": {"hasNextPage": False}}}
        return web.json_response({"data": data})

    app = web.Application()
    app.router.add_post("/graphql", graphql)
    server = TestServer(app)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/"), got
    finally:
        await server.close()


async def test_the_client_sends_the_mix_at_its_rate_and_keeps_what_was_acknowledged(
    fake_chirp: tuple[str, list[dict[str, Any]]],
) -> None:
    url, got = fake_chirp
    tokens = {1: "t1", 2: "t2"}
    mix = traffic.Mix(read=50, post=20, like=20, follow=10)
    async with traffic.MixClient(url, tokens, users=[1, 2, 3], mix=mix) as client:
        await client.read_each()
        result = await client.open_loop(rate=200.0, seconds=1.0)
    assert result["requests"] == 200
    assert result["errors"] == {}
    assert 150 <= result["rps"] <= 210
    kinds = result["ok_by_kind"]
    assert kinds["post"] == len(client.acked.posts) > 10
    assert kinds["like"] == len(client.acked.likes) > 10
    assert kinds["follow"] == len(client.acked.follows) > 0
    # a post is the reader's own, with the text it sent; a like is of a tweet it read
    for tweet, author, text in client.acked.posts:
        sent = next(r for r in got if r.get("variables", {}).get("text") == text)
        assert sent["token"] == f"Bearer {tokens[author]}"
        assert tweet >= 1000
    assert {tweet for _, tweet in client.acked.likes} <= {7, 8, 9}
    assert all(follower != followee for follower, followee in client.acked.follows)
