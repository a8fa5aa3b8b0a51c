"""The attachments port: media records and short links, the things tweets point at."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.models import MediaRecord


class AttachmentStore(Protocol):
    async def create_media(self, media: MediaRecord) -> None: ...

    async def get_media(self, ids: Sequence[int]) -> dict[int, MediaRecord]: ...

    async def complete_media(
        self, media_id: int, key: str, width: int | None, height: int | None
    ) -> MediaRecord | None:
        """Mark a PENDING media READY at ``key``; returns it as stored now (None if missing)."""
        ...

    async def attach_media(self, ids: Sequence[int]) -> None:
        """Record that tweets use these media (the sweep then keeps them)."""
        ...

    async def stale_media(self, created_before_ms: int, limit: int) -> list[MediaRecord]:
        """Media created before the time and never attached to a tweet, oldest first."""
        ...

    async def delete_media(self, ids: Sequence[int]) -> None: ...

    async def put_links(self, links: Sequence[tuple[str, str]]) -> None:
        """Store (code, URL) pairs; a code always keeps its first URL."""
        ...

    async def get_links(self, codes: Sequence[str]) -> dict[str, str]: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
