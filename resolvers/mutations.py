"""Mutation resolvers: call a service, return the record to put in the payload.

They raise ``UserError``/``UserErrors`` for expected problems; the schema turns
those into the payload's ``errors`` list.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import ServiceUnavailable, UserError
from core.models import MediaRecord, TweetRecord, UserRecord
from media.port import UploadTarget
from media.service import MediaService
from resolvers.context import Context
from resolvers.ids import mutation_id


async def sign_up(
    ctx: Context, handle: str, password: str, display_name: str | None, bio: str | None
) -> tuple[str, UserRecord]:
    return await ctx.services.accounts.sign_up(handle, password, display_name, bio)


async def log_in(ctx: Context, handle: str, password: str) -> tuple[str, UserRecord]:
    return await ctx.services.accounts.log_in(handle, password)


async def update_profile(ctx: Context, display_name: str | None, bio: str | None) -> UserRecord:
    return await ctx.services.accounts.update_profile(await ctx.require_viewer(), display_name, bio)


async def follow_user(ctx: Context, raw_user_id: str) -> UserRecord:
    viewer_id = await ctx.require_viewer()
    return await ctx.services.social.follow(viewer_id, mutation_id(raw_user_id, "userId"))


async def unfollow_user(ctx: Context, raw_user_id: str) -> UserRecord:
    viewer_id = await ctx.require_viewer()
    return await ctx.services.social.unfollow(viewer_id, mutation_id(raw_user_id, "userId"))


async def create_tweet(ctx: Context, text: str, raw_media_ids: Sequence[str] = ()) -> TweetRecord:
    viewer_id = await ctx.require_viewer()
    media_ids = [mutation_id(raw, "mediaIds") for raw in raw_media_ids]
    return await ctx.services.tweets.create(viewer_id, text, ctx.idempotency_key, media_ids)


def _media_service(ctx: Context) -> MediaService:
    if ctx.services.media is None:
        raise ServiceUnavailable("Media uploads are not configured on this server.")
    return ctx.services.media


async def create_media_upload(
    ctx: Context, content_type: str, size_bytes: int
) -> tuple[MediaRecord, UploadTarget]:
    viewer_id = await ctx.require_viewer()
    return await _media_service(ctx).create_upload(viewer_id, content_type, size_bytes)


async def complete_media_upload(ctx: Context, raw_media_id: str) -> MediaRecord:
    viewer_id = await ctx.require_viewer()
    return await _media_service(ctx).complete(viewer_id, mutation_id(raw_media_id, "mediaId"))


async def delete_tweet(ctx: Context, raw_id: str) -> int:
    viewer_id = await ctx.require_viewer()
    deleted = await ctx.services.tweets.delete(viewer_id, mutation_id(raw_id, "id"))
    return deleted.id


async def _fresh_tweet(ctx: Context, tweet_id: int) -> TweetRecord:
    """The tweet as stored now (exact counters), bypassing this request's cache."""
    found = (await ctx.services.stores.tweets.get_tweets([tweet_id])).get(tweet_id)
    if found is None:
        raise UserError("NOT_FOUND", "No such tweet.", "tweetId")
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
