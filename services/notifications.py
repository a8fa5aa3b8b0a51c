"""Notifications: made for the one recipient of each event, withdrawn when it is undone,
read flat or folded into groups, and delivered live.

Never for one's own actions, never between two users when either blocks the
other. Likes and follows notify inline; replies, mentions, quotes and
retweets notify from the fan-out job of the tweet (``tweet_posted``), which
runs at least once and is repaired after a crash, so a stored tweet's
notifications are never lost; once-only storage makes a second run harmless.
Undoing the action (unlike, unfollow, undo retweet, delete) withdraws them.

Reads leave out the accounts the recipient blocks, is blocked by, or mutes
with notifications hidden (the graph's ``hidden_ids``), and notifications
about tweets deleted since.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass

from core.ids import SnowflakeGenerator, id_timestamp_ms
from core.models import NotificationGroupRecord, NotificationRecord, TweetRecord
from docstore.notifications import NotificationStore
from docstore.port import TweetStore
from services.relations import RelationService
from timeline.port import Event, EventBus
from timeline.realtime import Hub

log = logging.getLogger("chirp.notifications")

EVENT = "notification"


def to_event(record: NotificationRecord) -> Event:
    return {
        "type": EVENT,
        "notification_id": record.id,
        "recipient_id": record.recipient_id,
        "kind": record.kind,
        "actor_id": record.actor_id,
        "tweet_id": record.tweet_id,
        "created_at_ms": record.created_at_ms,
        "group_key": record.group_key,
    }


def from_event(event: Event) -> NotificationRecord:
    tweet_id = event.get("tweet_id")
    return NotificationRecord(
        id=int(event["notification_id"]),
        recipient_id=int(event["recipient_id"]),
        kind=str(event["kind"]),
        actor_id=int(event["actor_id"]),
        tweet_id=None if tweet_id is None else int(tweet_id),
        created_at_ms=int(event["created_at_ms"]),
        group_key=str(event.get("group_key", "")),
    )


@dataclass(frozen=True)
class Planned:
    recipient_id: int
    kind: str
    tweet_id: int | None


def planned_for_tweet(tweet: TweetRecord, original_author: int | None) -> list[Planned]:
    """What a new tweet notifies, one notification per recipient at most.

    A retweet: RETWEET to the original's author. A reply: REPLY to the author
    answered. A quote: QUOTE to the quoted author. Then MENTION to each user
    named who has none of those already. Never the author themself.
    ``original_author``: the author of the retweeted or quoted tweet, if known.
    """
    plans: dict[int, Planned] = {}

    def add(recipient: int | None, kind: str, tweet_id: int) -> None:
        if recipient is not None and recipient != tweet.author_id and recipient not in plans:
            plans[recipient] = Planned(recipient, kind, tweet_id)

    if tweet.retweet_of_id is not None:
        add(original_author, "RETWEET", tweet.retweet_of_id)
        return list(plans.values())
    add(tweet.in_reply_to_user_id, "REPLY", tweet.id)
    if tweet.quote_of_id is not None:
        add(original_author, "QUOTE", tweet.id)
    for user_id in tweet.mention_ids:
        add(user_id, "MENTION", tweet.id)
    return list(plans.values())


class NotificationService:
    def __init__(
        self,
        store: NotificationStore,
        tweets: TweetStore,
        relations: RelationService,
        ids: SnowflakeGenerator,
        events: EventBus,
        hub: Hub,
    ) -> None:
        self.store = store
        self.tweets = tweets
        self.relations = relations
        self.ids = ids
        self.events = events
        self.hub = hub

    # --- making and withdrawing -------------------------------------------------

    async def notify(
        self, recipient_id: int, kind: str, actor_id: int, tweet_id: int | None = None
    ) -> NotificationRecord | None:
        """Store and deliver one notification; None when it is not made (own action,
        a block between the two, or made already)."""
        if recipient_id == actor_id:
            return None
        if await self.relations.blocked_either_way(recipient_id, actor_id):
            return None
        notification_id = self.ids.next_id()
        stored = await self.store.add(
            NotificationRecord(
                id=notification_id,
                recipient_id=recipient_id,
                kind=kind,
                actor_id=actor_id,
                tweet_id=tweet_id,
                created_at_ms=id_timestamp_ms(notification_id),
            )
        )
        if stored is not None:
            await self._publish(stored)
        return stored

    async def _publish(self, record: NotificationRecord) -> None:
        try:
            await self.events.publish(to_event(record))
        except Exception as exc:  # the notification is stored; only the live push is lost
            log.warning("event bus unavailable (%s): no live notification %s", exc, record.id)

    async def withdraw(
        self, recipient_id: int, kind: str, actor_id: int, tweet_id: int | None = None
    ) -> None:
        await self.store.withdraw(recipient_id, kind, actor_id, tweet_id)

    async def tweet_posted(self, tweet: TweetRecord) -> None:
        """The notifications of a new tweet (a reply, a quote, mentions, a retweet);
        called by its fan-out job, so at least once."""
        original_author: int | None = None
        pointed = tweet.retweet_of_id if tweet.retweet_of_id is not None else tweet.quote_of_id
        if pointed is not None:
            original = (await self.tweets.get_tweets([pointed])).get(pointed)
            if original is not None:
                original_author = original.author_id
        for plan in planned_for_tweet(tweet, original_author):
            await self.notify(plan.recipient_id, plan.kind, tweet.author_id, plan.tweet_id)

    async def tweet_deleted(self, tweet: TweetRecord) -> None:
        """Withdraw what the tweet notified, and every notification about it."""
        if tweet.retweet_of_id is not None:
            original = (await self.tweets.get_tweets([tweet.retweet_of_id])).get(
                tweet.retweet_of_id
            )
            if original is not None:
                await self.withdraw(original.author_id, "RETWEET", tweet.author_id, original.id)
            return
        await self.store.withdraw_about_tweet(tweet.id)

    async def blocked(self, blocker_id: int, blocked_id: int) -> None:
        """A block removes the notifications between the two, both ways."""
        await self.store.withdraw_between(blocker_id, blocked_id)

    # --- reading ----------------------------------------------------------------

    async def own(self, viewer_id: int, notification_id: int) -> NotificationRecord | None:
        """The viewer's notification of this id; None for anyone else's, or none at all."""
        found = (await self.store.get_notifications([notification_id])).get(notification_id)
        return found if found is not None and found.recipient_id == viewer_id else None

    async def hidden_actors(self, viewer_id: int) -> set[int]:
        return await self.relations.hidden(viewer_id, notifications=True)

    async def page(
        self, viewer_id: int, limit: int, before_id: int | None, hidden: Collection[int]
    ) -> list[NotificationRecord]:
        """Up to ``limit`` of the viewer's notifications below ``before_id``, newest first,
        without hidden actors or tweets deleted since."""
        kept: list[NotificationRecord] = []
        cursor = before_id
        for _ in range(5):
            want = limit - len(kept)
            rows = await self.store.page(viewer_id, want + 5, cursor, hidden)
            kept += await self._alive(rows)
            if len(rows) < want + 5 or len(kept) >= limit:
                break
            cursor = rows[-1].id
        return kept[:limit]

    async def _alive(self, rows: Sequence[NotificationRecord]) -> list[NotificationRecord]:
        """Those whose tweet still exists (FOLLOW has none)."""
        tweet_ids = [r.tweet_id for r in rows if r.tweet_id is not None]
        found = await self.tweets.get_tweets(tweet_ids) if tweet_ids else {}
        return [r for r in rows if r.tweet_id is None or r.tweet_id in found]

    async def groups(
        self,
        viewer_id: int,
        limit: int,
        before_latest_id: int | None,
        actors: int,
        hidden: Collection[int],
    ) -> list[NotificationGroupRecord]:
        rows = await self.store.groups(viewer_id, limit, before_latest_id, actors, hidden)
        tweet_ids = [g.tweet_id for g in rows if g.tweet_id is not None]
        found = await self.tweets.get_tweets(tweet_ids) if tweet_ids else {}
        return [g for g in rows if g.tweet_id is None or g.tweet_id in found]

    async def unread(self, viewer_id: int, hidden: Collection[int]) -> int:
        return await self.store.unread_count(viewer_id, hidden)

    async def unread_groups(self, viewer_id: int, hidden: Collection[int]) -> int:
        return await self.store.unread_group_count(viewer_id, hidden)

    async def read_marker(self, viewer_id: int) -> int:
        return await self.store.read_marker(viewer_id)

    async def mark_read(
        self, viewer_id: int, up_to_id: int | None, hidden: Collection[int] = ()
    ) -> int:
        """Mark read every notification up to ``up_to_id`` (None: all until now); how many
        the viewer sees changed (``hidden``: the actors left out of their counts)."""
        bound = up_to_id if up_to_id is not None else self.ids.next_id()
        return await self.store.mark_read(viewer_id, bound, hidden)

    async def live(self, viewer_id: int) -> AsyncIterator[NotificationRecord]:
        """Each new notification for the viewer, as it is made on any instance."""
        async for event in self.hub.events(
            lambda e: e.get("type") == EVENT and int(e["recipient_id"]) == viewer_id
        ):
            record = from_event(event)
            if record.actor_id in await self.hidden_actors(viewer_id):
                continue
            yield record
