"""Resolvers for users: lookups, follower lists, counts and viewer flags."""

from __future__ import annotations

from core.models import FollowEdge, TweetRecord, UserRecord
from core.text import HANDLE_RE
from resolvers.context import Context
from resolvers.pagination import Page, decode_cursor, encode_cursor, page_size


async def user_by_handle(ctx: Context, handle: str) -> UserRecord | None:
    handle = handle.strip().removeprefix("@")
    if not HANDLE_RE.fullmatch(handle):
        return None
    return await ctx.loaders.users_by_handle.load(handle.lower())


async def me(ctx: Context) -> UserRecord | None:
    return await ctx.loaders.users.load(await ctx.require_viewer())


async def _edge_page(ctx: Context, edges: list[FollowEdge], limit: int) -> Page[UserRecord]:
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
    edges = await ctx.services.stores.graph.followers(user_id, limit + 1, _pair(cursor))
    return await _edge_page(ctx, edges, limit)


async def following(
    ctx: Context, user_id: int, first: int | None, after: str | None
) -> Page[UserRecord]:
    limit = page_size(first)
    cursor = decode_cursor("f", after, 2)
    edges = await ctx.services.stores.graph.following(user_id, limit + 1, _pair(cursor))
    return await _edge_page(ctx, edges, limit)


def _pair(cursor: tuple[int, ...] | None) -> tuple[int, int] | None:
    return None if cursor is None else (cursor[0], cursor[1])


def tweet_page(rows: list[TweetRecord], limit: int, ctx: Context) -> Page[TweetRecord]:
    ctx.loaders.prime_tweets(rows)
    return Page.of(rows, limit, lambda t: encode_cursor("t", t.id))


async def tweets(
    ctx: Context, user_id: int, first: int | None, after: str | None, include_replies: bool
) -> Page[TweetRecord]:
    limit = page_size(first)
    before = decode_cursor("t", after)
    rows = await ctx.services.timelines.user(
        user_id, limit + 1, before[0] if before else None, include_replies
    )
    return tweet_page(rows, limit, ctx)


async def likes(
    ctx: Context, user_id: int, first: int | None, after: str | None
) -> Page[TweetRecord]:
    limit = page_size(first)
    before = decode_cursor("l", after)
    edges = await ctx.services.stores.tweets.likes_by_user(
        user_id, limit + 1, before[0] if before else None
    )
    kept = edges[:limit]
    found = await ctx.loaders.tweets.load_many([e.tweet_id for e in kept])
    items = [
        (encode_cursor("l", edge.like_id), tweet)
        for edge, tweet in zip(kept, found, strict=True)
        if tweet is not None  # a like of a tweet deleted since: skipped
    ]
    return Page(items, len(edges) > limit)


async def viewer_follows(ctx: Context, user_id: int) -> bool:
    if ctx.viewer_id is None or ctx.viewer_id == user_id:
        return False
    return await ctx.loaders.follows.load((ctx.viewer_id, user_id))


async def follows_viewer(ctx: Context, user_id: int) -> bool:
    if ctx.viewer_id is None or ctx.viewer_id == user_id:
        return False
    return await ctx.loaders.follows.load((user_id, ctx.viewer_id))
