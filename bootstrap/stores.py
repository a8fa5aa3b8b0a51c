"""Choosing and opening the stores: one adapter per port, as the settings select.

Each backend switches to production on its own setting (``NEO4J_URI``,
``MONGODB_URI``, ``REDIS_URL``, ``MINIO_ENDPOINT``); without it, the embedded
adapter (SQLite files, in-process structures, a local folder) takes its place.
Opening retries each one for ``CHIRP_STARTUP_TIMEOUT`` seconds with a log line
naming it, then gives up with ``BackendStartError``.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from minio import Minio
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from bootstrap.settings import Settings, parse_redis_cluster_url
from core.breaker import Breaker
from docstore.apps_mongo import MongoAppStore
from docstore.apps_sqlite import SqliteAppStore
from docstore.attachments import AttachmentStore
from docstore.attachments_mongo import MongoAttachmentStore
from docstore.attachments_sqlite import SqliteAttachmentStore
from docstore.bookmarks_mongo import MongoBookmarkStore, init_bookmarks
from docstore.bookmarks_sqlite import SqliteBookmarkStore
from docstore.lists_mongo import MongoListStore, init_lists
from docstore.lists_sqlite import SqliteListStore
from docstore.moments_mongo import MongoMomentStore, init_moments
from docstore.moments_sqlite import SqliteMomentStore
from docstore.mongo import UNAVAILABLE_ERRORS as MONGO_UNAVAILABLE
from docstore.mongo import MongoTweetStore, init_database
from docstore.mongo import connect as mongo_connect
from docstore.notifications_mongo import MongoNotificationStore, init_notifications
from docstore.notifications_sqlite import SqliteNotificationStore
from docstore.sqlite import SqliteTweetStore
from graph.neo4j import CONSTRAINTS as NEO4J_CONSTRAINTS
from graph.neo4j import UNAVAILABLE_ERRORS as NEO4J_UNAVAILABLE
from graph.neo4j import Neo4jSocialGraph
from graph.neo4j import connect as neo4j_connect
from graph.sqlite import SqliteSocialGraph
from media.local import LocalObjectStore
from media.minio import UNAVAILABLE_ERRORS as S3_UNAVAILABLE
from media.minio import MinioObjectStore
from media.port import ObjectStore
from persisted.memory import MemoryQueryStore
from persisted.redis import RedisQueryStore
from search.mongo import MongoSearchIndex, init_search
from search.sqlite import SqliteSearchIndex
from services.container import Stores
from throttle.memory import MemoryLimiter
from throttle.redis import RedisLimiter
from timeline.memory import MemoryEventBus, MemoryFanoutQueue, MemoryTimelineCache
from timeline.redis import UNAVAILABLE_ERRORS as REDIS_UNAVAILABLE
from timeline.redis import Deadlines, RedisEventBus, RedisFanoutQueue, RedisTimelineCache
from trends.memory import MemoryTrendStore
from trends.redis import RedisTrendStore

log = logging.getLogger("chirp")

# A backend raising one of these mid-request is SERVICE_UNAVAILABLE to the client.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    sqlite3.OperationalError,
    *NEO4J_UNAVAILABLE,
    *MONGO_UNAVAILABLE,
    *REDIS_UNAVAILABLE,
    *S3_UNAVAILABLE,
)


class Adapter(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...


class BackendStartError(RuntimeError):
    """A configured backend did not answer within the start-up timeout."""


async def open_with_retries(name: str, where: str, adapter: Adapter, within: float) -> None:
    """Open an adapter, retrying with backoff for ``within`` seconds; log lines name the backend."""
    deadline = time.monotonic() + within
    delay = 0.25
    while True:
        try:
            await adapter.open()
        except Exception as exc:
            if time.monotonic() + delay > deadline:
                await adapter.close()
                raise BackendStartError(
                    f"{name}: {where} did not answer within {within:g} s: {type(exc).__name__}: {exc}"
                ) from exc
            log.warning(
                "%s: %s not reachable yet (%s); retrying in %.2g s", name, where, exc, delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        else:
            log.info("%s: %s", name, where)
            return


def redact(url: str) -> str:
    """A URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def cluster_client(url: str, **options: Any) -> RedisCluster:
    """A Redis Cluster client from a ``redis+cluster://`` URL; every seed is a start-up
    node, and the client discovers the rest of the cluster from the first that answers."""
    parsed = parse_redis_cluster_url(url)
    if parsed is None:
        raise ValueError(f"not a Redis Cluster URL: {redact(url)}")
    others = [ClusterNode(host, port) for host, port in parsed.seeds[1:]]
    return RedisCluster.from_url(parsed.seed_url, startup_nodes=others, **options)


