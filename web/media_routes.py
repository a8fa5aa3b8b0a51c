"""Media and link routes: the CDN's origin, the embedded upload target, short links.

GET/HEAD /media/<sha256>.<ext>   the origin a pull CDN caches from: immutable
                                 caching, a strong ETag (the content hash),
                                 304 for If-None-Match, single byte ranges (206)
PUT /uploads/<media id>?...      the embedded store's signed upload URL
GET /l/<code>                    301 to the URL a short link stands for
"""

from __future__ import annotations

import re
from collections.abc import Callable

from aiohttp import web

from media.inspect import CONTENT_TYPES
from media.local import LocalObjectStore
from services.container import Services
from services.media import MEDIA_NAME, UploadRefused
from web.view import error_response

IMMUTABLE = "public, max-age=31536000, immutable"
RANGE = re.compile(r"bytes=(\d*)-(\d*)", re.IGNORECASE)
UNSATISFIABLE = (-1, -1)


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a single byte range; UNSATISFIABLE when no byte of the
    object is in it; None when the header is not one valid range, which the server may
    ignore (RFC 9110 section 14.2): the whole object is sent then."""
    match = RANGE.fullmatch(header.strip())
    if match is None:  # another unit, several ranges, bad syntax
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0:
            return UNSATISFIABLE
        return max(size - length, 0), size - 1
    start = int(first)
    if last and int(last) < start:  # invalid, not unsatisfiable
        return None
    end = min(int(last), size - 1) if last else size - 1
    if start >= size:
        return UNSATISFIABLE
    return start, end


def _etag_matches(header: str, etag: str) -> bool:
    """If-None-Match uses the weak comparison: W/"x" matches "x"; * matches anything."""
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in [t.removeprefix("W/") for t in tags]


def add_media_routes(app: web.Application, services: Callable[[], Services]) -> None:
    async def origin(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        media = services().media
        if media is None or not MEDIA_NAME.fullmatch(name):
            return error_response(404, "No such media.", "NOT_FOUND")
        key = f"media/{name}"
        info = await media.objects.stat(key)
        if info is None:
            return error_response(404, "No such media.", "NOT_FOUND")
        etag = f'"{name.split(".")[0]}"'
        headers = {
            "Cache-Control": IMMUTABLE,
            "ETag": etag,
            "Accept-Ranges": "bytes",
            "Content-Type": CONTENT_TYPES["." + name.rsplit(".", 1)[1]],
        }
        if _etag_matches(request.headers.get("If-None-Match", ""), etag):
            return web.Response(status=304, headers=headers)
        start, end, status = 0, info.size - 1, 200
        if "Range" in request.headers and info.size > 0:
            wanted = _byte_range(request.headers["Range"], info.size)
            if wanted == UNSATISFIABLE:
                headers["Content-Range"] = f"bytes */{info.size}"
                return web.Response(status=416, headers=headers)
            if wanted is not None:
                start, end = wanted
                status = 206
                headers["Content-Range"] = f"bytes {start}-{end}/{info.size}"
        length = end - start + 1 if info.size else 0
        headers["Content-Length"] = str(length)
        response = web.StreamResponse(status=status, headers=headers)
        await response.prepare(request)
        if request.method != "HEAD" and length:
            async for chunk in media.objects.read(key, start, length):
                await response.write(chunk)
        await response.write_eof()
        return response

    async def upload(request: web.Request) -> web.StreamResponse:
        media = services().media
        if media is None or not isinstance(media.objects, LocalObjectStore):
            return error_response(404, "Uploads go to the object store's own URL.", "NOT_FOUND")
        try:
            await media.receive_upload(
                request.match_info["name"],
                request.query.get("expires", ""),
                request.query.get("signature", ""),
                request.headers.get("Content-Type"),
                request.content_length,
                request.content.iter_chunked(256 * 1024),
                media.objects.check_signature,
            )
        except UploadRefused as refused:
            codes = {
                403: "FORBIDDEN",
                409: "CONFLICT",
                413: "PAYLOAD_TOO_LARGE",
                400: "BAD_REQUEST",
            }
            return error_response(refused.status, refused.message, codes.get(refused.status))
        return web.Response(status=200)

    async def short_link(request: web.Request) -> web.StreamResponse:
        links = services().links
        url = await links.expand(request.match_info["code"]) if links else None
        if url is None:
            return error_response(404, "No such link.", "NOT_FOUND")
        raise web.HTTPMovedPermanently(url)

    app.router.add_route("GET", "/media/{name}", origin)
    app.router.add_route("HEAD", "/media/{name}", origin)
    app.router.add_route("PUT", "/uploads/{name}", upload)
    app.router.add_get("/l/{code}", short_link)
