"""Resolvers for media: a tweet's media, their URLs, and the two steps of an upload."""

from __future__ import annotations

from core.errors import ServiceUnavailable
from core.models import MediaRecord, TweetRecord
from media.port import UploadTarget
from resolvers.context import Context
from resolvers.ids import mutation_id
from services.media import MediaService


async def of_tweet(ctx: Context, record: TweetRecord) -> list[MediaRecord]:
    found = await ctx.loaders.media.load_many(list(record.media_ids))
    return [m for m in found if m is not None]


def url(ctx: Context, record: MediaRecord) -> str:
    """Where the media is served: on the pull CDN (or this server's origin route)."""
    service = ctx.services.media
    return service.url(record) if service else ""


def _media_service(ctx: Context) -> MediaService:
    if ctx.services.media is None:
        raise ServiceUnavailable("Media uploads are not configured on this server.")
    return ctx.services.media


async def create_media_upload(
    ctx: Context, content_type: str, size_bytes: int
) -> tuple[MediaRecord, UploadTarget]:
    viewer_id = await ctx.require_viewer()
    await ctx.attempt("upload", [str(viewer_id)], per_ip=False)
    return await _media_service(ctx).create_upload(viewer_id, content_type, size_bytes)


async def complete_media_upload(ctx: Context, raw_media_id: str) -> MediaRecord:
    viewer_id = await ctx.require_viewer()
    return await _media_service(ctx).complete(viewer_id, mutation_id(raw_media_id, "mediaId"))