WORKER_DEADLINE_SECONDS = 2.0


def choose_stores(
    settings: Settings, worker: bool = False
) -> tuple[Stores, list[tuple[str, Adapter]]]:
    """The stores the settings select, not opened yet, and the order to open them in.

    ``worker``: for a fan-out worker process, which no client waits on: its Redis calls
    have a deadline of seconds, not the request path's tens of milliseconds, so that a
    busy Redis slows fan-out down instead of failing it.
    """
    graph: Neo4jSocialGraph | SqliteSocialGraph
    tweets: MongoTweetStore | SqliteTweetStore
    timelines: RedisTimelineCache | MemoryTimelineCache
    queue: RedisFanoutQueue | MemoryFanoutQueue
    events: RedisEventBus | MemoryEventBus
    limiter: RedisLimiter | MemoryLimiter
    if settings.neo4j_uri:
        driver = neo4j_connect(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password)
        graph = Neo4jSocialGraph(driver, settings.neo4j_database)
        graph_where = f"Neo4j at {settings.neo4j_uri} (database {settings.neo4j_database})"
    else:
        path = settings.data_dir / "graph.sqlite3"
        graph, graph_where = SqliteSocialGraph(path), f"embedded SQLite at {path}"
    if settings.mongodb_uri:
        tweets = MongoTweetStore(mongo_connect(settings.mongodb_uri), settings.mongodb_db)
        tweets_where = f"MongoDB at {redact(settings.mongodb_uri)} (database {settings.mongodb_db})"
        apps: MongoAppStore | SqliteAppStore = MongoAppStore(
            mongo_connect(settings.mongodb_uri), settings.mongodb_db
        )
        apps_where = tweets_where
        notifications: MongoNotificationStore | SqliteNotificationStore = MongoNotificationStore(
            mongo_connect(settings.mongodb_uri), settings.mongodb_db
        )
        notifications_where = tweets_where
        bookmarks: MongoBookmarkStore | SqliteBookmarkStore = MongoBookmarkStore(
            mongo_connect(settings.mongodb_uri), settings.mongodb_db
        )
        moments: MongoMomentStore | SqliteMomentStore = MongoMomentStore(
            mongo_connect(settings.mongodb_uri), settings.mongodb_db
        )
        lists: MongoListStore | SqliteListStore = MongoListStore(
            mongo_connect(settings.mongodb_uri), settings.mongodb_db
        )
        curation_where = {name: tweets_where for name in ("bookmarks", "moments", "lists")}
        search: MongoSearchIndex | SqliteSearchIndex = MongoSearchIndex(
            mongo_connect(settings.mongodb_uri), settings.mongodb_db
        )
        search_where = f"the text index of {tweets_where}"
    else:
        path = settings.data_dir / "tweets.sqlite3"
        tweets, tweets_where = SqliteTweetStore(path), f"embedded SQLite at {path}"
        apps_path = settings.data_dir / "apps.sqlite3"
        apps, apps_where = SqliteAppStore(apps_path), f"embedded SQLite at {apps_path}"
        notifications_path = settings.data_dir / "notifications.sqlite3"
        notifications = SqliteNotificationStore(notifications_path)
        notifications_where = f"embedded SQLite at {notifications_path}"
        folder = settings.data_dir
        search = SqliteSearchIndex(folder / "tweets.sqlite3")  # the tweet store's FTS5 tables
        search_where = f"FTS5 in {folder / 'tweets.sqlite3'}"
        bookmarks = SqliteBookmarkStore(folder / "bookmarks.sqlite3")
        moments = SqliteMomentStore(folder / "moments.sqlite3")
        lists = SqliteListStore(folder / "lists.sqlite3")
        curation_where = {
            name: f"embedded SQLite at {folder / f'{name}.sqlite3'}"
            for name in ("bookmarks", "moments", "lists")
        }
    ttl = settings.active_days * 24 * 3600
    if settings.redis_url:
        cluster = parse_redis_cluster_url(settings.redis_url) is not None
        kind = "Redis Cluster" if cluster else "Redis"
        where = f"{kind} at {redact(settings.redis_url)}"

        def redis_client(retries: int = 2) -> Redis | RedisCluster:
            # Two quick retries: a pooled connection that sat through a Redis restart
            # fails once ("connection closed"), and the retry on a fresh one succeeds.
            # A cluster client retries the same way, after refreshing its slot map.
            options: dict[str, Any] = {
                "socket_timeout": 5,
                "socket_connect_timeout": 5,
                "retry": Retry(ExponentialBackoff(cap=0.1, base=0.002), retries)
                if retries
                else Retry(NoBackoff(), 0),
            }
            if retries:
                options["retry_on_error"] = [RedisConnectionError, RedisTimeoutError]
            if cluster:
                return cluster_client(settings.redis_url, **options)
            return Redis.from_url(settings.redis_url, **options)

        # One breaker for the server (or the cluster): every call a request waits on has
        # a deadline in tens of milliseconds, and a frozen Redis is skipped at once after
        # a few misses.
        breaker = Breaker(
            where,
            failures=settings.redis_breaker_failures,
            reset_after=settings.redis_breaker_reset_seconds,
            errors=REDIS_UNAVAILABLE,
        )
        request_timeout = settings.redis_timeout_ms / 1000
        if worker:
            request_timeout = max(request_timeout, WORKER_DEADLINE_SECONDS)
        deadlines = Deadlines(breaker, request_timeout)
        timelines = RedisTimelineCache(
            redis_client(), ttl, settings.fanout_batch, deadlines, cap=settings.timeline_cap
        )
        queue = RedisFanoutQueue(redis_client(), deadlines=deadlines)
        events = RedisEventBus(redis_client(), deadlines)
        # No retries for the limiter (on every request's path): limits fail open, or to
        # the in-process limiter for log-in and sign-up.
        limiter = RedisLimiter(redis_client(retries=0), breaker, request_timeout)
        queries: RedisQueryStore | MemoryQueryStore = RedisQueryStore(
            redis_client(), breaker=breaker, timeout=request_timeout
        )
        trends: RedisTrendStore | MemoryTrendStore = RedisTrendStore(
            redis_client(),
            breaker=breaker,
            timeout=request_timeout,
            read_timeout=max(request_timeout, 0.5),
        )
        trends_where = where
        timelines_where = where
        queue_where, events_where = f"fan-out queue: {where}", f"realtime events: {where}"
        limiter_where, queries_where = f"rate limits: {where}", f"persisted queries: {where}"
    else:
        timelines, queue, events = MemoryTimelineCache(ttl), MemoryFanoutQueue(), MemoryEventBus()
        limiter, queries = MemoryLimiter(), MemoryQueryStore()
        trends, trends_where = MemoryTrendStore(), "in-process trends (rebuilt at start-up)"
        queries_where = "in-process persisted queries"
        timelines_where = "in-process cache"
        queue_where, events_where = "in-process fan-out queue", "in-process realtime events"
        limiter_where = "in-process rate limits"
    opening: list[tuple[str, str, Adapter]] = [
        ("graph", graph_where, graph),
        ("tweets", tweets_where, tweets),
        ("timelines", timelines_where, timelines),
        ("queue", queue_where, queue),
        ("events", events_where, events),
        ("limiter", limiter_where, limiter),
        ("apps", apps_where, apps),
        ("queries", queries_where, queries),
        ("notifications", notifications_where, notifications),
        ("bookmarks", curation_where["bookmarks"], bookmarks),
        ("moments", curation_where["moments"], moments),
        ("lists", curation_where["lists"], lists),
        ("trends", trends_where, trends),
        ("search", search_where, search),  # after the tweet store: it reads its schema
    ]
    descriptions = {name: where for name, where, _ in opening}
    stores = Stores(
        graph,
        tweets,
        timelines,
        queue,
        events,
        limiter,
        apps,
        queries,
        descriptions,
        notifications,
        bookmarks,
        moments,
        lists,
        trends,
        search,
    )
    return stores, [(name, adapter) for name, _, adapter in opening]


