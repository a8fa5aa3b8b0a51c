"""The physical floor: what aiohttp on uvloop can serve on one core, the page from memory.

A bare aiohttp handler on the same event loop as the app (uvloop) that reads the
request, parses its JSON body and answers with the home page's JSON bytes, captured
once at start from a running Chirp server (the GraphQL answer to
``bench.scenarios.HOME_QUERY`` for the first token of ``--tokens``). No token
check, no store, no GraphQL: the cost of HTTP alone, the ceiling any home page
served through aiohttp on one core stays under.

    python -m bench.physical_floor --port PORT --capture http://HOST:PORT/graphql --tokens FILE
"""

from __future__ import annotations

import argparse
import sys
import urllib.request
from collections.abc import Sequence

import orjson
from aiohttp import web

from app import new_event_loop, settle_heap

BODY = web.AppKey("body", bytes)


def capture(url: str, token: str, query: str) -> bytes:
    """The raw bytes of the server's answer to ``query`` as ``token``'s bearer."""
    request = urllib.request.Request(
        url,
        data=orjson.dumps({"query": query}),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        body: bytes = answer.read()
    if b'"errors"' in body[:20] or not body.startswith(b'{"data"'):
        raise RuntimeError(f"{url} answered with no page: {body[:300]!r}")
    return body


async def home(request: web.Request) -> web.Response:
    """Read and parse the request as the app does, then answer with the captured page."""
    if not request.headers.get("Authorization", "").startswith("Bearer "):
        return web.json_response({"error": "unauthenticated"}, status=401)
    payload = orjson.loads(await request.read())
    if not isinstance(payload, dict) or "query" not in payload:
        return web.json_response({"error": "no query"}, status=400)
    return web.Response(body=request.app[BODY], content_type="application/json")


async def healthz(_: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(body: bytes) -> web.Application:
    app = web.Application()
    app[BODY] = body
    app.router.add_post("/graphql", home)  # the bench's wrk script posts here
    app.router.add_post("/home", home)
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(settle_heap)  # the app server's collector settings
    return app


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    from bench.scenarios import HOME_QUERY

    parser = argparse.ArgumentParser(prog="python -m bench.physical_floor", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--capture", required=True, help="the Chirp /graphql URL to capture from")
    parser.add_argument("--tokens", required=True, help="a file of bearer tokens (first is used)")
    parser.add_argument("--query", default=HOME_QUERY)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with open(args.tokens) as tokens:
        token = tokens.read().split()[0]
    app = create_app(capture(args.capture, token, args.query))
    web.run_app(
        app, host=args.host, port=args.port, print=None, access_log=None, loop=new_event_loop()
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
