"""Application services: the use cases, written once above the ports.

Services validate input, enforce the rules and call the stores. They raise
``UserError`` for expected problems and never import a driver.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from core.errors import UserError, UserErrors
from core.ids import SnowflakeGenerator, id_timestamp_ms
from core.links import LinkService
from core.models import IdempotencyKey, NewUser, TweetRecord, UserRecord
from core.security import Passwords, Tokens
from core.text import (
    extract_hashtags,
    validate_bio,
    validate_display_name,
    validate_handle,
    validate_password,
    validate_tweet_text,
)
from docstore.port import IdempotencyConflictError, TweetStore
from graph.port import HandleTakenError, SocialGraph
from media.service import MediaService
from timeline.engine import TimelineConfig, TimelineEngine
from timeline.events import EventBus, MemoryEventBus
from timeline.port import TimelineCache
from timeline.queue import FanoutQueue, MemoryFanoutQueue
from timeline.realtime import Hub

MAX_IDEMPOTENCY_KEY_LENGTH = 255


@dataclass
class Stores:
    """The ports, one adapter each, as chosen by the settings."""

    graph: SocialGraph
    tweets: TweetStore
    timelines: TimelineCache
    queue: FanoutQueue = field(default_factory=MemoryFanoutQueue)
    events: EventBus = field(default_factory=MemoryEventBus)
    descriptions: dict[str, str] = field(default_factory=dict)  # for logs and /readyz

    def pings(self) -> dict[str, Callable[[], Awaitable[None]]]:
        """Per backend, a call that raises when it cannot answer."""
        return {
            "graph": self.graph.ping,
            "tweets": self.tweets.ping,
            "timelines": self.timelines.ping,
        }

    async def close(self) -> None:
        await self.events.close()
        await self.queue.close()
        await self.timelines.close()
        await self.tweets.close()
        await self.graph.close()


def _check(errors: list[UserError], validate: Callable[[str], str], value: str) -> str:
    """Run one validator, collecting its UserError so all fields are reported together."""
    try:
        return validate(value)
    except UserError as exc:
        errors.append(exc)
        return value


class AccountService:
    def __init__(
        self, graph: SocialGraph, ids: SnowflakeGenerator, passwords: Passwords, tokens: Tokens
    ) -> None:
        self.graph = graph
        self.ids = ids
        self.passwords = passwords
        self.tokens = tokens

    async def sign_up(
        self, handle: str, password: str, display_name: str | None, bio: str | None
    ) -> tuple[str, UserRecord]:
        errors: list[UserError] = []
        clean_handle = _check(errors, validate_handle, handle)
        _check(errors, validate_password, password)
        clean_name = _check(errors, validate_display_name, display_name or "")
        clean_bio = _check(errors, validate_bio, bio or "")
        if errors:
            raise UserErrors(errors)
        taken = UserError("HANDLE_TAKEN", f"The handle @{clean_handle} is taken.", "handle")
        if await self.graph.get_users_by_handles([clean_handle.lower()]):
            raise taken
        user_id = self.ids.next_id()
        try:
            user = await self.graph.create_user(
                NewUser(
                    id=user_id,
                    handle=clean_handle,
                    display_name=clean_name or clean_handle,
                    bio=clean_bio,
                    created_at_ms=id_timestamp_ms(user_id),
                    password_hash=await self.passwords.hash(password),
                )
            )
        except HandleTakenError:
            raise taken from None
        return self.tokens.issue(user.id), user

    async def log_in(self, handle: str, password: str) -> tuple[str, UserRecord]:
        invalid = UserError("INVALID_CREDENTIALS", "That handle and password do not match.")
        credentials = await self.graph.get_credentials(handle.strip().lower())
        ok = await self.passwords.verify(
            credentials.password_hash if credentials else None, password
        )
        if not ok or credentials is None:
            raise invalid
        users = await self.graph.get_users([credentials.user_id])
        if credentials.user_id not in users:
            raise invalid
        return self.tokens.issue(credentials.user_id), users[credentials.user_id]

    async def update_profile(
        self, viewer_id: int, display_name: str | None, bio: str | None
    ) -> UserRecord:
        errors: list[UserError] = []
        name = None if display_name is None else _check(errors, validate_display_name, display_name)
        clean_bio = None if bio is None else _check(errors, validate_bio, bio)
        if name == "":
            errors.append(UserError("EMPTY", "A display name cannot be empty.", "displayName"))
        if errors:
            raise UserErrors(errors)
        user = await self.graph.update_profile(viewer_id, name, clean_bio)
        if user is None:
            raise UserError("NOT_FOUND", "Your account no longer exists.")
        return user


class SocialService:
    def __init__(self, graph: SocialGraph, ids: SnowflakeGenerator, engine: TimelineEngine) -> None:
        self.graph = graph
        self.ids = ids
        self.engine = engine

    async def follow(self, viewer_id: int, user_id: int) -> UserRecord:
        if viewer_id == user_id:
            raise UserError("SELF_FOLLOW", "You cannot follow yourself.", "userId")
        target = await self._existing(user_id)
        since = id_timestamp_ms(self.ids.next_id())
        created = await self.graph.follow(viewer_id, user_id, since)
        if created is None:
            raise UserError("NOT_FOUND", "No such user.", "userId")
        if created:
            await self.engine.followed(viewer_id, user_id)
        return target

    async def unfollow(self, viewer_id: int, user_id: int) -> UserRecord:
        if viewer_id == user_id:
            raise UserError("SELF_FOLLOW", "You cannot unfollow yourself.", "userId")
        target = await self._existing(user_id)
        if await self.graph.unfollow(viewer_id, user_id):
            await self.engine.unfollowed(viewer_id, user_id)
        return target

    async def _existing(self, user_id: int) -> UserRecord:
        users = await self.graph.get_users([user_id])
        if user_id not in users:
            raise UserError("NOT_FOUND", "No such user.", "userId")
        return users[user_id]


def request_fingerprint(**fields: object) -> str:
    """A stable hash of what a request asked for, to spot a reused idempotency key."""
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def validate_idempotency_key(key: str) -> str:
    if (
        not 1 <= len(key) <= MAX_IDEMPOTENCY_KEY_LENGTH
        or not key.isascii()
        or not key.isprintable()
    ):
        raise UserError(
            "INVALID_IDEMPOTENCY_KEY",
            f"An Idempotency-Key is 1-{MAX_IDEMPOTENCY_KEY_LENGTH} printable ASCII characters.",
        )
    return key


class TweetService:
    def __init__(
        self,
        tweets: TweetStore,
        ids: SnowflakeGenerator,
        engine: TimelineEngine,
        media: MediaService | None = None,
        links: LinkService | None = None,
    ) -> None:
        self.tweets = tweets
        self.ids = ids
        self.engine = engine
        self.media = media
        self.links = links

    async def create(
        self,
        viewer_id: int,
        text: str,
        idempotency_key: str | None = None,
        media_ids: Sequence[int] = (),
    ) -> TweetRecord:
        clean = validate_tweet_text(text)
        media = await self.media.for_tweet(viewer_id, media_ids) if self.media else []
        idem = None
        if idempotency_key is not None:
            idem = IdempotencyKey(
                viewer_id,
                validate_idempotency_key(idempotency_key),
                request_fingerprint(op="createTweet", text=clean, media=[m.id for m in media]),
            )
        shown, links = await self.links.shorten(clean) if self.links else (clean, ())
        tweet_id = self.ids.next_id()
        record = TweetRecord(
            id=tweet_id,
            author_id=viewer_id,
            text=shown,
            created_at_ms=id_timestamp_ms(tweet_id),
            hashtags=tuple(extract_hashtags(clean)),
            media_ids=tuple(m.id for m in media),
            links=links,
        )
        try:
            stored, created = await self.tweets.insert_tweet(record, idem)
        except IdempotencyConflictError:
            raise UserError(
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was already used for a different request.",
            ) from None
        if stored is None:
            raise UserError(
                "NOT_FOUND", "The tweet first created with this Idempotency-Key was deleted."
            )
        if created:
            if self.media and media:
                await self.media.records.attach_media([m.id for m in media])
            await self.engine.posted(stored)
        return stored

    async def delete(self, viewer_id: int, tweet_id: int) -> TweetRecord:
        found = (await self.tweets.get_tweets([tweet_id])).get(tweet_id)
        if found is None:
            raise UserError("NOT_FOUND", "No such tweet.", "id")
        if found.author_id != viewer_id:
            raise UserError("FORBIDDEN", "Only the author can delete a tweet.", "id")
        deleted = await self.tweets.delete_tweet(tweet_id)
        if deleted is None:  # deleted concurrently: the outcome the caller wanted
            return found
        await self.engine.deleted(deleted)
        return deleted

    async def _original(self, tweet_id: int) -> TweetRecord:
        """The tweet, or the original when it is a retweet; NOT_FOUND when missing."""
        found = (await self.tweets.get_tweets([tweet_id])).get(tweet_id)
        if found is not None and found.retweet_of_id is not None:
            found = (await self.tweets.get_tweets([found.retweet_of_id])).get(found.retweet_of_id)
        if found is None:
            raise UserError("NOT_FOUND", "No such tweet.", "tweetId")
        return found

    async def retweet(self, viewer_id: int, tweet_id: int) -> TweetRecord:
        """The viewer's retweet of the tweet (of its original, for a retweet); made once."""
        original = await self._original(tweet_id)
        retweet_id = self.ids.next_id()
        record = TweetRecord(
            id=retweet_id,
            author_id=viewer_id,
            text="",
            created_at_ms=id_timestamp_ms(retweet_id),
            retweet_of_id=original.id,
        )
        stored, created = await self.tweets.retweet(record)
        if stored is None:
            raise UserError("NOT_FOUND", "No such tweet.", "tweetId")
        if created:
            await self.engine.posted(stored)
        return stored

    async def undo_retweet(self, viewer_id: int, tweet_id: int) -> TweetRecord:
        """Remove the viewer's retweet if any; returns the original as it is now."""
        original = await self._original(tweet_id)
        removed = await self.tweets.undo_retweet(viewer_id, original.id)
        if removed is not None:
            await self.engine.deleted(removed)
        return original

    async def like(self, viewer_id: int, tweet_id: int) -> None:
        if await self.tweets.like(viewer_id, tweet_id, self.ids.next_id()) is None:
            raise UserError("NOT_FOUND", "No such tweet.", "tweetId")

    async def unlike(self, viewer_id: int, tweet_id: int) -> None:
        if await self.tweets.unlike(viewer_id, tweet_id) is None:
            raise UserError("NOT_FOUND", "No such tweet.", "tweetId")


