"""Production lists: MongoDB through pymongo's async API.

Collections (in the tweet store's database; times are int64 epoch ms, as the
notifications' are)::

    lists         {_id: int64 snowflake, owner_id: int64, name, description,
                   private: bool, created_at: int64, member_count}
    list_members  {_id: "<list_id>:<user_id>", list_id: int64, user_id: int64,
                   added_id: int64 snowflake}

A membership's ``_id`` is its (list, account) key, so an account is on a list once.
A membership and its list's ``member_count`` change in one transaction, so the count
is exact.

**The cap is exact under concurrency.** The count is raised only by
``find_one_and_update({_id: list, member_count: {$lt: cap}}, {$inc: 1})`` in the
transaction that inserts the membership. MongoDB writes one document atomically, and
a transaction that writes a document another uncommitted transaction wrote fails with
a write conflict and is retried from the start (``with_transaction``), seeing the
committed count: so of concurrent adds to a list holding cap - 1 members, exactly one
passes "count < cap", and every other finds the list full and stores nothing.

Indexes whose key holds no ``_id`` (a list's members, most recently added first) are
created when the store opens; the one that holds ``_id`` (an owner's lists, newest
first) by ``python app.py admin init`` through ``init_lists``, as
``docstore.notifications_mongo.init_notifications`` does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from bson.int64 import Int64
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError

from core.models import MAX_LIST_MEMBERS, ListMember, ListRecord
from docstore.lists import ListFullError
from docstore.mongo import MAJORITY, Doc, create_indexes, open_collections, run_transaction

T = TypeVar("T")

_ATTEMPTS = 10  # of an add whose transaction lost a race on its membership's key

INDEXES: dict[str, list[IndexModel]] = {
    "lists": [
        # an owner's lists, newest first (admin init only: it holds _id)
        IndexModel([("owner_id", ASCENDING), ("_id", DESCENDING)], name="owner_newest"),
    ],
    "list_members": [
        IndexModel([("list_id", ASCENDING), ("added_id", DESCENDING)], name="list_newest"),
    ],
}


async def init_lists(client: AsyncMongoClient[Doc], database: str) -> list[str]:
    """Create every index of the list collections (``admin init``). Idempotent.

    Returns one line per collection, for the admin command to print.
    """
    return await create_indexes(client, database, INDEXES)


def member_key(list_id: int, user_id: int) -> str:
    return f"{list_id}:{user_id}"


def _list(doc: Doc) -> ListRecord:
    return ListRecord(
        id=int(doc["_id"]),
        owner_id=int(doc["owner_id"]),
        name=doc["name"],
        description=doc["description"],
        private=bool(doc["private"]),
        created_at_ms=int(doc["created_at"]),
        member_count=int(doc["member_count"]),
    )


class MongoListStore:
    def __init__(
        self,
        client: AsyncMongoClient[Doc],
        database: str = "chirp",
        max_members: int = MAX_LIST_MEMBERS,
    ) -> None:
        self.client = client
        self.db = client.get_database(database, write_concern=MAJORITY)
        self.lists = self.db["lists"]
        self.list_members = self.db["list_members"]
        self.max_members = max_members

    async def open(self) -> None:
        """Create the indexes that hold no ``_id``; check the server takes transactions.

        The other comes from ``init_lists`` (``admin init``): on a sharded cluster
        building indexes is an operator's decision, and nx-27017, the test stand-in,
        fails every insert into a collection with such an index.
        """
        await open_collections(self.client, self.db, INDEXES, self.lists.name)

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> None:
        await self.db.command("ping")

    async def _transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        return await run_transaction(self.client, work)

    # --- writes ---------------------------------------------------------------------

    async def create_list(self, record: ListRecord) -> ListRecord:
        doc: Doc = {
            "_id": Int64(record.id),
            "owner_id": Int64(record.owner_id),
            "name": record.name,
            "description": record.description,
            "private": record.private,
            "created_at": Int64(record.created_at_ms),
            "member_count": 0,
        }
        await self.lists.insert_one(doc)
        return _list(doc)

    async def add_member(self, list_id: int, user_id: int, added_id: int) -> ListRecord | None:
        list_ = Int64(list_id)
        key = member_key(list_id, user_id)
        cap = self.max_members

        async def work(session: AsyncClientSession) -> ListRecord | None:
            if await self.list_members.find_one({"_id": key}, {"_id": 1}, session=session):
                doc = await self.lists.find_one({"_id": list_}, session=session)
                return _list(doc) if doc else None  # a member already: unchanged
            doc = await self.lists.find_one_and_update(
                {"_id": list_, "member_count": {"$lt": cap}},
                {"$inc": {"member_count": 1}},
                return_document=ReturnDocument.AFTER,
                session=session,
            )
            if doc is None:
                if await self.lists.find_one({"_id": list_}, {"_id": 1}, session=session):
                    raise ListFullError(list_id, cap)  # aborts: nothing was written
                return None
            await self.list_members.insert_one(
                {
                    "_id": key,
                    "list_id": list_,
                    "user_id": Int64(user_id),
                    "added_id": Int64(added_id),
                },
                session=session,
            )
            return _list(doc)

        for _ in range(_ATTEMPTS):
            try:
                return await self._transaction(work)
            except DuplicateKeyError:
                continue  # a concurrent add put them there first: read it again
        raise RuntimeError(f"list {list_id}: member {user_id} kept changing hands")

    async def remove_member(self, list_id: int, user_id: int) -> ListRecord | None:
        list_ = Int64(list_id)

        async def work(session: AsyncClientSession) -> ListRecord | None:
            removed = await self.list_members.delete_one(
                {"_id": member_key(list_id, user_id)}, session=session
            )
            if removed.deleted_count:
                doc = await self.lists.find_one_and_update(
                    {"_id": list_},
                    {"$inc": {"member_count": -1}},
                    return_document=ReturnDocument.AFTER,
                    session=session,
                )
            else:
                doc = await self.lists.find_one({"_id": list_}, session=session)
            return _list(doc) if doc else None

        return await self._transaction(work)

    async def delete_list(self, list_id: int) -> ListRecord | None:
        list_ = Int64(list_id)

        async def work(session: AsyncClientSession) -> ListRecord | None:
            doc = await self.lists.find_one_and_delete({"_id": list_}, session=session)
            if doc is None:
                return None
            # at most max_members documents: one transaction holds them
            await self.list_members.delete_many({"list_id": list_}, session=session)
            return _list(doc)

        return await self._transaction(work)

    # --- reads ----------------------------------------------------------------------

    async def get_lists(self, ids: Sequence[int]) -> dict[int, ListRecord]:
        if not ids:
            return {}
        cursor = self.lists.find({"_id": {"$in": [Int64(i) for i in set(ids)]}})
        return {int(doc["_id"]): _list(doc) async for doc in cursor}

    async def lists_of(
        self,
        owner_id: int,
        limit: int,
        before_id: int | None = None,
        include_private: bool = True,
    ) -> list[ListRecord]:
        if limit <= 0:
            return []  # MongoDB reads limit(0) as "no limit"
        query: Doc = {"owner_id": Int64(owner_id)}
        if not include_private:
            query["private"] = False
        if before_id is not None:
            query["_id"] = {"$lt": Int64(before_id)}
        cursor = self.lists.find(query).sort("_id", DESCENDING).limit(limit)
        return [_list(doc) async for doc in cursor]

    async def members(
        self, list_id: int, limit: int, before_added_id: int | None = None
    ) -> list[ListMember]:
        if limit <= 0:
            return []
        query: Doc = {"list_id": Int64(list_id)}
        if before_added_id is not None:
            query["added_id"] = {"$lt": Int64(before_added_id)}
        cursor = (
            self.list_members.find(query, {"user_id": 1, "added_id": 1})
            .sort("added_id", DESCENDING)
            .limit(limit)
        )
        return [ListMember(int(doc["user_id"]), int(doc["added_id"])) async for doc in cursor]

    async def member_ids(self, list_id: int) -> list[int]:
        cursor = self.list_members.find({"list_id": Int64(list_id)}, {"user_id": 1}).sort(
            "added_id", DESCENDING
        )
        return [int(doc["user_id"]) async for doc in cursor]
