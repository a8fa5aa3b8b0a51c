"""Real servers for the tests: started once per session, on free local ports.

By default the session starts the servers of ../shared/BACKENDS.md: Debian's
redis-server, ArcadeDB speaking Bolt for Neo4j, nx-27017 speaking the MongoDB
wire protocol, SeaweedFS speaking S3 for MinIO. To run the same tests against
real servers instead, point these at THROWAWAY servers (the tests erase what
they write):

    CHIRP_TEST_NEO4J_URI, CHIRP_TEST_NEO4J_USER, CHIRP_TEST_NEO4J_PASSWORD,
    CHIRP_TEST_NEO4J_DATABASE, CHIRP_TEST_MONGODB_URI, CHIRP_TEST_REDIS_URL,
    CHIRP_TEST_REDIS_CLUSTER_URL (redis+cluster://host:port,...),
    CHIRP_TEST_MINIO_ENDPOINT, CHIRP_TEST_MINIO_ACCESS_KEY, CHIRP_TEST_MINIO_SECRET_KEY

A server that cannot start fails the tests that need it; nothing is skipped.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from minio import Minio
from pymongo.asynchronous.client_session import AsyncClientSession
from redis.asyncio import Redis
from redis.asyncio.cluster import RedisCluster

from bootstrap.stores import cluster_client
from docstore.mongo import MongoTweetStore
from docstore.mongo import connect as mongo_connect
from graph.neo4j import Neo4jSocialGraph
from graph.neo4j import connect as neo4j_connect
from tests.servers import (
    start_mongo_standin,
    start_neo4j_standin,
    start_redis,
    start_redis_cluster,
    start_s3_standin,
)
from timeline.redis import RedisTimelineCache

T = TypeVar("T")


@dataclass(frozen=True)
class Neo4jTarget:
    uri: str
    user: str
    password: str
    database: str


@pytest.fixture(scope="session")
def neo4j_target() -> Iterator[Neo4jTarget]:
    if uri := os.environ.get("CHIRP_TEST_NEO4J_URI"):
        yield Neo4jTarget(
            uri,
            os.environ.get("CHIRP_TEST_NEO4J_USER", "neo4j"),
            os.environ.get("CHIRP_TEST_NEO4J_PASSWORD", ""),
            os.environ.get("CHIRP_TEST_NEO4J_DATABASE", "neo4j"),
        )
        return
    server = start_neo4j_standin()
    try:
        yield Neo4jTarget(server.url, server.extra["user"], server.extra["password"], "neo4j")
    finally:
        server.stop()


@dataclass(frozen=True)
class MongoTarget:
    uri: str
    standin: bool  # nx-27017 rather than a real MongoDB


@pytest.fixture(scope="session")
def mongo_target() -> Iterator[MongoTarget]:
    if uri := os.environ.get("CHIRP_TEST_MONGODB_URI"):
        yield MongoTarget(uri, standin=False)
        return
    server = start_mongo_standin()
    try:
        yield MongoTarget(server.url, standin=True)
    finally:
        server.stop()


class StandinMongoTweetStore(MongoTweetStore):
    """MongoTweetStore with its transactions taken one at a time.

    Test set-up for the nx-27017 stand-in only: it runs every session's
    transaction as a savepoint on one SQLite connection, so two transactions
    open at once corrupt each other ("no such savepoint"). Real MongoDB
    isolates concurrent transactions; the production adapter runs them
    concurrently, and so do the tests when CHIRP_TEST_MONGODB_URI is set.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._one_at_a_time = asyncio.Lock()

    async def _transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        async with self._one_at_a_time:
            return await super()._transaction(work)


def mongo_store(target: MongoTarget, database: str) -> MongoTweetStore:
    kind = StandinMongoTweetStore if target.standin else MongoTweetStore
    return kind(mongo_connect(target.uri), database)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    if url := os.environ.get("CHIRP_TEST_REDIS_URL"):
        yield url
        return
    server = start_redis()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """A three-primary Redis Cluster (``redis+cluster://...``), started on first use."""
    if url := os.environ.get("CHIRP_TEST_REDIS_CLUSTER_URL"):
        yield url
        return
    cluster = start_redis_cluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def redis_cluster_client(url: str) -> RedisCluster:
    """A client of the cluster at ``url`` (``redis+cluster://...``), as the app makes one."""
    return cluster_client(url)


