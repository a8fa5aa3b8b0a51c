"""A backend that is down: a clear error and a log line, never a 500 or a stack trace."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import AppFactory, GraphQLClient
from tests.servers import (
    RunningServer,
    free_port,
    start_mongo_standin,
    start_neo4j_standin,
    start_redis,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def own_servers() -> Iterator[dict[str, RunningServer]]:
    """Servers of this test's own, so that stopping them harms no other test."""
    servers = {
        "mongo": start_mongo_standin(),
        "redis": start_redis(),
        "neo4j": start_neo4j_standin(),
    }
    try:
        yield servers
    finally:
        for server in servers.values():
            server.stop()


async def app_on(make_client: AppFactory, servers: dict[str, RunningServer]) -> GraphQLClient:
    neo4j = servers["neo4j"]
    return await make_client(
        neo4j_uri=neo4j.url,
        neo4j_user=neo4j.extra["user"],
        neo4j_password=neo4j.extra["password"],
        mongodb_uri=servers["mongo"].url,
        redis_url=servers["redis"].url,
    )


@pytest.mark.slow
async def test_each_store_going_down_is_service_unavailable_and_readyz_says_which(
    make_client: AppFactory, own_servers: dict[str, RunningServer], caplog: pytest.LogCaptureFixture
) -> None:
    gql = await app_on(make_client, own_servers)
    token, _ = await gql.sign_up("alice")
    await gql.tweet(token, "before the outage")

    own_servers["redis"].stop()
    ready = await gql.http.get("/readyz")
    body = await ready.json()
    assert ready.status == 503
    assert body["backends"]["timelines"]["status"] == "down"
    assert body["backends"]["graph"]["status"] == body["backends"]["tweets"]["status"] == "ok"

    own_servers["mongo"].stop()
    reply = await gql.raw(
        'mutation { createTweet(input: {text: "lost?"}) { tweet { id } } }', token=token
    )
    assert reply["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert "Traceback" not in str(reply)
    assert reply["data"] is None or reply["data"]["createTweet"] is None
    assert "backend unavailable" in caplog.text

    own_servers["neo4j"].stop()
    reply = await gql.raw('{ user(handle: "alice") { handle } }')
    assert reply["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    ready = await gql.http.get("/readyz")
    body = await ready.json()
    assert ready.status == 503
    assert {name: b["status"] for name, b in body["backends"].items()} == {
        "graph": "down",
        "tweets": "down",
        "timelines": "down",
        "attachments": "down",  # media records live in MongoDB too
        "media": "ok",  # media bytes: the local folder
    }


def test_start_up_names_the_backend_it_cannot_reach_and_exits(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    result = subprocess.run(
        [
            sys.executable,
            "app.py",
            "--data-dir",
            str(tmp_path),
            "--redis-url",
            f"redis://127.0.0.1:{port}/0",
            "--startup-timeout",
            "1",
            "--port",
            "0",  # the port is taken before the stores open: any free one
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"timelines: Redis at redis://127.0.0.1:{port}/0 not reachable yet" in result.stderr
    assert "cannot start: timelines: Redis at" in result.stderr
    assert "Traceback" not in result.stderr