class RecentIds:
    """Ids seen within the last ``ttl`` seconds; at most ``size`` of them are kept."""

    def __init__(self, ttl: float = 60.0, size: int = 100_000) -> None:
        self.ttl = ttl
        self.size = size
        self._until: OrderedDict[int, float] = OrderedDict()

    def __contains__(self, item: int) -> bool:
        until = self._until.get(item)
        if until is None:
            return False
        if until < time.monotonic():
            del self._until[item]
            return False
        return True

    def add(self, item: int) -> None:
        self._until[item] = time.monotonic() + self.ttl
        self._until.move_to_end(item)
        while len(self._until) > self.size:
            self._until.popitem(last=False)


@dataclass
class Services:
    """Everything a request needs, built once per process by the composition root."""

    stores: Stores
    tokens: Tokens
    accounts: AccountService
    social: SocialService
    tweets: TweetService
    timelines: TimelineEngine
    hub: Hub
    public_url: str
    media: MediaService | None = None
    links: LinkService | None = None
    # Accounts a token was recently checked against: accounts are never deleted
    # through the API, so a signed token's account is looked up once a minute,
    # not on every request (a data folder reset is noticed within the minute).
    known_accounts: RecentIds = field(default_factory=RecentIds)


def build_services(
    stores: Stores,
    ids: SnowflakeGenerator,
    tokens: Tokens,
    public_url: str,
    passwords: Passwords | None = None,
    timeline: TimelineConfig | None = None,
    unavailable: tuple[type[BaseException], ...] = (),
    media: MediaService | None = None,
    links: LinkService | None = None,
) -> Services:
    engine = TimelineEngine(
        stores.graph,
        stores.tweets,
        stores.timelines,
        stores.queue,
        stores.events,
        timeline,
        unavailable,
    )
    return Services(
        stores=stores,
        tokens=tokens,
        accounts=AccountService(stores.graph, ids, passwords or Passwords(), tokens),
        social=SocialService(stores.graph, ids, engine),
        tweets=TweetService(stores.tweets, ids, engine, media, links),
        timelines=engine,
        hub=Hub(stores.events),
        public_url=public_url.rstrip("/"),
        media=media,
        links=links,
    )
