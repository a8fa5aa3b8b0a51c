"""Open WebSockets closed with 1001 (going away) when the server shuts down.

aiohttp stops a server in this order (``AppRunner.cleanup``, which ``web.run_app``
calls on SIGINT or SIGTERM): stop listening, close idle keep-alive connections,
run the ``on_shutdown`` hooks, wait up to ``shutdown_timeout`` for the handlers
still running, cancel what remains, then run the cleanup contexts (where the
services stop). A subscription's handler never returns by itself, so without
help the wait runs its whole length, the cancelled handler takes as long again,
and the client sees its connection dropped (1006).

This is aiohttp's documented remedy ("Graceful shutdown"): the app keeps a
WeakSet of its open WebSockets (the GraphQL view adds each one as it opens, with
``track_websocket``) and an ``on_shutdown`` hook closes them all with 1001. Their
handlers then return at once, and the wait lasts only as long as the HTTP
requests in flight.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from aiohttp import WSCloseCode, web

log = logging.getLogger("chirp.http")

CLOSE_MESSAGE = b"server shutting down"


class OpenWebSockets:
    """The WebSockets an app has open; ``close_all`` is its ``on_shutdown`` hook."""

    def __init__(self, grace_seconds: float) -> None:
        self.grace_seconds = grace_seconds  # for a client to answer the close frame
        self._open: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._closing = False

    async def opened(self, ws: web.WebSocketResponse) -> None:
        if self._closing:  # its upgrade was under way when shutdown began
            await ws.close(code=WSCloseCode.GOING_AWAY, message=CLOSE_MESSAGE)
        else:
            self._open.add(ws)  # weak: a finished handler's socket drops out by itself

    async def close_all(self, app: web.Application) -> None:
        """Close every open WebSocket with 1001, all at once; a client that has not
        answered the close frame within the grace period is disconnected."""
        self._closing = True
        closing = [
            asyncio.ensure_future(ws.close(code=WSCloseCode.GOING_AWAY, message=CLOSE_MESSAGE))
            for ws in list(self._open)
            if not ws.closed
        ]
        if not closing:
            return
        log.info("shutting down: closing %d WebSocket(s) with 1001 (going away)", len(closing))
        _, late = await asyncio.wait(closing, timeout=self.grace_seconds)
        for task in late:
            task.cancel()  # aiohttp then closes the connection without waiting further
        await asyncio.gather(*late, return_exceptions=True)


WEBSOCKETS = web.AppKey("websockets", OpenWebSockets)


def close_websockets_on_shutdown(app: web.Application, grace_seconds: float) -> None:
    """Track ``app``'s WebSockets and close them first thing when it shuts down."""
    app[WEBSOCKETS] = websockets = OpenWebSockets(grace_seconds)
    app.on_shutdown.append(websockets.close_all)


async def track_websocket(request: web.Request, ws: web.WebSocketResponse) -> None:
    """Called by the view for each WebSocket it opens (a no-op in an app not tracking)."""
    websockets = request.app.get(WEBSOCKETS)
    if websockets is not None:
        await websockets.opened(ws)
