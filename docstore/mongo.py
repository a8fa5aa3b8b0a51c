"""The production tweet store: MongoDB through pymongo's async API.

Collections (database from MONGODB_DB, default ``chirp``)::

    tweets            {_id: int64 snowflake, author_id: int64, text, created_at: date,
                       like_count, retweet_count, reply_count, quote_count,
                       in_reply_to_id: int64, in_reply_to_user_id: int64,
                       conversation_id: int64, ancestor_ids: [int64], quote_of_id: int64,
                       retweet_of_id: int64, mention_ids: [int64], hashtags: [str],
                       media_ids: [int64], links: [[code, url]],
                       location: GeoJSON Point {type, coordinates: [lon, lat]} or null}
                      (the ids a tweet does not have are null, the lists empty)
    likes             {_id: "<user_id>:<tweet_id>", user_id: int64, tweet_id: int64,
                       like_id: int64, created_at: date}
    idempotency_keys  {_id: "<user_id>:<key>", fingerprint, tweet_id: int64, created_at: date}
    retweets          {_id: "<user_id>:<original_id>", retweet_id: int64}

A tweet carries ``fanout_pending: true`` from its insert until its fan-out
completes, so a repair pass finds tweets whose fan-out never ran.

A like's ``_id`` is its (user, tweet) key, so a like exists once whatever the
concurrency; the like and the ``$inc`` of the tweet's counter happen in one
transaction, so counters stay exact. So do a reply's or a quote's insert (or
delete) and the ``$inc`` of its parent's ``reply_count`` or its original's
``quote_count``; a reply or quote of a tweet that does not exist aborts its
transaction (MissingTweetError), so nothing of it is stored. A reply carries its
thread's ``ancestor_ids`` (root first): a thread view is one ``$in`` read, however
deep the thread.

Tweets are written with majority write concern. Indexes and sharding are set up
by ``python app.py admin init`` (``init_database`` below), not at start-up: on a
sharded cluster that is an operator's decision, and it is safe to run again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from bson.int64 import Int64
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure

from core.models import GeoPoint, IdempotencyKey, LikeEdge, TweetRecord
from docstore.port import IDEMPOTENCY_TTL_MS, IdempotencyConflictError, MissingTweetError

log = logging.getLogger("chirp.mongo")

T = TypeVar("T")
Doc = dict[str, Any]

# Driver errors that mean "MongoDB is unreachable right now" (AutoReconnect,
# NetworkTimeout and ServerSelectionTimeoutError are all ConnectionFailures).
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (ConnectionFailure,)

MAJORITY = WriteConcern("majority")

INDEXES: dict[str, list[IndexModel]] = {
    "tweets": [
        # user timelines and home-timeline pulls: newest tweets of given authors
        IndexModel([("author_id", ASCENDING), ("_id", DESCENDING)], name="author_newest"),
        # the repair pass: only tweets whose fan-out has not completed are indexed
        IndexModel(
            [("_id", ASCENDING)],
            name="fanout_pending",
            partialFilterExpression={"fanout_pending": True},
        ),
        # replies, quotes, mentioning: a tweet's replies or quotes, a user's mentions,
        # newest first. Only tweets that have one are indexed: snowflake ids are
        # positive, so {$gt: 0} holds every id and leaves out nulls and empty lists
        # (and a query for one id implies it, so the planner may use the index).
        IndexModel(
            [("in_reply_to_id", ASCENDING), ("_id", DESCENDING)],
            name="replies_newest",
            partialFilterExpression={"in_reply_to_id": {"$gt": 0}},
        ),
        IndexModel(
            [("quote_of_id", ASCENDING), ("_id", DESCENDING)],
            name="quotes_newest",
            partialFilterExpression={"quote_of_id": {"$gt": 0}},
        ),
        IndexModel(
            [("mention_ids", ASCENDING), ("_id", DESCENDING)],
            name="mentions_newest",
            partialFilterExpression={"mention_ids": {"$gt": 0}},
        ),
    ],
    "likes": [
        IndexModel([("user_id", ASCENDING), ("like_id", DESCENDING)], name="user_newest"),
        IndexModel([("tweet_id", ASCENDING)], name="tweet"),
    ],
    "idempotency_keys": [
        IndexModel(
            [("created_at", ASCENDING)],
            name="expire_after_a_day",
            expireAfterSeconds=IDEMPOTENCY_TTL_MS // 1000,
        ),
    ],
}
# Shard keys on a sharded cluster: hashed snowflake ids spread writes evenly
# instead of hot-spotting the shard that holds the newest range.
SHARD_KEYS: dict[str, Doc] = {"tweets": {"_id": "hashed"}, "likes": {"_id": "hashed"}}


def _ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


def _date(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _opt(value: int | None) -> Int64 | None:
    return None if value is None else Int64(value)


def _doc(tweet: TweetRecord) -> Doc:
    return {
        "_id": Int64(tweet.id),
        "author_id": Int64(tweet.author_id),
        "text": tweet.text,
        "created_at": _date(tweet.created_at_ms),
        "like_count": tweet.like_count,
        "retweet_count": tweet.retweet_count,
        "reply_count": tweet.reply_count,
        "quote_count": tweet.quote_count,
        "in_reply_to_id": _opt(tweet.in_reply_to_id),
        "in_reply_to_user_id": _opt(tweet.in_reply_to_user_id),
        "conversation_id": _opt(tweet.conversation_id),
        "ancestor_ids": [Int64(a) for a in tweet.ancestor_ids],
        "quote_of_id": _opt(tweet.quote_of_id),
        "retweet_of_id": _opt(tweet.retweet_of_id),
        "mention_ids": [Int64(m) for m in tweet.mention_ids],
        "hashtags": list(tweet.hashtags),
        "media_ids": [Int64(m) for m in tweet.media_ids],
        "links": [list(link) for link in tweet.links],
        # GeoJSON, longitude first: ready for a 2dsphere index
        "location": None
        if tweet.location is None
        else {
            "type": "Point",
            "coordinates": [tweet.location.longitude, tweet.location.latitude],
        },
        "fanout_pending": True,  # removed once fan-out completes (see pending_fanout)
    }


def _tweet(doc: Doc) -> TweetRecord:
    return TweetRecord(
        id=int(doc["_id"]),
        author_id=int(doc["author_id"]),
        text=doc["text"],
        created_at_ms=_ms(doc["created_at"]),
        like_count=doc.get("like_count", 0),
        retweet_count=doc.get("retweet_count", 0),
        reply_count=doc.get("reply_count", 0),
        in_reply_to_id=doc.get("in_reply_to_id"),
        conversation_id=doc.get("conversation_id"),
        quote_of_id=doc.get("quote_of_id"),
        retweet_of_id=doc.get("retweet_of_id"),
        hashtags=tuple(doc.get("hashtags", ())),
        media_ids=tuple(int(m) for m in doc.get("media_ids", ())),
        links=tuple((code, url) for code, url in doc.get("links", ())),
        # documents written before these fields existed have none of them
        quote_count=doc.get("quote_count", 0),
        in_reply_to_user_id=doc.get("in_reply_to_user_id"),
        mention_ids=tuple(int(m) for m in doc.get("mention_ids", ())),
        ancestor_ids=tuple(int(a) for a in doc.get("ancestor_ids", ())),
        location=_location(doc.get("location")),
    )


def _location(point: Doc | None) -> GeoPoint | None:
    if not point:
        return None
    longitude, latitude = point["coordinates"]
    return GeoPoint(float(latitude), float(longitude))


# What a reply and a quote count on (their parent, their original), and the field a
# missing one is reported under (MissingTweetError). Retweets count in ``retweet``.
_COUNTED_REFERENCES = (
    ("in_reply_to_id", "reply_count", "inReplyToId"),
    ("quote_of_id", "quote_count", "quoteOfId"),
)


async def run_transaction(
    client: AsyncMongoClient[Doc], work: Callable[[AsyncClientSession], Awaitable[T]]
) -> T:
    """Run ``work`` in a majority-acknowledged transaction, retried by the driver on
    transient errors (a write conflict with a concurrent transaction among them). Every
    MongoDB adapter's transactions go through here."""
    async with client.start_session() as session:
        return await session.with_transaction(work, write_concern=MAJORITY)


