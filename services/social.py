"""The social graph's use cases: following, unfollowing, and the follow lists."""

from __future__ import annotations

from collections.abc import Sequence

from core.errors import UserError
from core.ids import SnowflakeGenerator, id_timestamp_ms
from core.models import FollowEdge, UserRecord
from graph.port import BlockedError, SocialGraph
from services.notifications import NotificationService
from services.relations import RelationService
from timeline.fanout import FanOut


class SocialService:
    def __init__(
        self,
        graph: SocialGraph,
        ids: SnowflakeGenerator,
        fanout: FanOut,
        relations: RelationService | None = None,
        notifications: NotificationService | None = None,
    ) -> None:
        self.graph = graph
        self.ids = ids
        self.fanout = fanout
        self.relations = relations
        self.notifications = notifications

    async def follow(self, viewer_id: int, user_id: int) -> UserRecord:
        if viewer_id == user_id:
            raise UserError("SELF_FOLLOW", "You cannot follow yourself.", "userId")
        target = await self._existing(user_id)
        if self.relations is not None:
            await self.relations.refuse_if_blocked(viewer_id, user_id, "userId", "follow it")
        since = id_timestamp_ms(self.ids.next_id())
        try:
            created = await self.graph.follow(viewer_id, user_id, since)
        except BlockedError:  # a block made since the check above
            raise UserError(
                "FORBIDDEN", "A block stands between you: no follow.", "userId"
            ) from None
        if created is None:
            raise UserError("NOT_FOUND", "No such user.", "userId")
        if created:
            await self.fanout.followed(viewer_id, user_id)
            if self.notifications is not None:
                await self.notifications.notify(user_id, "FOLLOW", viewer_id)
        return target

    async def unfollow(self, viewer_id: int, user_id: int) -> UserRecord:
        if viewer_id == user_id:
            raise UserError("SELF_FOLLOW", "You cannot unfollow yourself.", "userId")
        target = await self._existing(user_id)
        if await self.graph.unfollow(viewer_id, user_id):
            await self.fanout.unfollowed(viewer_id, user_id)
            if self.notifications is not None:
                await self.notifications.withdraw(user_id, "FOLLOW", viewer_id)
        return target

    async def _existing(self, user_id: int) -> UserRecord:
        users = await self.graph.get_users([user_id])
        if user_id not in users:
            raise UserError("NOT_FOUND", "No such user.", "userId")
        return users[user_id]

    async def followers(
        self, user_id: int, limit: int, after: tuple[int, int] | None
    ) -> list[FollowEdge]:
        """Up to ``limit`` of the user's followers after the cursor (since, user), newest first."""
        return await self.graph.followers(user_id, limit, after)

    async def following(
        self, user_id: int, limit: int, after: tuple[int, int] | None
    ) -> list[FollowEdge]:
        """Up to ``limit`` of those the user follows after the cursor, newest first."""
        return await self.graph.following(user_id, limit, after)

    async def following_ids(self, user_id: int) -> list[int]:
        """Everyone the user follows."""
        return await self.graph.following_ids(user_id)

    async def follower_counts(self, user_ids: Sequence[int]) -> dict[int, int]:
        """Followers per user; a user with none may be absent."""
        return await self.graph.count_followers(user_ids)

    async def following_counts(self, user_ids: Sequence[int]) -> dict[int, int]:
        """Followees per user; a user with none may be absent."""
        return await self.graph.count_following(user_ids)

    async def existing_follows(self, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        """The (follower, followee) pairs among ``pairs`` that are follows."""
        return await self.graph.existing_follows(pairs)
