"""Chirp: composition root and command line.

``python app.py`` serves the GraphQL API on the embedded default (SQLite files
and in-process structures in ``--data-dir``); ``python app.py --help`` lists
every setting.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import sqlite3
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from aiohttp import web
from minio import Minio
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.ids import SnowflakeGenerator
from core.links import LinkService
from core.security import Passwords, Tokens, load_or_create_secret
from core.services import Services, Stores, build_services
from core.settings import Settings, SettingsError, add_arguments, environment_help, load_settings
from docstore.attachments import AttachmentStore
from docstore.attachments_mongo import MongoAttachmentStore
from docstore.attachments_sqlite import SqliteAttachmentStore
from docstore.mongo import UNAVAILABLE_ERRORS as MONGO_UNAVAILABLE
from docstore.mongo import MongoTweetStore, init_database
from docstore.mongo import connect as mongo_connect
from docstore.sqlite import SqliteTweetStore
from graph.neo4j import CONSTRAINTS as NEO4J_CONSTRAINTS
from graph.neo4j import UNAVAILABLE_ERRORS as NEO4J_UNAVAILABLE
from graph.neo4j import Neo4jSocialGraph
from graph.neo4j import connect as neo4j_connect
from graph.sqlite import SqliteSocialGraph
from media.local import LocalObjectStore
from media.minio import UNAVAILABLE_ERRORS as S3_UNAVAILABLE
from media.minio import MinioObjectStore
from media.service import MediaLimits, MediaService
from schema import build_schema
from timeline.engine import TimelineConfig
from timeline.events import MemoryEventBus, RedisEventBus
from timeline.memory import MemoryTimelineCache
from timeline.queue import MemoryFanoutQueue
from timeline.redis import UNAVAILABLE_ERRORS as REDIS_UNAVAILABLE
from timeline.redis import RedisTimelineCache
from timeline.redis_queue import RedisFanoutQueue
from timeline.worker import FanoutWorker, consumer_name
from web.media_routes import add_media_routes
from web.routes import add_routes, add_worker_routes, error_middleware

log = logging.getLogger("chirp")

MAX_BODY_BYTES = 1024 * 1024
# A backend raising one of these mid-request is SERVICE_UNAVAILABLE to the client.
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    sqlite3.OperationalError,
    *NEO4J_UNAVAILABLE,
    *MONGO_UNAVAILABLE,
    *REDIS_UNAVAILABLE,
    *S3_UNAVAILABLE,
)

SERVICES_KEY = web.AppKey("services", Services)
SETTINGS_KEY = web.AppKey("settings", Settings)


class Adapter(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...


@dataclass
class Overrides:
    """What tests may swap in: anything left None is built from the settings."""

    stores: Stores | None = None
    passwords: Passwords | None = None


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


def choose_adapters(settings: Settings) -> dict[str, tuple[str, Adapter]]:
    """Per store, the adapter its settings select and a description for the logs."""
    graph: tuple[str, Adapter]
    tweets: tuple[str, Adapter]
    if settings.neo4j_uri:
        driver = neo4j_connect(settings.neo4j_uri, settings.neo4j_user, settings.neo4j_password)
        graph = (
            f"Neo4j at {settings.neo4j_uri} (database {settings.neo4j_database})",
            Neo4jSocialGraph(driver, settings.neo4j_database),
        )
    else:
        path = settings.data_dir / "graph.sqlite3"
        graph = (f"embedded SQLite at {path}", SqliteSocialGraph(path))
    if settings.mongodb_uri:
        client = mongo_connect(settings.mongodb_uri)
        tweets = (
            f"MongoDB at {redact(settings.mongodb_uri)} (database {settings.mongodb_db})",
            MongoTweetStore(client, settings.mongodb_db),
        )
    else:
        path = settings.data_dir / "tweets.sqlite3"
        tweets = (f"embedded SQLite at {path}", SqliteTweetStore(path))
    ttl = settings.active_days * 24 * 3600
    if settings.redis_url:
        where = f"Redis at {redact(settings.redis_url)}"

        def redis_client() -> Redis:
            # Two quick retries: a pooled connection that sat through a Redis restart
            # fails once ("connection closed"), and the retry on a fresh one succeeds.
            return Redis.from_url(
                settings.redis_url,
                socket_timeout=5,
                socket_connect_timeout=5,
                retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), 2),
                retry_on_error=[RedisConnectionError, RedisTimeoutError],
            )

        return {
            "graph": graph,
            "tweets": tweets,
            "timelines": (where, RedisTimelineCache(redis_client(), ttl, settings.fanout_batch)),
            "queue": (f"fan-out queue: {where}", RedisFanoutQueue(redis_client())),
            "events": (f"realtime events: {where}", RedisEventBus(redis_client())),
        }
    return {
        "graph": graph,
        "tweets": tweets,
        "timelines": ("in-process cache", MemoryTimelineCache(ttl)),
        "queue": ("in-process fan-out queue", MemoryFanoutQueue()),
        "events": ("in-process realtime events", MemoryEventBus()),
    }


def redact(url: str) -> str:
    """A URL without its password, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


