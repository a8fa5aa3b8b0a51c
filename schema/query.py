"""Query root."""

from __future__ import annotations

import strawberry

from resolvers import accounts as account_resolvers
from resolvers import apps as app_resolvers
from resolvers import conversations as conversation_resolvers
from resolvers import curation as curation_resolvers
from resolvers import discovery as discovery_resolvers
from resolvers import limits as limit_resolvers
from resolvers import notifications as notification_resolvers
from resolvers import relations as relation_resolvers
from resolvers import timelines as timeline_resolvers
from resolvers import tweets as tweet_resolvers
from schema.types import (
    App,
    Info,
    ListType,
    Moment,
    Node,
    NotificationConnection,
    NotificationGroupConnection,
    RateLimit,
    Trend,
    Tweet,
    TweetConnection,
    User,
    UserConnection,
    group_actors_wanted,
    node_fields,
    node_of,
)


@strawberry.type
class Query:
    @strawberry.field(
        description="Any user, tweet, media, notification (the viewer's own), moment or list "
        "(a private one to its owner) by id (snowflake ids are unique across kinds)."
    )
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return node_of(info, await tweet_resolvers.node(info.context, id))

    @strawberry.field(description="(auth) The signed-in user.")
    async def me(self, info: Info) -> User | None:
        user = await account_resolvers.me(info.context)
        return User.of(user) if user else None

    @strawberry.field(description="A user by handle (case-insensitive, '@' optional).")
    async def user(self, info: Info, handle: str) -> User | None:
        user = await account_resolvers.user_by_handle(info.context, handle)
        return User.of(user) if user else None

    @strawberry.field
    async def tweet(self, info: Info, id: strawberry.ID) -> Tweet | None:
        record = await tweet_resolvers.tweet(info.context, id)
        return Tweet.of(record) if record else None

    @strawberry.field(
        description="(auth) Home timeline: tweets and retweets by the people the viewer "
        "follows and the viewer's own, newest first. Deep pages past the cache still work."
    )
    async def home_timeline(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> TweetConnection:
        page = await timeline_resolvers.home_timeline(info.context, first, after, node_fields(info))
        return TweetConnection.of(page)

    @strawberry.field(
        description="(auth) The viewer's notifications, newest first; unreadCount counts "
        "those newer than the read marker (markNotificationsRead)."
    )
    async def notifications(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> NotificationConnection:
        page = await notification_resolvers.notifications(info.context, first, after)
        return NotificationConnection.of(page)

    @strawberry.field(
        description="(auth) Notifications folded into groups, most recent activity first."
    )
    async def notification_groups(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> NotificationGroupConnection:
        page = await notification_resolvers.groups(
            info.context, first, after, group_actors_wanted(info)
        )
        return NotificationGroupConnection.of(page)

    @strawberry.field(description="(auth) Tweets that mention the viewer, newest first.")
    async def mentions(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> TweetConnection:
        page = await conversation_resolvers.mentions_timeline(
            info.context, first, after, node_fields(info)
        )
        return TweetConnection.of(page)

    @strawberry.field(
        description="Search timeline, newest first. '#tag' matches the hashtag; other words "
        'match tweet text, case- and accent-insensitively (all must match); "quoted phrase" '
        "matches the phrase; -word excludes; from:handle limits to one author; "
        "since:YYYY-MM-DD and until:YYYY-MM-DD bound the date. A malformed query is a "
        "BAD_USER_INPUT error saying what is wrong."
    )
    async def search(
        self, info: Info, query: str, first: int | None = 20, after: str | None = None
    ) -> TweetConnection:
        page = await discovery_resolvers.search(
            info.context, query, first, after, node_fields(info)
        )
        return TweetConnection.of(page)

    @strawberry.field(
        description="Hashtags trending in the last `windowMinutes` (5 to 1440): ranked by how "
        "unusual their use is now against each tag's own baseline, counted in distinct "
        "authors; the most unusual first. `limit` 1 to 50."
    )
    async def trends(
        self, info: Info, limit: int | None = 10, window_minutes: int | None = 60
    ) -> list[Trend]:
        found = await discovery_resolvers.trends(info.context, limit, window_minutes)
        return [
            Trend(name=t.name, tweet_count=t.tweet_count, account_count=t.account_count)
            for t in found
        ]

    @strawberry.field(
        description="(auth) Who to follow: users followed by the people the viewer follows, "
        "ranked by how many of them; never the viewer or someone already followed. `limit` "
        "1 to 50."
    )
    async def who_to_follow(self, info: Info, limit: int | None = 10) -> list[User]:
        return [User.of(u) for u in await discovery_resolvers.who_to_follow(info.context, limit)]

    @strawberry.field(
        description="People by handle or display name, best match first (for @-autocomplete "
        "and people search): handles beginning with the query, then display names with "
        "words beginning with it."
    )
    async def search_users(
        self, info: Info, query: str, first: int | None = 20, after: str | None = None
    ) -> UserConnection:
        page = await discovery_resolvers.search_users(info.context, query, first, after)
        return UserConnection.of(page)

    @strawberry.field(
        description="(auth) Tweets the viewer bookmarked, most recently bookmarked first."
    )
    async def bookmarks(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> TweetConnection:
        page = await curation_resolvers.bookmarks(info.context, first, after, node_fields(info))
        return TweetConnection.of(page)

    @strawberry.field
    async def moment(self, info: Info, id: strawberry.ID) -> Moment | None:
        record = await curation_resolvers.moment(info.context, id)
        return Moment.of(record) if record else None

    @strawberry.field(
        name="list", description="A list; a private one is null to everyone but its owner."
    )
    async def list_(self, info: Info, id: strawberry.ID) -> ListType | None:
        record = await curation_resolvers.list_by_id(info.context, id)
        return ListType.of(record) if record else None

    @strawberry.field(description="(auth) The accounts the viewer blocks, most recent first.")
    async def blocked_users(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> UserConnection:
        return UserConnection.of(await relation_resolvers.blocked_users(info.context, first, after))

    @strawberry.field(
        description="(auth) The accounts the viewer mutes (mutes that expired are over), "
        "most recent first."
    )
    async def muted_users(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> UserConnection:
        return UserConnection.of(await relation_resolvers.muted_users(info.context, first, after))

    @strawberry.field(description="The caller's rate-limit budget after this request.")
    def rate_limit(self, info: Info) -> RateLimit:
        return RateLimit.of(limit_resolvers.rate_limit(info.context))

    @strawberry.field(description="(auth) The viewer's registered apps.")
    async def apps(self, info: Info) -> list[App]:
        return [App.of(app) for app in await app_resolvers.apps(info.context)]