async def flush_cluster(client: RedisCluster) -> None:
    """Empty every primary of the cluster (FLUSHDB is per node)."""
    await client.flushdb(target_nodes=RedisCluster.PRIMARIES)


async def neo4j_graph(target: Neo4jTarget) -> Neo4jSocialGraph:
    """An open graph adapter on an emptied database."""
    graph = Neo4jSocialGraph(
        neo4j_connect(target.uri, target.user, target.password), target.database
    )
    await graph.open()
    await graph.driver.execute_query("MATCH (n) DETACH DELETE n", database_=target.database)
    return graph


@pytest.fixture
async def neo4j_graph_empty(neo4j_target: Neo4jTarget) -> AsyncIterator[Neo4jSocialGraph]:
    graph = await neo4j_graph(neo4j_target)
    try:
        yield graph
    finally:
        await graph.close()


def fresh_mongo_db() -> str:
    return f"chirp_test_{uuid.uuid4().hex[:12]}"


@pytest.fixture
async def mongo_store_empty(mongo_target: MongoTarget) -> AsyncIterator[MongoTweetStore]:
    """An open tweet store on a database of its own, dropped afterwards."""
    name = fresh_mongo_db()
    store = mongo_store(mongo_target, name)
    await store.open()
    try:
        yield store
    finally:
        await store.client.drop_database(name)
        await store.close()


@pytest.fixture
async def redis_cache_empty(redis_url: str) -> AsyncIterator[RedisTimelineCache]:
    cache = RedisTimelineCache(Redis.from_url(redis_url))
    await cache.redis.flushdb()
    try:
        yield cache
    finally:
        await cache.redis.flushdb()
        await cache.close()


# --- S3 (MinIO in production): SeaweedFS's S3 gateway, or a throwaway MinIO ----------


@dataclass(frozen=True)
class S3Target:
    endpoint: str  # host:port, as the minio SDK and CHIRP_MINIO_ENDPOINT take it
    access_key: str
    secret_key: str
    secure: bool = False

    def client(self) -> Minio:
        return Minio(
            self.endpoint,
            access_key=self.access_key,
            secret_key=self.secret_key,
            secure=self.secure,
        )

    def settings(self, bucket: str) -> dict[str, Any]:
        """The app settings (make_client keywords) that put media in ``bucket`` here."""
        return {
            "minio_endpoint": self.endpoint,
            "minio_access_key": self.access_key,
            "minio_secret_key": self.secret_key,
            "minio_secure": self.secure,
            "minio_bucket": bucket,
        }


@pytest.fixture(scope="session")
def s3_target() -> Iterator[S3Target]:
    """SeaweedFS ``weed mini`` (a real S3 API), or the MinIO of CHIRP_TEST_MINIO_ENDPOINT,
    _ACCESS_KEY, _SECRET_KEY (and _SECURE=true for https); tests use buckets of their own."""
    if endpoint := os.environ.get("CHIRP_TEST_MINIO_ENDPOINT"):
        yield S3Target(
            endpoint,
            os.environ.get("CHIRP_TEST_MINIO_ACCESS_KEY", ""),
            os.environ.get("CHIRP_TEST_MINIO_SECRET_KEY", ""),
            os.environ.get("CHIRP_TEST_MINIO_SECURE", "").lower() in {"1", "true", "yes"},
        )
        return
    server = start_s3_standin()
    try:
        yield S3Target(
            server.extra["endpoint"], server.extra["access_key"], server.extra["secret_key"]
        )
    finally:
        server.stop()


def fresh_bucket() -> str:
    return f"chirp-test-{uuid.uuid4().hex[:12]}"


def drop_bucket(client: Minio, bucket: str) -> None:
    """Remove a test bucket and everything in it (blocking: call it in a thread)."""
    if not client.bucket_exists(bucket):
        return
    for found in client.list_objects(bucket, recursive=True):
        if found.object_name is not None:
            client.remove_object(bucket, found.object_name)
    client.remove_bucket(bucket)
