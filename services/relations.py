"""Blocks and mutes: who may reach whom, and whom a viewer does not want to see.

A block is one-way in the graph and mutual in effect: blocking removes the
follows both ways and the notifications between the two; from then on neither
can follow, reply to, quote, like or retweet the other (FORBIDDEN), mentions
between them notify nothing, and each vanishes from the other's timelines,
replies and notifications (the readers ask ``hidden``). A mute is one-way and
private: the muted account's tweets and retweets leave the muter's timelines
(and, with ``hide_notifications``, its notifications), until it expires.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence

from core.errors import UserError
from core.ids import SnowflakeGenerator, id_timestamp_ms
from core.models import FollowEdge, UserRecord
from graph.port import SocialGraph
from timeline.fanout import FanOut

# A mute's durationSeconds: a positive number of seconds, at most ten years.
MAX_MUTE_SECONDS = 10 * 365 * 24 * 3600

Withdraw = Callable[[int, int], Awaitable[None]]


def now_ms() -> int:
    return int(time.time() * 1000)


class RelationService:
    def __init__(
        self,
        graph: SocialGraph,
        ids: SnowflakeGenerator,
        fanout: FanOut,
        on_block: Withdraw | None = None,
    ) -> None:
        self.graph = graph
        self.ids = ids
        self.fanout = fanout
        # what else a block removes (the notifications between the two): set by bootstrap
        self.on_block = on_block

    async def _target(self, viewer_id: int, user_id: int, self_code: str, verb: str) -> UserRecord:
        if viewer_id == user_id:
            raise UserError(self_code, f"You cannot {verb} yourself.", "userId")
        users = await self.graph.get_users([user_id])
        if user_id not in users:
            raise UserError("NOT_FOUND", "No such user.", "userId")
        return users[user_id]

    async def block(self, viewer_id: int, user_id: int) -> UserRecord:
        target = await self._target(viewer_id, user_id, "SELF_BLOCK", "block")
        since = id_timestamp_ms(self.ids.next_id())
        outcome = await self.graph.block(viewer_id, user_id, since)
        if outcome is None:
            raise UserError("NOT_FOUND", "No such user.", "userId")
        for follower, followee in outcome.removed_follows:
            await self.fanout.unfollowed(follower, followee)
        if self.on_block is not None:
            await self.on_block(viewer_id, user_id)
        return target

    async def unblock(self, viewer_id: int, user_id: int) -> UserRecord:
        target = await self._target(viewer_id, user_id, "SELF_BLOCK", "unblock")
        await self.graph.unblock(viewer_id, user_id)
        return target

    async def mute(
        self,
        viewer_id: int,
        user_id: int,
        hide_notifications: bool = True,
        duration_seconds: int | None = None,
    ) -> UserRecord:
        if duration_seconds is not None and not 1 <= duration_seconds <= MAX_MUTE_SECONDS:
            raise UserError(
                "INVALID_DURATION",
                f"durationSeconds is a number of seconds from 1 to {MAX_MUTE_SECONDS}"
                " (ten years); leave it out to mute until you unmute.",
                "durationSeconds",
            )
        target = await self._target(viewer_id, user_id, "SELF_MUTE", "mute")
        since = id_timestamp_ms(self.ids.next_id())
        expires = since + duration_seconds * 1000 if duration_seconds is not None else None
        if await self.graph.mute(viewer_id, user_id, since, expires, hide_notifications) is None:
            raise UserError("NOT_FOUND", "No such user.", "userId")
        return target

    async def unmute(self, viewer_id: int, user_id: int) -> UserRecord:
        target = await self._target(viewer_id, user_id, "SELF_MUTE", "unmute")
        await self.graph.unmute(viewer_id, user_id)
        return target

    async def blocked(
        self, viewer_id: int, limit: int, after: tuple[int, int] | None
    ) -> list[FollowEdge]:
        return await self.graph.blocked(viewer_id, limit, after)

    async def muted(
        self, viewer_id: int, limit: int, after: tuple[int, int] | None
    ) -> list[FollowEdge]:
        return await self.graph.muted(viewer_id, limit, now_ms(), after)

    async def blocks(self, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        """The (blocker, blocked) pairs among ``pairs`` that are blocks."""
        return await self.graph.existing_blocks(pairs)

    async def mutes(self, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        """The (muter, muted) pairs among ``pairs`` that are active mutes."""
        return await self.graph.existing_mutes(pairs, now_ms())

    async def blocked_either_way(self, user_a: int, user_b: int) -> bool:
        found = await self.graph.existing_blocks([(user_a, user_b), (user_b, user_a)])
        return bool(found)

    async def refuse_if_blocked(self, viewer_id: int, other_id: int, field: str, what: str) -> None:
        """FORBIDDEN when either of the two blocks the other; ``what`` ends the message."""
        if viewer_id == other_id:
            return
        found = await self.graph.existing_blocks([(viewer_id, other_id), (other_id, viewer_id)])
        if (other_id, viewer_id) in found:
            raise UserError("FORBIDDEN", f"This account blocks you: you cannot {what}.", field)
        if found:
            raise UserError("FORBIDDEN", f"You block this account: unblock it to {what}.", field)

    async def hidden(self, viewer_id: int, notifications: bool = False) -> set[int]:
        """Everyone the viewer must not see (blocks either way, active mutes; with
        ``notifications``, only the mutes that hide notifications)."""
        return await self.graph.hidden_ids(viewer_id, now_ms(), notifications)
