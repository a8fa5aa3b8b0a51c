"""Apps and their API keys (the design brief's api_dev_key).

A key is 256 random bits, shown once when the app is registered and kept
only as its SHA-256 hash (a key is random, so a fast hash is as safe as a
slow one, and a request's lookup stays cheap). Keys start with ``chirp_`` so
that they stand out in logs and secret scanners. Every request that sends a
key looks it up, so a revocation takes effect on the next request, on every
instance.
"""

from __future__ import annotations

import hashlib
import secrets
import time

from core.errors import UserError
from core.ids import SnowflakeGenerator
from core.models import AppRecord
from core.text import validate_app_name
from docstore.apps import AppStore

KEY_PREFIX = "chirp_"
MAX_APPS_PER_USER = 25


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class InvalidApiKey(Exception):
    """A key that names no app, or a revoked one."""


class AppService:
    def __init__(self, apps: AppStore, ids: SnowflakeGenerator, quota_per_hour: int) -> None:
        self.apps = apps
        self.ids = ids
        self.quota_per_hour = quota_per_hour

    async def register(self, owner_id: int, name: str) -> tuple[AppRecord, str]:
        """A new app of ``owner_id`` and its key (the only time the key is known)."""
        clean = validate_app_name(name)
        if len(await self.apps.apps_of(owner_id)) >= MAX_APPS_PER_USER:
            raise UserError(
                "LIMIT_REACHED", f"An account may hold {MAX_APPS_PER_USER} apps.", "name"
            )
        key = KEY_PREFIX + secrets.token_urlsafe(32)
        app = AppRecord(
            id=self.ids.next_id(),
            owner_id=owner_id,
            name=clean,
            key_hash=key_hash(key),
            created_at_ms=int(time.time() * 1000),
            quota_per_hour=self.quota_per_hour,
        )
        await self.apps.create_app(app)
        return app, key

    async def revoke(self, owner_id: int, app_id: int) -> int:
        """Revoke the owner's app: FORBIDDEN for another user's, NOT_FOUND when missing or
        revoked already (as deleting a tweet answers)."""
        found = (await self.apps.get_apps([app_id])).get(app_id)
        if found is None or found.revoked_at_ms is not None:
            raise UserError("NOT_FOUND", "No such app.", "id")
        if found.owner_id != owner_id:
            raise UserError("FORBIDDEN", "Only the app's owner can revoke it.", "id")
        if not await self.apps.revoke_app(app_id, owner_id, int(time.time() * 1000)):
            raise UserError("NOT_FOUND", "No such app.", "id")  # revoked meanwhile
        return app_id

    async def apps_of(self, owner_id: int) -> list[AppRecord]:
        return await self.apps.apps_of(owner_id)

    async def get(self, ids: list[int]) -> dict[int, AppRecord]:
        return await self.apps.get_apps(ids)

    async def identify(self, key: str) -> AppRecord:
        """The live app holding ``key`` (InvalidApiKey otherwise)."""
        if not key.startswith(KEY_PREFIX) or len(key) > 100:
            raise InvalidApiKey
        app = await self.apps.app_by_key_hash(key_hash(key))
        if app is None or app.revoked_at_ms is not None:
            raise InvalidApiKey
        return app
