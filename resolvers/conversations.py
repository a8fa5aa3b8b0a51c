"""Resolvers for conversations: a tweet's replies, quotes and ancestors, its mentions,
and the viewer's mentions timeline.

Lists leave out accounts blocked either way or muted by the viewer (``visible_rows``).
"""

from __future__ import annotations

from core.errors import BadUserInput
from core.models import TweetRecord, UserRecord
from resolvers.context import Context
from resolvers.pagination import MAX_PAGE_SIZE, Page, decode_cursor, page_size
from resolvers.timelines import Fetch, of_rows, visible_rows

DEFAULT_ANCESTORS = 10


async def _listed(
    ctx: Context, fetch: Fetch, first: int | None, after: str | None, fields: frozenset[str]
) -> Page[TweetRecord]:
    limit = page_size(first)
    before = decode_cursor("t", after)
    rows = await visible_rows(ctx, fetch, limit + 1, before[0] if before else None)
    return await of_rows(ctx, rows, limit, fields)


async def replies(
    ctx: Context, tweet_id: int, first: int | None, after: str | None, fields: frozenset[str]
) -> Page[TweetRecord]:
    """The tweet's direct replies, newest first."""
    service = ctx.services.tweets

    async def fetch(want: int, cursor: int | None) -> list[TweetRecord]:
        return await service.replies(tweet_id, want, cursor)

    return await _listed(ctx, fetch, first, after, fields)


async def quotes(
    ctx: Context, tweet_id: int, first: int | None, after: str | None, fields: frozenset[str]
) -> Page[TweetRecord]:
    """Tweets quoting the tweet, newest first."""
    service = ctx.services.tweets

    async def fetch(want: int, cursor: int | None) -> list[TweetRecord]:
        return await service.quotes(tweet_id, want, cursor)

    return await _listed(ctx, fetch, first, after, fields)


async def mentions_timeline(
    ctx: Context, first: int | None, after: str | None, fields: frozenset[str]
) -> Page[TweetRecord]:
    """(auth) Tweets naming the viewer, newest first."""
    viewer_id = await ctx.require_viewer()
    service = ctx.services.tweets

    async def fetch(want: int, cursor: int | None) -> list[TweetRecord]:
        return await service.mentioning(viewer_id, want, cursor)

    return await _listed(ctx, fetch, first, after, fields)


async def ancestors(ctx: Context, record: TweetRecord, last: int | None) -> list[TweetRecord]:
    """The nearest ``last`` tweets the reply answers (capped at 100), root first, in one
    batch: the reply carries their ids. Deleted ones are left out."""
    if last is not None and last < 0:
        raise BadUserInput("`last` cannot be negative.")
    count = DEFAULT_ANCESTORS if last is None else min(last, MAX_PAGE_SIZE)
    if count == 0 or not record.ancestor_ids:
        return []
    found = await ctx.loaders.tweets.load_many(list(record.ancestor_ids[-count:]))
    return [t for t in found if t is not None]


async def mentioned_users(ctx: Context, record: TweetRecord) -> list[UserRecord]:
    """The users the tweet named with @handle who existed when it was posted, in order."""
    if not record.mention_ids:
        return []
    found = await ctx.loaders.users.load_many(list(record.mention_ids))
    return [u for u in found if u is not None]
