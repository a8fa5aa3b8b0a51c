"""Resolvers for timelines: the home timeline, a user's tweets and likes, as pages.

Each takes the names its connection's nodes select (``fields``, the lookahead of
``edges.node``) and prefetches what those fields will load, one batch per kind,
before the page goes back up (``loaders.prefetch_tweet_fields``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.errors import BadUserInput
from core.models import TweetRecord
from resolvers.context import Context
from resolvers.loaders import prefetch_tweet_fields
from resolvers.pagination import (
    Page,
    decode_carrying_cursor,
    decode_cursor,
    encode_carrying_cursor,
    encode_cursor,
    page_size,
)


async def _tweet_page(
    ctx: Context, page: Page[TweetRecord], fields: frozenset[str]
) -> Page[TweetRecord]:
    if page.items:
        await prefetch_tweet_fields(ctx.loaders, [t for _, t in page.items], fields)
    return page


async def of_rows(
    ctx: Context, rows: list[TweetRecord], limit: int, fields: frozenset[str]
) -> Page[TweetRecord]:
    ctx.loaders.prime_tweets(rows)
    return await _tweet_page(ctx, Page.of(rows, limit, lambda t: encode_cursor("t", t.id)), fields)


async def home_timeline(
    ctx: Context, first: int | None, after: str | None, fields: frozenset[str]
) -> Page[TweetRecord]:
    viewer_id = await ctx.require_viewer()
    limit = page_size(first)
    position, carried = home_cursor(after)
    rows = await ctx.services.home.read(viewer_id, limit + 1, position, carried)
    ctx.loaders.prime_tweets(rows)
    return await _tweet_page(
        ctx, Page(home_edges(rows[:limit], carried), len(rows) > limit), fields
    )


def home_cursor(after: str | None) -> tuple[int | None, frozenset[int]]:
    if after is None:
        return None, frozenset()
    try:
        return decode_carrying_cursor("h", after) or (None, frozenset())
    except BadUserInput:
        plain = decode_cursor("t", after)  # a cursor from before cursors carried anything
        return (plain[0] if plain else None), frozenset()


def home_edges(rows: list[TweetRecord], carried: frozenset[int]) -> list[tuple[str, TweetRecord]]:
    """Each row with its cursor: its position and the originals shown down to it (carried
    from earlier pages, or retweeted on this one) that may appear again below it."""
    shown = set(carried)
    edges: list[tuple[str, TweetRecord]] = []
    for row in rows:
        if row.retweet_of_id is not None:
            shown.add(row.retweet_of_id)
        shown = {original for original in shown if original < row.id}
        edges.append((encode_carrying_cursor("h", row.id, shown), row))
    return edges


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
    if await blocked_either_way(ctx, user_id):
        return Page([], False)  # a block hides each from the other's views
    rows = await visible_rows(
        ctx,
        lambda want, cursor: ctx.services.tweets.by_author(user_id, want, cursor, include_replies),
        limit + 1,
        before[0] if before else None,
        shown=user_id,  # a muted account's own profile still shows its tweets
    )
    return await of_rows(ctx, rows, limit, fields)


async def blocked_either_way(ctx: Context, user_id: int) -> bool:
    viewer_id = ctx.viewer_id
    if viewer_id is None or viewer_id == user_id:
        return False
    pairs = [(viewer_id, user_id), (user_id, viewer_id)]
    return any(await ctx.loaders.blocks.load_many(pairs))


Fetch = Callable[[int, int | None], Awaitable[list[TweetRecord]]]


async def visible_rows(
    ctx: Context, fetch: Fetch, want: int, before: int | None, shown: int | None = None
) -> list[TweetRecord]:
    """Up to ``want`` rows from ``fetch`` (newest first, below a cursor) that the viewer may
    see: not by, and not retweets of, an account blocked either way or muted (``shown``:
    one account whose tweets stay, the profile being read)."""
    hidden = await ctx.loaders.hidden() - {shown}
    if not hidden:
        return await fetch(want, before)
    kept: list[TweetRecord] = []
    cursor = before
    for _ in range(8):
        rows = await fetch(want, cursor)
        originals = [r.retweet_of_id for r in rows if r.retweet_of_id is not None]
        found = await ctx.loaders.tweets.load_many(originals)
        hidden_originals = {t.id for t in found if t is not None and t.author_id in hidden}
        kept += [
            r for r in rows if r.author_id not in hidden and r.retweet_of_id not in hidden_originals
        ]
        if len(rows) < want or len(kept) >= want:
            break
        cursor = rows[-1].id
    return kept[:want]


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
