"""The per-request context: the viewer, the services, and this request's DataLoaders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeVar

from core.errors import Unauthenticated
from core.models import MediaRecord, TweetRecord, UserRecord
from core.security import InvalidToken
from core.services import Services
from resolvers.loader import Loader

K = TypeVar("K")
V = TypeVar("V")


class Loaders:
    """One set per request: each batches and caches lookups made while resolving it.

    Each loader is made on first use: most requests need two or three of them.
    """

    def __init__(self, services: Services, viewer_id: int | None) -> None:
        self.services = services
        self.viewer_id = viewer_id
        self.graph = services.stores.graph
        self.store = services.stores.tweets
        self.more: dict[str, Loader[Any, Any]] = {}  # loaders the schema layer adds

    def named(self, name: str, make: Callable[[Loaders], Loader[K, V]]) -> Loader[K, V]:
        """This request's loader called ``name``, made by ``make`` on first use.

        Like the loaders here, the one ``make`` returns should not keep the Loaders
        itself (a reference cycle), only what its fetch needs.
        """
        found = self.more.get(name)
        if found is None:
            found = self.more[name] = make(self)
        return found

    # The fetch functions capture the stores, never ``self``: a loader whose fetch
    # referred back to its Loaders would make a reference cycle, and every value
    # of the request (records, users) would then wait for the cycle collector
    # instead of being freed with the request.

    @cached_property
    def users(self) -> Loader[int, UserRecord | None]:
        graph = self.graph

        async def fetch(ids: list[int]) -> list[UserRecord | None]:
            found = await graph.get_users(ids)
            return [found.get(i) for i in ids]

        return Loader(fetch)

    @cached_property
    def users_by_handle(self) -> Loader[str, UserRecord | None]:
        graph = self.graph

        async def fetch(handles: list[str]) -> list[UserRecord | None]:
            found = await graph.get_users_by_handles(handles)
            return [found.get(h) for h in handles]

        return Loader(fetch)

    @cached_property
    def tweets(self) -> Loader[int, TweetRecord | None]:
        store = self.store

        async def fetch(ids: list[int]) -> list[TweetRecord | None]:
            found = await store.get_tweets(ids)
            return [found.get(i) for i in ids]

        return Loader(fetch)

    @cached_property
    def followers_count(self) -> Loader[int, int]:
        graph = self.graph

        async def fetch(ids: list[int]) -> list[int]:
            counts = await graph.count_followers(ids)
            return [counts.get(i, 0) for i in ids]

        return Loader(fetch)

    @cached_property
    def following_count(self) -> Loader[int, int]:
        graph = self.graph

        async def fetch(ids: list[int]) -> list[int]:
            counts = await graph.count_following(ids)
            return [counts.get(i, 0) for i in ids]

        return Loader(fetch)

    @cached_property
    def tweets_count(self) -> Loader[int, int]:
        store = self.store

        async def fetch(ids: list[int]) -> list[int]:
            counts = await store.count_by_authors(ids)
            return [counts.get(i, 0) for i in ids]

        return Loader(fetch)

    @cached_property
    def follows(self) -> Loader[tuple[int, int], bool]:
        graph = self.graph

        async def fetch(pairs: list[tuple[int, int]]) -> list[bool]:
            found = await graph.existing_follows(pairs)
            return [pair in found for pair in pairs]

        return Loader(fetch)

    @cached_property
    def viewer_liked(self) -> Loader[int, bool]:
        store, viewer_id = self.store, self.viewer_id

        async def fetch(ids: list[int]) -> list[bool]:
            if viewer_id is None:
                return [False] * len(ids)
            found = await store.liked_tweet_ids(viewer_id, ids)
            return [i in found for i in ids]

        return Loader(fetch)

    @cached_property
    def viewer_retweeted(self) -> Loader[int, bool]:
        store, viewer_id = self.store, self.viewer_id

        async def fetch(ids: list[int]) -> list[bool]:
            if viewer_id is None:
                return [False] * len(ids)
            found = await store.retweeted_ids(viewer_id, ids)
            return [i in found for i in ids]

        return Loader(fetch)

    @cached_property
    def media(self) -> Loader[int, MediaRecord | None]:
        media = self.services.media

        async def fetch(ids: list[int]) -> list[MediaRecord | None]:
            if media is None:
                return [None] * len(ids)
            found = await media.records.get_media(ids)
            return [found.get(i) for i in ids]

        return Loader(fetch)

    def prime_users(self, users: Sequence[UserRecord]) -> None:
        self.users.prime_many((user.id, user) for user in users)

    def prime_tweets(self, tweets: Sequence[TweetRecord]) -> None:
        self.tweets.prime_many((tweet.id, tweet) for tweet in tweets)


def _viewer(services: Services, authorization: str | None) -> tuple[int | None, str | None]:
    """(viewer id, None) for a valid bearer token; (None, why) for a refused one."""
    if not authorization:
        return None, None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None, "Send the token as Authorization: Bearer <token>."
    try:
        return services.tokens.verify(token.strip()).user_id, None
    except InvalidToken as exc:
        return None, str(exc)


@dataclass
class Context:
    services: Services
    viewer_id: int | None = None
    auth_error: str | None = None  # why a sent token was refused
    idempotency_key: str | None = None
    # set by strawberry from a WebSocket's connection_init payload
    connection_params: dict[str, object] | None = None
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.services, self.viewer_id)

    def fresh_loaders(self) -> None:
        """New DataLoaders: a subscription's context lives as long as its connection."""
        self.loaders = Loaders(self.services, self.viewer_id)

    def authenticate(self, authorization: str | None) -> None:
        """Take the viewer from an Authorization value (a header, or connection_init)."""
        self.viewer_id, self.auth_error = _viewer(self.services, authorization)
        self.fresh_loaders()

    @classmethod
    def for_request(
        cls, services: Services, authorization: str | None, idempotency_key: str | None = None
    ) -> Context:
        """Context for one request, from its Authorization and Idempotency-Key headers."""
        viewer_id, auth_error = _viewer(services, authorization)
        return cls(services, viewer_id, auth_error, idempotency_key)

    async def require_viewer(self) -> int:
        """The signed-in user's id, or an UNAUTHENTICATED error.

        A well-signed token is not enough: its account must exist (a data
        folder reset under an unchanged signing key leaves such tokens around).
        """
        if self.viewer_id is None:
            raise Unauthenticated(self.auth_error) if self.auth_error else Unauthenticated()
        known = self.services.known_accounts
        if self.viewer_id in known:
            return self.viewer_id
        if await self.loaders.users.load(self.viewer_id) is None:
            raise Unauthenticated("The account this token was issued for does not exist.")
        known.add(self.viewer_id)
        return self.viewer_id
