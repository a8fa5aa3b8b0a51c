"""Chirp on a real three-primary Redis Cluster (``REDIS_URL=redis+cluster://...``).

The contract suites run every Redis adapter on the cluster too (the
``redis-cluster`` factories of tests/contract/conftest.py); this file runs the
whole app on it, and checks what only a cluster has: keys spread over several
nodes, a node that does not know a script yet, events published on any node.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from app import SERVICES_KEY
from tests.backends import flush_cluster, redis_cluster_client
from tests.conftest import AppFactory, GraphQLClient
from timeline.redis import (
    CHANNEL,
    RedisEventBus,
    RedisTimelineCache,
    member,
    recent_key,
    timeline_key,
)

HOME = "{ homeTimeline(first: 20) { edges { node { id text author { handle } } } } }"
WHO = '{ user(handle: "alice") { handle } }'


@pytest.fixture
async def cluster(redis_cluster_url: str) -> AsyncIterator[RedisCluster]:
    """A client of the emptied cluster, for looking at what the app wrote."""
    client = redis_cluster_client(redis_cluster_url)
    await flush_cluster(client)
    try:
        yield client
    finally:
        await flush_cluster(client)
        await client.aclose()


def owner(client: RedisCluster, key: str) -> str:
    """The name (host:port) of the primary serving ``key``."""
    node = client.get_node_from_key(key)
    assert node is not None
    return str(node.name)


async def forget_scripts(cluster: RedisCluster, cache: RedisTimelineCache) -> None:
    """SCRIPT FLUSH on every primary, as a restarted node would be."""
    await cluster.script_flush()  # sent to every primary
    for node in cluster.get_primaries():
        async with Redis(host=node.host, port=int(node.port)) as direct:
            assert await direct.script_exists(cache._add.sha, cache._get.sha) == [False, False]


async def home_ids(gql: GraphQLClient, token: str) -> list[str]:
    data = await gql.ok(HOME, token=token)
    return [edge["node"]["id"] for edge in data["homeTimeline"]["edges"]]


async def test_the_app_runs_on_a_redis_cluster(
    cluster: RedisCluster, redis_cluster_url: str, make_client: AppFactory
) -> None:
    gql = await make_client(
        redis_url=redis_cluster_url, rate_limit_safelist="", rate_limit_sign_up="1000/30m"
    )
    ready = await gql.http.get("/readyz")
    body = await ready.json()
    assert ready.status == 200, body
    where = f"Redis Cluster at {redis_cluster_url}"
    assert body["backends"]["timelines"] == {"backend": where, "status": "ok"}
    descriptions = gql.http.app[SERVICES_KEY].stores.descriptions
    for name in ("queue", "events", "limiter", "queries"):
        assert descriptions[name].endswith(where)

    alice, alice_id = await gql.sign_up("alice")
    # Followers until their home timelines live on every primary (a key's node is its
    # slot's: a few users are enough, and the loop makes it certain).
    primaries = {node.name for node in cluster.get_primaries()}
    followers: dict[str, str] = {}
    nodes: set[str] = set()
    while nodes != primaries:
        assert len(followers) < 60, f"timelines only on {nodes} of {primaries}"
        token, user_id = await gql.sign_up(f"fan{len(followers)}")
        assert await home_ids(gql, token) == []  # read once: the timeline is cached
        await gql.follow(token, alice_id)
        followers[user_id] = token
        nodes.add(owner(cluster, timeline_key(int(user_id))))

    tweet = await gql.tweet(alice, "hello, cluster")
    await gql.settle()
    for user_id, token in followers.items():
        key = timeline_key(int(user_id))
        assert await cluster.zscore(key, member(int(tweet))) is not None, key
        assert await home_ids(gql, token) == [tweet]

    # Rate limits are kept on the cluster: the budget goes down request by request. A
    # budget refills continuously (50 points a second here), so each request spends 102
    # points: more than comes back between two of them.
    token = next(iter(followers.values()))
    spent = []
    for _ in range(2):
        response = await gql.http.post(
            "/graphql",
            json={"query": "{ me { followers(first: 50) { edges { node { id } } } } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status == 200
        assert response.headers["X-RateLimit-Limit"] == "15000"
        assert response.headers["RateLimit-Policy"] == '"user";q=15000;w=300'
        spent.append(int(response.headers["X-RateLimit-Remaining"]))
    assert spent[0] <= 15000 - 102
    assert spent[1] < spent[0]
    assert [key async for key in cluster.scan_iter(match="chirp:rl:*")]

    # A persisted query is kept on the cluster, and then runs by its hash alone.
    digest = hashlib.sha256(WHO.encode()).hexdigest()
    persisted = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    response = await gql.http.post("/graphql", json={"query": WHO, "extensions": persisted})
    assert (await response.json())["data"] == {"user": {"handle": "alice"}}
    assert await cluster.get(f"chirp:pq:{digest}") == WHO.encode()
    response = await gql.http.post("/graphql", json={"extensions": persisted})
    assert (await response.json())["data"] == {"user": {"handle": "alice"}}


async def test_a_node_that_lost_the_scripts_loads_them_again(cluster: RedisCluster) -> None:
    """A pipeline of scripts over every node, after SCRIPT FLUSH (a restarted or new node)."""
    cache = RedisTimelineCache(cluster)
    users = list(range(1, 31))  # 30 timelines: on every primary
    assert {owner(cluster, timeline_key(u)) for u in users} == {
        node.name for node in cluster.get_primaries()
    }
    for user in users:
        await cache.store(user, [5], 800)
    await forget_scripts(cluster, cache)
    assert await cache.push(users, 7, 800) == len(users)
    await forget_scripts(cluster, cache)
    for author in users:
        await cache.recent_store(author, [3, 4], 800)
    await forget_scripts(cluster, cache)
    recent = await cache.recent_get(users, 10)
    assert {author: window.ids if window else None for author, window in recent.items()} == {
        author: [4, 3] for author in users
    }
    assert {owner(cluster, recent_key(u)) for u in users} == {
        node.name for node in cluster.get_primaries()
    }
    for user in users:
        window = await cache.get(user, 10)
        assert window is not None
        assert window.ids == [7, 5]


async def test_events_published_on_any_node_reach_a_listener(
    redis_cluster_url: str, cluster: RedisCluster
) -> None:
    """PUBLISH on Redis Cluster reaches every node: a listener on one hears them all."""
    bus = RedisEventBus(redis_cluster_client(redis_cluster_url))
    await bus.open()
    got: list[dict[str, Any]] = []
    arrived = asyncio.Event()

    async def listen() -> None:
        async for event in bus.listen():
            got.append(event)
            arrived.set()

    task = asyncio.create_task(listen())
    nodes = [Redis(host=n.host, port=int(n.port)) for n in cluster.get_primaries()]
    try:
        async with asyncio.timeout(5.0):
            while not got:  # warm-up until the listener is subscribed
                await bus.publish({"warm-up": True})
                await asyncio.sleep(0.02)
            sent = [{"node": index} for index in range(len(nodes))]
            for node, event in zip(nodes, sent, strict=True):
                await node.publish(CHANNEL, json.dumps(event))
            while [e for e in got if "node" in e] != sent:
                arrived.clear()
                await arrived.wait()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        for node in nodes:
            await node.aclose()
        await bus.close()


async def test_the_listpack_setting_is_read_from_every_primary(cluster: RedisCluster) -> None:
    cache = RedisTimelineCache(cluster)
    assert await cache.listpack_entries() == 1024  # tests/servers.py's REDIS_TIMELINE_SETTINGS
    (first, *_) = cluster.get_primaries()
    async with Redis(host=first.host, port=int(first.port)) as direct:
        await direct.config_set("zset-max-listpack-entries", 128)
        try:
            assert await cache.listpack_entries() == 128  # the least of the primaries'
        finally:
            await direct.config_set("zset-max-listpack-entries", 1024)
