"""Production notifications: MongoDB through pymongo's async API.

Collections (in the tweet store's database; times are int64 epoch ms, as apps'
``revoked_at``: nx-27017, the test stand-in, turns a date written by ``$set`` into
a string)::

    notifications         {_id: int64 snowflake, recipient_id: int64, kind, actor_id: int64,
                           tweet_id: int64 | null, created_at, group_key,
                           once: "<kind>:<actor_id>:<tweet_id or ->"}
    notification_groups   {_id: group key, recipient_id, kind, tweet_id, count,
                           latest_id: int64, latest_at, started_at,
                           recent: [{id: int64, actor_id: int64, at}]}
    notification_heads    {_id: "<recipient_id>:<kind>:<tweet_id or ->", recipient_id,
                           tweet_id, group_key, started_at}
    notification_markers  {_id: int64 recipient_id, read_up_to: int64}

A notification, its group's count and its group's ``recent`` list (its newest
``RECENT`` notifications, newest first) change in one transaction, so the count
is exact. A head names the newest group of a (recipient, kind, tweet) of the
kinds that fold: every add that starts a group there rewrites it, so of two
concurrent adds that would each start one, one transaction conflicts and is
retried, and joins the group the other started.

Indexes whose key holds no ``_id`` (the once-only unique index among them) are
created when the store opens; the two that hold ``_id`` (a recipient's page, a
group's newest) by ``python app.py admin init`` through ``init_notifications``,
as ``docstore.mongo.init_database`` does for tweets.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from bson.int64 import Int64
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from core.models import GROUP_SPAN_MS, GROUPED_KINDS, NotificationGroupRecord, NotificationRecord
from docstore.mongo import MAJORITY, Doc, _opt, create_indexes, open_collections, run_transaction

T = TypeVar("T")

# How many of its newest notifications a group document keeps at hand: a page of
# groups needs no other read for its actors unless more are asked for (or hidden).
RECENT = 8
_ATTEMPTS = 10  # of a write whose transaction lost a race on a new document's key

INDEXES: dict[str, list[IndexModel]] = {
    "notifications": [
        # once per (recipient, kind, actor, tweet), and how withdraw finds it. A string
        # key rather than {recipient_id, kind, actor_id, tweet_id}: FOLLOW has no
        # tweet, and nx-27017 (the test stand-in, BACKENDS.md) lets two documents
        # with a null in a unique index through, where MongoDB would not.
        IndexModel([("recipient_id", ASCENDING), ("once", ASCENDING)], name="once", unique=True),
        # a recipient's page, newest first (admin init only: it holds _id)
        IndexModel([("recipient_id", ASCENDING), ("_id", DESCENDING)], name="recipient_newest"),
        # a group's newest notifications (admin init only: it holds _id)
        IndexModel(
            [("recipient_id", ASCENDING), ("group_key", ASCENDING), ("_id", DESCENDING)],
            name="group_newest",
        ),
        IndexModel([("tweet_id", ASCENDING)], name="about_tweet"),
        # withdraw_between, and a recipient's notifications from hidden actors
        IndexModel([("actor_id", ASCENDING), ("recipient_id", ASCENDING)], name="actor"),
    ],
    "notification_groups": [
        IndexModel([("recipient_id", ASCENDING), ("latest_id", DESCENDING)], name="latest"),
        IndexModel([("tweet_id", ASCENDING)], name="about_tweet"),
    ],
    "notification_heads": [IndexModel([("tweet_id", ASCENDING)], name="about_tweet")],
}


async def init_notifications(client: AsyncMongoClient[Doc], database: str) -> list[str]:
    """Create every index of the notification collections (``admin init``). Idempotent.

    Returns one line per collection, for the admin command to print.
    """
    return await create_indexes(client, database, INDEXES)


def new_group_key(notification: NotificationRecord) -> str:
    """The key of a group that ``notification`` starts: its kind and its (unique) id."""
    return f"{notification.kind.lower()}-{notification.id}"


def _once(kind: str, actor_id: int, tweet_id: int | None) -> str:
    return f"{kind}:{actor_id}:{'-' if tweet_id is None else tweet_id}"


def _head_id(recipient_id: int, kind: str, tweet_id: int | None) -> str:
    return f"{recipient_id}:{kind}:{'-' if tweet_id is None else tweet_id}"


def _doc(n: NotificationRecord) -> Doc:
    return {
        "_id": Int64(n.id),
        "recipient_id": Int64(n.recipient_id),
        "kind": n.kind,
        "actor_id": Int64(n.actor_id),
        "tweet_id": _opt(n.tweet_id),
        "created_at": Int64(n.created_at_ms),
        "group_key": n.group_key,
        "once": _once(n.kind, n.actor_id, n.tweet_id),
    }


def _notification(doc: Doc) -> NotificationRecord:
    tweet_id = doc.get("tweet_id")
    return NotificationRecord(
        id=int(doc["_id"]),
        recipient_id=int(doc["recipient_id"]),
        kind=doc["kind"],
        actor_id=int(doc["actor_id"]),
        tweet_id=None if tweet_id is None else int(tweet_id),
        created_at_ms=int(doc["created_at"]),
        group_key=doc["group_key"],
    )


def _entry(doc: Doc) -> Doc:
    """A notification as its group's ``recent`` list holds it."""
    return {"id": Int64(doc["_id"]), "actor_id": Int64(doc["actor_id"]), "at": doc["created_at"]}


