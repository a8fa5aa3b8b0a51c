"""Resolvers for notifications: the flat list, the groups, the unread counts, marking
read, and the live feed.

Pages leave out the actors the viewer blocks, is blocked by, or mutes with
notifications hidden (asked once per request), and notifications about tweets
deleted since.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

from core.errors import ApiError, BadUserInput
from core.ids import parse_id
from core.models import NotificationGroupRecord, NotificationRecord
from resolvers.context import Context
from resolvers.pagination import MAX_PAGE_SIZE, Page, decode_cursor, encode_cursor, page_size
from services.notifications import NotificationService

DEFAULT_GROUP_ACTORS = 3


def _service(ctx: Context) -> NotificationService:
    service = ctx.services.notifications
    if service is None:
        raise RuntimeError("notifications are not configured")
    return service


async def notifications(
    ctx: Context, first: int | None, after: str | None
) -> Page[NotificationRecord]:
    viewer_id = await ctx.require_viewer()
    limit = page_size(first)
    before = decode_cursor("n", after)
    hidden = await ctx.loaders.hidden(notifications=True)
    rows = await _service(ctx).page(viewer_id, limit + 1, before[0] if before else None, hidden)
    return Page.of(rows, limit, lambda n: encode_cursor("n", n.id))


async def unread_count(ctx: Context) -> int:
    viewer_id = await ctx.require_viewer()
    hidden = await ctx.loaders.hidden(notifications=True)
    return await _service(ctx).unread(viewer_id, hidden)


async def unread_group_count(ctx: Context) -> int:
    viewer_id = await ctx.require_viewer()
    hidden = await ctx.loaders.hidden(notifications=True)
    return await _service(ctx).unread_groups(viewer_id, hidden)


def group_actor_count(first: int | None) -> int:
    """How many actors a group answers (``actors(first:)``), capped like a page."""
    if first is None:
        return DEFAULT_GROUP_ACTORS
    if first < 0:
        raise BadUserInput("`first` cannot be negative.")
    if first > MAX_PAGE_SIZE:
        raise BadUserInput(
            f"`first` is capped at {MAX_PAGE_SIZE}; ask for {MAX_PAGE_SIZE} or fewer."
        )
    return first


async def groups(
    ctx: Context, first: int | None, after: str | None, actors: int
) -> Page[NotificationGroupRecord]:
    viewer_id = await ctx.require_viewer()
    limit = page_size(first)
    before = decode_cursor("g", after)
    hidden = await ctx.loaders.hidden(notifications=True)
    rows = await _service(ctx).groups(
        viewer_id, limit + 1, before[0] if before else None, actors, hidden
    )
    return Page.of(rows, limit, lambda g: encode_cursor("g", g.latest_id))


def group_id(group: NotificationGroupRecord) -> str:
    """The group's opaque id: its recipient and key, which never change as it grows."""
    raw = f"{group.recipient_id}:{group.key}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


async def is_read(ctx: Context, notification_id: int) -> bool:
    return notification_id <= await ctx.loaders.read_marker()


async def mark_read(ctx: Context, raw_up_to_id: str | None) -> int:
    viewer_id = await ctx.require_viewer()
    up_to = None
    if raw_up_to_id is not None:
        up_to = parse_id(raw_up_to_id)
        if up_to is None:
            raise ApiError("`upToId` is not a valid id: ids are decimal strings.", "INVALID_ID")
    hidden = await ctx.loaders.hidden(notifications=True)
    return await _service(ctx).mark_read(viewer_id, up_to, hidden)


async def live(ctx: Context) -> AsyncIterator[NotificationRecord]:
    viewer_id = await ctx.require_viewer()
    with ctx.subscription_slot():
        async for record in _service(ctx).live(viewer_id):
            ctx.fresh_loaders()  # each event resolves with fresh records and read state
            yield record
