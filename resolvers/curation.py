"""Resolvers for bookmarks, moments and lists.

Tweet lists (bookmarks, a moment's tweets, a list's timeline) leave out tweets
deleted since, and accounts the viewer blocks, is blocked by or mutes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from core.models import ListRecord, MomentRecord, TweetRecord, UserRecord
from resolvers.context import Context
from resolvers.ids import mutation_id, query_id
from resolvers.loaders import prefetch_tweet_fields
from resolvers.pagination import Page, decode_cursor, encode_cursor, page_size
from resolvers.timelines import home_cursor, home_edges
from services.curation import BookmarkService, ListService, MomentService


def _bookmarks(ctx: Context) -> BookmarkService:
    if ctx.services.bookmarks is None:
        raise RuntimeError("bookmarks are not configured")
    return ctx.services.bookmarks


def _moments(ctx: Context) -> MomentService:
    if ctx.services.moments is None:
        raise RuntimeError("moments are not configured")
    return ctx.services.moments


def _lists(ctx: Context) -> ListService:
    if ctx.services.lists is None:
        raise RuntimeError("lists are not configured")
    return ctx.services.lists


async def _visible_tweets(ctx: Context, tweet_ids: Sequence[int]) -> list[TweetRecord | None]:
    """Each tweet, or None when deleted or by an account hidden from the viewer (or a
    retweet of one)."""
    found = await ctx.loaders.tweets.load_many(list(tweet_ids))
    hidden = await ctx.loaders.hidden()
    if not hidden:
        return found
    originals = await ctx.loaders.tweets.load_many(
        [t.retweet_of_id for t in found if t is not None and t.retweet_of_id is not None]
    )
    hidden_originals = {o.id for o in originals if o is not None and o.author_id in hidden}
    return [
        None if t is None or t.author_id in hidden or t.retweet_of_id in hidden_originals else t
        for t in found
    ]


async def _tweet_page(
    ctx: Context, items: list[tuple[str, TweetRecord]], has_next: bool, fields: frozenset[str]
) -> Page[TweetRecord]:
    if items:
        await prefetch_tweet_fields(ctx.loaders, [t for _, t in items], fields)
    return Page(items, has_next)


# --- bookmarks ----------------------------------------------------------------------------


async def bookmark_tweet(ctx: Context, raw_tweet_id: str) -> TweetRecord:
    viewer_id = await ctx.require_viewer()
    tweet_id = mutation_id(raw_tweet_id, "tweetId")
    found = await _bookmarks(ctx).bookmark(viewer_id, tweet_id)
    ctx.loaders.viewer_bookmarked.prime(tweet_id, True, force=True)
    return found


async def unbookmark_tweet(ctx: Context, raw_tweet_id: str) -> TweetRecord:
    viewer_id = await ctx.require_viewer()
    tweet_id = mutation_id(raw_tweet_id, "tweetId")
    found = await _bookmarks(ctx).unbookmark(viewer_id, tweet_id)
    ctx.loaders.viewer_bookmarked.prime(tweet_id, False, force=True)
    return found


async def bookmarks(
    ctx: Context, first: int | None, after: str | None, fields: frozenset[str]
) -> Page[TweetRecord]:
    """(auth) The viewer's bookmarks, most recently bookmarked first."""
    viewer_id = await ctx.require_viewer()
    limit = page_size(first)
    before = decode_cursor("b", after)
    service = _bookmarks(ctx)

    async def fetch(want: int, cursor: int | None) -> list[tuple[int, int]]:
        edges = await service.page(viewer_id, want, cursor)
        return [(e.bookmark_id, e.tweet_id) for e in edges]

    items, has_next = await _collect(ctx, fetch, "b", limit, before[0] if before else None)
    return await _tweet_page(ctx, items, has_next, fields)


Fetch = Callable[[int, int | None], Awaitable[list[tuple[int, int]]]]


async def _collect(
    ctx: Context, fetch: Fetch, kind: str, limit: int, cursor: int | None
) -> tuple[list[tuple[str, TweetRecord]], bool]:
    """Up to ``limit`` visible tweets from ``fetch`` ((cursor key, tweet id) pairs in list
    order after ``cursor``), each with its cursor, and whether more follow: deleted or
    hidden tweets make a window short, so it reads on (a few windows at most)."""
    visible: list[tuple[str, TweetRecord]] = []
    for _ in range(8):
        rows = await fetch(limit + 1, cursor)
        tweets = await _visible_tweets(ctx, [tweet_id for _, tweet_id in rows])
        visible += [
            (encode_cursor(kind, key), tweet)
            for (key, _), tweet in zip(rows, tweets, strict=True)
            if tweet is not None
        ]
        if len(visible) > limit or len(rows) < limit + 1:
            break
        cursor = rows[-1][0]
    return visible[:limit], len(visible) > limit


def viewer_has_bookmarked(ctx: Context, tweet_id: int) -> bool | Awaitable[bool]:
    """False for anonymous viewers; else the value if loaded, or the batched lookup's future."""
    if ctx.viewer_id is None:
        return False
    return ctx.loaders.viewer_bookmarked.value_or_load(tweet_id)


# --- moments ------------------------------------------------------------------------------


async def create_moment(
    ctx: Context, title: str, description: str, raw_tweet_ids: Sequence[str]
) -> MomentRecord:
    viewer_id = await ctx.require_viewer()
    tweet_ids = [mutation_id(raw, "tweetIds") for raw in raw_tweet_ids]
    return await _moments(ctx).create(viewer_id, title, description, tweet_ids)


