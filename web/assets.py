"""The browser bundles frontend/build.mjs makes, and the GraphiQL page that loads them.

``make frontend`` bundles GraphiQL from its npm packages into content-hashed files
in ``web/static/dist/`` and writes ``manifest.json`` there, naming each entry's
files. ``/static/dist/{file}`` serves those files (a hashed name never changes
content: cached for a year, immutable), and GET /graphql from a browser gets a
small page loading the ``graphiql`` entry's JS and CSS. Nothing is fetched from
another host. The folder sits inside the ``web`` package, so it is found from a
checkout and from an installed wheel (package data) alike.

Without a bundle (node was not there at build time) the page says so, and how
to build it, with status 503: the API itself works, only its browser IDE is
missing.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import NamedTuple

import orjson
from aiohttp import hdrs, web

STATIC = Path(__file__).resolve().parent / "static"
DIST = STATIC / "dist"
PREFIX = "/static/dist/"
MANIFEST = "manifest.json"
IMMUTABLE = "public, max-age=31536000, immutable"
NOT_BUILT_STATUS = 503
# What /static/dist/ serves, by extension; anything else there (the manifest, the
# .br and .gz twins FileResponse picks by Accept-Encoding) is 404.
CONTENT_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".ttf": "font/ttf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
# build.mjs's names: [name]-[hash].ext, the hash in esbuild's alphabet
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*-[A-Z0-9]{8}\.[a-z0-9]+")


class Bundle(NamedTuple):
    """One entry point of the manifest: its hashed files."""

    js: str
    css: str | None


class Bundles:
    """The manifest of a dist folder, read again whenever the file changes (so a
    ``make frontend`` while the server runs is picked up)."""

    def __init__(self, dist: Path | None = None) -> None:
        self.dist = dist if dist is not None else DIST
        self._seen: tuple[float, int] | None = None
        self._entries: dict[str, Bundle] = {}

    def entry(self, name: str) -> Bundle | None:
        """The entry ``name``'s files, or None when there is no usable bundle."""
        path = self.dist / MANIFEST
        try:
            stat = path.stat()
        except OSError:
            self._seen, self._entries = None, {}
            return None
        if self._seen != (stat.st_mtime, stat.st_size):
            self._entries = self._read(path)
            self._seen = (stat.st_mtime, stat.st_size)
        return self._entries.get(name)

    def _read(self, path: Path) -> dict[str, Bundle]:
        try:
            manifest = orjson.loads(path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        entries: dict[str, Bundle] = {}
        if not isinstance(manifest, dict):
            return entries
        for name, files in manifest.items():
            if not isinstance(files, dict):
                continue
            js, css = files.get("js"), files.get("css")
            if isinstance(js, str) and (self.dist / js).is_file():
                usable_css = isinstance(css, str) and (self.dist / css).is_file()
                entries[name] = Bundle(js, css if usable_css else None)
        return entries

    def file(self, name: str) -> Path | None:
        """The dist file a request names, or None: only build.mjs's hashed names of a
        served type, directly in the folder (no traversal)."""
        if not _FILE_NAME.fullmatch(name) or Path(name).suffix not in CONTENT_TYPES:
            return None
        path = self.dist / name
        return path if path.is_file() else None

    async def serve(self, request: web.Request) -> web.StreamResponse:
        path = self.file(request.match_info["file"])
        if path is None:
            raise web.HTTPNotFound()
        response = web.FileResponse(path)
        response.headers[hdrs.CONTENT_TYPE] = CONTENT_TYPES[path.suffix]
        response.headers[hdrs.CACHE_CONTROL] = IMMUTABLE
        return response


def add_static_routes(app: web.Application, bundles: Bundles) -> None:
    app.router.add_get(PREFIX + "{file}", bundles.serve)


def graphiql_page(bundle: Bundle) -> str:
    """The page GET /graphql gives a browser: GraphiQL's bundle, nothing inline."""
    css = f'<link rel="stylesheet" href="{PREFIX}{html.escape(bundle.css)}">' if bundle.css else ""
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chirp · GraphiQL</title>
{css}
<script type="module" src="{PREFIX}{html.escape(bundle.js)}"></script>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<noscript>GraphiQL needs JavaScript. The API itself answers POST /graphql.</noscript>
</body>
</html>
"""


NOT_BUILT_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Chirp · GraphiQL is not built</title>
</head>
<body>
<h1>GraphiQL is not built</h1>
<p>This server has no GraphiQL bundle (<code>web/static/dist/manifest.json</code> is
missing): it was installed or started without node, which builds it.</p>
<p>To build it, run <code>make frontend</code> in Chirp's repository (it installs node
and npm if needed, then runs <code>npm ci</code> in <code>frontend/</code> and
<code>node frontend/build.mjs</code>), then reload this page.</p>
<p>The API works without it: POST GraphQL requests to <code>/graphql</code>, e.g.</p>
<pre>curl -s http://127.0.0.1:8000/graphql -H 'Content-Type: application/json' \\
  -d '{"query": "{ __typename }"}'</pre>
</body>
</html>
"""
