"""Routes and middleware: /graphql, GraphiQL's bundle, health checks, the web client's pages
(web/client.py), and JSON errors everywhere."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from strawberry.schema import BaseSchema

from services.container import Services
from web.assets import Bundles, add_static_routes
from web.client import add_client_routes
from web.view import ChirpGraphQLView, error_response

log = logging.getLogger("chirp.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
READY_TIMEOUT_SECONDS = 2.0


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HTTP errors as JSON; an unexpected exception is logged and never shown to the client."""
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        response = error_response(exc.status, exc.reason)
        for name in ("Allow", "Retry-After"):  # what the status means without them is unclear
            if name in exc.headers:
                response.headers[name] = exc.headers[name]
        return response
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, "Internal server error.", "INTERNAL_SERVER_ERROR")


async def metrics(_: web.Request) -> web.Response:
    """This process's metrics in the Prometheus text format."""
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


async def preflight(_: web.Request) -> web.Response:
    """A CORS preflight from an origin not allowed (allowed ones are answered by the
    security middleware): no CORS header, so the browser refuses the request."""
    return web.Response(status=204, headers={"Allow": "GET, POST, OPTIONS"})


# The snowflake worker id of an API process started by ``--workers N`` (app.py sets
# it): its /healthz names it, so an operator (and the tests) can tell which of the
# processes sharing the port answered. Harmless: every tweet id carries it anyway.
WORKER_ID = web.AppKey("worker_id", int)


async def healthz(request: web.Request) -> web.Response:
    worker = request.app.get(WORKER_ID)
    if worker is None:
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "ok", "worker": worker})


def add_worker_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)


async def not_allowed(request: web.Request) -> web.StreamResponse:
    raise web.HTTPMethodNotAllowed(request.method, ["GET", "POST", "OPTIONS"])


def add_routes(
    app: web.Application,
    schema: BaseSchema,
    services: Callable[[], Services],
    require_api_key: bool = False,
    origins: Collection[str] = (),
    bundles: Bundles | None = None,
) -> None:
    bundles = bundles if bundles is not None else Bundles()
    view = ChirpGraphQLView(schema, services, require_api_key, origins, bundles)

    async def readyz(_: web.Request) -> web.Response:
        current = services()
        stores = current.stores
        pings = stores.pings()
        if current.media is not None:
            pings["attachments"] = current.media.records.ping
            pings["media"] = current.media.objects.ping
        results = await asyncio.gather(
            *(asyncio.wait_for(ping(), READY_TIMEOUT_SECONDS) for ping in pings.values()),
            return_exceptions=True,
        )
        backends: dict[str, dict[str, str]] = {}
        for name, result in zip(pings, results, strict=True):
            status = {"backend": stores.descriptions.get(name, name), "status": "ok"}
            if isinstance(result, BaseException):
                log.warning("readiness: %s is down: %r", name, result)
                status.update(status="down", error=type(result).__name__)
            backends[name] = status
        ready = all(b["status"] == "ok" for b in backends.values())
        return web.json_response(
            {"status": "ok" if ready else "unavailable", "backends": backends},
            status=200 if ready else 503,
        )

    app.router.add_route("GET", "/graphql", view)
    app.router.add_route("POST", "/graphql", view)
    app.router.add_route("OPTIONS", "/graphql", preflight)
    # Any other method is 405 here, not the profile route's answer for a handle
    # "graphql" (a reserved handle: nobody has it).
    app.router.add_route("*", "/graphql", not_allowed)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/readyz", readyz)
    add_static_routes(app, bundles)
    add_client_routes(app, services, bundles)  # last: /, /<handle>, /<handle>/status/<id>
