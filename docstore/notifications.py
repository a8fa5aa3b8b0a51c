"""The notifications port: one row per event for its one recipient, folded into groups.

A notification is stored once per (recipient, kind, actor, tweet): the same like
sent twice, or concurrently, is one notification. Pages are range reads by
(recipient, id), newest first; ids are snowflakes, so they sort by time and are
the cursor. Nothing here is ever per-follower work: a tweet liked by 100,000
people is 100,000 rows for its one author.

**Groups** (Mastodon 4.3's notification groups). LIKE and RETWEET of one tweet,
and FOLLOW of one recipient, fold into a group while it spans at most
``GROUP_SPAN_MS`` (12 hours): a new notification of such a kind joins the
recipient's newest group of the same (kind, tweet) when that group started at
most 12 hours before it, else it starts a new group. Every other kind is a group
of its own. A group's key never changes as it grows (it is the group's id in the
API); its ``count`` is exact (it moves with ``add`` and ``withdraw`` in the same
transaction); groups are ordered by their newest notification's id.

**Read state** is a marker per recipient: every notification with id <= the
marker is read. A group is read when its newest notification is.

**Hidden actors.** Reads take ``exclude_actors``: the accounts the recipient
muted (with notifications hidden) or blocks, or who block them, which the
service asks the graph for. Their notifications are left out of pages, counts
and groups (a group's count, actors and newest notification without them, so a
group whose newest is hidden takes the place, and the read state, of its newest
visible one; a group left with none is left out), so a mute that ends brings
them back.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Protocol

from core.models import NotificationGroupRecord, NotificationRecord


class NotificationStore(Protocol):
    async def add(self, notification: NotificationRecord) -> NotificationRecord | None:
        """Store the notification (its ``group_key`` is set by the store, see above).

        Returns it as stored, with its group key; None when the recipient already
        has one of this (kind, actor, tweet), which is left as it is.
        """
        ...

    async def withdraw(
        self, recipient_id: int, kind: str, actor_id: int, tweet_id: int | None
    ) -> NotificationRecord | None:
        """Remove the notification of this (kind, actor, tweet), if any; returns it.

        Its group's count goes down with it; a group left empty is gone.
        """
        ...

    async def withdraw_about_tweet(self, tweet_id: int) -> int:
        """Remove every notification whose ``tweet_id`` is this (deleted) tweet; how many."""
        ...

    async def withdraw_between(self, user_a: int, user_b: int) -> int:
        """Remove every notification either user has from the other (a block); how many."""
        ...

    async def get_notifications(self, ids: Sequence[int]) -> dict[int, NotificationRecord]:
        """Notifications by id (Query.node); missing ids are absent."""
        ...

    async def page(
        self,
        recipient_id: int,
        limit: int,
        before_id: int | None = None,
        exclude_actors: Collection[int] = (),
    ) -> list[NotificationRecord]:
        """The recipient's notifications with id < before_id, newest first."""
        ...

    async def groups(
        self,
        recipient_id: int,
        limit: int,
        before_latest_id: int | None = None,
        actors: int = 3,
        exclude_actors: Collection[int] = (),
    ) -> list[NotificationGroupRecord]:
        """The recipient's groups whose newest notification's id < before_latest_id, most
        recent activity first, each with up to ``actors`` actor ids, most recent first.

        A constant number of store calls, however many groups are on the page and
        however many actors each has.
        """
        ...

    async def unread_count(self, recipient_id: int, exclude_actors: Collection[int] = ()) -> int:
        """Notifications newer than the read marker."""
        ...

    async def unread_group_count(
        self, recipient_id: int, exclude_actors: Collection[int] = ()
    ) -> int:
        """Groups whose newest (visible) notification is newer than the read marker."""
        ...

    async def read_marker(self, recipient_id: int) -> int:
        """The id up to which every notification is read (0: none)."""
        ...

    async def mark_read(
        self, recipient_id: int, up_to_id: int, exclude_actors: Collection[int] = ()
    ) -> int:
        """Move the read marker up to ``up_to_id`` (never back); how many notifications
        became read: those between the old marker and the new, counted as
        ``unread_count`` counts them (without hidden actors, who are marked too)."""
        ...

    async def open(self) -> None: ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...
