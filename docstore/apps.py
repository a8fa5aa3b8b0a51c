"""The apps port: applications registered by developers, found by their key's hash."""

from __future__ import annotations

from typing import Protocol

from core.models import AppRecord


class AppStore(Protocol):
    async def create_app(self, app: AppRecord) -> None: ...

    async def app_by_key_hash(self, key_hash: str) -> AppRecord | None:
        """The app holding this key, revoked or not (None: no such key)."""
        ...

    async def get_apps(self, ids: list[int]) -> dict[int, AppRecord]: ...

    async def apps_of(self, owner_id: int) -> list[AppRecord]:
        """The owner's apps that are not revoked, newest first."""
        ...

    async def revoke_app(self, app_id: int, owner_id: int, at_ms: int) -> bool:
        """Revoke the owner's app; False when it is not theirs, missing or revoked already."""
        ...

    async def open(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