def holds_id(index: IndexModel) -> bool:
    """Whether an index's key holds ``_id``: those are made by ``admin init`` only (on a
    sharded cluster building them is an operator's decision, and nx-27017, the test
    stand-in, fails every insert into a collection with such an index)."""
    return "_id" in index.document["key"]


async def create_indexes(
    client: AsyncMongoClient[Doc], database: str, indexes: Mapping[str, Sequence[IndexModel]]
) -> list[str]:
    """Create every index of ``indexes`` (``admin init``). Idempotent. Returns one line
    per collection, for the admin command to print."""
    db = client[database]
    done: list[str] = []
    for collection, models in indexes.items():
        names = await db[collection].create_indexes(list(models))
        done.append(f"{database}.{collection}: indexes {', '.join(names)}")
    return done


async def open_collections(
    client: AsyncMongoClient[Doc],
    db: AsyncDatabase[Doc],
    indexes: Mapping[str, Sequence[IndexModel]],
    probe: str,
) -> None:
    """An adapter's ``open``: the server answers, the indexes that hold no ``_id`` exist,
    and a transaction (on collection ``probe``) goes through."""
    await db.command("ping")
    for collection, models in indexes.items():
        await db[collection].create_indexes([i for i in models if not holds_id(i)])
    try:
        await run_transaction(
            client,
            lambda session: db[probe].delete_one({"_id": "transaction-probe"}, session=session),
        )
    except OperationFailure as exc:
        raise RuntimeError(
            "MongoDB refused a transaction: Chirp needs a replica set or a sharded "
            f"cluster, not a standalone server ({exc})"
        ) from exc


