"""The tweet store port.

Tweets are keyed by their snowflake id; since ids sort by time, "newest first"
is "highest id first" and a tweet id is the cursor. Counters are kept exact:
a like counts once however often or concurrently it is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.models import IdempotencyKey, LikeEdge, TweetRecord

IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000


class IdempotencyConflictError(Exception):
    """The idempotency key was used before for a different request."""


class MissingTweetError(Exception):
    """The tweet a new tweet replies to or quotes does not exist (any more): nothing stored.

    ``field``: "inReplyToId" or "quoteOfId".
    """

    def __init__(self, field: str, tweet_id: int) -> None:
        super().__init__(f"{field}: no tweet {tweet_id}")
        self.field = field
        self.tweet_id = tweet_id


class TweetStore(Protocol):
    async def insert_tweet(
        self, tweet: TweetRecord, idempotency: IdempotencyKey | None = None
    ) -> tuple[TweetRecord | None, bool]:
        """Store ``tweet``, its fan-out pending; returns (stored tweet, True).

        With an idempotency key seen within the last day for the same request,
        stores nothing and returns (the first tweet, False), or (None, False)
        when that tweet has since been deleted; for a different request with
        the same key raises IdempotencyConflictError.

        A reply (``in_reply_to_id``) counts on its parent's ``reply_count`` and a
        quote (``quote_of_id``) on the original's ``quote_count``, atomically with
        the insert: counts stay exact under concurrency. When that tweet does not
        exist, raises MissingTweetError and stores nothing. ``mention_ids``,
        ``ancestor_ids`` and ``in_reply_to_user_id`` are stored as given and
        indexed for ``mentioning``, ``replies`` and ``quotes``.
        """
        ...

    async def get_tweets(self, ids: Sequence[int]) -> dict[int, TweetRecord]:
        """Tweets by id; missing ids are absent."""
        ...

    async def delete_tweet(self, tweet_id: int) -> TweetRecord | None:
        """Delete the tweet and its likes; returns what was deleted, or None.

        Deleting a retweet also uncounts it on the original, as undo_retweet does;
        deleting a reply or a quote uncounts it on its parent or original (when
        that still exists), in the same transaction as the delete. Replies and
        quotes of a deleted tweet stay, pointing at an id that no longer resolves.
        """
        ...

    async def replies(
        self, tweet_id: int, limit: int, before_id: int | None = None
    ) -> list[TweetRecord]:
        """The direct replies to ``tweet_id`` with id < before_id, newest first."""
        ...

    async def quotes(
        self, tweet_id: int, limit: int, before_id: int | None = None
    ) -> list[TweetRecord]:
        """The tweets quoting ``tweet_id`` with id < before_id, newest first."""
        ...

    async def mentioning(
        self, user_id: int, limit: int, before_id: int | None = None
    ) -> list[TweetRecord]:
        """The tweets whose ``mention_ids`` hold ``user_id``, id < before_id, newest first."""
        ...

    async def tweets_by_authors(
        self,
        author_ids: Sequence[int],
        limit: int,
        before_id: int | None = None,
        include_replies: bool = True,
    ) -> list[TweetRecord]:
        """The newest ``limit`` tweets of these authors with id < before_id, newest first."""
        ...

    async def count_by_authors(self, author_ids: Sequence[int]) -> dict[int, int]: ...

    async def like(self, user_id: int, tweet_id: int, like_id: int) -> bool | None:
        """Record a like: True if new, False if already liked, None if no such tweet."""
        ...

    async def unlike(self, user_id: int, tweet_id: int) -> bool | None:
        """Remove a like: True if removed, False if there was none, None if no such tweet."""
        ...

    async def liked_tweet_ids(self, user_id: int, tweet_ids: Sequence[int]) -> set[int]:
        """Which of ``tweet_ids`` the user has liked."""
        ...

    async def likes_by_user(
        self, user_id: int, limit: int, before_like_id: int | None = None
    ) -> list[LikeEdge]:
        """The user's likes, most recent first, with like_id < before_like_id."""
        ...

    async def retweet(self, retweet: TweetRecord) -> tuple[TweetRecord | None, bool]:
        """Store a retweet (``retweet_of_id`` set) once per (author, original).

        Returns (the retweet, True) when new and counted on the original,
        (the existing retweet, False) when this author had retweeted it, and
        (None, False) when the original does not exist.
        """
        ...

    async def undo_retweet(self, user_id: int, original_id: int) -> TweetRecord | None:
        """Delete the user's retweet of ``original_id`` and uncount it; returns it, or None."""
        ...

    async def retweeted_ids(self, user_id: int, tweet_ids: Sequence[int]) -> set[int]:
        """Which of ``tweet_ids`` (originals) the user has retweeted."""
        ...

    async def hashtag_uses(
        self, after_id: int, limit: int
    ) -> list[tuple[int, int, tuple[str, ...]]]:
        """(tweet id, author id, hashtags) of the tweets (not retweets) carrying hashtags
        with id > after_id, oldest first: what trends are rebuilt from."""
        ...

    async def pending_fanout(self, before_id: int, limit: int) -> list[TweetRecord]:
        """Tweets stored with id < before_id whose fan-out has not completed, oldest first."""
        ...

    async def mark_fanned_out(self, tweet_ids: Sequence[int]) -> None:
        """Record that these tweets' fan-out completed (idempotent)."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
