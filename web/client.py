"""The web client's pages: the HTML shell of frontend/client/, and link previews.

Chirp ships a small web client (``frontend/client/``, bundled by build.mjs as the
``client`` entry): an example of an app built on the public GraphQL API alone.
The server's part is the page that loads it, at every address the client has:

    /                        the home timeline (or the sign-in form)
    /login, /signup          signing in
    /notifications           the viewer's notifications
    /search?q=...            tweets and people
    /<handle>                a profile
    /<handle>/status/<id>    a tweet (``Tweet.url``), its thread and replies

Every one answers the same shell (a title, ``<div id="root">``, the bundle's hashed
JS and CSS, nothing inline) under a strict Content-Security-Policy
(``client_csp``); the client reads the address and asks the API for the rest. A
profile and a tweet are also previews for crawlers, which run no script: the
server renders their Open Graph and Twitter card tags (the author, the text, the
first photo), read through the services as the API reads them, HTML-escaped.

An unknown handle or tweet (or a deleted one) answers 404, still with the shell:
the client shows "not found". A tweet under another handle than its author's
(``/bob/status/<alice's tweet>``, or a handle renamed since) is redirected (301)
to its canonical URL, and a retweet's URL to the tweet it shares (302): a link
preview always shows the tweet itself. Without a bundle (node was missing at
build time) every page says how to build it, with 503, like GraphiQL's.

The server's own first path segments (``/graphql``, ``/static/``, ``/l/``...) are
never handles: sign-up refuses them (``core.text.RESERVED_HANDLES``, the error
HANDLE_RESERVED), and this module answers 404 for them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from typing import NamedTuple
from urllib.parse import urlsplit

from aiohttp import hdrs, web

from core.models import TweetRecord, UserRecord
from core.text import HANDLE_RE, RESERVED_HANDLES
from services.container import Services
from web.assets import PREFIX, Bundle, Bundles

ENTRY = "client"
APP_NAME = "Chirp"
PAGES = ("/", "/login", "/signup", "/notifications", "/search")
HANDLE = r"{handle:[A-Za-z0-9_]{1,15}}"
TWEET_ID = r"{tweet_id:[0-9]{1,19}}"
MAX_ID = 2**63 - 1
DESCRIPTION_LIMIT = 300  # characters of a bio or text in a preview (a tweet fits whole)
# An origin that can be named in a policy: scheme, host and port, nothing else
_ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?"
)
_HOST = re.compile(r"[A-Za-z0-9.\-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


class Preview(NamedTuple):
    """What a page says about itself before any script runs."""

    title: str
    meta: Sequence[tuple[str, str]] = ()  # (property or name, content)
    status: int = 200


def client_csp(host: str | None, media_origin: str | None = None) -> str:
    """The web client's policy: its script and stylesheet from this server only, no inline
    script or style, no eval. Requests go to this server (HTTP, and the WebSocket of
    subscriptions on ``host``); images and videos come from here or from the media
    CDN's origin (``CDN_BASE_URL``), when it is another."""
    sockets = f" ws://{host} wss://{host}" if host and _HOST.fullmatch(host) else ""
    media = f" {media_origin}" if media_origin and _ORIGIN.fullmatch(media_origin) else ""
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src 'self' data:{media}",
            f"media-src 'self'{media}",
            f"connect-src 'self'{sockets}",
            "manifest-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def _origin(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def _shorten(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def client_page(bundle: Bundle | None, preview: Preview) -> str:
    """The shell: the preview's title and tags, then the bundle (or how to build it)."""
    e = html.escape
    tags = "".join(
        f'<meta {"property" if key.startswith("og:") else "name"}="{e(key)}" '
        f'content="{e(value)}">\n'
        for key, value in preview.meta
    )
    if bundle is None:
        assets = ""
        body = (
            "<main>\n<h1>The web client is not built</h1>\n"
            "<p>This server has no web client bundle (<code>web/static/dist/manifest.json</code>"
            " has no <code>client</code> entry): it was installed or started without node, "
            "which builds it.</p>\n<p>To build it, run <code>make frontend</code> in Chirp's "
            "repository, then reload this page. The API works without it: GraphQL at "
            '<a href="/graphql">/graphql</a>.</p>\n</main>'
        )
    else:
        css = f'<link rel="stylesheet" href="{PREFIX}{e(bundle.css)}">\n' if bundle.css else ""
        assets = f'{css}<script type="module" src="{PREFIX}{e(bundle.js)}"></script>\n'
        body = (
            '<div id="root"><p class="boot">Loading Chirp…</p></div>\n'
            "<noscript>Chirp's web client needs JavaScript. "
            'The API itself answers at <a href="/graphql">/graphql</a>.</noscript>'
        )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(preview.title)}</title>
{tags}{assets}</head>
<body>
{body}
</body>
</html>
"""


def tweet_url(public_url: str, handle: str, tweet_id: int) -> str:
    return f"{public_url}/{handle}/status/{tweet_id}"


def profile_url(public_url: str, handle: str) -> str:
    return f"{public_url}/{handle}"


NOT_FOUND = Preview(f"Not found · {APP_NAME}", (), 404)


def add_client_routes(
    app: web.Application, services: Callable[[], Services], bundles: Bundles
) -> None:
    """The web client's addresses. Register them after the server's own routes: a
    handle route never takes a path another route answers (aiohttp tries the fixed
    paths first, and those names are reserved handles anyway)."""

    def respond(request: web.Request, preview: Preview) -> web.Response:
        bundle = bundles.entry(ENTRY)
        status = preview.status if preview.status != 200 or bundle else 503
        response = web.Response(
            text=client_page(bundle, preview), status=status, content_type="text/html"
        )
        media = services().media
        media_origin = _origin(media.media_base_url) if media is not None else None
        response.headers["Content-Security-Policy"] = client_csp(request.host, media_origin)
        response.headers[hdrs.CACHE_CONTROL] = "no-cache"  # names this build's files
        return response

    async def user_named(handle: str) -> UserRecord | None:
        if handle.lower() in RESERVED_HANDLES or not HANDLE_RE.fullmatch(handle):
            return None
        found = await services().accounts.users_by_handles([handle.lower()])
        return found.get(handle.lower())

    async def page(request: web.Request) -> web.Response:
        return respond(request, Preview(APP_NAME))

    async def profile(request: web.Request) -> web.Response:
        user = await user_named(request.match_info["handle"])
        if user is None:
            return respond(request, NOT_FOUND)
        current = services()
        url = profile_url(current.public_url, user.handle)
        title = f"{user.display_name} (@{user.handle})"
        description = _shorten(user.bio) if user.bio else f"@{user.handle} on {APP_NAME}"
        meta = [
            ("og:site_name", APP_NAME),
            ("og:type", "profile"),
            ("og:title", title),
            ("og:description", description),
            ("og:url", url),
            ("profile:username", user.handle),
            ("twitter:card", "summary"),
            ("description", description),
        ]
        return respond(request, Preview(f"{title} · {APP_NAME}", meta))

    async def first_photo(tweet: TweetRecord) -> str | None:
        media = services().media
        if media is None or not tweet.media_ids:
            return None
        records = await media.get(tweet.media_ids)
        for media_id in tweet.media_ids:
            record = records.get(media_id)
            if record is not None and record.kind == "PHOTO" and record.key:
                return media.url(record)
        return None

    async def status(request: web.Request) -> web.Response:
        handle = request.match_info["handle"]
        tweet_id = int(request.match_info["tweet_id"])
        if tweet_id > MAX_ID or handle.lower() in RESERVED_HANDLES:
            return respond(request, NOT_FOUND)
        current = services()
        tweet = (await current.tweets.get([tweet_id])).get(tweet_id)
        if tweet is None:
            return respond(request, NOT_FOUND)
        authors = await current.accounts.users([tweet.author_id])
        author = authors.get(tweet.author_id)
        if author is None:
            return respond(request, NOT_FOUND)
        if tweet.retweet_of_id is not None:
            original = (await current.tweets.get([tweet.retweet_of_id])).get(tweet.retweet_of_id)
            original_author = (
                (await current.accounts.users([original.author_id])).get(original.author_id)
                if original is not None
                else None
            )
            if original is None or original_author is None:
                return respond(request, NOT_FOUND)
            raise web.HTTPFound(tweet_url("", original_author.handle, original.id))
        if handle.lower() != author.handle_lower:
            raise web.HTTPMovedPermanently(tweet_url("", author.handle, tweet.id))
        url = tweet_url(current.public_url, author.handle, tweet.id)
        title = f"{author.display_name} (@{author.handle})"
        text = _shorten(tweet.text)
        photo = await first_photo(tweet)
        meta = [
            ("og:site_name", APP_NAME),
            ("og:type", "article"),
            ("og:title", title),
            ("og:description", text),
            ("og:url", url),
        ]
        if photo:
            meta.append(("og:image", photo))
        meta += [
            ("twitter:card", "summary_large_image" if photo else "summary"),
            ("description", text),
        ]
        return respond(request, Preview(f'{author.display_name} on {APP_NAME}: "{text}"', meta))

    for path in PAGES:
        app.router.add_get(path, page)
    app.router.add_get(f"/{HANDLE}", profile)
    app.router.add_get(f"/{HANDLE}/status/{TWEET_ID}", status)
