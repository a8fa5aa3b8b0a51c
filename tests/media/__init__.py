"""Media tests: real image files made with Pillow, and the upload flow as a client runs it.

Helpers shared by the modules of this package: files of each accepted kind,
and ``MediaApp``, which drives createMediaUpload, the HTTP PUT of the bytes
(to the app's own signed route on the embedded default, or to the presigned
URL of the S3 store) and completeMediaUpload.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest
from PIL import Image

from app import SERVICES_KEY
from services.container import Services
from services.media import MediaService
from tests.backends import S3Target, drop_bucket, fresh_bucket
from tests.conftest import AppFactory, GraphQLClient

PUBLIC_URL = "https://chirp.test"  # the public URL of the tests' settings fixture

MEDIA_FIELDS = "id kind contentType sizeBytes width height url"
CREATE_UPLOAD = f"""mutation($input: CreateMediaUploadInput!) {{
  createMediaUpload(input: $input) {{
    upload {{ media {{ {MEDIA_FIELDS} }} uploadUrl headers {{ name value }} expiresAt }}
    errors {{ code message field }}
  }}
}}"""
COMPLETE = f"""mutation($id: ID!) {{
  completeMediaUpload(mediaId: $id) {{ media {{ {MEDIA_FIELDS} }} errors {{ code message field }} }}
}}"""
CREATE_TWEET = f"""mutation($text: String!, $mediaIds: [ID!]) {{
  createTweet(input: {{text: $text, mediaIds: $mediaIds}}) {{
    tweet {{ id text media {{ {MEDIA_FIELDS} }} links {{ shortUrl expandedUrl displayUrl }} }}
    errors {{ code message field }}
  }}
}}"""
NODE = f"""query($id: ID!) {{
  node(id: $id) {{ __typename id ... on Media {{ {MEDIA_FIELDS} }} }}
}}"""


# --- files ----------------------------------------------------------------------------


def image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (64, 48), noise: bool = False, **options: Any
) -> bytes:
    """An RGB image in Pillow format ``fmt``: a gradient, or random pixels (incompressible)."""
    width, height = size
    if noise:
        pixels = random.Random(f"{fmt}{size}").randbytes(width * height * 3)
        image = Image.frombytes("RGB", size, pixels)
    else:
        image = Image.linear_gradient("L").resize(size).convert("RGB")
    if fmt == "GIF":
        image = image.convert("P")
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def animated_gif(size: tuple[int, int] = (40, 30), frames: int = 3) -> bytes:
    first = Image.linear_gradient("L").resize(size).convert("P")
    rest = [first.rotate(30 * (n + 1)) for n in range(frames - 1)]
    out = io.BytesIO()
    first.save(out, "GIF", save_all=True, append_images=rest, loop=0, duration=80)
    return out.getvalue()


def mp4_bytes(payload: int = 2000, brand: bytes = b"isom") -> bytes:
    """A minimal MP4 as the sniffer sees it: an ``ftyp`` box, then an ``mdat`` box."""
    ftyp = b"ftyp" + brand + b"\x00\x00\x02\x00" + brand + b"iso2avc1mp41"
    mdat = b"mdat" + random.Random(payload).randbytes(payload)
    return (len(ftyp) + 4).to_bytes(4, "big") + ftyp + (len(mdat) + 4).to_bytes(4, "big") + mdat


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the flow over HTTP -----------------------------------------------------------------


@dataclass
class MediaApp:
    """A client of an app, and where its media bytes go: "embedded" or "minio"."""

    gql: GraphQLClient
    backend: str

    @property
    def services(self) -> Services:
        services: Services = self.gql.http.app[SERVICES_KEY]
        return services

    @property
    def media(self) -> MediaService:
        assert self.services.media is not None
        return self.services.media

    async def create_upload(self, token: str, content_type: str, size: int) -> dict[str, Any]:
        """The createMediaUpload payload (upload and errors)."""
        data = await self.gql.ok(
            CREATE_UPLOAD, {"input": {"contentType": content_type, "sizeBytes": size}}, token
        )
        payload: dict[str, Any] = data["createMediaUpload"]
        return payload

    async def put(
        self,
        upload: dict[str, Any],
        data: bytes,
        headers: dict[str, str] | None = None,
        url: str | None = None,
    ) -> tuple[int, str]:
        """PUT ``data`` to the upload URL with the headers it came with (or ``headers``)."""
        sent = (
            headers if headers is not None else {h["name"]: h["value"] for h in upload["headers"]}
        )
        target = url or upload["uploadUrl"]
        if target.startswith(PUBLIC_URL + "/"):  # the app's own route: through the test client
            parts = urlsplit(target)
            response = await self.gql.http.put(
                f"{parts.path}?{parts.query}", data=data, headers=sent
            )
            return response.status, await response.text()
        async with (
            aiohttp.ClientSession() as session,
            session.put(target, data=data, headers=sent) as s3_response,
        ):
            return s3_response.status, await s3_response.text()

    async def complete(self, token: str, media_id: str) -> dict[str, Any]:
        """The completeMediaUpload payload (media and errors)."""
        data = await self.gql.ok(COMPLETE, {"id": media_id}, token)
        payload: dict[str, Any] = data["completeMediaUpload"]
        return payload

    async def upload(
        self, token: str, data: bytes, content_type: str = "image/png"
    ) -> dict[str, Any]:
        """Create, PUT and complete: the READY media."""
        created = await self.create_upload(token, content_type, len(data))
        assert created["errors"] == [], created["errors"]
        status, body = await self.put(created["upload"], data)
        assert status == 200, body
        completed = await self.complete(token, created["upload"]["media"]["id"])
        assert completed["errors"] == [], completed["errors"]
        media: dict[str, Any] = completed["media"]
        return media

    async def tweet(
        self, token: str, text: str, media_ids: list[str] | None = None
    ) -> dict[str, Any]:
        """The createTweet payload (tweet and errors)."""
        data = await self.gql.ok(CREATE_TWEET, {"text": text, "mediaIds": media_ids}, token)
        payload: dict[str, Any] = data["createTweet"]
        return payload

    async def node(self, node_id: str, token: str | None = None) -> dict[str, Any] | None:
        data = await self.gql.ok(NODE, {"id": node_id}, token)
        found: dict[str, Any] | None = data["node"]
        return found

    async def get(self, url: str, headers: dict[str, str] | None = None) -> aiohttp.ClientResponse:
        """GET a media URL of this app from its origin route (the read body is kept)."""
        assert url.startswith(PUBLIC_URL + "/media/"), url
        response = await self.gql.http.get(url.removeprefix(PUBLIC_URL), headers=headers)
        await response.read()
        return response


@asynccontextmanager
async def media_app(
    request: pytest.FixtureRequest, make_client: AppFactory, backend: str, **settings: Any
) -> AsyncIterator[MediaApp]:
    """A fresh app whose media bytes go to ``backend``: "embedded" (a folder, the app's own
    upload route) or "minio" (S3, presigned URLs; a bucket of its own, dropped afterwards)."""
    if backend == "embedded":
        yield MediaApp(await make_client(**settings), backend)
        return
    target: S3Target = request.getfixturevalue("s3_target")
    bucket = fresh_bucket()
    try:
        yield MediaApp(await make_client(**target.settings(bucket), **settings), backend)
    finally:
        await asyncio.to_thread(drop_bucket, target.client(), bucket)