async def open_stores(settings: Settings) -> Stores:
    """Open the store each setting selects, each with start-up retries."""
    chosen = choose_adapters(settings)
    opened: list[Adapter] = []
    try:
        for name, (where, adapter) in chosen.items():
            await open_with_retries(name, where, adapter, settings.startup_timeout_seconds)
            opened.append(adapter)
    except BaseException:
        for adapter in reversed(opened):
            await adapter.close()
        raise
    return Stores(
        graph=chosen["graph"][1],  # type: ignore[arg-type]
        tweets=chosen["tweets"][1],  # type: ignore[arg-type]
        timelines=chosen["timelines"][1],  # type: ignore[arg-type]
        queue=chosen["queue"][1],  # type: ignore[arg-type]
        events=chosen["events"][1],  # type: ignore[arg-type]
        descriptions={name: where for name, (where, _) in chosen.items()},
    )


def timeline_config(settings: Settings) -> TimelineConfig:
    return TimelineConfig(
        strategy=settings.timeline_strategy,
        celebrity_threshold=settings.celebrity_threshold,
        cap=settings.timeline_cap,
        batch=settings.fanout_batch,
        # only a worker of this process can tell this process the fan-out is done
        wait_for_fanout_seconds=settings.fanout_wait_seconds if settings.inprocess_workers else 0.0,
    )


@dataclass
class MediaBackends:
    attachments: Adapter
    objects: Adapter
    descriptions: dict[str, str]

    async def close(self) -> None:
        await self.objects.close()
        await self.attachments.close()


async def open_media(settings: Settings, secret: str) -> MediaBackends:
    """Media records and short links (MongoDB or SQLite) and media bytes (S3 or a folder)."""
    attachments: Adapter
    objects: Adapter
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
    return MediaBackends(
        attachments, objects, {"attachments": attachments_where, "media": objects_where}
    )


def make_services(
    settings: Settings,
    stores: Stores,
    passwords: Passwords | None = None,
    media: MediaBackends | None = None,
) -> Services:
    secret = settings.secret_key or load_or_create_secret(settings.data_dir)
    ids = SnowflakeGenerator(settings.worker_id)
    media_service = links = None
    if media is not None:
        records: AttachmentStore = media.attachments  # type: ignore[assignment]
        media_service = MediaService(
            media.objects,  # type: ignore[arg-type]
            records,
            ids,
            MediaLimits(
                photo_bytes=settings.max_photo_bytes,
                gif_bytes=settings.max_gif_bytes,
                video_bytes=settings.max_video_bytes,
                upload_ttl_seconds=settings.upload_url_ttl_seconds,
                sweep_after_seconds=settings.media_sweep_after_seconds,
            ),
            settings.media_base_url,
        )
        links = LinkService(records, settings.base_url)
        stores.descriptions.update(media.descriptions)
    return build_services(
        stores,
        ids,
        Tokens(secret, settings.token_ttl_seconds),
        settings.base_url,
        passwords,
        timeline_config(settings),
        UNAVAILABLE_ERRORS,
        media_service,
        links,
    )


@contextlib.asynccontextmanager
async def media_sweeper(services: Services, every_seconds: float = 600.0) -> AsyncIterator[None]:
    """Remove media never attached to a tweet, every few minutes, in the background."""

    async def loop() -> None:
        while True:
            try:
                if services.media is not None:
                    await services.media.sweep(int(time.time() * 1000))
            except Exception as exc:
                log.warning("media sweep failed (%s); trying again later", exc)
            await asyncio.sleep(every_seconds)

    task = asyncio.create_task(loop(), name="media-sweeper")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def make_worker(settings: Settings, services: Services) -> FanoutWorker:
    return FanoutWorker(
        services.timelines,
        services.stores.queue,
        consumer_name(settings.worker_id),
        concurrency=settings.fanout_concurrency,
        claim_idle_ms=int(settings.claim_idle_seconds * 1000),
        repair_after_ms=int(settings.repair_after_seconds * 1000),
    )


@contextlib.asynccontextmanager
async def running_workers(
    settings: Settings, services: Services, count: int
) -> AsyncIterator[None]:
    """Fan-out workers as tasks of this process, stopped (jobs finished) on exit."""
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(make_worker(settings, services).run(stop), name=f"fanout-{n}")
        for n in range(count)
    ]
    try:
        yield
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)


