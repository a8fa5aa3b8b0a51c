"""Chirp: the command line and the process lifecycle.

``python app.py`` serves the GraphQL API on the embedded default (SQLite files
and in-process structures in ``--data-dir``); ``python app.py worker`` runs
fan-out workers; ``python app.py admin init`` sets the stores up; ``python app.py
--help`` lists every setting. What runs is built in ``bootstrap/``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
from collections.abc import AsyncIterator, Sequence

from aiohttp import web

from bootstrap.services import Overrides, serving, working
from bootstrap.settings import (
    Settings,
    SettingsError,
    add_arguments,
    environment_help,
    load_settings,
)
from bootstrap.stores import UNAVAILABLE_ERRORS, BackendStartError, init_stores
from schema import QueryLimits, build_schema
from services.container import Services
from web.media_routes import add_media_routes
from web.routes import add_routes, add_worker_routes, error_middleware

log = logging.getLogger("chirp")

MAX_BODY_BYTES = 1024 * 1024

SERVICES_KEY = web.AppKey("services", Services)
SETTINGS_KEY = web.AppKey("settings", Settings)


def create_app(settings: Settings, overrides: Overrides | None = None) -> web.Application:
    """The API: GraphQL, media and health routes over the services ``serving`` runs."""
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[error_middleware])
    app[SETTINGS_KEY] = settings
    limits = QueryLimits(
        max_cost=settings.max_query_cost,
        max_nodes=settings.max_query_nodes,
        introspection=settings.introspection,
    )
    add_routes(
        app,
        build_schema(UNAVAILABLE_ERRORS, limits=limits),
        lambda: app[SERVICES_KEY],
        settings.require_api_key,
    )
    add_media_routes(app, lambda: app[SERVICES_KEY])

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        async with serving(settings, overrides) as services:
            app[SERVICES_KEY] = services
            yield

    app.cleanup_ctx.append(services_ctx)
    return app


def create_worker_app(settings: Settings) -> web.Application:
    """A fan-out worker process: no API, only /healthz and /metrics for operators."""
    app = web.Application(middlewares=[error_middleware])
    add_worker_routes(app)

    async def worker_ctx(app: web.Application) -> AsyncIterator[None]:
        async with working(settings):
            yield

    app.cleanup_ctx.append(worker_ctx)
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
            for line in asyncio.run(init_stores(settings)):
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
