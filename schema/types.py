"""Strawberry object types of the public API (../shared/api/schema.graphql)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import TypeAlias

import strawberry

from core.errors import UserError
from core.models import AppRecord, MediaRecord, TweetRecord, UserRecord
from resolvers import apps as app_resolvers
from resolvers import media as media_resolvers
from resolvers import social as social_resolvers
from resolvers import timelines as timeline_resolvers
from resolvers import tweets as tweet_resolvers
from resolvers.context import Context
from resolvers.limits import Budget
from resolvers.pagination import Page
from schema.execution.lookahead import selected_below

Info: TypeAlias = strawberry.Info[Context, None]


def node_fields(info: Info) -> frozenset[str]:
    """The fields a connection's nodes select (``edges { node { ... } }``): what to prefetch."""
    return selected_below(info, ("edges", "node"))


def _datetime(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@strawberry.interface(description="An object with an id, fetchable with Query.node.")
class Node:
    id: strawberry.ID


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type(name="UserError")
class UserErrorType:
    code: str = strawberry.field(
        description="Machine-readable, SCREAMING_SNAKE_CASE, e.g. TOO_LONG, EMPTY, NOT_FOUND, "
        "FORBIDDEN, HANDLE_TAKEN, INVALID_CREDENTIALS, SELF_FOLLOW, MEDIA_NOT_READY, RATE_LIMITED, "
        "INVALID_CHARACTERS."
    )
    message: str = strawberry.field(description="Human-readable sentence.")
    field: str | None = strawberry.field(description="Input field the error is about, or null.")

    @classmethod
    def of(cls, error: UserError) -> UserErrorType:
        return cls(code=error.code, message=error.message, field=error.field)


@strawberry.type
class User(Node):
    id: strawberry.ID
    handle: str = strawberry.field(
        description="Unique, case-insensitive, 1-15 chars of [A-Za-z0-9_]."
    )
    display_name: str
    bio: str
    created_at: datetime
    user_id: strawberry.Private[int]

    @classmethod
    def of(cls, record: UserRecord) -> User:
        return cls(
            id=strawberry.ID(str(record.id)),
            handle=record.handle,
            display_name=record.display_name,
            bio=record.bio,
            created_at=_datetime(record.created_at_ms),
            user_id=record.id,
        )

    @strawberry.field
    async def followers_count(self, info: Info) -> int:
        return await social_resolvers.followers_count(info.context, self.user_id)

    @strawberry.field
    async def following_count(self, info: Info) -> int:
        return await social_resolvers.following_count(info.context, self.user_id)

    @strawberry.field
    async def tweets_count(self, info: Info) -> int:
        return await tweet_resolvers.tweets_count(info.context, self.user_id)

    @strawberry.field(description="False for anonymous viewers.")
    async def viewer_follows(self, info: Info) -> bool:
        return await social_resolvers.viewer_follows(info.context, self.user_id)

    @strawberry.field
    async def follows_viewer(self, info: Info) -> bool:
        return await social_resolvers.follows_viewer(info.context, self.user_id)

    @strawberry.field(description="Who follows this user, most recent first.")
    async def followers(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> UserConnection:
        page = await social_resolvers.followers(info.context, self.user_id, first, after)
        return UserConnection.of(page)

    @strawberry.field(description="Whom this user follows, most recent first.")
    async def following(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> UserConnection:
        page = await social_resolvers.following(info.context, self.user_id, first, after)
        return UserConnection.of(page)

    @strawberry.field(
        description="User timeline: this user's tweets and retweets, newest first; "
        "replies only when includeReplies."
    )
    async def tweets(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        include_replies: bool | None = False,
    ) -> TweetConnection:
        page = await timeline_resolvers.user_tweets(
            info.context, self.user_id, first, after, bool(include_replies), node_fields(info)
        )
        return TweetConnection.of(page)

    @strawberry.field(description="Tweets this user liked, most recently liked first.")
    async def likes(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> TweetConnection:
        page = await timeline_resolvers.likes(
            info.context, self.user_id, first, after, node_fields(info)
        )
        return TweetConnection.of(page)


@strawberry.type
class UserEdge:
    cursor: str
    node: User


@strawberry.type
class UserConnection:
    edges: list[UserEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[UserRecord]) -> UserConnection:
        return cls(
            edges=[UserEdge(cursor=cursor, node=User.of(user)) for cursor, user in page.items],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )


@strawberry.enum
class MediaKind(Enum):
    PHOTO = "PHOTO"
    VIDEO = "VIDEO"
    GIF = "GIF"


@strawberry.type
class Media(Node):
    id: strawberry.ID
    kind: MediaKind
    content_type: str
    size_bytes: int
    width: int | None
    height: int | None
    url: str = strawberry.field(
        description="Public URL on the pull CDN (CDN_BASE_URL + path); immutable, cacheable forever."
    )

    @classmethod
    def of(cls, record: MediaRecord, url: str) -> Media:
        return cls(
            id=strawberry.ID(str(record.id)),
            kind=MediaKind(record.kind),
            content_type=record.content_type,
            size_bytes=record.size_bytes,
            width=record.width,
            height=record.height,
            url=url,
        )


@strawberry.type
class Link:
    short_url: str = strawberry.field(
        description="The short link as it appears in `Tweet.text`, e.g. https://chirp.example/l/3xK9."
    )
    expanded_url: str = strawberry.field(description="The URL the author wrote.")
    display_url: str = strawberry.field(description="Host of expandedUrl, for display.")


def media_of(info: Info, record: MediaRecord) -> Media:
    return Media.of(record, media_resolvers.url(info.context, record))


@strawberry.type
class Tweet(Node):
    id: strawberry.ID
    text: str = strawberry.field(
        description="Text as stored; URLs the author wrote are replaced by their short links."
    )
    created_at: datetime
    like_count: int
    retweet_count: int
    hashtags: list[str] = strawberry.field(
        description="Lower-cased, without '#', in order of appearance."
    )
    conversation_id: strawberry.ID = strawberry.field(description="Id of the thread's root tweet.")
    record: strawberry.Private[TweetRecord]

    @classmethod
    def of(cls, record: TweetRecord) -> Tweet:
        return cls(
            id=strawberry.ID(str(record.id)),
            text=record.text,
            created_at=_datetime(record.created_at_ms),
            like_count=record.like_count,
            retweet_count=record.retweet_count,
            hashtags=list(record.hashtags),
            conversation_id=strawberry.ID(str(record.thread_root_id)),
            record=record,
        )

    @strawberry.field
    def author(self, info: Info) -> User:
        # The User itself once loaded (a connection prefetches authors), else an
        # awaitable: no coroutine per tweet on a page.
        return tweet_resolvers.author(info.context, self.record, User.of)  # type: ignore[return-value]

    @strawberry.field(description="Canonical URL of this tweet.")
    async def url(self, info: Info) -> str:
        return await tweet_resolvers.url(info.context, self.record)

    @strawberry.field(description="Users mentioned with @handle that exist.")
    async def mentions(self, info: Info) -> list[User]:
        return [User.of(u) for u in await tweet_resolvers.mentions(info.context, self.record)]

    @strawberry.field
    def viewer_has_liked(self, info: Info) -> bool:
        # may return a DataLoader future: graphql-core awaits it, and no coroutine is made
        return tweet_resolvers.viewer_has_liked(info.context, self.record.id)  # type: ignore[return-value]

    @strawberry.field
    async def media(self, info: Info) -> list[Media]:
        return [
            media_of(info, m) for m in await media_resolvers.of_tweet(info.context, self.record)
        ]

    @strawberry.field
    def links(self, info: Info) -> list[Link]:
        return [
            Link(short_url=short, expanded_url=expanded, display_url=shown)
            for short, expanded, shown in tweet_resolvers.links(info.context, self.record)
        ]

    @strawberry.field
    def viewer_has_retweeted(self, info: Info) -> bool:
        return tweet_resolvers.viewer_has_retweeted(info.context, self.record.id)  # type: ignore[return-value]

    @strawberry.field(
        description="Set when this is a retweet: the original. A retweet's text is empty."
    )
    async def retweet_of(self, info: Info) -> Tweet | None:
        original = await tweet_resolvers.related(info.context, self.record.retweet_of_id)
        return Tweet.of(original) if original else None


@strawberry.type
class TweetEdge:
    cursor: str
    node: Tweet


@strawberry.type
class TweetConnection:
    edges: list[TweetEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[TweetRecord]) -> TweetConnection:
        return cls(
            edges=[TweetEdge(cursor=cursor, node=Tweet.of(t)) for cursor, t in page.items],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )


def node_of(info: Info, record: TweetRecord | UserRecord | MediaRecord | None) -> Node | None:
    if isinstance(record, TweetRecord):
        return Tweet.of(record)
    if isinstance(record, UserRecord):
        return User.of(record)
    if isinstance(record, MediaRecord):
        return media_of(info, record)
    return None


@strawberry.type(
    description="The budget the current request was charged to, as GitHub's rateLimit."
)
class RateLimit:
    limit: int = strawberry.field(description="Points per window.")
    remaining: int
    cost: int = strawberry.field(description="Points this request cost.")
    reset_at: datetime

    @classmethod
    def of(cls, budget: Budget) -> RateLimit:
        return cls(
            limit=budget.limit,
            remaining=budget.remaining,
            cost=budget.cost,
            reset_at=datetime.fromtimestamp(budget.reset_at, tz=UTC),
        )


@strawberry.type(
    description="An application registered by a developer (the design brief's api_dev_key)."
)
class App(Node):
    id: strawberry.ID
    name: str
    created_at: datetime
    quota_per_hour: int = strawberry.field(
        description="Points per hour that requests made with this app's key may spend, "
        "all its users together."
    )
    record: strawberry.Private[AppRecord]

    @classmethod
    def of(cls, record: AppRecord) -> App:
        return cls(
            id=strawberry.ID(str(record.id)),
            name=record.name,
            created_at=_datetime(record.created_at_ms),
            quota_per_hour=record.quota_per_hour,
            record=record,
        )

    @strawberry.field
    async def owner(self, info: Info) -> User:
        user = await app_resolvers.owner(info.context, self.record)
        if user is None:
            raise LookupError(f"the owner of app {self.record.id} is missing")
        return User.of(user)
