"""The floor: the home-timeline page as plain JSON from a minimal aiohttp handler.

Same settings, same stores, same services (``HomeTimeline.read`` and one
batch each for authors, viewer likes and viewer retweets) as the GraphQL
server; no GraphQL. The JSON has the shape and values of the GraphQL answer
to ``bench.scenarios.HOME_QUERY`` (its ``data``; the cursors are the home page's,
carrying the originals shown, as ``resolvers.timelines.home_edges`` makes them).

    python -m bench.floor --data-dir DIR --port PORT [any app.py setting]
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import orjson
from aiohttp import web

from app import build_parser, new_event_loop, settle_heap
from bootstrap.services import make_services, running_workers
from bootstrap.settings import load_settings
from bootstrap.stores import open_stores
from core.security import InvalidToken
from resolvers.timelines import home_edges
from services.container import Services

SERVICES = web.AppKey("services", Services)
PAGE = 20


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


def _viewer(request: web.Request) -> int | None:
    """The bearer token's user id, or None when it is missing or refused."""
    _, _, token = request.headers.get("Authorization", "").partition(" ")
    try:
        return request.app[SERVICES].tokens.verify(token.strip()).user_id
    except InvalidToken:
        return None


async def home(request: web.Request) -> web.Response:
    services = request.app[SERVICES]
    viewer = _viewer(request)
    if viewer is None:
        return web.json_response({"error": "unauthenticated"}, status=401)
    await request.read()
    rows = await services.home.read(viewer, PAGE + 1, None)
    page = rows[:PAGE]
    ids = [t.id for t in page]
    stores = services.stores
    users, liked, retweeted = await asyncio.gather(
        stores.graph.get_users(list({viewer, *(t.author_id for t in page)})),
        stores.tweets.liked_tweet_ids(viewer, ids),
        stores.tweets.retweeted_ids(viewer, ids),
    )
    if viewer not in users:
        return web.json_response({"error": "unauthenticated"}, status=401)
    edges = []
    for cursor, tweet in home_edges(page, frozenset()):
        author = users[tweet.author_id]
        edges.append(
            {
                "cursor": cursor,
                "node": {
                    "id": str(tweet.id),
                    "text": tweet.text,
                    "createdAt": _iso(tweet.created_at_ms),
                    "likeCount": tweet.like_count,
                    "retweetCount": tweet.retweet_count,
                    "viewerHasLiked": tweet.id in liked,
                    "viewerHasRetweeted": tweet.id in retweeted,
                    "author": {
                        "id": str(author.id),
                        "handle": author.handle,
                        "displayName": author.display_name,
                    },
                },
            }
        )
    body = {
        "data": {
            "homeTimeline": {
                "edges": edges,
                "pageInfo": {
                    "hasNextPage": len(rows) > PAGE,
                    "endCursor": edges[-1]["cursor"] if edges else None,
                },
            }
        }
    }
    return web.Response(body=orjson.dumps(body), content_type="application/json")


async def post(request: web.Request) -> web.Response:
    """Post a tweet as the bearer (the bench warms celebrity lists through it)."""
    services = request.app[SERVICES]
    viewer = _viewer(request)
    if viewer is None:
        return web.json_response({"error": "unauthenticated"}, status=401)
    payload = await request.json()
    tweet = await services.tweets.create(viewer, str(payload["text"]))
    return web.json_response({"id": str(tweet.id)})


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_floor_app(argv: Sequence[str]) -> tuple[web.Application, str, int]:
    settings = load_settings(args=build_parser().parse_args(argv))
    app = web.Application()
    app.router.add_post("/home", home)
    app.router.add_post("/graphql", home)  # so the same wrk script works unchanged
    app.router.add_post("/post", post)
    app.router.add_get("/healthz", healthz)

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        stores = await open_stores(settings)
        services = make_services(settings, stores)
        app[SERVICES] = services
        try:
            async with running_workers(settings, services, settings.inprocess_workers):
                yield
        finally:
            await stores.close()

    app.cleanup_ctx.append(services_ctx)
    return app, settings.host, settings.port


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING)
    app, host, port = create_floor_app(sys.argv[1:] if argv is None else argv)
    app.on_startup.append(settle_heap)  # the app server's collector settings, for a fair floor
    web.run_app(app, host=host, port=port, print=None, access_log=None, loop=new_event_loop())
    return 0


if __name__ == "__main__":
    sys.exit(main())
