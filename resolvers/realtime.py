"""Subscription resolvers: tweet ids from the realtime hub, hydrated for the subscriber."""

from __future__ import annotations

from collections.abc import AsyncIterator

from core.errors import BadUserInput
from core.models import TweetRecord
from resolvers.context import Context


async def _hydrated(ctx: Context, ids: AsyncIterator[int]) -> AsyncIterator[TweetRecord]:
    async for tweet_id in ids:
        ctx.fresh_loaders()  # each event resolves with fresh counts and flags
        tweet = await ctx.loaders.tweets.load(tweet_id)
        if tweet is not None:  # deleted in the meantime
            yield tweet


async def home_timeline(ctx: Context) -> AsyncIterator[TweetRecord]:
    viewer_id = await ctx.require_viewer()
    social = ctx.services.social

    async def followees() -> set[int]:
        return set(await social.following_ids(viewer_id))

    home = ctx.services.home
    with ctx.subscription_slot():
        async for tweet in _hydrated(ctx, ctx.services.hub.home(viewer_id, followees)):
            if await home.admits(viewer_id, tweet):  # replies, blocks and mutes, as a read
                yield tweet


async def hashtag(ctx: Context, name: str) -> AsyncIterator[TweetRecord]:
    tag = name.strip().lstrip("#").casefold()  # as Tweet.hashtags are
    if not tag or len(tag) > 100 or not tag.replace("_", "").isalnum():
        raise BadUserInput("`name` must be a hashtag: letters, digits and '_'.")
    with ctx.subscription_slot():
        async for tweet in _hydrated(ctx, ctx.services.hub.hashtag(tag)):
            yield tweet
