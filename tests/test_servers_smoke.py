"""Smoke tests for tests/servers.py: each real server starts, round-trips data, stops."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest

from tests import servers
from tests.servers import (
    RunningServer,
    ServerStartError,
    free_port,
    free_ports,
    start_mongo_standin,
    start_neo4j_standin,
    start_redis,
    start_redis_cluster,
    start_s3_standin,
)

pytestmark = pytest.mark.slow


def _assert_stopped(server: RunningServer) -> None:
    assert server.process.returncode is not None
    assert not servers._group_has_live_members(server.pid)  # the whole group is gone
    assert not server.directory.exists()


@pytest.fixture
def redis_server() -> Iterator[RunningServer]:
    server = start_redis()
    yield server
    server.stop()
    _assert_stopped(server)


@pytest.fixture
def neo4j_server() -> Iterator[RunningServer]:
    server = start_neo4j_standin()
    yield server
    server.stop()
    _assert_stopped(server)


@pytest.fixture
def mongo_server() -> Iterator[RunningServer]:
    server = start_mongo_standin()
    yield server
    server.stop()
    _assert_stopped(server)


@pytest.fixture
def s3_server() -> Iterator[RunningServer]:
    server = start_s3_standin()
    yield server
    server.stop()
    _assert_stopped(server)


def test_free_ports_are_distinct_and_bindable() -> None:
    ports = free_ports(5)
    assert len(set(ports)) == 5
    assert all(1024 <= port <= 65535 for port in ports)
    assert 1024 <= free_port() <= 65535


def test_redis_round_trip(redis_server: RunningServer) -> None:
    import redis

    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    try:
        assert client.set("greeting", "hello") is True
        assert client.get("greeting") == "hello"
        entry_id = client.xadd("timeline", {"tweet_id": "42", "author": "alice"})
        assert client.xlen("timeline") == 1
        entries = client.xrange("timeline")
        assert entries == [(entry_id, {"tweet_id": "42", "author": "alice"})]
    finally:
        client.close()


def test_redis_cluster_serves_every_slot_and_stops_cleanly() -> None:
    import redis

    cluster = start_redis_cluster()
    try:
        assert len(cluster.nodes) == 3
        assert cluster.url == "redis+cluster://" + ",".join(
            f"127.0.0.1:{node.port}" for node in cluster.nodes
        )
        client = redis.RedisCluster.from_url(cluster.seed_url, decode_responses=True)
        try:
            keys = [f"chirp:tl2:{{{n}}}" for n in range(30)]
            for key in keys:
                client.set(key, key)
            assert [client.get(key) for key in keys] == keys
        finally:
            client.close()
        for node in cluster.nodes:  # the keys went to every node
            with redis.Redis(host=node.host, port=node.port) as direct:
                assert 0 < int(direct.dbsize()) < len(keys)
    finally:
        cluster.stop()
    for node in cluster.nodes:
        _assert_stopped(node)
    assert not cluster.directory.exists()


def test_neo4j_standin_round_trip(neo4j_server: RunningServer) -> None:
    import neo4j
    from neo4j.exceptions import ConstraintError

    auth = (neo4j_server.extra["user"], neo4j_server.extra["password"])
    database = neo4j_server.extra["database"]
    with neo4j.GraphDatabase.driver(neo4j_server.url, auth=auth) as driver:
        driver.verify_connectivity()
        with driver.session(database=database) as session:
            session.run(
                "CREATE CONSTRAINT user_id_unique IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE"
            ).consume()
            session.run(
                "CREATE (:User {id: $id, handle: $handle})", id=2**62 + 7, handle="alice"
            ).consume()
            record = session.run(
                "MATCH (u:User {id: $id}) RETURN u.handle AS handle, u.id AS id", id=2**62 + 7
            ).single(strict=True)
            assert record["handle"] == "alice"
            assert record["id"] == 2**62 + 7
            with pytest.raises(ConstraintError):
                session.run("CREATE (:User {id: $id, handle: 'bob'})", id=2**62 + 7).consume()
            count = session.run("MATCH (u:User) RETURN count(u) AS n").single(strict=True)
            assert count["n"] == 1


def test_mongo_standin_round_trip(mongo_server: RunningServer) -> None:
    import pymongo
    from bson.int64 import Int64

    client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(mongo_server.url)
    try:
        assert client.admin.command("ping")["ok"] == 1
        tweets = client["chirp"]["tweets"]
        tweet_id = Int64(2**62 + 11)  # snowflake-sized: needs int64
        result = tweets.insert_one({"_id": tweet_id, "text": "hello", "likes": 0})
        assert result.inserted_id == tweet_id
        found = tweets.find_one({"_id": tweet_id})
        assert found is not None
        assert found["_id"] == 2**62 + 11
        assert isinstance(found["_id"], int)
        assert found["text"] == "hello"
    finally:
        client.close()


def test_s3_standin_round_trip(s3_server: RunningServer) -> None:
    from minio import Minio

    client = Minio(
        s3_server.extra["endpoint"],
        access_key=s3_server.extra["access_key"],
        secret_key=s3_server.extra["secret_key"],
        secure=False,
    )
    client.make_bucket("media")
    assert client.bucket_exists("media")
    payload = b"\x89PNG fake image bytes" * 100
    client.put_object(
        "media", "avatars/alice.png", io.BytesIO(payload), len(payload), content_type="image/png"
    )
    response = client.get_object("media", "avatars/alice.png")
    try:
        assert response.read() == payload
    finally:
        response.close()
        response.release_conn()
    assert client.stat_object("media", "avatars/alice.png").size == len(payload)


def _fake_server(script: str) -> RunningServer:
    return servers._spawn(
        "fake",
        ["sh", "-c", script],
        url="fake://",
        port=0,
        directory=servers._make_dir("fake"),
        extra={},
        ports={},
    )


def _never_ready() -> None:
    raise servers._NotReadyError("never")


@pytest.mark.parametrize(
    ("output", "error_type"),
    [
        ("boom-marker", ServerStartError),
        ("boom-marker: Address already in use", servers._PortCollisionError),
    ],
)
def test_start_failure_when_process_dies_reports_log_tail(
    output: str, error_type: type[ServerStartError]
) -> None:
    server = _fake_server(f"echo '{output}'; exit 3")
    with pytest.raises(ServerStartError) as excinfo:
        servers._wait_ready(server, _never_ready, time.monotonic() + 30, "nothing")
    assert type(excinfo.value) is error_type
    message = str(excinfo.value)
    assert "fake failed to start: process exited with code 3" in message
    assert output in message
    _assert_stopped(server)


def test_start_timeout_kills_process_group_and_reports_log_tail() -> None:
    server = _fake_server("echo started-marker; sleep 60 & wait")  # leader with a child
    with pytest.raises(ServerStartError) as excinfo:
        servers._wait_ready(server, _never_ready, time.monotonic() + 0.5, "nothing")
    message = str(excinfo.value)
    assert "fake failed to start: timed out waiting for nothing" in message
    assert "started-marker" in message
    _assert_stopped(server)


def test_port_taken_after_pick_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    taken_port = int(taken.getsockname()[1])
    picks = iter([taken_port])
    real_free_port = servers.free_port
    monkeypatch.setattr(servers, "free_port", lambda: next(picks, None) or real_free_port())
    try:
        with start_redis() as server:
            assert server.port != taken_port
            assert server.is_running()
    finally:
        taken.close()


def test_neo4j_standin_busy_port_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    taken = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    taken_port = int(taken.getsockname()[1])
    real_free_ports = servers.free_ports
    picks = iter([[taken_port, *real_free_ports(1)]])
    monkeypatch.setattr(servers, "free_ports", lambda n: next(picks, None) or real_free_ports(n))
    try:
        with start_neo4j_standin(timeout=60.0) as server:
            assert server.port != taken_port
    finally:
        taken.close()


def test_stop_is_idempotent_and_context_manager_stops() -> None:
    with start_redis() as server:
        assert server.is_running()
        assert server.rss_bytes() is not None
    _assert_stopped(server)
    server.stop()  # second stop is a no-op
