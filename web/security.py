"""Headers for browser clients: CORS for an allow-list of origins, and hardening everywhere.

Every answer carries ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
no-referrer`` and ``X-Frame-Options: DENY``; the GraphiQL page a strict
Content-Security-Policy (``graphiql_csp``: its bundle comes from this server alone). CORS: a request whose ``Origin``
is in ``CHIRP_CORS_ORIGINS`` gets ``Access-Control-Allow-Origin`` with that
origin (never ``*``, and no credentials: Chirp's tokens travel in headers, not
cookies), and its preflight (OPTIONS) the methods and headers the API reads;
any other origin gets no CORS header, so browsers keep its pages out. The same
list lets those pages open the WebSocket.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Collection

from aiohttp import hdrs, web
from aiohttp.typedefs import Middleware

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ALLOWED_HEADERS = "Authorization, Content-Type, Accept, X-Api-Key, Idempotency-Key"
EXPOSED_HEADERS = (
    "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, RateLimit, "
    "RateLimit-Policy, Retry-After"
)
HARDENING = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# A Host header that can be named in a policy (a name or address, and a port)
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def parse_origins(text: str) -> frozenset[str]:
    return frozenset(o.strip().rstrip("/") for o in text.split(",") if o.strip())


def graphiql_csp(host: str | None = None) -> str:
    """The policy of the GraphiQL page (web/assets.py): scripts, workers, styles and
    fonts from this server only, no inline script and no eval. Styles may also be
    inline: Monaco (GraphiQL's editor) and React set style attributes and add
    ``<style>`` elements as they run; its fonts are ``data:`` URLs in its CSS.
    Requests go to this server only: HTTP, and the WebSocket of subscriptions on
    ``host`` (``'self'`` covers ws: only in some browsers)."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.fullmatch(host) else ""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "worker-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            "font-src 'self' data:",
            "img-src 'self' data:",
            f"connect-src 'self'{sockets}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def security_middleware(origins: Collection[str]) -> Middleware:
    allowed = frozenset(origins)

    @web.middleware
    async def security(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get(hdrs.ORIGIN)
        cors = origin is not None and origin.rstrip("/") in allowed
        if (
            cors
            and request.method == hdrs.METH_OPTIONS
            and hdrs.ACCESS_CONTROL_REQUEST_METHOD in request.headers
        ):
            response: web.StreamResponse = web.Response(status=204)
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = "GET, POST, OPTIONS"
            response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = ALLOWED_HEADERS
            response.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = "600"
        else:
            response = await handler(request)
        if not response.prepared:  # a WebSocket or a stream has sent its headers already
            for name, value in HARDENING.items():
                response.headers.setdefault(name, value)
            if cors and origin is not None:
                response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
                response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = EXPOSED_HEADERS
            if allowed:
                vary = response.headers.get(hdrs.VARY)
                response.headers[hdrs.VARY] = f"{vary}, Origin" if vary else "Origin"
        return response

    return security
