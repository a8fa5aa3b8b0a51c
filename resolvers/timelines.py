"""Resolvers for timelines: the home timeline, a user's tweets and likes, as pages.

Each takes the names its connection's nodes select (``fields``, the lookahead of
``edges.node``) and prefetches what those fields will load, one batch per kind,
before the page goes back up (``loaders.prefetch_tweet_fields``).
"""

from __future__ import annotations

from core.models import TweetRecord
from resolvers.context import Context
from resolvers.loaders import prefetch_tweet_fields
from resolvers.pagination import Page, decode_cursor, encode_cursor, page_size


async def _tweet_page(
    ctx: Context, page: Page[TweetRecord], fields: frozenset[str]
) -> Page[TweetRecord]:
    if page.items:
        await prefetch_tweet_fields(ctx.loaders, [t for _, t in page.items], fields)
    return page


async def _of_rows(
    ctx: Context, rows: list[TweetRecord], limit: int, fields: frozenset[str]
) -> Page[TweetRecord]:
    ctx.loaders.prime_tweets(rows)
    return await _tweet_page(ctx, Page.of(rows, limit, lambda t: encode_cursor("t", t.id)), fields)


async def home_timeline(
    ctx: Context, first: int | None, after: str | None, fields: frozenset[str]
) -> Page[TweetRecord]:
    viewer_id = await ctx.require_viewer()
    limit = page_size(first)
    before = decode_cursor("t", after)
    rows = await ctx.services.home.read(viewer_id, limit + 1, before[0] if before else None)
    return await _of_rows(ctx, rows, limit, fields)


async def user_tweets(
    ctx: Context,
    user_id: int,
    first: int | None,
    after: str | None,
    include_replies: bool,
    fields: frozenset[str],
) -> Page[TweetRecord]:
    limit = page_size(first)
    before = decode_cursor("t", after)
    rows = await ctx.services.tweets.by_author(
        user_id, limit + 1, before[0] if before else None, include_replies
    )
    return await _of_rows(ctx, rows, limit, fields)


async def likes(
    ctx: Context, user_id: int, first: int | None, after: str | None, fields: frozenset[str]
) -> Page[TweetRecord]:
    limit = page_size(first)
    before = decode_cursor("l", after)
    edges = await ctx.services.tweets.likes(user_id, limit + 1, before[0] if before else None)
    kept = edges[:limit]
    found = await ctx.loaders.tweets.load_many([e.tweet_id for e in kept])
    items = [
        (encode_cursor("l", edge.like_id), tweet)
        for edge, tweet in zip(kept, found, strict=True)
        if tweet is not None  # a like of a tweet deleted since: skipped
    ]
    return await _tweet_page(ctx, Page(items, len(edges) > limit), fields)
