"""Tweets: posting (with media, short links and idempotency keys), deleting, retweets, likes,
and the reads of tweets that are not a home timeline."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Awaitable, Callable, Sequence

from core.errors import UserError
from core.ids import SnowflakeGenerator, id_timestamp_ms
from core.models import MAX_ANCESTORS, GeoPoint, IdempotencyKey, LikeEdge, TweetRecord
from core.text import extract_hashtags, extract_mentions, validate_tweet_text
from docstore.port import IdempotencyConflictError, MissingTweetError, TweetStore
from graph.port import SocialGraph
from services.links import LinkService
from services.media import MediaService
from services.notifications import NotificationService
from services.relations import RelationService
from timeline.fanout import FanOut

MAX_IDEMPOTENCY_KEY_LENGTH = 255


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


def validate_location(point: GeoPoint) -> None:
    """INVALID_LOCATION, naming the field, for a latitude outside [-90, 90], a longitude
    outside [-180, 180], or a value that is not a finite number."""
    for value, low, high, field in (
        (point.latitude, -90.0, 90.0, "location.latitude"),
        (point.longitude, -180.0, 180.0, "location.longitude"),
    ):
        if not (math.isfinite(value) and low <= value <= high):
            raise UserError(
                "INVALID_LOCATION",
                f"{field.split('.')[1]} is in degrees, from {low:g} to {high:g}.",
                field,
            )


class TweetService:
    def __init__(
        self,
        tweets: TweetStore,
        ids: SnowflakeGenerator,
        fanout: FanOut,
        media: MediaService | None = None,
        links: LinkService | None = None,
        graph: SocialGraph | None = None,
        relations: RelationService | None = None,
        notifications: NotificationService | None = None,
    ) -> None:
        self.tweets = tweets
        self.ids = ids
        self.fanout = fanout
        self.media = media
        self.links = links
        self.graph = graph
        self.relations = relations
        self.notifications = notifications
        # what else a deleted tweet leaves (bookmarks, moments): set by the composition root
        self.after_delete: list[Callable[[TweetRecord], Awaitable[None]]] = []

    async def _pointed(self, tweet_id: int, field: str) -> TweetRecord:
        """The tweet a new one replies to or quotes (a retweet's original); NOT_FOUND."""
        found = (await self.tweets.get_tweets([tweet_id])).get(tweet_id)
        if found is not None and found.retweet_of_id is not None:
            found = (await self.tweets.get_tweets([found.retweet_of_id])).get(found.retweet_of_id)
        if found is None:
            raise UserError("NOT_FOUND", "No such tweet: it may have been deleted.", field)
        return found

    async def _refuse_if_blocked(
        self, viewer_id: int, other_id: int, field: str, what: str
    ) -> None:
        if self.relations is not None:
            await self.relations.refuse_if_blocked(viewer_id, other_id, field, what)

    async def _mentioned(self, text: str) -> tuple[int, ...]:
        """The existing users ``text`` names with @handle, in order, once each."""
        handles = extract_mentions(text)
        if not handles or self.graph is None:
            return ()
        found = await self.graph.get_users_by_handles(handles)
        return tuple(found[h].id for h in handles if h in found)

    async def create(
        self,
        viewer_id: int,
        text: str,
        idempotency_key: str | None = None,
        media_ids: Sequence[int] = (),
        in_reply_to_id: int | None = None,
        quote_of_id: int | None = None,
        location: GeoPoint | None = None,
    ) -> TweetRecord:
        clean = validate_tweet_text(text)
        if location is not None:
            validate_location(location)
        parent = quoted = None
        if in_reply_to_id is not None:
            parent = await self._pointed(in_reply_to_id, "inReplyToId")
            await self._refuse_if_blocked(viewer_id, parent.author_id, "inReplyToId", "reply")
        if quote_of_id is not None:
            quoted = await self._pointed(quote_of_id, "quoteOfId")
            await self._refuse_if_blocked(viewer_id, quoted.author_id, "quoteOfId", "quote it")
        media = await self.media.for_tweet(viewer_id, media_ids) if self.media else []
        idem = None
        if idempotency_key is not None:
            idem = IdempotencyKey(
                viewer_id,
                validate_idempotency_key(idempotency_key),
                request_fingerprint(
                    op="createTweet",
                    text=clean,
                    media=[m.id for m in media],
                    in_reply_to=parent.id if parent else None,
                    quote_of=quoted.id if quoted else None,
                    location=[location.latitude, location.longitude] if location else None,
                ),
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
            mention_ids=await self._mentioned(clean),
            in_reply_to_id=parent.id if parent else None,
            in_reply_to_user_id=parent.author_id if parent else None,
            conversation_id=parent.thread_root_id if parent else None,
            ancestor_ids=(*parent.ancestor_ids, parent.id)[-MAX_ANCESTORS:] if parent else (),
            quote_of_id=quoted.id if quoted else None,
            location=location,
        )
        try:
            stored, created = await self.tweets.insert_tweet(record, idem)
        except IdempotencyConflictError:
            raise UserError(
                "IDEMPOTENCY_KEY_REUSED",
                "This Idempotency-Key was already used for a different request.",
            ) from None
        except MissingTweetError as exc:  # deleted since we looked
            raise UserError("NOT_FOUND", "No such tweet: it was just deleted.", exc.field) from None
        if stored is None:
            raise UserError(
                "NOT_FOUND", "The tweet first created with this Idempotency-Key was deleted."
            )
        if created:
            if self.media and media:
                await self.media.records.attach_media([m.id for m in media])
            await self.fanout.posted(stored)
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
        await self._gone(deleted)
        return deleted

    async def _gone(self, deleted: TweetRecord) -> None:
        """After a tweet or retweet is deleted: out of timelines, its notifications withdrawn."""
        await self.fanout.deleted(deleted)
        if self.notifications is not None:
            await self.notifications.tweet_deleted(deleted)
        for hook in self.after_delete:
            await hook(deleted)

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
        await self._refuse_if_blocked(viewer_id, original.author_id, "tweetId", "retweet it")
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
            await self.fanout.posted(stored)
        return stored

    async def undo_retweet(self, viewer_id: int, tweet_id: int) -> TweetRecord:
        """Remove the viewer's retweet if any; returns the original as it is now."""
        original = await self._original(tweet_id)
        removed = await self.tweets.undo_retweet(viewer_id, original.id)
        if removed is not None:
            await self._gone(removed)
        return original

    async def like(self, viewer_id: int, tweet_id: int) -> None:
        found = (await self.tweets.get_tweets([tweet_id])).get(tweet_id)
        if found is None:
            raise UserError("NOT_FOUND", "No such tweet.", "tweetId")
        await self._refuse_if_blocked(viewer_id, found.author_id, "tweetId", "like it")
        liked = await self.tweets.like(viewer_id, tweet_id, self.ids.next_id())
        if liked is None:
            raise UserError("NOT_FOUND", "No such tweet.", "tweetId")
        if liked and self.notifications is not None:
            await self.notifications.notify(found.author_id, "LIKE", viewer_id, tweet_id)

    async def unlike(self, viewer_id: int, tweet_id: int) -> None:
        found = (await self.tweets.get_tweets([tweet_id])).get(tweet_id)
        unliked = await self.tweets.unlike(viewer_id, tweet_id) if found is not None else None
        if found is None or unliked is None:
            raise UserError("NOT_FOUND", "No such tweet.", "tweetId")
        if unliked and self.notifications is not None:
            await self.notifications.withdraw(found.author_id, "LIKE", viewer_id, tweet_id)

    async def current(self, tweet_id: int) -> TweetRecord:
        """The tweet as stored now (exact counters); NOT_FOUND when missing."""
        found = (await self.tweets.get_tweets([tweet_id])).get(tweet_id)
        if found is None:
            raise UserError("NOT_FOUND", "No such tweet.", "tweetId")
        return found

    async def by_author(
        self, user_id: int, limit: int, before_id: int | None, include_replies: bool
    ) -> list[TweetRecord]:
        """The user timeline: up to ``limit`` of the user's tweets below ``before_id``."""
        return await self.tweets.tweets_by_authors(
            [user_id], limit, before_id, include_replies=include_replies
        )

    async def replies(self, tweet_id: int, limit: int, before_id: int | None) -> list[TweetRecord]:
        """Direct replies to the tweet below the cursor, newest first."""
        return await self.tweets.replies(tweet_id, limit, before_id)

    async def quotes(self, tweet_id: int, limit: int, before_id: int | None) -> list[TweetRecord]:
        """Tweets quoting the tweet below the cursor, newest first."""
        return await self.tweets.quotes(tweet_id, limit, before_id)

    async def mentioning(
        self, user_id: int, limit: int, before_id: int | None
    ) -> list[TweetRecord]:
        """Tweets naming the user below the cursor, newest first."""
        return await self.tweets.mentioning(user_id, limit, before_id)

    async def likes(self, user_id: int, limit: int, before_like_id: int | None) -> list[LikeEdge]:
        """Up to ``limit`` of the user's likes below the cursor, most recently liked first."""
        return await self.tweets.likes_by_user(user_id, limit, before_like_id)

    async def get(self, tweet_ids: Sequence[int]) -> dict[int, TweetRecord]:
        """Tweets by id; missing (or deleted) ids are absent."""
        return await self.tweets.get_tweets(tweet_ids)

    async def counts_by_author(self, author_ids: Sequence[int]) -> dict[int, int]:
        """Tweets per author; an author with none may be absent."""
        return await self.tweets.count_by_authors(author_ids)

    async def liked(self, viewer_id: int, tweet_ids: Sequence[int]) -> set[int]:
        """Which of ``tweet_ids`` the viewer has liked."""
        return await self.tweets.liked_tweet_ids(viewer_id, tweet_ids)

    async def retweeted(self, viewer_id: int, tweet_ids: Sequence[int]) -> set[int]:
        """Which of ``tweet_ids`` (originals) the viewer has retweeted."""
        return await self.tweets.retweeted_ids(viewer_id, tweet_ids)
