"""Resolvers for discovery: trends, who to follow, people search and tweet search."""

from __future__ import annotations

from core.models import TweetRecord, UserRecord
from resolvers.context import Context
from resolvers.pagination import Page, decode_cursor, encode_cursor, page_size
from resolvers.timelines import of_rows
from services.trends import Trend


async def trends(ctx: Context, limit: int | None, window_minutes: int | None) -> list[Trend]:
    service = ctx.services.trends
    if service is None:
        return []
    return await service.trends(
        10 if limit is None else limit, 60 if window_minutes is None else window_minutes
    )


async def who_to_follow(ctx: Context, limit: int | None) -> list[UserRecord]:
    viewer_id = await ctx.require_viewer()
    service = ctx.services.who_to_follow
    if service is None:
        return []
    return await service.suggest(viewer_id, 10 if limit is None else limit)


async def search_users(
    ctx: Context, query: str, first: int | None, after: str | None
) -> Page[UserRecord]:
    """People by handle prefix, then display name; the cursor is a place in the ranking."""
    limit = page_size(first)
    start = decode_cursor("o", after)
    offset = start[0] if start else 0
    service = ctx.services.people
    if service is None:
        return Page([], False)
    found, more = await service.search(ctx.viewer_id, query, limit, offset)
    return Page([(encode_cursor("o", past), user) for past, user in found], more)


async def search(
    ctx: Context, query: str, first: int | None, after: str | None, fields: frozenset[str]
) -> Page[TweetRecord]:
    """Tweets matching the search box's query, newest first (the cursor: a tweet id)."""
    limit = page_size(first)
    before = decode_cursor("t", after)
    service = ctx.services.search
    if service is None:
        return Page([], False)
    rows = await service.search(ctx.viewer_id, query, limit + 1, before[0] if before else None)
    return await of_rows(ctx, rows, limit, fields)
