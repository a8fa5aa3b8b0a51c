"""Resolvers for blocks and mutes: the mutations, the viewer's lists and the user flags."""

from __future__ import annotations

from core.models import UserRecord
from resolvers.context import Context
from resolvers.ids import mutation_id
from resolvers.pagination import Page, decode_cursor, page_size
from resolvers.social import edge_page, pair
from services.relations import RelationService


def _service(ctx: Context) -> RelationService:
    relations = ctx.services.relations
    if relations is None:
        raise RuntimeError("blocks and mutes are not configured")
    return relations


async def block_user(ctx: Context, raw_user_id: str) -> UserRecord:
    viewer_id = await ctx.require_viewer()
    return await _service(ctx).block(viewer_id, mutation_id(raw_user_id, "userId"))


async def unblock_user(ctx: Context, raw_user_id: str) -> UserRecord:
    viewer_id = await ctx.require_viewer()
    return await _service(ctx).unblock(viewer_id, mutation_id(raw_user_id, "userId"))


async def mute_user(
    ctx: Context, raw_user_id: str, hide_notifications: bool, duration_seconds: int | None
) -> UserRecord:
    viewer_id = await ctx.require_viewer()
    user_id = mutation_id(raw_user_id, "userId")
    return await _service(ctx).mute(viewer_id, user_id, hide_notifications, duration_seconds)


async def unmute_user(ctx: Context, raw_user_id: str) -> UserRecord:
    viewer_id = await ctx.require_viewer()
    return await _service(ctx).unmute(viewer_id, mutation_id(raw_user_id, "userId"))


async def blocked_users(ctx: Context, first: int | None, after: str | None) -> Page[UserRecord]:
    viewer_id = await ctx.require_viewer()
    limit = page_size(first)
    edges = await _service(ctx).blocked(viewer_id, limit + 1, pair(decode_cursor("f", after, 2)))
    return await edge_page(ctx, edges, limit)


async def muted_users(ctx: Context, first: int | None, after: str | None) -> Page[UserRecord]:
    viewer_id = await ctx.require_viewer()
    limit = page_size(first)
    edges = await _service(ctx).muted(viewer_id, limit + 1, pair(decode_cursor("f", after, 2)))
    return await edge_page(ctx, edges, limit)


async def viewer_blocks(ctx: Context, user_id: int) -> bool:
    if ctx.viewer_id is None or ctx.viewer_id == user_id:
        return False
    return await ctx.loaders.blocks.load((ctx.viewer_id, user_id))


async def blocks_viewer(ctx: Context, user_id: int) -> bool:
    if ctx.viewer_id is None or ctx.viewer_id == user_id:
        return False
    return await ctx.loaders.blocks.load((user_id, ctx.viewer_id))


async def viewer_mutes(ctx: Context, user_id: int) -> bool:
    if ctx.viewer_id is None or ctx.viewer_id == user_id:
        return False
    return await ctx.loaders.mutes.load((ctx.viewer_id, user_id))
