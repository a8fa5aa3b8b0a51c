"""The social graph port: users, credentials and FOLLOWS edges.

Lists are newest first and paginated in the store by a keyset cursor
``(since_ms, user_id)``; the adapter fetches ``limit`` rows, never a whole
list. Methods taking many ids answer in one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from core.models import Credentials, FollowEdge, NewUser, UserRecord


class HandleTakenError(Exception):
    """Another user already has this handle (compared case-insensitively)."""


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
        """Create the edge: True if new, False if it existed, None if a user is missing."""
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

    async def ping(self) -> None:
        """Raise if the store cannot answer."""
        ...

    async def close(self) -> None: ...
