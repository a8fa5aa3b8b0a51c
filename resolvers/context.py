"""The per-request context: the viewer, the services, and this request's DataLoaders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from strawberry.dataloader import DataLoader

from core.errors import Unauthenticated
from core.models import MediaRecord, TweetRecord, UserRecord
from core.security import InvalidToken
from core.services import Services


class Loaders:
    """One set per request: each batches and caches lookups made while resolving it."""

    def __init__(self, services: Services, viewer_id: int | None) -> None:
        graph = services.stores.graph
        tweets = services.stores.tweets

        async def users(ids: Sequence[int]) -> list[UserRecord | None]:
            found = await graph.get_users(ids)
            return [found.get(i) for i in ids]

        async def users_by_handle(handles: Sequence[str]) -> list[UserRecord | None]:
            found = await graph.get_users_by_handles(handles)
            return [found.get(h) for h in handles]

        async def tweets_by_id(ids: Sequence[int]) -> list[TweetRecord | None]:
            found = await tweets.get_tweets(ids)
            return [found.get(i) for i in ids]

        async def followers_count(ids: Sequence[int]) -> list[int]:
            counts = await graph.count_followers(ids)
            return [counts.get(i, 0) for i in ids]

        async def following_count(ids: Sequence[int]) -> list[int]:
            counts = await graph.count_following(ids)
            return [counts.get(i, 0) for i in ids]

        async def tweets_count(ids: Sequence[int]) -> list[int]:
            counts = await tweets.count_by_authors(ids)
            return [counts.get(i, 0) for i in ids]

        async def follows(pairs: Sequence[tuple[int, int]]) -> list[bool]:
            found = await graph.existing_follows(pairs)
            return [pair in found for pair in pairs]

        async def viewer_liked(ids: Sequence[int]) -> list[bool]:
            if viewer_id is None:
                return [False] * len(ids)
            found = await tweets.liked_tweet_ids(viewer_id, ids)
            return [i in found for i in ids]

        async def viewer_retweeted(ids: Sequence[int]) -> list[bool]:
            if viewer_id is None:
                return [False] * len(ids)
            found = await tweets.retweeted_ids(viewer_id, ids)
            return [i in found for i in ids]

        async def media_by_id(ids: Sequence[int]) -> list[MediaRecord | None]:
            if services.media is None:
                return [None] * len(ids)
            found = await services.media.records.get_media(ids)
            return [found.get(i) for i in ids]

        self.media = DataLoader(media_by_id)
        self.users = DataLoader(users)
        self.viewer_retweeted = DataLoader(viewer_retweeted)
        self.users_by_handle = DataLoader(users_by_handle)
        self.tweets = DataLoader(tweets_by_id)
        self.followers_count = DataLoader(followers_count)
        self.following_count = DataLoader(following_count)
        self.tweets_count = DataLoader(tweets_count)
        self.follows = DataLoader(follows)
        self.viewer_liked = DataLoader(viewer_liked)

    def prime_users(self, users: Sequence[UserRecord]) -> None:
        for user in users:
            self.users.prime(user.id, user)

    def prime_tweets(self, tweets: Sequence[TweetRecord]) -> None:
        for tweet in tweets:
            self.tweets.prime(tweet.id, tweet)


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
        if await self.loaders.users.load(self.viewer_id) is None:
            raise Unauthenticated("The account this token was issued for does not exist.")
        return self.viewer_id
