"""Strawberry object types of the public API (../shared/api/schema.graphql)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from enum import Enum
from typing import TypeAlias

import strawberry

from core.errors import UserError
from core.links import display_url
from core.models import MediaRecord, TweetRecord, UserRecord
from resolvers import tweets as tweet_resolvers
from resolvers import users as user_resolvers
from resolvers.context import Context, Loaders
from resolvers.loader import Loader
from resolvers.pagination import Page
from schema.lookahead import selected_below

Info: TypeAlias = strawberry.Info[Context, None]


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
        "FORBIDDEN, HANDLE_TAKEN, INVALID_CREDENTIALS, SELF_FOLLOW, MEDIA_NOT_READY, RATE_LIMITED."
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
        return await info.context.loaders.followers_count.load(self.user_id)

    @strawberry.field
    async def following_count(self, info: Info) -> int:
        return await info.context.loaders.following_count.load(self.user_id)

    @strawberry.field
    async def tweets_count(self, info: Info) -> int:
        return await info.context.loaders.tweets_count.load(self.user_id)

    @strawberry.field(description="False for anonymous viewers.")
    async def viewer_follows(self, info: Info) -> bool:
        return await user_resolvers.viewer_follows(info.context, self.user_id)

    @strawberry.field
    async def follows_viewer(self, info: Info) -> bool:
        return await user_resolvers.follows_viewer(info.context, self.user_id)

    @strawberry.field(description="Who follows this user, most recent first.")
    async def followers(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> UserConnection:
        page = await user_resolvers.followers(info.context, self.user_id, first, after)
        return UserConnection.of(page)

    @strawberry.field(description="Whom this user follows, most recent first.")
    async def following(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> UserConnection:
        page = await user_resolvers.following(info.context, self.user_id, first, after)
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
        page = await user_resolvers.tweets(
            info.context, self.user_id, first, after, bool(include_replies)
        )
        return await TweetConnection.load(info, page)

    @strawberry.field(description="Tweets this user liked, most recently liked first.")
    async def likes(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> TweetConnection:
        page = await user_resolvers.likes(info.context, self.user_id, first, after)
        return await TweetConnection.load(info, page)


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
    service = info.context.services.media
    return Media.of(record, service.url(record) if service else "")


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
        # A loader future, not a coroutine: the async path costs more than the
        # lookup itself on a page of tweets.
        return info.context.loaders.named("authors", _authors).value_or_load(self.record.author_id)  # type: ignore[return-value]

    @strawberry.field(description="Canonical URL of this tweet.")
    async def url(self, info: Info) -> str:
        user = await info.context.loaders.users.load(self.record.author_id)
        handle = user.handle if user else "i"
        return f"{info.context.services.public_url}/{handle}/status/{self.record.id}"

    @strawberry.field(description="Users mentioned with @handle that exist.")
    async def mentions(self, info: Info) -> list[User]:
        return [User.of(u) for u in await tweet_resolvers.mentions(info.context, self.record)]

    @strawberry.field
    def viewer_has_liked(self, info: Info) -> bool:
        # may return a DataLoader future: graphql-core awaits it, and no coroutine is made
        return tweet_resolvers.viewer_has_liked(info.context, self.record.id)  # type: ignore[return-value]

    @strawberry.field
    async def media(self, info: Info) -> list[Media]:
        return [media_of(info, m) for m in await tweet_resolvers.media(info.context, self.record)]

    @strawberry.field
    def links(self, info: Info) -> list[Link]:
        links = info.context.services.links
        return [
            Link(
                short_url=links.short_url(code) if links else url,
                expanded_url=url,
                display_url=display_url(url),
            )
            for code, url in self.record.links
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


def _authors(loaders: Loaders) -> Loader[int, User]:
    """Authors as User objects, one batch per page; the records also fill ``users``."""
    graph, users = loaders.graph, loaders.users  # not ``loaders``: see Loaders.named

    async def fetch(ids: list[int]) -> list[User | BaseException]:
        found = await graph.get_users(ids)
        users.prime_many(found.items())
        # an author is never deleted: a missing one is a broken store, this field's error
        return [
            User.of(found[i]) if i in found else LookupError(f"author {i} missing") for i in ids
        ]

    return Loader(fetch)


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

    @classmethod
    async def load(cls, info: Info, page: Page[TweetRecord]) -> TweetConnection:
        """The connection, with what its nodes select of authors and viewer flags prefetched.

        One batch per kind, all at once, before the nodes resolve: their fields then
        answer from loaded values instead of each awaiting a loader future.
        """
        if page.items:
            await prefetch_tweet_fields(
                info.context, [t for _, t in page.items], selected_below(info, ("edges", "node"))
            )
        return cls.of(page)


async def prefetch_tweet_fields(
    context: Context, records: list[TweetRecord], fields: frozenset[str]
) -> None:
    """Load, one batch per kind, what ``fields`` of these tweets will ask for."""
    loaders = context.loaders
    batches = []
    if "author" in fields:
        batches.append(loaders.named("authors", _authors).prefetch(t.author_id for t in records))
    if context.viewer_id is not None:
        ids = [t.id for t in records]
        if "viewerHasLiked" in fields:
            batches.append(loaders.viewer_liked.prefetch(ids))
        if "viewerHasRetweeted" in fields:
            batches.append(loaders.viewer_retweeted.prefetch(ids))
    if len(batches) == 1:
        await batches[0]
    elif batches:
        await asyncio.gather(*batches)


def node_of(info: Info, record: TweetRecord | UserRecord | MediaRecord | None) -> Node | None:
    if isinstance(record, TweetRecord):
        return Tweet.of(record)
    if isinstance(record, UserRecord):
        return User.of(record)
    if isinstance(record, MediaRecord):
        return media_of(info, record)
    return None
