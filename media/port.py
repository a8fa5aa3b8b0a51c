"""The object store port: media bytes, uploaded by clients straight to the store.

Keys: ``uploads/<media id>`` while an upload is pending, then
``media/<sha256 of the bytes><extension>`` once checked: a content-addressed,
immutable path the CDN may cache forever.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class UploadTarget:
    """Where and how a client sends the bytes."""

    url: str
    headers: dict[str, str]
    expires_at: datetime


@dataclass(frozen=True)
class ObjectInfo:
    size: int


class ObjectStore(Protocol):
    async def ensure_bucket(self) -> None:
        """Create the bucket (or folder) when missing."""
        ...

    async def upload_target(
        self, key: str, content_type: str, expires_at: datetime
    ) -> UploadTarget:
        """A URL the client may PUT the object's bytes to until ``expires_at``."""
        ...

    async def stat(self, key: str) -> ObjectInfo | None: ...

    def read(self, key: str, start: int = 0, length: int | None = None) -> AsyncIterator[bytes]:
        """The object's bytes from ``start``, ``length`` of them (None: to the end), in chunks."""
        ...

    async def put(self, key: str, data: AsyncIterator[bytes], size: int, content_type: str) -> None:
        """Store bytes under ``key`` (used for local uploads and copies)."""
        ...

    async def copy(self, source: str, target: str) -> None: ...

    async def delete(self, key: str) -> None:
        """Remove the object; harmless when it does not exist."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
