"""Strawberry object types of the public API (../shared/api/schema.graphql)."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import Enum
from typing import TypeAlias

import strawberry

from core.errors import UserError
from core.models import (
    AppRecord,
    ListRecord,
    MediaRecord,
    MomentRecord,
    NotificationGroupRecord,
    NotificationRecord,
    TweetRecord,
    UserRecord,
)
from resolvers import apps as app_resolvers
from resolvers import conversations as conversation_resolvers
from resolvers import curation as curation_resolvers
from resolvers import media as media_resolvers
from resolvers import notifications as notification_resolvers
from resolvers import relations as relation_resolvers
from resolvers import social as social_resolvers
from resolvers import timelines as timeline_resolvers
from resolvers import tweets as tweet_resolvers
from resolvers.context import Context
from resolvers.limits import Budget
from resolvers.pagination import Page
from schema.execution.lookahead import int_arguments_below, selected_below

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
        "FORBIDDEN, HANDLE_TAKEN, HANDLE_RESERVED, INVALID_CREDENTIALS, SELF_FOLLOW, "
        "MEDIA_NOT_READY, RATE_LIMITED, INVALID_CHARACTERS."
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

    @strawberry.field(
        description="False for anonymous viewers. Blocks and mutes are private to the one "
        "who made them."
    )
    async def viewer_blocks(self, info: Info) -> bool:
        return await relation_resolvers.viewer_blocks(info.context, self.user_id)

    @strawberry.field(description="False for anonymous viewers; a mute that expired is over.")
    async def viewer_mutes(self, info: Info) -> bool:
        return await relation_resolvers.viewer_mutes(info.context, self.user_id)

    @strawberry.field(
        description="Whether this user blocks the viewer (so a client can say why it cannot "
        "follow or reply)."
    )
    async def blocks_viewer(self, info: Info) -> bool:
        return await relation_resolvers.blocks_viewer(info.context, self.user_id)

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

    @strawberry.field(
        description="Lists this user owns, newest first; private ones only when the viewer "
        "is the owner."
    )
    async def lists(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> ListConnection:
        page = await curation_resolvers.lists_of(info.context, self.user_id, first, after)
        return ListConnection.of(page)

    @strawberry.field(description="Moments this user made, newest first.")
    async def moments(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> MomentConnection:
        page = await curation_resolvers.moments_of(info.context, self.user_id, first, after)
        return MomentConnection.of(page)

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
class GeoPoint:
    latitude: float
    longitude: float


@strawberry.type
class Tweet(Node):
    id: strawberry.ID
    text: str = strawberry.field(
        description="Text as stored; URLs the author wrote are replaced by their short links."
    )
    created_at: datetime
    like_count: int
    retweet_count: int
    reply_count: int
    quote_count: int
    hashtags: list[str] = strawberry.field(
        description="Lower-cased (Unicode case folding), without '#', in order of appearance, "
        "by twitter-text's rules."
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
            reply_count=record.reply_count,
            quote_count=record.quote_count,
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

    @strawberry.field(
        description="Users mentioned with @handle that exist (existed when it was posted), "
        "in order, once each."
    )
    async def mentions(self, info: Info) -> list[User]:
        found = await conversation_resolvers.mentioned_users(info.context, self.record)
        return [User.of(u) for u in found]

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

    @strawberry.field(description="False for anonymous viewers; bookmarks are private.")
    def viewer_has_bookmarked(self, info: Info) -> bool:
        return curation_resolvers.viewer_has_bookmarked(info.context, self.record.id)  # type: ignore[return-value]

    @strawberry.field
    def viewer_has_retweeted(self, info: Info) -> bool:
        return tweet_resolvers.viewer_has_retweeted(info.context, self.record.id)  # type: ignore[return-value]

    @strawberry.field(
        description="Set when this is a retweet: the original. A retweet's text is empty."
    )
    async def retweet_of(self, info: Info) -> Tweet | None:
        original = await tweet_resolvers.related(info.context, self.record.retweet_of_id)
        return Tweet.of(original) if original else None

    @strawberry.field(description="Where the author says the tweet was written, when they said.")
    def location(self) -> GeoPoint | None:
        point = self.record.location
        return (
            None if point is None else GeoPoint(latitude=point.latitude, longitude=point.longitude)
        )

    @strawberry.field(description="The tweet this one replies to; null once it is deleted.")
    async def in_reply_to(self, info: Info) -> Tweet | None:
        parent = await tweet_resolvers.related(info.context, self.record.in_reply_to_id)
        return Tweet.of(parent) if parent else None

    @strawberry.field(description="The tweet this one quotes; null once it is deleted.")
    async def quote_of(self, info: Info) -> Tweet | None:
        quoted = await tweet_resolvers.related(info.context, self.record.quote_of_id)
        return Tweet.of(quoted) if quoted else None

    @strawberry.field(description="Direct replies to this tweet, newest first.")
    async def replies(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> TweetConnection:
        page = await conversation_resolvers.replies(
            info.context, self.record.id, first, after, node_fields(info)
        )
        return TweetConnection.of(page)

    @strawberry.field(
        description="The tweets this reply answers, root first: the nearest `last` of them "
        "(capped at 100), so a thread view needs no walking up. Deleted ones are left out."
    )
    async def ancestors(self, info: Info, last: int | None = 10) -> list[Tweet]:
        found = await conversation_resolvers.ancestors(info.context, self.record, last)
        return [Tweet.of(t) for t in found]

    @strawberry.field(description="Tweets quoting this one, newest first.")
    async def quotes(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> TweetConnection:
        page = await conversation_resolvers.quotes(
            info.context, self.record.id, first, after, node_fields(info)
        )
        return TweetConnection.of(page)


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


@strawberry.type
class Trend:
    name: str = strawberry.field(description="Hashtag without '#', lower-cased.")
    tweet_count: int = strawberry.field(description="Tweets carrying it within the trend window.")
    account_count: int = strawberry.field(
        description="Distinct authors of those tweets (one account repeating a tag counts once)."
    )


@strawberry.enum
class NotificationKind(Enum):
    FOLLOW = "FOLLOW"
    LIKE = "LIKE"
    RETWEET = "RETWEET"
    REPLY = "REPLY"
    MENTION = "MENTION"
    QUOTE = "QUOTE"


async def _user(info: Info, user_id: int) -> User:
    user = await info.context.loaders.users.load(user_id)
    if user is None:
        raise LookupError(f"user {user_id} is missing")
    return User.of(user)


async def _tweet(info: Info, tweet_id: int | None) -> Tweet | None:
    found = await tweet_resolvers.related(info.context, tweet_id)
    return Tweet.of(found) if found else None


@strawberry.type
class Notification(Node):
    id: strawberry.ID
    kind: NotificationKind
    created_at: datetime
    record: strawberry.Private[NotificationRecord]

    @classmethod
    def of(cls, record: NotificationRecord) -> Notification:
        return cls(
            id=strawberry.ID(str(record.id)),
            kind=NotificationKind(record.kind),
            created_at=_datetime(record.created_at_ms),
            record=record,
        )

    @strawberry.field
    async def actor(self, info: Info) -> User:
        return await _user(info, self.record.actor_id)

    @strawberry.field(
        description="The tweet it is about (the reply, the liked tweet...), null for FOLLOW."
    )
    async def tweet(self, info: Info) -> Tweet | None:
        return await _tweet(info, self.record.tweet_id)

    @strawberry.field
    async def read(self, info: Info) -> bool:
        return await notification_resolvers.is_read(info.context, self.record.id)


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[NotificationRecord]) -> NotificationConnection:
        return cls(
            edges=[NotificationEdge(cursor=c, node=Notification.of(n)) for c, n in page.items],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )

    @strawberry.field(description="Notifications newer than the read marker.")
    async def unread_count(self, info: Info) -> int:
        return await notification_resolvers.unread_count(info.context)


@strawberry.type(
    description="Notifications folded as people read them: 'alice and 12 others liked your "
    "tweet'. LIKE, RETWEET and FOLLOW of the same target fold together while the group spans "
    "at most 12 hours; every other kind stands alone (count 1)."
)
class NotificationGroup:
    id: strawberry.ID = strawberry.field(description="Stable while the group grows.")
    kind: NotificationKind
    count: int = strawberry.field(description="How many notifications the group holds.")
    latest_at: datetime
    record: strawberry.Private[NotificationGroupRecord]

    @classmethod
    def of(cls, record: NotificationGroupRecord) -> NotificationGroup:
        return cls(
            id=strawberry.ID(notification_resolvers.group_id(record)),
            kind=NotificationKind(record.kind),
            count=record.count,
            latest_at=_datetime(record.latest_at_ms),
            record=record,
        )

    @strawberry.field(description="The tweet the group is about, null for FOLLOW.")
    async def tweet(self, info: Info) -> Tweet | None:
        return await _tweet(info, self.record.tweet_id)

    @strawberry.field(description="Most recent first.")
    async def actors(self, info: Info, first: int | None = 3) -> list[User]:
        count = notification_resolvers.group_actor_count(first)
        ids = list(self.record.actor_ids[:count])
        found = await info.context.loaders.users.load_many(ids)
        return [User.of(u) for u in found if u is not None]

    @strawberry.field
    async def read(self, info: Info) -> bool:
        return await notification_resolvers.is_read(info.context, self.record.latest_id)


@strawberry.type
class NotificationGroupEdge:
    cursor: str
    node: NotificationGroup


@strawberry.type
class NotificationGroupConnection:
    edges: list[NotificationGroupEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[NotificationGroupRecord]) -> NotificationGroupConnection:
        return cls(
            edges=[
                NotificationGroupEdge(cursor=c, node=NotificationGroup.of(g)) for c, g in page.items
            ],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )

    @strawberry.field(description="Groups whose newest notification is unread.")
    async def unread_count(self, info: Info) -> int:
        return await notification_resolvers.unread_group_count(info.context)


def group_actors_wanted(info: Info) -> int:
    """How many actors the page's groups must carry: the largest ``actors(first:)`` asked."""
    asked = int_arguments_below(info, ("edges", "node", "actors"), "first")
    return max([notification_resolvers.group_actor_count(n) for n in asked] or [0])