async def open_stores(settings: Settings, worker: bool = False) -> Stores:
    """Open the store each setting selects, each with start-up retries."""
    stores, opening = choose_stores(settings, worker)
    opened: list[Adapter] = []
    try:
        for name, adapter in opening:
            where = stores.descriptions[name]
            await open_with_retries(name, where, adapter, settings.startup_timeout_seconds)
            opened.append(adapter)
    except BaseException:
        for adapter in reversed(opened):
            await adapter.close()
        raise
    return stores


@dataclass
class MediaStores:
    """Media records and short links, and media bytes."""

    attachments: AttachmentStore
    objects: ObjectStore
    descriptions: dict[str, str]

    async def close(self) -> None:
        await self.objects.close()
        await self.attachments.close()


async def open_media(settings: Settings, secret: str) -> MediaStores:
    """Media records and short links (MongoDB or SQLite) and media bytes (S3 or a folder)."""
    attachments: MongoAttachmentStore | SqliteAttachmentStore
    objects: MinioObjectStore | LocalObjectStore
    if settings.mongodb_uri:
        attachments = MongoAttachmentStore(mongo_connect(settings.mongodb_uri), settings.mongodb_db)
        attachments_where = (
            f"MongoDB at {redact(settings.mongodb_uri)} (database {settings.mongodb_db})"
        )
    else:
        path = settings.data_dir / "attachments.sqlite3"
        attachments, attachments_where = SqliteAttachmentStore(path), f"embedded SQLite at {path}"
    if settings.minio_endpoint:

        def s3_client(endpoint: str) -> Minio:
            return Minio(
                endpoint,
                access_key=settings.minio_access_key,
                secret_key=settings.minio_secret_key,
                secure=settings.minio_secure,
                region=settings.minio_region,  # known: signing needs no region lookup
            )

        public = settings.minio_public_endpoint
        objects = MinioObjectStore(
            s3_client(settings.minio_endpoint),
            settings.minio_bucket,
            s3_client(public) if public else None,
        )
        objects_where = f"S3 at {settings.minio_endpoint} (bucket {settings.minio_bucket})"
    else:
        folder = settings.data_dir / "media"
        objects = LocalObjectStore(folder, settings.base_url, secret)
        objects_where = f"local folder {folder}"
    await open_with_retries(
        "attachments", attachments_where, attachments, settings.startup_timeout_seconds
    )
    try:
        await open_with_retries("media", objects_where, objects, settings.startup_timeout_seconds)
    except BaseException:
        await attachments.close()
        raise
    return MediaStores(
        attachments, objects, {"attachments": attachments_where, "media": objects_where}
    )


async def init_stores(settings: Settings) -> list[str]:
    """``admin init``: set up every configured store for production use; what was done."""
    done: list[str] = []
    stores = await open_stores(settings)  # opening creates tables and Neo4j constraints
    try:
        for name, where in stores.descriptions.items():
            done.append(f"{name}: {where}: ready")
        if isinstance(stores.graph, Neo4jSocialGraph):
            done += [f"graph: {statement}" for statement in NEO4J_CONSTRAINTS]
        if isinstance(stores.tweets, MongoTweetStore):
            done += await init_database(stores.tweets.client, settings.mongodb_db)
        if isinstance(stores.notifications, MongoNotificationStore):
            done += await init_notifications(stores.notifications.client, settings.mongodb_db)
        if isinstance(stores.search, MongoSearchIndex):
            done += await init_search(stores.search.client, settings.mongodb_db)
        for store, init in (
            (stores.bookmarks, init_bookmarks),
            (stores.moments, init_moments),
            (stores.lists, init_lists),
        ):
            if isinstance(store, MongoBookmarkStore | MongoMomentStore | MongoListStore):
                done += await init(store.client, settings.mongodb_db)
    finally:
        await stores.close()
    return done
