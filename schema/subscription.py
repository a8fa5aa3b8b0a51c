"""Subscription root: live feeds over graphql-transport-ws and graphql-ws."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers import notifications as notification_resolvers
from resolvers import realtime
from schema.types import Info, Notification, Tweet


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="(auth) Each tweet that enters the viewer's home timeline, as it arrives "
        "(own tweets, followees' tweets and retweets, celebrities' tweets included)."
    )
    async def home_timeline(self, info: Info) -> AsyncGenerator[Tweet, None]:
        async for record in realtime.home_timeline(info.context):
            yield Tweet.of(record)

    @strawberry.subscription(description="Each new tweet carrying the hashtag (without '#').")
    async def hashtag(self, info: Info, name: str) -> AsyncGenerator[Tweet, None]:
        async for record in realtime.hashtag(info.context, name):
            yield Tweet.of(record)

    @strawberry.subscription(description="(auth) Each new notification for the viewer.")
    async def notifications(self, info: Info) -> AsyncGenerator[Notification, None]:
        async for record in notification_resolvers.live(info.context):
            yield Notification.of(record)
