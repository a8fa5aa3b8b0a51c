"""A frozen Redis (process stopped, sockets open): every request still answers fast.

A stopped Redis refuses connections at once, which the stores handle; a frozen
one accepts and never answers. redis-server is stopped with SIGSTOP while
users read and post: each request answers within a second (reads by pull,
posts stored and left to the repair pass), and after SIGCONT every post made
during the freeze reaches its followers' timelines.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator

import pytest

from tests.conftest import AppFactory, GraphQLClient
from tests.servers import RunningServer, start_redis

HOME = "{ homeTimeline(first: 50) { edges { node { id text } } } }"


@pytest.fixture
def redis() -> Iterator[RunningServer]:
    server = start_redis()
    try:
        yield server
    finally:
        os.kill(server.pid, signal.SIGCONT)  # a stopped process cannot be stopped cleanly
        server.stop()


async def timed(coroutine: object) -> tuple[float, dict[str, object]]:
    started = time.perf_counter()
    result = await coroutine  # type: ignore[misc]
    return time.perf_counter() - started, result


async def home_ids(gql: GraphQLClient, token: str) -> list[str]:
    data = await gql.ok(HOME, token=token)
    return [edge["node"]["id"] for edge in data["homeTimeline"]["edges"]]


@pytest.mark.slow
async def test_requests_answer_within_a_second_and_nothing_is_lost(
    make_client: AppFactory, redis: RunningServer
) -> None:
    gql = await make_client(
        redis_url=redis.url,
        redis_timeout_ms=50,  # production's default
        rate_limit_safelist="",  # the rate limiter's Redis calls are on the path too
        repair_after_seconds=1.0,
    )
    alice, alice_id = await gql.sign_up("alice")
    bob, _ = await gql.sign_up("bob")
    await gql.follow(bob, alice_id)
    before = await gql.tweet(alice, "before the freeze")
    await gql.settle()
    assert before in await home_ids(gql, bob)

    os.kill(redis.pid, signal.SIGSTOP)
    posted: list[str] = []
    slowest = 0.0
    for n in range(5):
        took, data = await timed(
            gql.raw(
                "mutation($t: String!) { createTweet(input: {text: $t}) { tweet { id } } }",
                {"t": f"during the freeze {n}"},
                alice,
            )
        )
        slowest = max(slowest, took)
        assert "errors" not in data, data
        posted.append(data["data"]["createTweet"]["tweet"]["id"])  # type: ignore[index]
        took, data = await timed(gql.raw(HOME, token=bob))
        slowest = max(slowest, took)
        assert "errors" not in data, data
        ids = [e["node"]["id"] for e in data["data"]["homeTimeline"]["edges"]]  # type: ignore[index]
        assert before in ids  # read by pull: the stores still have everything
        took, _ = await timed(gql.http.get("/healthz"))
        slowest = max(slowest, took)
    assert slowest < 1.0, f"slowest request took {slowest:.2f} s"

    os.kill(redis.pid, signal.SIGCONT)
    deadline = time.monotonic() + 30
    while True:
        timeline = await home_ids(gql, bob)
        if all(tweet in timeline for tweet in posted):
            break
        assert time.monotonic() < deadline, f"not delivered after the freeze: {posted}"
        await asyncio.sleep(0.5)
    assert timeline[: len(posted)] == posted[::-1]
