"""Resolvers for tweets: lookups, their fields, posting, deleting, likes and retweets.

Mutations raise ``UserError``/``UserErrors`` for expected problems; the schema
turns those into the payload's ``errors`` list.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from core.errors import UserError
from core.links import display_url
from core.models import (
    GeoPoint,
    ListRecord,
    MediaRecord,
    MomentRecord,
    NotificationRecord,
    TweetRecord,
    UserRecord,
)
from resolvers.context import Context
from resolvers.ids import mutation_id, query_id

T = TypeVar("T")


async def tweet(ctx: Context, raw_id: str) -> TweetRecord | None:
    return await ctx.loaders.tweets.load(query_id(raw_id))


async def node(
    ctx: Context, raw_id: str
) -> TweetRecord | UserRecord | MediaRecord | NotificationRecord | MomentRecord | ListRecord | None:
    """Any object by id: snowflake ids are unique across kinds, so look in every store
    (a notification only for its recipient)."""
    value = query_id(raw_id)
    found = await asyncio.gather(
        ctx.loaders.tweets.load(value),
        ctx.loaders.users.load(value),
        _ready_media(ctx, value),
        _own_notification(ctx, value),
        _moment(ctx, value),
        _visible_list(ctx, value),
    )
    return next((record for record in found if record is not None), None)


async def _ready_media(ctx: Context, media_id: int) -> MediaRecord | None:
    found = await ctx.loaders.media.load(media_id)
    return found if found is not None and found.status == "READY" else None  # pending: not yet


async def _moment(ctx: Context, moment_id: int) -> MomentRecord | None:
    service = ctx.services.moments
    return None if service is None else (await service.get([moment_id])).get(moment_id)


async def _visible_list(ctx: Context, list_id: int) -> ListRecord | None:
    service = ctx.services.lists
    if service is None:
        return None
    return (await service.visible(ctx.viewer_id, [list_id])).get(list_id)


async def _own_notification(ctx: Context, notification_id: int) -> NotificationRecord | None:
    service = ctx.services.notifications
    if ctx.viewer_id is None or service is None:
        return None
    return await service.own(ctx.viewer_id, notification_id)


def author(ctx: Context, record: TweetRecord, make: Callable[[UserRecord], T]) -> T | Awaitable[T]:
    """The author as ``make``'s object: the object itself when the author is loaded (a
    connection prefetches them), else an awaitable; one object per author per request."""
    loaders = ctx.loaders
    view = loaders.user_views.get(make) or loaders.users_as(make)
    return view.value_or_load(record.author_id)


async def url(ctx: Context, record: TweetRecord) -> str:
    """The tweet's canonical URL, under its author's handle."""
    user = await ctx.loaders.users.load(record.author_id)
    handle = user.handle if user else "i"
    return f"{ctx.services.public_url}/{handle}/status/{record.id}"


def links(ctx: Context, record: TweetRecord) -> list[tuple[str, str, str]]:
    """(short URL, expanded URL, display URL) of each link, in order of appearance."""
    service = ctx.services.links
    return [
        (service.short_url(code) if service else expanded, expanded, display_url(expanded))
        for code, expanded in record.links
    ]


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


def tweets_count(ctx: Context, user_id: int) -> Awaitable[int]:
    return ctx.loaders.tweets_count.load(user_id)


# ---------------------------------------------------------------------- mutations


async def create_tweet(
    ctx: Context,
    text: str,
    raw_media_ids: Sequence[str] = (),
    raw_in_reply_to_id: str | None = None,
    raw_quote_of_id: str | None = None,
    location: tuple[float, float] | None = None,
) -> TweetRecord:
    viewer_id = await ctx.require_viewer()
    media_ids = [mutation_id(raw, "mediaIds") for raw in raw_media_ids]
    in_reply_to = (
        None if raw_in_reply_to_id is None else mutation_id(raw_in_reply_to_id, "inReplyToId")
    )
    quote_of = None if raw_quote_of_id is None else mutation_id(raw_quote_of_id, "quoteOfId")
    point = None if location is None else GeoPoint(*location)
    made = await ctx.services.tweets.create(
        viewer_id, text, ctx.idempotency_key, media_ids, in_reply_to, quote_of, point
    )
    for pointed in (made.in_reply_to_id, made.quote_of_id):
        if pointed is not None:
            with contextlib.suppress(UserError):  # deleted since: inReplyTo/quoteOf is null
                await _fresh_tweet(ctx, pointed)  # with its new reply or quote count
    return made


async def delete_tweet(ctx: Context, raw_id: str) -> int:
    viewer_id = await ctx.require_viewer()
    await ctx.attempt("delete", [str(viewer_id)], per_ip=False)
    deleted = await ctx.services.tweets.delete(viewer_id, mutation_id(raw_id, "id"))
    return deleted.id


async def _fresh_tweet(ctx: Context, tweet_id: int) -> TweetRecord:
    """The tweet as stored now (exact counters), bypassing this request's cache."""
    found = await ctx.services.tweets.current(tweet_id)
    ctx.loaders.tweets.prime(tweet_id, found, force=True)
    return found


async def like_tweet(ctx: Context, raw_tweet_id: str) -> TweetRecord:
    viewer_id = await ctx.require_viewer()
    tweet_id = mutation_id(raw_tweet_id, "tweetId")
    await ctx.services.tweets.like(viewer_id, tweet_id)
    ctx.loaders.viewer_liked.prime(tweet_id, True, force=True)
    return await _fresh_tweet(ctx, tweet_id)


async def unlike_tweet(ctx: Context, raw_tweet_id: str) -> TweetRecord:
    viewer_id = await ctx.require_viewer()
    tweet_id = mutation_id(raw_tweet_id, "tweetId")
    await ctx.services.tweets.unlike(viewer_id, tweet_id)
    ctx.loaders.viewer_liked.prime(tweet_id, False, force=True)
    return await _fresh_tweet(ctx, tweet_id)


async def retweet(ctx: Context, raw_tweet_id: str) -> TweetRecord:
    viewer_id = await ctx.require_viewer()
    tweet_id = mutation_id(raw_tweet_id, "tweetId")
    made = await ctx.services.tweets.retweet(viewer_id, tweet_id)
    if made.retweet_of_id is not None:
        ctx.loaders.viewer_retweeted.prime(made.retweet_of_id, True, force=True)
        await _fresh_tweet(ctx, made.retweet_of_id)  # the original, with its new count
    return made


async def undo_retweet(ctx: Context, raw_tweet_id: str) -> TweetRecord:
    viewer_id = await ctx.require_viewer()
    tweet_id = mutation_id(raw_tweet_id, "tweetId")
    original = await ctx.services.tweets.undo_retweet(viewer_id, tweet_id)
    ctx.loaders.viewer_retweeted.prime(original.id, False, force=True)
    return await _fresh_tweet(ctx, original.id)
