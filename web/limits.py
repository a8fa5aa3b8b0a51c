"""Rate limits on the wire: the client's address, the budget headers, 429 answers.

Headers on every GraphQL answer, for the budget the request was charged to:
``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset``
(epoch seconds when the budget is whole again, as GitHub sends it), and the
IETF draft's ``RateLimit-Policy: "user";q=15000;w=300`` and
``RateLimit: "user";r=14000;t=20`` (t: seconds until whole). An answer whose
errors include RATE_LIMITED is HTTP 429 with ``Retry-After`` (seconds).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence

from aiohttp import web

from resolvers.context import Context
from services.limits import Network, within

CONTEXT_KEY = web.ResponseKey("chirp.context", Context)


def client_ip(request: web.BaseRequest, trusted: Sequence[Network]) -> str:
    """The client's address: the peer's, or from X-Forwarded-For when the peer is trusted.

    X-Forwarded-For is read right to left, past every trusted proxy: the first
    address that is not one is the client (anything further left is the
    client's own claim and could be forged).
    """
    peer = request.remote or ""
    if not trusted or not within(peer, trusted):
        return peer
    hops = [h.strip() for h in ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")]
    for hop in reversed([h for h in hops if h]):
        if not within(hop, trusted):
            return hop
    return peer


def apply_limits(response: web.StreamResponse, response_data: Mapping[str, object]) -> None:
    """The budget headers, and 429 with Retry-After when a limit refused the request."""
    context = response.get(CONTEXT_KEY)
    if not isinstance(context, Context):
        return
    budget = context.budget
    if budget is not None:
        now = time.time()
        rule = budget.rule
        reset_in = max(0, math.ceil(budget.reset_at - now))
        response.headers["X-RateLimit-Limit"] = str(budget.limit)
        response.headers["X-RateLimit-Remaining"] = str(budget.remaining)
        response.headers["X-RateLimit-Reset"] = str(math.ceil(max(budget.reset_at, now)))
        response.headers["RateLimit-Policy"] = f'"{rule.name}";q={rule.limit};w={rule.period}'
        response.headers["RateLimit"] = f'"{rule.name}";r={budget.remaining};t={reset_in}'
    if context.retry_after is not None and _rate_limited(response_data):
        response.set_status(429)
        response.headers["Retry-After"] = str(max(1, math.ceil(context.retry_after)))


def _rate_limited(response_data: Mapping[str, object]) -> bool:
    errors = response_data.get("errors")
    return isinstance(errors, list) and any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "RATE_LIMITED"
        for e in errors
    )
