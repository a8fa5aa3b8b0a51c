"""This request's DataLoaders, and the prefetch a connection runs from its lookahead.

Each loader batches one of the services' reads by key (users, tweets, counts,
viewer flags, media) and caches its answers for the request. A loader is made
on first use: most requests need two or three.

The fetch functions capture the services' bound methods, never the Loaders: a
loader whose fetch referred back to its Loaders would make a reference cycle,
and every value of the request (records, users) would then wait for the cycle
collector instead of being freed with the request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterable, Mapping
from functools import cached_property, partial
from typing import Any, TypeVar

from core.models import MediaRecord, TweetRecord, UserRecord
from resolvers.dataloader import Loader, View
from services.container import Services

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
W = TypeVar("W")


def by_key(lookup: Callable[[list[K]], Awaitable[Mapping[K, V]]], missing: V) -> Loader[K, V]:
    """A loader over a read that answers a mapping: ``missing`` for a key it leaves out."""

    async def fetch(keys: list[K]) -> list[V]:
        found = await lookup(keys)
        return [found.get(key, missing) for key in keys]

    return Loader(fetch)


def flags(lookup: Callable[[list[K]], Awaitable[Collection[K]]]) -> Loader[K, bool]:
    """A loader over a read that answers the keys it holds: True for those, False else."""

    async def fetch(keys: list[K]) -> list[bool]:
        found = await lookup(keys)
        return [key in found for key in keys]

    return Loader(fetch)


async def _nothing(keys: Iterable[Any]) -> dict[Any, Any]:
    """The answer of a read that cannot hold anything (no viewer, no media configured)."""
    return {}


class Loaders:
    """One set per request: each batches and caches lookups made while resolving it."""

    def __init__(self, services: Services, viewer_id: int | None) -> None:
        self.viewer_id = viewer_id
        self.accounts = services.accounts
        self.social = services.social
        self.tweet_service = services.tweets
        self.media_service = services.media
        self.relations = services.relations
        self.bookmark_service = services.bookmarks
        self.notification_service = services.notifications
        self._hidden: dict[bool, asyncio.Future[set[int]]] = {}
        self._read_marker: asyncio.Future[int] | None = None
        # by maker: read directly by a field resolved once per tweet (resolvers.tweets.author)
        self.user_views: dict[Callable[[UserRecord], Any], View[int, UserRecord, Any]] = {}

    @cached_property
    def users(self) -> Loader[int, UserRecord | None]:
        return by_key(self.accounts.users, None)

    @cached_property
    def users_by_handle(self) -> Loader[str, UserRecord | None]:
        return by_key(self.accounts.users_by_handles, None)

    @cached_property
    def tweets(self) -> Loader[int, TweetRecord | None]:
        return by_key(self.tweet_service.get, None)

    @cached_property
    def followers_count(self) -> Loader[int, int]:
        return by_key(self.social.follower_counts, 0)

    @cached_property
    def following_count(self) -> Loader[int, int]:
        return by_key(self.social.following_counts, 0)

    @cached_property
    def tweets_count(self) -> Loader[int, int]:
        return by_key(self.tweet_service.counts_by_author, 0)

    @cached_property
    def follows(self) -> Loader[tuple[int, int], bool]:
        return flags(self.social.existing_follows)

    @cached_property
    def viewer_liked(self) -> Loader[int, bool]:
        return flags(self._viewer_read(self.tweet_service.liked))

    @cached_property
    def viewer_retweeted(self) -> Loader[int, bool]:
        return flags(self._viewer_read(self.tweet_service.retweeted))

    @cached_property
    def viewer_bookmarked(self) -> Loader[int, bool]:
        bookmarks = self.bookmark_service
        if bookmarks is None:
            return flags(_nothing)
        return flags(self._viewer_read(bookmarks.bookmarked))

    @cached_property
    def blocks(self) -> Loader[tuple[int, int], bool]:
        """(blocker, blocked) pairs: whether the first blocks the second."""
        relations = self.relations
        return flags(relations.blocks if relations is not None else _nothing)

    @cached_property
    def mutes(self) -> Loader[tuple[int, int], bool]:
        """(muter, muted) pairs: whether the first mutes the second now."""
        relations = self.relations
        return flags(relations.mutes if relations is not None else _nothing)

    async def hidden(self, notifications: bool = False) -> set[int]:
        """Whom this request's viewer must not see (blocks either way, mutes; with
        ``notifications`` only mutes that hide notifications): asked once per request."""
        if self.viewer_id is None or self.relations is None:
            return set()
        found = self._hidden.get(notifications)
        if found is None:
            found = asyncio.ensure_future(self.relations.hidden(self.viewer_id, notifications))
            self._hidden[notifications] = found
        return set(await found)

    async def read_marker(self) -> int:
        """The id up to which the viewer's notifications are read: asked once per request."""
        service = self.notification_service
        if self.viewer_id is None or service is None:
            return 0
        if self._read_marker is None:
            self._read_marker = asyncio.ensure_future(service.read_marker(self.viewer_id))
        return await self._read_marker

    @cached_property
    def media(self) -> Loader[int, MediaRecord | None]:
        media = self.media_service
        return by_key(media.get if media is not None else _nothing, None)

    def _viewer_read(
        self, read: Callable[[int, list[int]], Awaitable[Collection[int]]]
    ) -> Callable[[list[int]], Awaitable[Collection[int]]]:
        """``read`` for this request's viewer; nothing for an anonymous one."""
        return _nothing if self.viewer_id is None else partial(read, self.viewer_id)

    def users_as(self, make: Callable[[UserRecord], W]) -> View[int, UserRecord, W]:
        """This request's users, each made into ``make``'s object once (``View``)."""
        found = self.user_views.get(make)
        if found is None:
            found = self.user_views[make] = View(self.users, make, "user")
        return found

    def prime_tweets(self, tweets: Iterable[TweetRecord]) -> None:
        self.tweets.prime_many((tweet.id, tweet) for tweet in tweets)


async def prefetch_tweet_fields(
    loaders: Loaders, records: list[TweetRecord], fields: frozenset[str]
) -> None:
    """Load, one batch per kind and all at once, what ``fields`` of these tweets will ask for.

    ``fields``: the names a connection's ``edges.node`` selects (its lookahead). Once
    this returns, those fields answer from loaded values instead of each awaiting a
    loader future.
    """
    batches = []
    users: list[int] = []
    if "author" in fields:
        users += [t.author_id for t in records]
    if "mentions" in fields:
        users += [m for t in records for m in t.mention_ids]
    if users:
        batches.append(loaders.users.prefetch(users))
    if loaders.viewer_id is not None:
        ids = [t.id for t in records]
        if "viewerHasLiked" in fields:
            batches.append(loaders.viewer_liked.prefetch(ids))
        if "viewerHasRetweeted" in fields:
            batches.append(loaders.viewer_retweeted.prefetch(ids))
        if "viewerHasBookmarked" in fields:
            batches.append(loaders.viewer_bookmarked.prefetch(ids))
    if len(batches) == 1:
        await batches[0]
    elif batches:
        await asyncio.gather(*batches)
