"""Plain records passed between the stores, the services and the API layer."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    handle: str
    display_name: str
    bio: str
    created_at_ms: int

    @property
    def handle_lower(self) -> str:
        return self.handle.lower()


@dataclass(frozen=True, slots=True)
class NewUser:
    id: int
    handle: str
    display_name: str
    bio: str
    created_at_ms: int
    password_hash: str


@dataclass(frozen=True, slots=True)
class Credentials:
    user_id: int
    password_hash: str


@dataclass(frozen=True, slots=True)
class GeoPoint:
    """Where a tweet says it was written: degrees, latitude in [-90, 90], longitude in
    [-180, 180]."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class TweetRecord:
    id: int
    author_id: int
    text: str
    created_at_ms: int
    like_count: int = 0
    retweet_count: int = 0
    reply_count: int = 0
    in_reply_to_id: int | None = None
    conversation_id: int | None = None  # None: the tweet is its own thread root
    quote_of_id: int | None = None
    retweet_of_id: int | None = None
    hashtags: tuple[str, ...] = field(default=())
    media_ids: tuple[int, ...] = field(default=())
    links: tuple[tuple[str, str], ...] = field(default=())  # (short code, expanded URL)
    quote_count: int = 0
    # the author of the tweet this one replies to (for the home timeline's reply rule)
    in_reply_to_user_id: int | None = None
    # users named with @handle that existed when it was posted, in order, once each
    mention_ids: tuple[int, ...] = field(default=())
    # the tweets this reply answers, root first: the nearest MAX_ANCESTORS of them,
    # written with the reply so a thread view is one read however deep the thread
    ancestor_ids: tuple[int, ...] = field(default=())
    location: GeoPoint | None = None

    @property
    def thread_root_id(self) -> int:
        return self.conversation_id if self.conversation_id is not None else self.id


MAX_ANCESTORS = 100  # Tweet.ancestors(last) is capped at 100


@dataclass(frozen=True, slots=True)
class IdempotencyKey:
    """A client's retry key for one creating request, with a hash of what it asked."""

    user_id: int
    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class FollowEdge:
    """One side of a FOLLOWS relationship as seen from a list: the other user and when."""

    user_id: int
    since_ms: int


@dataclass(frozen=True, slots=True)
class LikeEdge:
    like_id: int  # snowflake id of the like: orders User.likes by like time
    tweet_id: int


@dataclass(frozen=True, slots=True)
class MediaRecord:
    id: int
    owner_id: int
    kind: str  # PHOTO, VIDEO, GIF
    content_type: str
    size_bytes: int
    created_at_ms: int
    status: str = "PENDING"  # PENDING until its bytes are checked, then READY
    key: str | None = None  # object key once READY: media/<sha256><ext>
    width: int | None = None
    height: int | None = None
    attached: bool = False


@dataclass(frozen=True, slots=True)
class AppRecord:
    """An application registered by a developer; its key is kept as a SHA-256 hash only."""

    id: int
    owner_id: int
    name: str
    key_hash: str
    created_at_ms: int
    quota_per_hour: int
    revoked_at_ms: int | None = None


# --- notifications -------------------------------------------------------------

NOTIFICATION_KINDS = ("FOLLOW", "LIKE", "RETWEET", "REPLY", "MENTION", "QUOTE")
# Kinds that fold into groups (Mastodon 4.3): the same kind about the same target
# while the group spans at most GROUP_SPAN_MS; every other kind stands alone.
GROUPED_KINDS = frozenset({"FOLLOW", "LIKE", "RETWEET"})
GROUP_SPAN_MS = 12 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    """One event for its one recipient: ``actor`` did ``kind`` (about ``tweet_id``).

    ``tweet_id``: the reply, mention or quote itself for REPLY, MENTION, QUOTE; the
    liked or retweeted original for LIKE and RETWEET; None for FOLLOW.
    ``group_key``: the group it belongs to (see NotificationStore.add).
    """

    id: int
    recipient_id: int
    kind: str
    actor_id: int
    tweet_id: int | None
    created_at_ms: int
    group_key: str = ""


@dataclass(frozen=True, slots=True)
class NotificationGroupRecord:
    """Notifications folded together: ``count`` of them, the newest ``latest_id``."""

    key: str
    recipient_id: int
    kind: str
    tweet_id: int | None
    count: int
    latest_id: int  # the newest notification's id: orders the groups, is their cursor
    latest_at_ms: int
    actor_ids: tuple[int, ...]  # most recent first, as many as were asked for


# --- blocks and mutes ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BlockOutcome:
    """What ``block`` did: whether the block is new, and the follows it removed."""

    created: bool
    removed_follows: tuple[tuple[int, int], ...]  # (follower, followee) pairs


# --- bookmarks, moments, lists -------------------------------------------------


@dataclass(frozen=True, slots=True)
class BookmarkEdge:
    """A tweet one user bookmarked, privately."""

    bookmark_id: int  # snowflake id of the bookmark: orders Query.bookmarks, is its cursor
    tweet_id: int


@dataclass(frozen=True, slots=True)
class MomentRecord:
    """A curated, ordered set of tweets; ``tweet_count`` is exact (kept with its tweets)."""

    id: int
    owner_id: int
    title: str
    description: str
    created_at_ms: int
    tweet_count: int = 0


@dataclass(frozen=True, slots=True)
class MomentEntry:
    """A tweet in a moment, at the place it was added.

    ``position``: given by the store, 1 for the moment's first tweet and one more for
    each tweet added after it (a tweet that leaves leaves a gap, a tweet added again
    goes last): orders Moment.tweets, first added first, and is its cursor.
    """

    position: int
    tweet_id: int


MAX_LIST_MEMBERS = 5000  # a list holds at most this many accounts


@dataclass(frozen=True, slots=True)
class ListRecord:
    """A curated set of accounts; ``member_count`` is exact (kept with its members)."""

    id: int
    owner_id: int
    name: str
    description: str
    private: bool
    created_at_ms: int
    member_count: int = 0


@dataclass(frozen=True, slots=True)
class ListMember:
    """An account on a list."""

    user_id: int
    added_id: int  # snowflake id of the membership: orders List.members, is its cursor
