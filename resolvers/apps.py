"""Resolvers for apps: register, revoke, list; an app's owner."""

from __future__ import annotations

from core.errors import ServiceUnavailable
from core.models import AppRecord, UserRecord
from resolvers.context import Context
from resolvers.ids import mutation_id
from services.apps import AppService


def _apps(ctx: Context) -> AppService:
    if ctx.services.apps is None:
        raise ServiceUnavailable("Apps are not configured on this server.")
    return ctx.services.apps


async def register_app(ctx: Context, name: str) -> tuple[AppRecord, str]:
    """The new app and its key, shown this once."""
    viewer_id = await ctx.require_viewer()
    return await _apps(ctx).register(viewer_id, name)


async def revoke_app(ctx: Context, raw_id: str) -> int:
    viewer_id = await ctx.require_viewer()
    return await _apps(ctx).revoke(viewer_id, mutation_id(raw_id, "id"))


async def apps(ctx: Context) -> list[AppRecord]:
    """The viewer's apps, newest first (private: only their owner sees them)."""
    return await _apps(ctx).apps_of(await ctx.require_viewer())


async def owner(ctx: Context, app: AppRecord) -> UserRecord | None:
    return await ctx.loaders.users.load(app.owner_id)