def create_app(settings: Settings, overrides: Overrides | None = None) -> web.Application:
    overrides = overrides or Overrides()
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[error_middleware])
    app[SETTINGS_KEY] = settings
    add_routes(app, build_schema(UNAVAILABLE_ERRORS), lambda: app[SERVICES_KEY])
    add_media_routes(app, lambda: app[SERVICES_KEY])

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        stores = overrides.stores or await open_stores(settings)
        secret = settings.secret_key or load_or_create_secret(settings.data_dir)
        try:
            media = await open_media(settings, secret)
        except BaseException:
            if overrides.stores is None:
                await stores.close()
            raise
        services = make_services(settings, stores, overrides.passwords, media)
        app[SERVICES_KEY] = services
        await services.hub.start()
        try:
            async with (
                running_workers(settings, services, settings.inprocess_workers),
                media_sweeper(services),
            ):
                yield
        finally:
            await services.hub.stop()
            await media.close()
            if overrides.stores is None:
                await stores.close()
            log.info("stores closed")

    app.cleanup_ctx.append(services_ctx)
    return app


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Chirp: a Twitter-style GraphQL API server. With no settings it runs on "
        "the embedded default (no servers needed) and keeps its data in --data-dir. "
        "Each of NEO4J_URI, MONGODB_URI and REDIS_URL switches its store to production.",
        epilog=environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="serve the API (the default)")
    commands.add_parser(
        "worker",
        help="run fan-out workers only (CHIRP_FANOUT_CONCURRENCY consumers), with /healthz "
        "and /metrics on --port; give each process its own --worker-id",
    )
    admin = commands.add_parser("admin", help="operator tasks")
    admin_commands = admin.add_subparsers(dest="admin_command", metavar="TASK", required=True)
    admin_commands.add_parser(
        "init",
        help="create the stores' constraints and indexes and, on a sharded MongoDB "
        "cluster, shard the collections; safe to run again",
    )
    return parser


async def admin_init(settings: Settings) -> list[str]:
    """Set up every configured store for production use; returns what was done."""
    done: list[str] = []
    stores = await open_stores(settings)  # opening creates tables and Neo4j constraints
    try:
        for name, where in stores.descriptions.items():
            done.append(f"{name}: {where}: ready")
        if isinstance(stores.graph, Neo4jSocialGraph):
            done += [f"graph: {statement}" for statement in NEO4J_CONSTRAINTS]
        if isinstance(stores.tweets, MongoTweetStore):
            done += await init_database(stores.tweets.client, settings.mongodb_db)
    finally:
        await stores.close()
    return done


def create_worker_app(settings: Settings) -> web.Application:
    """A fan-out worker process: no API, only /healthz and /metrics for operators."""
    app = web.Application(middlewares=[error_middleware])
    add_worker_routes(app)

    async def worker_ctx(app: web.Application) -> AsyncIterator[None]:
        stores = await open_stores(settings)
        services = make_services(settings, stores)
        try:
            async with running_workers(settings, services, 1):
                yield
        finally:
            await stores.close()

    app.cleanup_ctx.append(worker_ctx)
    return app


# A request allocates thousands of short-lived objects. With Python's default
# thresholds (700, 10, 10) the collector runs about once per home-page request
# and keeps re-walking the ~100,000 long-lived objects of the schema, drivers and
# modules. Frozen after start-up, they are never walked again; the first
# threshold then trades pause length against frequency. Measured in process over
# 3,000 home pages (BENCHMARKS.md, "Collector settings"): 2,000 collects about
# once per 13 pages with pauses under 1.5 ms; 10,000 spent as much time in all
# but paused 3-5 ms at a time, which showed in GraphQL's p99.
GC_THRESHOLDS = (2_000, 10, 10)


async def settle_heap(app: web.Application) -> None:
    """Once started: freeze what start-up made, and collect young objects less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it is installed (Linux and macOS), else asyncio's.

    uvloop runs the same asyncio code with its loop, sockets and callbacks in C:
    about a quarter more home pages per core here (BENCHMARKS.md, "What changed").
    """
    try:
        import uvloop  # optional: not installed on every platform
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run_server(app: web.Application, settings: Settings, what: str) -> int:
    loop = new_event_loop()
    log.info(
        "Chirp %s starting on http://%s:%s (event loop: %s)",
        what,
        settings.host,
        settings.port,
        type(loop).__module__.split(".")[0],
    )
    app.on_startup.append(settle_heap)  # after the stores open (cleanup contexts run first)
    try:
        web.run_app(
            app,
            loop=loop,
            host=settings.host,
            port=settings.port,
            print=None,
            access_log=None,
            shutdown_timeout=10,
        )
    except BackendStartError as exc:
        log.error("cannot start: %s", exc)
        return 1
    log.info("Chirp stopped")
    return 0


def serve(settings: Settings) -> int:
    return run_server(create_app(settings), settings, "API")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args=args)
    except SettingsError as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "admin":
        try:
            for line in asyncio.run(admin_init(settings)):
                print(line)
        except BackendStartError as exc:
            log.error("cannot run admin init: %s", exc)
            return 1
        return 0
    if args.command == "worker":
        return run_server(create_worker_app(settings), settings, "fan-out worker")
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
