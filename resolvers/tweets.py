"""Resolvers for tweets: lookups, node, home timeline, mentions."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

from core.models import MediaRecord, TweetRecord, UserRecord
from core.text import extract_mentions
from resolvers.context import Context
from resolvers.ids import query_id
from resolvers.pagination import Page, decode_cursor, page_size
from resolvers.users import tweet_page


async def tweet(ctx: Context, raw_id: str) -> TweetRecord | None:
    return await ctx.loaders.tweets.load(query_id(raw_id))


async def node(ctx: Context, raw_id: str) -> TweetRecord | UserRecord | MediaRecord | None:
    """Any object by id: snowflake ids are unique across kinds, so look in every store."""
    value = query_id(raw_id)
    found_tweet, found_user, found_media = await asyncio.gather(
        ctx.loaders.tweets.load(value), ctx.loaders.users.load(value), ctx.loaders.media.load(value)
    )
    if found_media is not None and found_media.status != "READY":
        found_media = None  # a pending upload is not an object yet
    return found_tweet or found_user or found_media


async def media(ctx: Context, record: TweetRecord) -> list[MediaRecord]:
    found = await ctx.loaders.media.load_many(list(record.media_ids))
    return [m for m in found if m is not None]


async def home_timeline(ctx: Context, first: int | None, after: str | None) -> Page[TweetRecord]:
    viewer_id = await ctx.require_viewer()
    limit = page_size(first)
    before = decode_cursor("t", after)
    rows = await ctx.services.timelines.home(viewer_id, limit + 1, before[0] if before else None)
    return tweet_page(rows, limit, ctx)


async def mentions(ctx: Context, record: TweetRecord) -> list[UserRecord]:
    handles = extract_mentions(record.text)
    if not handles:
        return []
    users = await ctx.loaders.users_by_handle.load_many(handles)
    return [u for u in users if u is not None]


def viewer_has_liked(ctx: Context, tweet_id: int) -> bool | Awaitable[bool]:
    """False for anonymous viewers; else the value if loaded, or the batched lookup's future."""
    if ctx.viewer_id is None:
        return False
    return ctx.loaders.viewer_liked.value_or_load(tweet_id)


def viewer_has_retweeted(ctx: Context, tweet_id: int) -> bool | Awaitable[bool]:
    if ctx.viewer_id is None:
        return False
    return ctx.loaders.viewer_retweeted.value_or_load(tweet_id)


async def related(ctx: Context, tweet_id: int | None) -> TweetRecord | None:
    """A tweet this one points at (its original, the one it replies to...), if it still exists."""
    return None if tweet_id is None else await ctx.loaders.tweets.load(tweet_id)
