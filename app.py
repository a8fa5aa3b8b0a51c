"""Chirp: composition root and command line.

``python app.py`` serves the GraphQL API on the embedded default (SQLite files
and in-process structures in ``--data-dir``); ``python app.py --help`` lists
every setting.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from aiohttp import web

from core.ids import SnowflakeGenerator
from core.security import Passwords, Tokens, load_or_create_secret
from core.services import Services, Stores, build_services
from core.settings import Settings, SettingsError, add_arguments, environment_help, load_settings
from docstore.sqlite import SqliteTweetStore
from graph.sqlite import SqliteSocialGraph
from schema import build_schema
from timeline.memory import MemoryTimelineCache
from web.routes import add_routes, error_middleware

log = logging.getLogger("chirp")

MAX_BODY_BYTES = 1024 * 1024

SERVICES_KEY = web.AppKey("services", Services)
SETTINGS_KEY = web.AppKey("settings", Settings)


@dataclass
class Overrides:
    """What tests may swap in: anything left None is built from the settings."""

    stores: Stores | None = None
    passwords: Passwords | None = None


async def open_stores(settings: Settings) -> Stores:
    """Open the store each setting selects (this stage: the embedded ones)."""
    graph = SqliteSocialGraph(settings.data_dir / "graph.sqlite3")
    tweets = SqliteTweetStore(settings.data_dir / "tweets.sqlite3")
    await graph.open()
    try:
        await tweets.open()
    except BaseException:
        await graph.close()
        raise
    log.info("graph: embedded SQLite at %s", graph.db.path)
    log.info("tweets: embedded SQLite at %s", tweets.db.path)
    log.info("timeline cache: in-process")
    return Stores(graph=graph, tweets=tweets, timelines=MemoryTimelineCache())


def create_app(settings: Settings, overrides: Overrides | None = None) -> web.Application:
    overrides = overrides or Overrides()
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[error_middleware])
    app[SETTINGS_KEY] = settings
    add_routes(app, build_schema(), lambda: app[SERVICES_KEY])

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        stores = overrides.stores or await open_stores(settings)
        secret = settings.secret_key or load_or_create_secret(settings.data_dir)
        services = build_services(
            stores,
            SnowflakeGenerator(settings.worker_id),
            Tokens(secret, settings.token_ttl_seconds),
            settings.base_url,
            overrides.passwords,
        )
        app[SERVICES_KEY] = services
        try:
            yield
        finally:
            if overrides.stores is None:
                await stores.close()
            log.info("stores closed")

    app.cleanup_ctx.append(services_ctx)
    return app


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python app.py",
        description="Chirp: a Twitter-style GraphQL API server. With no settings it runs on "
        "the embedded default (no servers needed) and keeps its data in --data-dir.",
        epilog=environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return parser


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
    log.info("Chirp starting on http://%s:%s/graphql", settings.host, settings.port)
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        print=None,
        access_log=None,
        shutdown_timeout=10,
    )
    log.info("Chirp stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