async def add_tweet_to_moment(ctx: Context, raw_moment_id: str, raw_tweet_id: str) -> MomentRecord:
    viewer_id = await ctx.require_viewer()
    moment_id = mutation_id(raw_moment_id, "momentId")
    tweet_id = mutation_id(raw_tweet_id, "tweetId")
    return await _moments(ctx).add(viewer_id, moment_id, tweet_id)


async def remove_tweet_from_moment(
    ctx: Context, raw_moment_id: str, raw_tweet_id: str
) -> MomentRecord:
    viewer_id = await ctx.require_viewer()
    moment_id = mutation_id(raw_moment_id, "momentId")
    tweet_id = mutation_id(raw_tweet_id, "tweetId")
    return await _moments(ctx).remove(viewer_id, moment_id, tweet_id)


async def delete_moment(ctx: Context, raw_id: str) -> int:
    viewer_id = await ctx.require_viewer()
    return (await _moments(ctx).delete(viewer_id, mutation_id(raw_id, "id"))).id


async def moment(ctx: Context, raw_id: str) -> MomentRecord | None:
    moment_id = query_id(raw_id)
    return (await _moments(ctx).get([moment_id])).get(moment_id)


async def moment_tweets(
    ctx: Context, record: MomentRecord, first: int | None, after: str | None, fields: frozenset[str]
) -> Page[TweetRecord]:
    """The moment's tweets in the order added (the cursor: a position)."""
    limit = page_size(first)
    start = decode_cursor("p", after)
    service = _moments(ctx)

    async def fetch(want: int, cursor: int | None) -> list[tuple[int, int]]:
        entries = await service.entries(record.id, want, cursor)
        return [(e.position, e.tweet_id) for e in entries]

    items, has_next = await _collect(ctx, fetch, "p", limit, start[0] if start else None)
    return await _tweet_page(ctx, items, has_next, fields)


async def moments_of(
    ctx: Context, owner_id: int, first: int | None, after: str | None
) -> Page[MomentRecord]:
    limit = page_size(first)
    before = decode_cursor("m", after)
    rows = await _moments(ctx).of_owner(owner_id, limit + 1, before[0] if before else None)
    return Page.of(rows, limit, lambda m: encode_cursor("m", m.id))


# --- lists --------------------------------------------------------------------------------


async def create_list(ctx: Context, name: str, description: str, private: bool) -> ListRecord:
    viewer_id = await ctx.require_viewer()
    return await _lists(ctx).create(viewer_id, name, description, private)


async def delete_list(ctx: Context, raw_id: str) -> int:
    viewer_id = await ctx.require_viewer()
    return (await _lists(ctx).delete(viewer_id, mutation_id(raw_id, "id"))).id


async def add_list_member(ctx: Context, raw_list_id: str, raw_user_id: str) -> ListRecord:
    viewer_id = await ctx.require_viewer()
    list_id = mutation_id(raw_list_id, "listId")
    user_id = mutation_id(raw_user_id, "userId")
    return await _lists(ctx).add(viewer_id, list_id, user_id)


async def remove_list_member(ctx: Context, raw_list_id: str, raw_user_id: str) -> ListRecord:
    viewer_id = await ctx.require_viewer()
    list_id = mutation_id(raw_list_id, "listId")
    user_id = mutation_id(raw_user_id, "userId")
    return await _lists(ctx).remove(viewer_id, list_id, user_id)


async def list_by_id(ctx: Context, raw_id: str) -> ListRecord | None:
    """A list, if the viewer may see it: a private list is null to all but its owner."""
    list_id = query_id(raw_id)
    return (await _lists(ctx).visible(ctx.viewer_id, [list_id])).get(list_id)


async def lists_of(
    ctx: Context, owner_id: int, first: int | None, after: str | None
) -> Page[ListRecord]:
    limit = page_size(first)
    before = decode_cursor("L", after)
    rows = await _lists(ctx).of_owner(
        ctx.viewer_id, owner_id, limit + 1, before[0] if before else None
    )
    return Page.of(rows, limit, lambda r: encode_cursor("L", r.id))


async def list_members(
    ctx: Context, record: ListRecord, first: int | None, after: str | None
) -> Page[UserRecord]:
    limit = page_size(first)
    before = decode_cursor("a", after)
    members = await _lists(ctx).members(record.id, limit + 1, before[0] if before else None)
    kept = members[:limit]
    users = await ctx.loaders.users.load_many([m.user_id for m in kept])
    items = [
        (encode_cursor("a", member.added_id), user)
        for member, user in zip(kept, users, strict=True)
        if user is not None
    ]
    return Page(items, len(members) > limit)


async def list_timeline(
    ctx: Context, record: ListRecord, first: int | None, after: str | None, fields: frozenset[str]
) -> Page[TweetRecord]:
    """The members' tweets and retweets, newest first, by the timeline engine's pull path
    (each original once, across pages: the cursor carries what it must, as home's)."""
    limit = page_size(first)
    position, carried = home_cursor(after)
    authors = await _lists(ctx).member_ids(record.id)
    rows = await ctx.services.home.read_authors(
        ctx.viewer_id or 0, authors, limit + 1, position, carried
    )
    ctx.loaders.prime_tweets(rows)
    page = Page(home_edges(rows[:limit], carried), len(rows) > limit)
    if page.items:
        await prefetch_tweet_fields(ctx.loaders, [t for _, t in page.items], fields)
    return page