def _newest_first(entries: Iterable[Doc]) -> list[Doc]:
    return sorted(entries, key=lambda entry: int(entry["id"]), reverse=True)


def _group_state(count: int, recent: list[Doc]) -> Doc:
    """The fields of a group document that move with its notifications."""
    return {
        "count": count,
        "recent": recent,
        "latest_id": recent[0]["id"],
        "latest_at": recent[0]["at"],
    }


@dataclass
class _Shown:
    """A group as one reader sees it: without the notifications of actors hidden from them.

    ``recent`` is a prefix of its visible notifications, newest first (``_entry``s).
    """

    key: str
    kind: str
    tweet_id: int | None
    count: int
    recent: list[Doc]

    @staticmethod
    def of(doc: Doc, hidden: Collection[int] = (), hidden_count: int = 0) -> _Shown:
        tweet_id = doc.get("tweet_id")
        return _Shown(
            key=doc["_id"],
            kind=doc["kind"],
            tweet_id=None if tweet_id is None else int(tweet_id),
            count=int(doc["count"]) - hidden_count,
            recent=[e for e in doc["recent"] if int(e["actor_id"]) not in hidden],
        )

    def lacks(self, wanted: int) -> bool:
        """Whether ``recent`` holds fewer than the ``wanted`` newest visible notifications."""
        return len(self.recent) < min(wanted, self.count)

    @property
    def latest_id(self) -> int:
        return int(self.recent[0]["id"])

    def record(self, recipient_id: int, actors: int) -> NotificationGroupRecord:
        return NotificationGroupRecord(
            key=self.key,
            recipient_id=recipient_id,
            kind=self.kind,
            tweet_id=self.tweet_id,
            count=self.count,
            latest_id=self.latest_id,
            latest_at_ms=int(self.recent[0]["at"]),
            actor_ids=tuple(int(e["actor_id"]) for e in self.recent[: max(actors, 0)]),
        )


