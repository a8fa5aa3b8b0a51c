"""Resolvers for the social graph: following, the follow lists, counts and viewer flags."""

from __future__ import annotations

from collections.abc import Awaitable

from core.models import FollowEdge, UserRecord
from resolvers.context import Context
from resolvers.ids import mutation_id
from resolvers.pagination import Page, decode_cursor, encode_cursor, page_size


async def follow_user(ctx: Context, raw_user_id: str) -> UserRecord:
    viewer_id = await ctx.require_viewer()
    return await ctx.services.social.follow(viewer_id, mutation_id(raw_user_id, "userId"))


async def unfollow_user(ctx: Context, raw_user_id: str) -> UserRecord:
    viewer_id = await ctx.require_viewer()
    return await ctx.services.social.unfollow(viewer_id, mutation_id(raw_user_id, "userId"))


async def edge_page(ctx: Context, edges: list[FollowEdge], limit: int) -> Page[UserRecord]:
    kept = edges[:limit]
    users = await ctx.loaders.users.load_many([e.user_id for e in kept])
    items = [
        (encode_cursor("f", edge.since_ms, edge.user_id), user)
        for edge, user in zip(kept, users, strict=True)
        if user is not None
    ]
    return Page(items, len(edges) > limit)


async def followers(
    ctx: Context, user_id: int, first: int | None, after: str | None
) -> Page[UserRecord]:
    limit = page_size(first)
    cursor = decode_cursor("f", after, 2)
    edges = await ctx.services.social.followers(user_id, limit + 1, pair(cursor))
    return await edge_page(ctx, edges, limit)


async def following(
    ctx: Context, user_id: int, first: int | None, after: str | None
) -> Page[UserRecord]:
    limit = page_size(first)
    cursor = decode_cursor("f", after, 2)
    edges = await ctx.services.social.following(user_id, limit + 1, pair(cursor))
    return await edge_page(ctx, edges, limit)


def pair(cursor: tuple[int, ...] | None) -> tuple[int, int] | None:
    return None if cursor is None else (cursor[0], cursor[1])


def followers_count(ctx: Context, user_id: int) -> Awaitable[int]:
    return ctx.loaders.followers_count.load(user_id)


def following_count(ctx: Context, user_id: int) -> Awaitable[int]:
    return ctx.loaders.following_count.load(user_id)


async def viewer_follows(ctx: Context, user_id: int) -> bool:
    if ctx.viewer_id is None or ctx.viewer_id == user_id:
        return False
    return await ctx.loaders.follows.load((ctx.viewer_id, user_id))


async def follows_viewer(ctx: Context, user_id: int) -> bool:
    if ctx.viewer_id is None or ctx.viewer_id == user_id:
        return False
    return await ctx.loaders.follows.load((user_id, ctx.viewer_id))