class _NoSuchTweet(Exception):
    """Raised inside a transaction to roll it back when the tweet does not exist."""


def like_key(user_id: int, tweet_id: int) -> str:
    return f"{user_id}:{tweet_id}"


def connect(uri: str) -> AsyncMongoClient[Doc]:
    """A client that gives up on an unreachable server in seconds, not the default 30."""
    return AsyncMongoClient(
        uri, serverSelectionTimeoutMS=5000, connectTimeoutMS=5000, tz_aware=True
    )


class MongoTweetStore:
    def __init__(self, client: AsyncMongoClient[Doc], database: str = "chirp") -> None:
        self.client = client
        self.db: AsyncDatabase[Doc] = client.get_database(database, write_concern=MAJORITY)
        self.tweets = self.db["tweets"]
        self.likes = self.db["likes"]
        self.keys = self.db["idempotency_keys"]
        self.retweets = self.db["retweets"]

    async def open(self) -> None:
        """Check the server answers and supports transactions (a replica set or mongos)."""
        await open_collections(self.client, self.db, {}, self.keys.name)

    async def close(self) -> None:
        await self.client.close()

    async def ping(self) -> None:
        await self.db.command("ping")

    async def _transaction(self, work: Callable[[AsyncClientSession], Awaitable[T]]) -> T:
        return await run_transaction(self.client, work)

    async def _count_references(self, tweet: TweetRecord, session: AsyncClientSession) -> None:
        """Count a reply on its parent and a quote on its original, in ``session``'s transaction.

        Raises MissingTweetError when that tweet does not exist, which aborts the
        transaction: nothing the transaction wrote is kept.
        """
        for attribute, counter, field in _COUNTED_REFERENCES:
            target = getattr(tweet, attribute)
            if target is None:
                continue
            counted = await self.tweets.update_one(
                {"_id": Int64(target)}, {"$inc": {counter: 1}}, session=session
            )
            if counted.matched_count == 0:
                raise MissingTweetError(field, target)

    async def _uncount(self, deleted: TweetRecord, session: AsyncClientSession) -> None:
        """Take a deleted reply, quote or retweet off its target's counter (never below 0)."""
        for attribute, counter, _ in _COUNTED_REFERENCES:
            target = getattr(deleted, attribute)
            if target is not None:  # a target deleted already matches nothing
                await self.tweets.update_one(
                    {"_id": Int64(target), counter: {"$gt": 0}},
                    {"$inc": {counter: -1}},
                    session=session,
                )
        original_id = deleted.retweet_of_id
        if original_id is None:
            return
        # The (author, original) mapping goes with the retweet it names, and only
        # then the count: a retweet is uncounted once however often it is deleted.
        mapping = await self.retweets.delete_one(
            {"_id": like_key(deleted.author_id, original_id), "retweet_id": Int64(deleted.id)},
            session=session,
        )
        if mapping.deleted_count:
            await self.tweets.update_one(
                {"_id": Int64(original_id), "retweet_count": {"$gt": 0}},
                {"$inc": {"retweet_count": -1}},
                session=session,
            )

    async def insert_tweet(
        self, tweet: TweetRecord, idempotency: IdempotencyKey | None = None
    ) -> tuple[TweetRecord | None, bool]:
        if idempotency is None:
            if tweet.in_reply_to_id is None and tweet.quote_of_id is None:
                await self.tweets.insert_one(_doc(tweet))
                return tweet, True

            async def count_and_insert(session: AsyncClientSession) -> None:
                await self._count_references(tweet, session)
                await self.tweets.insert_one(_doc(tweet), session=session)

            await self._transaction(count_and_insert)
            return tweet, True
        key = f"{idempotency.user_id}:{idempotency.key}"

        async def claim_and_insert(session: AsyncClientSession) -> None:
            # The key's _id is unique: of concurrent requests, one claims it and
            # the others get DuplicateKeyError; key and tweet commit together.
            await self.keys.insert_one(
                {
                    "_id": key,
                    "fingerprint": idempotency.fingerprint,
                    "tweet_id": Int64(tweet.id),
                    "created_at": _date(tweet.created_at_ms),
                },
                session=session,
            )
            # a missing parent or original aborts the transaction: the key stays free
            await self._count_references(tweet, session)
            await self.tweets.insert_one(_doc(tweet), session=session)

        for _ in range(5):
            try:
                await self._transaction(claim_and_insert)
                return tweet, True
            except DuplicateKeyError:
                seen = await self.keys.find_one({"_id": key})
            if seen is None:
                continue  # expired and removed meanwhile: claim it again
            if _ms(seen["created_at"]) < tweet.created_at_ms - IDEMPOTENCY_TTL_MS:
                # older than a day (the TTL monitor has not run yet): a new request
                await self.keys.delete_one({"_id": key, "created_at": seen["created_at"]})
                continue
            if seen["fingerprint"] != idempotency.fingerprint:
                raise IdempotencyConflictError(idempotency.key)
            first = await self.tweets.find_one({"_id": seen["tweet_id"]})
            return (_tweet(first) if first else None), False
        raise RuntimeError(f"idempotency key {key!r} kept changing hands")

    async def get_tweets(self, ids: Sequence[int]) -> dict[int, TweetRecord]:
        if not ids:
            return {}
        cursor = self.tweets.find({"_id": {"$in": [Int64(i) for i in set(ids)]}})
        return {int(doc["_id"]): _tweet(doc) async for doc in cursor}

    async def delete_tweet(self, tweet_id: int) -> TweetRecord | None:
        async def delete_and_uncount(session: AsyncClientSession) -> TweetRecord | None:
            doc = await self.tweets.find_one_and_delete({"_id": Int64(tweet_id)}, session=session)
            if doc is None:
                return None
            deleted = _tweet(doc)
            await self._uncount(deleted, session)
            return deleted

        deleted = await self._transaction(delete_and_uncount)
        if deleted is None:
            return None
        # Likes go after the tweet (a viral tweet's likes are too many for one
        # transaction); a like left by a crash here is skipped at read time.
        await self.likes.delete_many({"tweet_id": Int64(tweet_id)})
        return deleted

    async def tweets_by_authors(
        self,
        author_ids: Sequence[int],
        limit: int,
        before_id: int | None = None,
        include_replies: bool = True,
    ) -> list[TweetRecord]:
        if not author_ids or limit <= 0:
            return []
        query: Doc = {"author_id": {"$in": [Int64(a) for a in set(author_ids)]}}
        if before_id is not None:
            query["_id"] = {"$lt": Int64(before_id)}
        if not include_replies:
            query["in_reply_to_id"] = None
        cursor = self.tweets.find(query).sort("_id", DESCENDING).limit(limit)
        return [_tweet(doc) async for doc in cursor]

    async def replies(
        self, tweet_id: int, limit: int, before_id: int | None = None
    ) -> list[TweetRecord]:
        return await self._newest({"in_reply_to_id": Int64(tweet_id)}, limit, before_id)

    async def quotes(
        self, tweet_id: int, limit: int, before_id: int | None = None
    ) -> list[TweetRecord]:
        return await self._newest({"quote_of_id": Int64(tweet_id)}, limit, before_id)

    async def mentioning(
        self, user_id: int, limit: int, before_id: int | None = None
    ) -> list[TweetRecord]:
        return await self._newest({"mention_ids": Int64(user_id)}, limit, before_id)

    async def _newest(self, query: Doc, limit: int, before_id: int | None) -> list[TweetRecord]:
        """The tweets matching ``query`` with id < before_id, newest first (an INDEXES index)."""
        if limit <= 0:
            return []  # MongoDB reads limit(0) as "no limit"
        if before_id is not None:
            query = {**query, "_id": {"$lt": Int64(before_id)}}
        cursor = self.tweets.find(query).sort("_id", DESCENDING).limit(limit)
        return [_tweet(doc) async for doc in cursor]

    async def count_by_authors(self, author_ids: Sequence[int]) -> dict[int, int]:
        if not author_ids:
            return {}
        counts = dict.fromkeys(author_ids, 0)
        cursor = await self.tweets.aggregate(
            [
                {"$match": {"author_id": {"$in": [Int64(a) for a in set(author_ids)]}}},
                {"$group": {"_id": "$author_id", "n": {"$sum": 1}}},
            ]
        )
        async for row in cursor:
            counts[int(row["_id"])] = int(row["n"])
        return counts

    async def like(self, user_id: int, tweet_id: int, like_id: int) -> bool | None:
        async def work(session: AsyncClientSession) -> None:
            await self.likes.insert_one(
                {
                    "_id": like_key(user_id, tweet_id),
                    "user_id": Int64(user_id),
                    "tweet_id": Int64(tweet_id),
                    "like_id": Int64(like_id),
                    "created_at": datetime.now(UTC),
                },
                session=session,
            )
            counted = await self.tweets.update_one(
                {"_id": Int64(tweet_id)}, {"$inc": {"like_count": 1}}, session=session
            )
            if counted.matched_count == 0:
                raise _NoSuchTweet  # rolls the like back

        try:
            await self._transaction(work)
        except DuplicateKeyError:
            return False  # liked already; the transaction rolled back, the count is unchanged
        except _NoSuchTweet:
            return None
        return True

    async def unlike(self, user_id: int, tweet_id: int) -> bool | None:
        async def work(session: AsyncClientSession) -> bool:
            removed = await self.likes.delete_one(
                {"_id": like_key(user_id, tweet_id)}, session=session
            )
            # $inc by 0 when there was no like: still tells whether the tweet exists
            counted = await self.tweets.update_one(
                {"_id": Int64(tweet_id)},
                {"$inc": {"like_count": -removed.deleted_count}},
                session=session,
            )
            if counted.matched_count == 0:
                raise _NoSuchTweet
            return bool(removed.deleted_count)

        try:
            return await self._transaction(work)
        except _NoSuchTweet:
            return None

    async def liked_tweet_ids(self, user_id: int, tweet_ids: Sequence[int]) -> set[int]:
        if not tweet_ids:
            return set()
        keys = [like_key(user_id, t) for t in set(tweet_ids)]
        cursor = self.likes.find({"_id": {"$in": keys}}, {"tweet_id": 1})
        return {int(doc["tweet_id"]) async for doc in cursor}

    async def likes_by_user(
        self, user_id: int, limit: int, before_like_id: int | None = None
    ) -> list[LikeEdge]:
        if limit <= 0:
            return []  # MongoDB reads limit(0) as "no limit"
        query: Doc = {"user_id": Int64(user_id)}
        if before_like_id is not None:
            query["like_id"] = {"$lt": Int64(before_like_id)}
        cursor = self.likes.find(query, {"like_id": 1, "tweet_id": 1}).sort("like_id", DESCENDING)
        return [LikeEdge(int(d["like_id"]), int(d["tweet_id"])) async for d in cursor.limit(limit)]

    async def retweet(self, retweet: TweetRecord) -> tuple[TweetRecord | None, bool]:
        original_id = retweet.retweet_of_id
        if original_id is None:
            raise ValueError("a retweet needs retweet_of_id")
        key = like_key(retweet.author_id, original_id)

        async def work(session: AsyncClientSession) -> None:
            # The mapping's _id is unique: a retweet exists once per (author, original).
            await self.retweets.insert_one(
                {"_id": key, "retweet_id": Int64(retweet.id)}, session=session
            )
            counted = await self.tweets.update_one(
                {"_id": Int64(original_id)}, {"$inc": {"retweet_count": 1}}, session=session
            )
            if counted.matched_count == 0:
                raise _NoSuchTweet
            await self.tweets.insert_one(_doc(retweet), session=session)

        try:
            await self._transaction(work)
        except _NoSuchTweet:
            return None, False
        except DuplicateKeyError:
            seen = await self.retweets.find_one({"_id": key})
            first = await self.tweets.find_one({"_id": seen["retweet_id"]}) if seen else None
            return (_tweet(first) if first else None), False
        return retweet, True

    async def undo_retweet(self, user_id: int, original_id: int) -> TweetRecord | None:
        seen = await self.retweets.find_one({"_id": like_key(user_id, original_id)})
        if seen is None:
            return None
        return await self.delete_tweet(int(seen["retweet_id"]))

    async def retweeted_ids(self, user_id: int, tweet_ids: Sequence[int]) -> set[int]:
        if not tweet_ids:
            return set()
        keys = [like_key(user_id, t) for t in set(tweet_ids)]
        return {
            int(doc["_id"].split(":")[1])
            async for doc in self.retweets.find({"_id": {"$in": keys}})
        }

    async def hashtag_uses(
        self, after_id: int, limit: int
    ) -> list[tuple[int, int, tuple[str, ...]]]:
        # Untagged tweets (retweets among them: they carry no hashtags) are skipped here,
        # not in the query: "a non-empty array" has no form the MongoDB stand-in of the
        # tests answers ("hashtags.0", $not, $size), nor "_id $gt and a null field".
        found: list[tuple[int, int, tuple[str, ...]]] = []
        cursor_id = after_id
        while len(found) < limit:
            query: Doc = {"_id": {"$gt": Int64(cursor_id)}}
            fields = {"author_id": 1, "hashtags": 1}
            batch = max(limit, 500)
            docs = [
                doc
                async for doc in self.tweets.find(query, fields).sort("_id", ASCENDING).limit(batch)
            ]
            for doc in docs:
                if doc.get("hashtags") and len(found) < limit:
                    found.append((int(doc["_id"]), int(doc["author_id"]), tuple(doc["hashtags"])))
            if len(docs) < batch:
                break
            cursor_id = int(docs[-1]["_id"])
        return found

    async def pending_fanout(self, before_id: int, limit: int) -> list[TweetRecord]:
        if limit <= 0:
            return []  # MongoDB reads limit(0) as "no limit"
        cursor = self.tweets.find({"fanout_pending": True, "_id": {"$lt": Int64(before_id)}})
        return [_tweet(doc) async for doc in cursor.sort("_id", ASCENDING).limit(limit)]

    async def mark_fanned_out(self, tweet_ids: Sequence[int]) -> None:
        if tweet_ids:
            await self.tweets.update_many(
                {"_id": {"$in": [Int64(t) for t in set(tweet_ids)]}, "fanout_pending": True},
                {"$unset": {"fanout_pending": ""}},
            )


async def init_database(client: AsyncMongoClient[Doc], database: str) -> list[str]:
    """Create every index and, on a sharded cluster, shard the collections. Idempotent.

    Returns one line per action, for the admin command to print.
    """
    done = await create_indexes(client, database, INDEXES)
    hello = await client.admin.command("hello")
    if hello.get("msg") != "isdbgrid":
        done.append("not a sharded cluster (no mongos): collections left unsharded")
        return done
    for collection, key in SHARD_KEYS.items():
        namespace = f"{database}.{collection}"
        try:
            await client.admin.command("shardCollection", namespace, key=key)
            done.append(f"{namespace}: sharded on {key}")
        except OperationFailure as exc:
            if exc.code != 23 and "already" not in str(exc).lower():  # 23: AlreadyInitialized
                raise
            done.append(f"{namespace}: already sharded")
    return done