class MongoNotificationStore:
    def __init__(self, client: AsyncMongoClient[Doc], database: str = "chirp") -> None:
        self.client = client
        self.db = client.get_database(database, write_concern=MAJORITY)
        self.notifications = self.db["notifications"]
        self.notification_groups = self.db["notification_groups"]
        self.heads = self.db["notification_heads"]
        self.markers = self.db["notification_markers"]

    async def open(self) -> None:
        """Create the indexes that hold no ``_id``; check the server takes transactions.

        The others come from ``init_notifications`` (``admin init``): on a sharded
        cluster building indexes is an operator's decision, and nx-27017, the test
        stand-in, fails every insert into a collection with such an index.
        """
        await open_collections(self.client, self.db, INDEXES, self.markers.name)

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> None:
        await self.db.command("ping")

    async def _transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        return await run_transaction(self.client, work)

    # --- writes ---------------------------------------------------------------------

    async def add(self, notification: NotificationRecord) -> NotificationRecord | None:
        recipient = Int64(notification.recipient_id)
        once = _once(notification.kind, notification.actor_id, notification.tweet_id)

        async def work(session: AsyncClientSession) -> NotificationRecord:
            stored = replace(notification, group_key=await self._join(notification, session))
            await self.notifications.insert_one(_doc(stored), session=session)
            return stored

        for _ in range(_ATTEMPTS):
            try:
                return await self._transaction(work)
            except DuplicateKeyError:
                # this (kind, actor, tweet) is there already, or a concurrent add
                # created the same head first: then take it again
                seen = await self.notifications.find_one(
                    {"recipient_id": recipient, "once": once}, {"_id": 1}
                )
                if seen is not None:
                    return None
                if await self.notifications.find_one({"_id": Int64(notification.id)}, {"_id": 1}):
                    raise  # the id is another notification's: a caller's mistake
        raise RuntimeError(f"notification {notification.id}: its group kept changing hands")

    async def _join(self, n: NotificationRecord, session: AsyncClientSession) -> str:
        """Count ``n`` into the group it joins, or a group it starts; that group's key."""
        entry = {"id": Int64(n.id), "actor_id": Int64(n.actor_id), "at": Int64(n.created_at_ms)}
        head_id = _head_id(n.recipient_id, n.kind, n.tweet_id)
        if n.kind in GROUPED_KINDS:
            head = await self.heads.find_one({"_id": head_id}, session=session)
            if head is not None and n.created_at_ms - int(head["started_at"]) <= GROUP_SPAN_MS:
                group = await self.notification_groups.find_one(
                    {"_id": head["group_key"]}, session=session
                )
                if group is not None:
                    recent = _newest_first([*group["recent"], entry])[:RECENT]
                    await self.notification_groups.update_one(
                        {"_id": group["_id"]},
                        {"$set": _group_state(int(group["count"]) + 1, recent)},
                        session=session,
                    )
                    return str(group["_id"])
        key = new_group_key(n)
        await self.notification_groups.insert_one(
            {
                "_id": key,
                "recipient_id": Int64(n.recipient_id),
                "kind": n.kind,
                "tweet_id": _opt(n.tweet_id),
                "count": 1,
                "recent": [entry],
                "latest_id": entry["id"],
                "latest_at": entry["at"],
                "started_at": entry["at"],
            },
            session=session,
        )
        if n.kind in GROUPED_KINDS:
            # $set, not replace_one: nx-27017 upserts a replacement under a new
            # ObjectId instead of the filter's _id (MongoDB keeps the filter's)
            await self.heads.update_one(
                {"_id": head_id},
                {
                    "$set": {
                        "recipient_id": Int64(n.recipient_id),
                        "tweet_id": _opt(n.tweet_id),
                        "group_key": key,
                        "started_at": entry["at"],
                    }
                },
                upsert=True,
                session=session,
            )
        return key

    async def _settle(self, removed: list[Doc], session: AsyncClientSession) -> None:
        """Take the ``removed`` notification documents out of their groups' counts and lists.

        A group left empty goes, and its head with it. One read per group whose
        ``recent`` list lost an entry refills it: $unionWith, which would make that
        one read, is not available inside a transaction.
        """
        by_group: dict[str, set[int]] = {}
        for doc in removed:
            by_group.setdefault(doc["group_key"], set()).add(int(doc["_id"]))
        cursor = self.notification_groups.find({"_id": {"$in": list(by_group)}}, session=session)
        for group in [g async for g in cursor]:
            gone = by_group[group["_id"]]
            count = int(group["count"]) - len(gone)
            if count <= 0:
                await self.notification_groups.delete_one({"_id": group["_id"]}, session=session)
                tweet_id = group.get("tweet_id")
                await self.heads.delete_one(
                    {
                        "_id": _head_id(
                            int(group["recipient_id"]),
                            group["kind"],
                            None if tweet_id is None else int(tweet_id),
                        ),
                        "group_key": group["_id"],
                    },
                    session=session,
                )
                continue
            recent = group["recent"]
            if any(int(e["id"]) in gone for e in recent):
                newest = self.notifications.find(
                    {"recipient_id": group["recipient_id"], "group_key": group["_id"]},
                    {"actor_id": 1, "created_at": 1},
                    session=session,
                )
                recent = [_entry(d) async for d in newest.sort("_id", DESCENDING).limit(RECENT)]
            await self.notification_groups.update_one(
                {"_id": group["_id"]},
                {"$set": _group_state(count, recent)},
                session=session,
            )

    async def withdraw(
        self, recipient_id: int, kind: str, actor_id: int, tweet_id: int | None
    ) -> NotificationRecord | None:
        async def work(session: AsyncClientSession) -> NotificationRecord | None:
            doc = await self.notifications.find_one_and_delete(
                {"recipient_id": Int64(recipient_id), "once": _once(kind, actor_id, tweet_id)},
                session=session,
            )
            if doc is None:
                return None
            await self._settle([doc], session)
            return _notification(doc)

        return await self._transaction(work)

    async def withdraw_about_tweet(self, tweet_id: int) -> int:
        tweet = Int64(tweet_id)
        # Every notification of a group has the group's tweet (groups are per (kind,
        # tweet); FOLLOW has none), so the tweet's groups go whole, counts untouched.
        # The notifications go first and outside a transaction (a viral tweet's likes
        # are too many for one); then, in one, those added meanwhile, the groups and
        # the heads, so a group never outlives its notifications.
        bulk = await self.notifications.delete_many({"tweet_id": tweet})

        async def finish(session: AsyncClientSession) -> int:
            late = await self.notifications.delete_many({"tweet_id": tweet}, session=session)
            await self.notification_groups.delete_many({"tweet_id": tweet}, session=session)
            await self.heads.delete_many({"tweet_id": tweet}, session=session)
            return late.deleted_count

        return bulk.deleted_count + await self._transaction(finish)

    async def withdraw_between(self, user_a: int, user_b: int) -> int:
        a, b = Int64(user_a), Int64(user_b)

        async def work(session: AsyncClientSession) -> int:
            between = {
                "$or": [{"actor_id": a, "recipient_id": b}, {"actor_id": b, "recipient_id": a}]
            }
            removed = [d async for d in self.notifications.find(between, session=session)]
            if not removed:
                return 0
            await self.notifications.delete_many(
                {"_id": {"$in": [d["_id"] for d in removed]}}, session=session
            )
            await self._settle(removed, session)
            return len(removed)

        return await self._transaction(work)

    async def mark_read(
        self, recipient_id: int, up_to_id: int, exclude_actors: Collection[int] = ()
    ) -> int:
        recipient = Int64(recipient_id)

        async def work(session: AsyncClientSession) -> int:
            seen = await self.markers.find_one({"_id": recipient}, session=session)
            marker = int(seen["read_up_to"]) if seen else 0
            if up_to_id <= marker:
                return 0
            await self.markers.update_one(
                {"_id": recipient},
                {"$set": {"read_up_to": Int64(up_to_id)}},
                upsert=True,
                session=session,
            )
            query = _visible(recipient_id, exclude_actors)
            query["_id"] = {"$gt": Int64(marker), "$lte": Int64(up_to_id)}
            return await self.notifications.count_documents(query, session=session)

        for _ in range(_ATTEMPTS):
            try:
                return await self._transaction(work)
            except DuplicateKeyError:
                continue  # a concurrent first mark_read created the marker: read it again
        raise RuntimeError(f"read marker of {recipient_id} kept changing hands")

    # --- reads ----------------------------------------------------------------------

    async def get_notifications(self, ids: Sequence[int]) -> dict[int, NotificationRecord]:
        if not ids:
            return {}
        cursor = self.notifications.find({"_id": {"$in": [Int64(i) for i in set(ids)]}})
        return {int(doc["_id"]): _notification(doc) async for doc in cursor}

    async def page(
        self,
        recipient_id: int,
        limit: int,
        before_id: int | None = None,
        exclude_actors: Collection[int] = (),
    ) -> list[NotificationRecord]:
        if limit <= 0:
            return []  # MongoDB reads limit(0) as "no limit"
        query = _visible(recipient_id, exclude_actors)
        if before_id is not None:
            query["_id"] = {"$lt": Int64(before_id)}
        cursor = self.notifications.find(query).sort("_id", DESCENDING).limit(limit)
        return [_notification(doc) async for doc in cursor]

    async def groups(
        self,
        recipient_id: int,
        limit: int,
        before_latest_id: int | None = None,
        actors: int = 3,
        exclude_actors: Collection[int] = (),
    ) -> list[NotificationGroupRecord]:
        """At most five reads: hidden actors' groups, the page, those groups, and the
        newest notifications of the groups whose documents do not hold enough."""
        if limit <= 0:
            return []
        recipient = Int64(recipient_id)
        hidden = {int(a) for a in exclude_actors}
        # Groups holding a hidden actor's notification ("touched") have a smaller count
        # and perhaps an older newest visible notification, which is where they belong
        # in the order; every other group is where its document says.
        touched = await self._hidden_counts(recipient, hidden) if hidden else {}
        query: Doc = {"recipient_id": recipient}
        if before_latest_id is not None:
            query["latest_id"] = {"$lt": Int64(before_latest_id)}
        if touched:
            query["_id"] = {"$nin": list(touched)}
        cursor = self.notification_groups.find(query).sort("latest_id", DESCENDING).limit(limit)
        page = [_Shown.of(doc) async for doc in cursor]
        if touched:
            cursor = self.notification_groups.find(
                {"recipient_id": recipient, "_id": {"$in": list(touched)}}
            )
            shown = [_Shown.of(doc, hidden, touched[doc["_id"]]) async for doc in cursor]
            shown = [g for g in shown if g.count > 0]
            await self._fill([g for g in shown if g.lacks(1)], max(actors, 1), recipient, hidden)
            if before_latest_id is not None:
                shown = [g for g in shown if g.latest_id < before_latest_id]
            page = sorted(page + shown, key=lambda g: g.latest_id, reverse=True)[:limit]
        await self._fill([g for g in page if g.lacks(actors)], actors, recipient, hidden)
        return [g.record(recipient_id, actors) for g in page]

    async def _hidden_counts(self, recipient: Int64, hidden: Collection[int]) -> dict[str, int]:
        """How many notifications each of the recipient's groups holds from these actors."""
        cursor = await self.notifications.aggregate(
            [
                {
                    "$match": {
                        "recipient_id": recipient,
                        "actor_id": {"$in": [Int64(a) for a in hidden]},
                    }
                },
                {"$group": {"_id": "$group_key", "n": {"$sum": 1}}},
            ]
        )
        return {row["_id"]: int(row["n"]) async for row in cursor}

    async def _fill(
        self, groups: list[_Shown], wanted: int, recipient: Int64, hidden: Collection[int]
    ) -> None:
        """Set each group's ``recent`` to its ``wanted`` newest visible notifications.

        One aggregate, a branch per group ($unionWith), each branch a range read of
        the group's newest ({recipient_id, group_key, _id} index) that stops after
        ``wanted``: however many notifications the groups hold.
        """
        if not groups or wanted <= 0:
            return

        def newest_of(key: str) -> list[Doc]:
            match: Doc = {"recipient_id": recipient, "group_key": key}
            if hidden:
                match["actor_id"] = {"$nin": [Int64(a) for a in hidden]}
            return [
                {"$match": match},
                {"$sort": {"_id": -1}},
                {"$limit": wanted},
                {"$project": {"group_key": 1, "actor_id": 1, "created_at": 1}},
            ]

        first, *rest = groups
        pipeline = newest_of(first.key) + [
            {"$unionWith": {"coll": self.notifications.name, "pipeline": newest_of(g.key)}}
            for g in rest
        ]
        found: dict[str, list[Doc]] = {g.key: [] for g in groups}
        async for doc in await self.notifications.aggregate(pipeline):
            found[doc["group_key"]].append(_entry(doc))
        for group in groups:
            group.recent = _newest_first(found[group.key])

    async def unread_count(self, recipient_id: int, exclude_actors: Collection[int] = ()) -> int:
        query = _visible(recipient_id, exclude_actors)
        query["_id"] = {"$gt": Int64(await self.read_marker(recipient_id))}
        return await self.notifications.count_documents(query)

    async def unread_group_count(
        self, recipient_id: int, exclude_actors: Collection[int] = ()
    ) -> int:
        marker = Int64(await self.read_marker(recipient_id))
        if not exclude_actors:
            return await self.notification_groups.count_documents(
                {"recipient_id": Int64(recipient_id), "latest_id": {"$gt": marker}}
            )
        # a group is unread when a visible notification of it is
        query = _visible(recipient_id, exclude_actors)
        query["_id"] = {"$gt": marker}
        cursor = await self.notifications.aggregate(
            [{"$match": query}, {"$group": {"_id": "$group_key"}}, {"$count": "n"}]
        )
        rows = [row async for row in cursor]
        return int(rows[0]["n"]) if rows else 0

    async def read_marker(self, recipient_id: int) -> int:
        seen = await self.markers.find_one({"_id": Int64(recipient_id)})
        return int(seen["read_up_to"]) if seen else 0


def _visible(recipient_id: int, exclude_actors: Collection[int]) -> Doc:
    """The query of a recipient's notifications from actors not hidden from them."""
    query: Doc = {"recipient_id": Int64(recipient_id)}
    if exclude_actors:
        query["actor_id"] = {"$nin": [Int64(a) for a in set(exclude_actors)]}
    return query
