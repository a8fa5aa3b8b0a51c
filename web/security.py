"""Headers for browser clients: CORS for an allow-list of origins, and hardening everywhere.

Every answer carries ``X-Content-Type-Options: nosniff``, ``Referrer-Policy:
no-referrer`` and ``X-Frame-Options: DENY``; the GraphiQL page a strict
Content-Security-Policy (``graphiql_csp``). CORS: a request whose ``Origin``
is in ``CHIRP_CORS_ORIGINS`` gets ``Access-Control-Allow-Origin`` with that
origin (never ``*``, and no credentials: Chirp's tokens travel in headers, not
cookies), and its preflight (OPTIONS) the methods and headers the API reads;
any other origin gets no CORS header, so browsers keep its pages out. The same
list lets those pages open the WebSocket.
"""

from __future__ import annotations

import base64
import hashlib
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
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
# Where strawberry's GraphiQL page loads React and GraphiQL from (until Chirp bundles them).
GRAPHIQL_ASSETS = "https://unpkg.com"


def parse_origins(text: str) -> frozenset[str]:
    return frozenset(o.strip().rstrip("/") for o in text.split(",") if o.strip())


def graphiql_csp(html: str) -> str:
    """A policy for the GraphiQL page: its own inline script by hash, assets from their host."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body.encode()).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src {hashes} {GRAPHIQL_ASSETS}",
            f"style-src 'unsafe-inline' {GRAPHIQL_ASSETS}",  # GraphiQL styles at run time
            f"font-src data: {GRAPHIQL_ASSETS}",
            f"img-src 'self' data: {GRAPHIQL_ASSETS}",
            "connect-src 'self' ws: wss:",
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