@strawberry.type
class Moment(Node):
    id: strawberry.ID
    title: str
    description: str
    created_at: datetime
    tweet_count: int
    record: strawberry.Private[MomentRecord]

    @classmethod
    def of(cls, record: MomentRecord) -> Moment:
        return cls(
            id=strawberry.ID(str(record.id)),
            title=record.title,
            description=record.description,
            created_at=_datetime(record.created_at_ms),
            tweet_count=record.tweet_count,
            record=record,
        )

    @strawberry.field
    async def owner(self, info: Info) -> User:
        return await _user(info, self.record.owner_id)

    @strawberry.field(description="In the order the owner added them, first added first.")
    async def tweets(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> TweetConnection:
        page = await curation_resolvers.moment_tweets(
            info.context, self.record, first, after, node_fields(info)
        )
        return TweetConnection.of(page)


@strawberry.type
class MomentEdge:
    cursor: str
    node: Moment


@strawberry.type
class MomentConnection:
    edges: list[MomentEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[MomentRecord]) -> MomentConnection:
        return cls(
            edges=[MomentEdge(cursor=c, node=Moment.of(m)) for c, m in page.items],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )


@strawberry.type(
    name="List", description="A curated set of accounts whose tweets make a timeline of their own."
)
class ListType(Node):
    id: strawberry.ID
    name: str
    description: str
    private: bool = strawberry.field(
        description="A private list is visible to its owner only; to anyone else it does not exist."
    )
    member_count: int
    created_at: datetime
    record: strawberry.Private[ListRecord]

    @classmethod
    def of(cls, record: ListRecord) -> ListType:
        return cls(
            id=strawberry.ID(str(record.id)),
            name=record.name,
            description=record.description,
            private=record.private,
            member_count=record.member_count,
            created_at=_datetime(record.created_at_ms),
            record=record,
        )

    @strawberry.field
    async def owner(self, info: Info) -> User:
        return await _user(info, self.record.owner_id)

    @strawberry.field(description="The list's members, most recently added first.")
    async def members(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> UserConnection:
        page = await curation_resolvers.list_members(info.context, self.record, first, after)
        return UserConnection.of(page)

    @strawberry.field(description="Tweets and retweets by the members, newest first.")
    async def timeline(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> TweetConnection:
        page = await curation_resolvers.list_timeline(
            info.context, self.record, first, after, node_fields(info)
        )
        return TweetConnection.of(page)


@strawberry.type
class ListEdge:
    cursor: str
    node: ListType


@strawberry.type
class ListConnection:
    edges: list[ListEdge]
    page_info: PageInfo

    @classmethod
    def of(cls, page: Page[ListRecord]) -> ListConnection:
        return cls(
            edges=[ListEdge(cursor=c, node=ListType.of(r)) for c, r in page.items],
            page_info=PageInfo(has_next_page=page.has_next, end_cursor=page.end_cursor),
        )


def node_of(
    info: Info,
    record: TweetRecord
    | UserRecord
    | MediaRecord
    | NotificationRecord
    | MomentRecord
    | ListRecord
    | None,
) -> Node | None:
    if isinstance(record, TweetRecord):
        return Tweet.of(record)
    if isinstance(record, UserRecord):
        return User.of(record)
    if isinstance(record, MediaRecord):
        return media_of(info, record)
    if isinstance(record, NotificationRecord):
        return Notification.of(record)
    if isinstance(record, MomentRecord):
        return Moment.of(record)
    if isinstance(record, ListRecord):
        return ListType.of(record)
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
