"""The services container: what a request needs, built once per process by bootstrap/."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from core.security import Tokens
from docstore.apps import AppStore
from docstore.bookmarks import BookmarkStore
from docstore.lists import ListStore
from docstore.moments import MomentStore
from docstore.notifications import NotificationStore
from docstore.port import TweetStore
from graph.port import SocialGraph
from persisted.memory import MemoryQueryStore
from persisted.port import QueryStore
from search.port import SearchIndex
from services.accounts import AccountService, RecentIds
from services.apps import AppService
from services.curation import BookmarkService, ListService, MomentService
from services.discovery import PeopleSearch, WhoToFollow
from services.limits import RateLimits
from services.links import LinkService
from services.media import MediaService
from services.notifications import NotificationService
from services.persisted import PersistedQueries
from services.relations import RelationService
from services.search import SearchService
from services.social import SocialService
from services.trends import TrendService
from services.tweets import TweetService
from throttle.memory import MemoryLimiter
from throttle.port import Limiter
from timeline.fanout import FanOut
from timeline.home import HomeTimeline
from timeline.memory import MemoryEventBus, MemoryFanoutQueue
from timeline.port import EventBus, FanoutQueue, TimelineCache
from timeline.realtime import Hub
from trends.port import TrendStore


@dataclass
class Stores:
    """The ports, one adapter each, as chosen by the settings."""

    graph: SocialGraph
    tweets: TweetStore
    timelines: TimelineCache
    queue: FanoutQueue = field(default_factory=MemoryFanoutQueue)
    events: EventBus = field(default_factory=MemoryEventBus)
    limiter: Limiter = field(default_factory=MemoryLimiter)
    apps: AppStore | None = None
    queries: QueryStore = field(default_factory=MemoryQueryStore)
    descriptions: dict[str, str] = field(default_factory=dict)  # for logs and /readyz
    notifications: NotificationStore | None = None
    bookmarks: BookmarkStore | None = None
    moments: MomentStore | None = None
    lists: ListStore | None = None
    trends: TrendStore | None = None
    search: SearchIndex | None = None

    def pings(self) -> dict[str, Callable[[], Awaitable[None]]]:
        """Per backend, a call that raises when it cannot answer."""
        return {
            "graph": self.graph.ping,
            "tweets": self.tweets.ping,
            "timelines": self.timelines.ping,
        }

    async def close(self) -> None:
        for store in (
            self.search,
            self.trends,
            self.lists,
            self.moments,
            self.bookmarks,
            self.notifications,
        ):
            if store is not None:
                await store.close()
        await self.queries.close()
        if self.apps is not None:
            await self.apps.close()
        await self.limiter.close()
        await self.events.close()
        await self.queue.close()
        await self.timelines.close()
        await self.tweets.close()
        await self.graph.close()


@dataclass
class Services:
    """Everything a request needs, built once per process by the composition root."""

    stores: Stores
    tokens: Tokens
    accounts: AccountService
    social: SocialService
    tweets: TweetService
    home: HomeTimeline
    fanout: FanOut
    hub: Hub
    public_url: str
    media: MediaService | None = None
    links: LinkService | None = None
    limits: RateLimits | None = None
    apps: AppService | None = None
    persisted: PersistedQueries | None = None
    relations: RelationService | None = None
    notifications: NotificationService | None = None
    bookmarks: BookmarkService | None = None
    moments: MomentService | None = None
    lists: ListService | None = None
    trends: TrendService | None = None
    who_to_follow: WhoToFollow | None = None
    people: PeopleSearch | None = None
    search: SearchService | None = None
    # Accounts a token was recently checked against: accounts are never deleted
    # through the API, so a signed token's account is looked up once a minute,
    # not on every request (a data folder reset is noticed within the minute).
    known_accounts: RecentIds = field(default_factory=RecentIds)
