"""Production moments: MongoDB through pymongo's async API.

Collections (in the tweet store's database; times are int64 epoch ms, as the
notifications' are)::

    moments        {_id: int64 snowflake, owner_id: int64, title, description,
                    created_at: int64, tweet_count, last_position: int64}
    moment_tweets  {_id: "<moment_id>:<tweet_id>", moment_id: int64, tweet_id: int64,
                    position: int64}

An entry's ``_id`` is its (moment, tweet) key, so a tweet is in a moment once. An
entry and its moment's ``tweet_count`` change in one transaction, so the count is
exact; the moment's ``last_position`` (the position its newest entry was given,
never lowered) is raised in that same update, so two concurrent adds write the same
document, one of their transactions conflicts and is retried, and no position is
given twice.

Indexes whose key holds no ``_id`` (the entries' order, unique per moment, and the
entries of a tweet, for ``remove_tweet_everywhere``) are created when the store
opens; the one that holds ``_id`` (an owner's moments, newest first) by
``python app.py admin init`` through ``init_moments``, as
``docstore.notifications_mongo.init_notifications`` does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from bson.int64 import Int64
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from core.models import MomentEntry, MomentRecord
from docstore.mongo import MAJORITY, Doc, create_indexes, open_collections, run_transaction

T = TypeVar("T")

_ATTEMPTS = 10  # of an add whose transaction lost a race on its entry's key

INDEXES: dict[str, list[IndexModel]] = {
    "moments": [
        # an owner's moments, newest first (admin init only: it holds _id)
        IndexModel([("owner_id", ASCENDING), ("_id", DESCENDING)], name="owner_newest"),
    ],
    "moment_tweets": [
        IndexModel([("moment_id", ASCENDING), ("position", ASCENDING)], name="order", unique=True),
        IndexModel([("tweet_id", ASCENDING)], name="tweet"),
    ],
}


async def init_moments(client: AsyncMongoClient[Doc], database: str) -> list[str]:
    """Create every index of the moment collections (``admin init``). Idempotent.

    Returns one line per collection, for the admin command to print.
    """
    return await create_indexes(client, database, INDEXES)


def entry_key(moment_id: int, tweet_id: int) -> str:
    return f"{moment_id}:{tweet_id}"


def _moment(doc: Doc) -> MomentRecord:
    return MomentRecord(
        id=int(doc["_id"]),
        owner_id=int(doc["owner_id"]),
        title=doc["title"],
        description=doc["description"],
        created_at_ms=int(doc["created_at"]),
        tweet_count=int(doc["tweet_count"]),
    )


def _entry(moment_id: int, tweet_id: int, position: int) -> Doc:
    return {
        "_id": entry_key(moment_id, tweet_id),
        "moment_id": Int64(moment_id),
        "tweet_id": Int64(tweet_id),
        "position": Int64(position),
    }


class MongoMomentStore:
    def __init__(self, client: AsyncMongoClient[Doc], database: str = "chirp") -> None:
        self.client = client
        self.db = client.get_database(database, write_concern=MAJORITY)
        self.moments = self.db["moments"]
        self.entries = self.db["moment_tweets"]

    async def open(self) -> None:
        """Create the indexes that hold no ``_id``; check the server takes transactions.

        The other comes from ``init_moments`` (``admin init``): on a sharded cluster
        building indexes is an operator's decision, and nx-27017, the test stand-in,
        fails every insert into a collection with such an index.
        """
        await open_collections(self.client, self.db, INDEXES, self.moments.name)

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> None:
        await self.db.command("ping")

    async def _transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        return await run_transaction(self.client, work)

    # --- writes ---------------------------------------------------------------------

    async def create_moment(
        self, moment: MomentRecord, tweet_ids: Sequence[int] = ()
    ) -> MomentRecord:
        unique = list(dict.fromkeys(tweet_ids))  # each once, at its first place
        doc: Doc = {
            "_id": Int64(moment.id),
            "owner_id": Int64(moment.owner_id),
            "title": moment.title,
            "description": moment.description,
            "created_at": Int64(moment.created_at_ms),
            "tweet_count": len(unique),
            "last_position": Int64(len(unique)),
        }

        async def work(session: AsyncClientSession) -> None:
            await self.moments.insert_one(doc, session=session)
            if unique:
                await self.entries.insert_many(
                    [_entry(moment.id, t, n) for n, t in enumerate(unique, start=1)],
                    session=session,
                )

        await self._transaction(work)
        return _moment(doc)

    async def add_tweet(self, moment_id: int, tweet_id: int) -> MomentRecord | None:
        moment = Int64(moment_id)
        key = entry_key(moment_id, tweet_id)

        async def work(session: AsyncClientSession) -> MomentRecord | None:
            if await self.entries.find_one({"_id": key}, {"_id": 1}, session=session):
                doc = await self.moments.find_one({"_id": moment}, session=session)
                return _moment(doc) if doc else None  # in it already: unchanged
            doc = await self.moments.find_one_and_update(
                {"_id": moment},
                {"$inc": {"tweet_count": 1, "last_position": 1}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if doc is None:
                return None
            await self.entries.insert_one(
                _entry(moment_id, tweet_id, int(doc["last_position"])), session=session
            )
            return _moment(doc)

        for _ in range(_ATTEMPTS):
            try:
                return await self._transaction(work)
            except DuplicateKeyError:
                continue  # a concurrent add put it there first: read it again
        raise RuntimeError(f"moment {moment_id}: tweet {tweet_id} kept changing hands")

    async def remove_tweet(self, moment_id: int, tweet_id: int) -> MomentRecord | None:
        moment = Int64(moment_id)

        async def work(session: AsyncClientSession) -> MomentRecord | None:
            removed = await self.entries.delete_one(
                {"_id": entry_key(moment_id, tweet_id)}, session=session
            )
            if removed.deleted_count:
                doc = await self.moments.find_one_and_update(
                    {"_id": moment},
                    {"$inc": {"tweet_count": -1}},
                    return_document=ReturnDocument.AFTER,
                    session=session,
                )
            else:
                doc = await self.moments.find_one({"_id": moment}, session=session)
            return _moment(doc) if doc else None

        return await self._transaction(work)

    async def delete_moment(self, moment_id: int) -> MomentRecord | None:
        moment = Int64(moment_id)

        async def work(session: AsyncClientSession) -> MomentRecord | None:
            doc = await self.moments.find_one_and_delete({"_id": moment}, session=session)
            if doc is None:
                return None
            await self.entries.delete_many({"moment_id": moment}, session=session)
            return _moment(doc)

        return await self._transaction(work)

    async def remove_tweet_everywhere(self, tweet_id: int) -> int:
        tweet = Int64(tweet_id)

        async def work(session: AsyncClientSession) -> int:
            cursor = self.entries.find({"tweet_id": tweet}, {"moment_id": 1}, session=session)
            holding = [doc["moment_id"] async for doc in cursor]
            if not holding:
                return 0
            await self.entries.delete_many({"tweet_id": tweet}, session=session)
            # a tweet is in a moment once: one less in each moment that held it
            await self.moments.update_many(
                {"_id": {"$in": holding}}, {"$inc": {"tweet_count": -1}}, session=session
            )
            return len(holding)

        return await self._transaction(work)

    # --- reads ----------------------------------------------------------------------

    async def get_moments(self, ids: Sequence[int]) -> dict[int, MomentRecord]:
        if not ids:
            return {}
        cursor = self.moments.find({"_id": {"$in": [Int64(i) for i in set(ids)]}})
        return {int(doc["_id"]): _moment(doc) async for doc in cursor}

    async def moments_of(
        self, owner_id: int, limit: int, before_id: int | None = None
    ) -> list[MomentRecord]:
        if limit <= 0:
            return []  # MongoDB reads limit(0) as "no limit"
        query: Doc = {"owner_id": Int64(owner_id)}
        if before_id is not None:
            query["_id"] = {"$lt": Int64(before_id)}
        cursor = self.moments.find(query).sort("_id", DESCENDING).limit(limit)
        return [_moment(doc) async for doc in cursor]

    async def moment_tweets(
        self, moment_id: int, limit: int, after_position: int | None = None
    ) -> list[MomentEntry]:
        if limit <= 0:
            return []
        query: Doc = {"moment_id": Int64(moment_id)}
        if after_position is not None:
            query["position"] = {"$gt": Int64(after_position)}
        cursor = (
            self.entries.find(query, {"position": 1, "tweet_id": 1})
            .sort("position", ASCENDING)
            .limit(limit)
        )
        return [MomentEntry(int(doc["position"]), int(doc["tweet_id"])) async for doc in cursor]
