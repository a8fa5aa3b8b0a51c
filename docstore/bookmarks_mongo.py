"""Production bookmarks: the ``bookmarks`` collection in MongoDB.

::

    bookmarks  {_id: "<user_id>:<tweet_id>", user_id: int64, tweet_id: int64,
                bookmark_id: int64 snowflake}

A bookmark's ``_id`` is its (user, tweet) key, as a like's is: it exists once
whatever the concurrency, and "which of these tweets has the viewer bookmarked" is
one ``$in`` read of ``_id``s. No count goes with a bookmark, so no write needs a
transaction. The indexes (a user's page, newest first; a deleted tweet's bookmarks)
hold no ``_id``: the store creates them when it opens, and ``init_bookmarks``
(``admin init``) creates them too, for the operator's list.
"""

from __future__ import annotations

from collections.abc import Sequence

from bson.int64 import Int64
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.errors import DuplicateKeyError

from core.models import BookmarkEdge
from docstore.mongo import MAJORITY, Doc, create_indexes

INDEXES: dict[str, list[IndexModel]] = {
    "bookmarks": [
        IndexModel([("user_id", ASCENDING), ("bookmark_id", DESCENDING)], name="user_newest"),
        IndexModel([("tweet_id", ASCENDING)], name="tweet"),
    ],
}


async def init_bookmarks(client: AsyncMongoClient[Doc], database: str) -> list[str]:
    """Create every index of the bookmarks collection (``admin init``). Idempotent.

    Returns one line per collection, for the admin command to print.
    """
    return await create_indexes(client, database, INDEXES)


def bookmark_key(user_id: int, tweet_id: int) -> str:
    return f"{user_id}:{tweet_id}"


class MongoBookmarkStore:
    def __init__(self, client: AsyncMongoClient[Doc], database: str = "chirp") -> None:
        self.client = client
        self.db = client.get_database(database, write_concern=MAJORITY)
        self.bookmarks = self.db["bookmarks"]

    async def open(self) -> None:
        await self.db.command("ping")
        for collection, indexes in INDEXES.items():
            await self.db[collection].create_indexes(indexes)

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> None:
        await self.db.command("ping")

    async def bookmark(self, user_id: int, tweet_id: int, bookmark_id: int) -> bool:
        try:
            await self.bookmarks.insert_one(
                {
                    "_id": bookmark_key(user_id, tweet_id),
                    "user_id": Int64(user_id),
                    "tweet_id": Int64(tweet_id),
                    "bookmark_id": Int64(bookmark_id),
                }
            )
        except DuplicateKeyError:
            return False  # bookmarked already: the first one stays, with its id
        return True

    async def unbookmark(self, user_id: int, tweet_id: int) -> bool:
        removed = await self.bookmarks.delete_one({"_id": bookmark_key(user_id, tweet_id)})
        return removed.deleted_count == 1

    async def bookmarks_of(
        self, user_id: int, limit: int, before_bookmark_id: int | None = None
    ) -> list[BookmarkEdge]:
        if limit <= 0:
            return []  # MongoDB reads limit(0) as "no limit"
        query: Doc = {"user_id": Int64(user_id)}
        if before_bookmark_id is not None:
            query["bookmark_id"] = {"$lt": Int64(before_bookmark_id)}
        cursor = (
            self.bookmarks.find(query, {"bookmark_id": 1, "tweet_id": 1})
            .sort("bookmark_id", DESCENDING)
            .limit(limit)
        )
        return [BookmarkEdge(int(doc["bookmark_id"]), int(doc["tweet_id"])) async for doc in cursor]

    async def bookmarked_tweet_ids(self, user_id: int, tweet_ids: Sequence[int]) -> set[int]:
        if not tweet_ids:
            return set()
        keys = [bookmark_key(user_id, tweet_id) for tweet_id in set(tweet_ids)]
        cursor = self.bookmarks.find({"_id": {"$in": keys}}, {"tweet_id": 1})
        return {int(doc["tweet_id"]) async for doc in cursor}

    async def remove_tweet_everywhere(self, tweet_id: int) -> int:
        removed = await self.bookmarks.delete_many({"tweet_id": Int64(tweet_id)})
        return removed.deleted_count
