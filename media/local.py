"""The embedded object store: files in a local folder, uploads through the app itself.

Upload URLs point at the app's ``PUT /uploads/<name>`` route and carry an
expiry and an HMAC signature over (key, expiry, content type): as unguessable
and as short-lived as an S3 presigned URL, and refused when tampered with.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from media.port import ObjectInfo, UploadTarget

CHUNK = 256 * 1024


def _partial(path: Path) -> Path:
    """A temporary file beside ``path``, unique per write (two writes may run at once)."""
    return path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.part")


class LocalObjectStore:
    def __init__(self, root: Path, public_url: str, secret: str) -> None:
        self.root = root
        self.public_url = public_url.rstrip("/")
        self._secret = secret.encode()

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"object key {key!r} leaves the media folder")
        return path

    async def ensure_bucket(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    async def open(self) -> None:
        await self.ensure_bucket()

    async def ping(self) -> None:
        if not await asyncio.to_thread(self.root.is_dir):
            raise FileNotFoundError(f"media folder {self.root} is missing")

    async def close(self) -> None:
        """Nothing to release."""

    def signature(self, key: str, expires: int, content_type: str) -> str:
        message = f"{key}\n{expires}\n{content_type}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def check_signature(self, key: str, expires: int, content_type: str, signature: str) -> bool:
        return hmac.compare_digest(self.signature(key, expires, content_type), signature)

    async def upload_target(
        self, key: str, content_type: str, expires_at: datetime
    ) -> UploadTarget:
        expires = int(expires_at.timestamp())
        name = key.removeprefix("uploads/")
        signature = self.signature(key, expires, content_type)
        url = f"{self.public_url}/uploads/{quote(name)}?expires={expires}&signature={signature}"
        return UploadTarget(url, {"Content-Type": content_type}, expires_at)

    async def stat(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        try:
            size = (await asyncio.to_thread(path.stat)).st_size
        except FileNotFoundError:
            return None
        return ObjectInfo(size)

    async def read(
        self, key: str, start: int = 0, length: int | None = None
    ) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(self._path(key).open, "rb")
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = length
            while remaining is None or remaining > 0:
                size = CHUNK if remaining is None else min(CHUNK, remaining)
                chunk = await asyncio.to_thread(handle.read, size)
                if not chunk:
                    break
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(handle.close)

    async def put(self, key: str, data: AsyncIterator[bytes], size: int, content_type: str) -> None:
        path = self._path(key)
        await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
        partial = _partial(path)
        handle = await asyncio.to_thread(partial.open, "wb")
        try:
            async for chunk in data:
                await asyncio.to_thread(handle.write, chunk)
            await asyncio.to_thread(handle.close)
            await asyncio.to_thread(os.replace, partial, path)  # whole or nothing
        except BaseException:
            await asyncio.to_thread(handle.close)
            await asyncio.to_thread(partial.unlink, True)
            raise

    async def copy(self, source: str, target: str) -> None:
        src, dst = self._path(source), self._path(target)
        await asyncio.to_thread(dst.parent.mkdir, parents=True, exist_ok=True)
        partial = _partial(dst)
        await asyncio.to_thread(shutil.copyfile, src, partial)
        await asyncio.to_thread(os.replace, partial, dst)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, True)
