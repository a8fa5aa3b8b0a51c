"""The social graph port: users, credentials, FOLLOWS edges, blocks and mutes.

Lists are newest first and paginated in the store by a keyset cursor
``(since_ms, user_id)``; the adapter fetches ``limit`` rows, never a whole
list. Methods taking many ids answer in one round trip.

**Blocks** (``BLOCKS`` relationships in Neo4j) are one-way edges with a time;
making one removes the follows between the two users both ways, in the same
transaction. **Mutes** (``MUTES``) are one-way and private, carry whether they
hide notifications too, and may expire: a mute whose ``expires_at_ms`` has
passed counts as absent everywhere (reads take ``now_ms``), so it ends on its
own with no sweeper. The questions the timeline engine asks (``hidden_among``,
``audience``) are answered in the database in one round trip, however many
users they name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.models import BlockOutcome, Credentials, FollowEdge, NewUser, UserRecord


class HandleTakenError(Exception):
    """Another user already has this handle (compared case-insensitively)."""


class BlockedError(Exception):
    """One of the two users blocks the other: no follow between them."""


class SocialGraph(Protocol):
    async def create_user(self, user: NewUser) -> UserRecord:
        """Store a new user; raises HandleTakenError when the handle is in use."""
        ...

    async def get_users(self, ids: Sequence[int]) -> dict[int, UserRecord]:
        """Users by id; missing ids are absent from the result."""
        ...

    async def get_users_by_handles(self, handles_lower: Sequence[str]) -> dict[str, UserRecord]:
        """Users keyed by lower-cased handle; unknown handles are absent."""
        ...

    async def get_credentials(self, handle_lower: str) -> Credentials | None: ...

    async def update_profile(
        self, user_id: int, display_name: str | None, bio: str | None
    ) -> UserRecord | None:
        """Change the given fields (None leaves one as it is); None if no such user."""
        ...

    async def follow(self, follower_id: int, followee_id: int, since_ms: int) -> bool | None:
        """Create the edge: True if new, False if it existed, None if a user is missing.

        Raises BlockedError, creating nothing, when either user blocks the other:
        checked in the same transaction, so a follow racing a block never survives it.
        """
        ...

    async def unfollow(self, follower_id: int, followee_id: int) -> bool:
        """Remove the edge; True if there was one."""
        ...

    async def followers(
        self, user_id: int, limit: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        """Who follows ``user_id``, newest first, strictly after the (since_ms, id) cursor."""
        ...

    async def following(
        self, user_id: int, limit: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        """Whom ``user_id`` follows, newest first, strictly after the cursor."""
        ...

    async def following_ids(self, user_id: int) -> list[int]:
        """Every id ``user_id`` follows (for timeline assembly)."""
        ...

    async def followed_celebrities(self, user_id: int) -> list[int]:
        """The users marked celebrity (``set_celebrity``) that ``user_id`` follows, in any order.

        Answered from the few marked users, checking each one's edge from
        ``user_id``, never by reading ``user_id``'s whole followee list: a home
        read calls it on every page, whatever the number of followees.
        """
        ...

    async def set_celebrity(self, user_id: int, celebrity: bool) -> bool:
        """Mark whether the user's tweets skip fan-out; returns the previous mark."""
        ...

    async def count_followers(self, ids: Sequence[int]) -> dict[int, int]: ...

    async def count_following(self, ids: Sequence[int]) -> dict[int, int]: ...

    async def existing_follows(self, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        """The (follower, followee) pairs among ``pairs`` that are edges."""
        ...

    # --- blocks and mutes -----------------------------------------------------

    async def block(self, blocker_id: int, blocked_id: int, since_ms: int) -> BlockOutcome | None:
        """Block, removing the follows between the two both ways; None if a user is missing.

        Blocking again is not an error (created False, nothing removed).
        """
        ...

    async def unblock(self, blocker_id: int, blocked_id: int) -> bool:
        """Remove the block; True if there was one."""
        ...

    async def mute(
        self,
        muter_id: int,
        muted_id: int,
        since_ms: int,
        expires_at_ms: int | None,
        hide_notifications: bool,
    ) -> bool | None:
        """Mute (or change an existing mute's expiry and notification setting).

        True if new (or the old one had expired), False if it replaced an active
        one, None if a user is missing. Whether the old one had expired is judged
        at ``since_ms``; an active mute replaced keeps its ``since`` (its place in
        ``muted``), one made over an expired mute starts at ``since_ms``.
        """
        ...

    async def unmute(self, muter_id: int, muted_id: int, now_ms: int | None = None) -> bool:
        """Remove the mute (an expired one too); True if there was one active at
        ``now_ms`` (None: the current time)."""
        ...

    async def blocked(
        self, user_id: int, limit: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        """Whom ``user_id`` blocks, newest first, strictly after the (since_ms, id) cursor."""
        ...

    async def muted(
        self, user_id: int, limit: int, now_ms: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        """Whom ``user_id`` mutes (active mutes only), newest first, after the cursor."""
        ...

    async def existing_blocks(self, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        """The (blocker, blocked) pairs among ``pairs`` that are blocks."""
        ...

    async def existing_mutes(
        self, pairs: Sequence[tuple[int, int]], now_ms: int
    ) -> set[tuple[int, int]]:
        """The (muter, muted) pairs among ``pairs`` that are active mutes."""
        ...

    async def hidden_among(
        self, viewer_id: int, user_ids: Sequence[int], now_ms: int, notifications: bool = False
    ) -> set[int]:
        """Those of ``user_ids`` the viewer must not see: the viewer blocks them, they
        block the viewer, or the viewer mutes them (with ``notifications``: only the
        mutes that hide notifications count). The viewer's own id is never hidden,
        nor an id that is no user. One round trip."""
        ...

    async def hidden_ids(
        self, viewer_id: int, now_ms: int, notifications: bool = False
    ) -> set[int]:
        """Every user ``hidden_among`` would name for the viewer (blocks both ways, active
        mutes; with ``notifications`` only mutes that hide notifications)."""
        ...

    async def audience(
        self,
        reader_ids: Sequence[int],
        now_ms: int,
        authors: Sequence[int],
        must_follow: int | None = None,
    ) -> set[int]:
        """Those of ``reader_ids`` who may receive a tweet in their home timeline.

        A reader is left out when they block, are blocked by, or mute any of
        ``authors`` (the tweet's author, and for a retweet the original's
        author); with ``must_follow`` (the author a reply answers), a reader is
        kept only if they follow that user or are that user. Ids that are no user
        are left out. One round trip for the whole batch: fan-out asks it once per
        batch of followers.
        """
        ...

    async def ping(self) -> None:
        """Raise if the store cannot answer."""
        ...

    async def close(self) -> None: ...
