"""The embedded tweet store: a SQLite file.

A tweet is one row of ``tweets``; lists of ids (media, mentions, ancestors) are
space-separated text, hashtags too, links JSON. Who a tweet mentions is also
in ``tweet_mentions``, one row per (mentioned user, tweet), written and deleted
in the same transaction as the tweet, so ``mentioning`` walks a primary key.
Replies and quotes are found through partial indexes on ``in_reply_to_id`` and
``quote_of_id``; a reply's or quote's insert and delete count it on its parent
or original in the same transaction, so ``reply_count`` and ``quote_count`` stay
exact.

Search (read by search/sqlite.py) is part of this schema, kept by triggers on
``tweets`` in the tweet's own transaction, whoever writes the row: a tweet is
searchable as soon as its insert commits, and gone with its delete.

- ``tweets_fts``: an FTS5 table over ``tweets.text`` with external content (the
  text is stored once, in ``tweets``), tokenizer ``unicode61 remove_diacritics
  2``: words are runs of letters and digits, case-folded, Latin accents removed.
  Every row is indexed, as FTS5's external content expects (its integrity
  check compares each row of ``tweets``); a retweet's empty text holds no word,
  so it never matches.
- ``tweet_hashtags (tag, tweet_id)``: one row per hashtag of a tweet, the
  primary key walked newest first for ``#tag`` searches. The triggers split
  ``tweets.hashtags`` (space-separated; twitter-text's hashtags hold no space,
  quote or backslash) through ``json_each``.

``_migrate`` creates both in an existing data folder and fills them from the
tweets already stored.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.models import GeoPoint, IdempotencyKey, LikeEdge, TweetRecord
from core.sqlite import SqliteAdapter, SqliteDatabase, json_list, placeholders
from docstore.port import IDEMPOTENCY_TTL_MS, IdempotencyConflictError, MissingTweetError

SCHEMA = """
CREATE TABLE IF NOT EXISTS tweets (
    id              INTEGER PRIMARY KEY,
    author_id       INTEGER NOT NULL,
    text            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    like_count      INTEGER NOT NULL DEFAULT 0,
    retweet_count   INTEGER NOT NULL DEFAULT 0,
    reply_count     INTEGER NOT NULL DEFAULT 0,
    in_reply_to_id  INTEGER,
    conversation_id INTEGER,
    quote_of_id     INTEGER,
    retweet_of_id   INTEGER,
    hashtags        TEXT NOT NULL DEFAULT '',
    media_ids       TEXT NOT NULL DEFAULT '',
    links           TEXT NOT NULL DEFAULT '',
    fanout_pending  INTEGER NOT NULL DEFAULT 0,
    quote_count     INTEGER NOT NULL DEFAULT 0,
    in_reply_to_user_id INTEGER,
    mention_ids     TEXT NOT NULL DEFAULT '',
    ancestor_ids    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS tweets_by_author ON tweets (author_id, id);
CREATE TABLE IF NOT EXISTS tweet_mentions (
    user_id  INTEGER NOT NULL,
    tweet_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, tweet_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS likes (
    user_id  INTEGER NOT NULL,
    tweet_id INTEGER NOT NULL,
    like_id  INTEGER NOT NULL,
    PRIMARY KEY (user_id, tweet_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS likes_by_user ON likes (user_id, like_id);
CREATE INDEX IF NOT EXISTS likes_by_tweet ON likes (tweet_id);
CREATE TABLE IF NOT EXISTS idempotency_keys (
    user_id     INTEGER NOT NULL,
    key         TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    tweet_id    INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency_keys (created_at);
"""


def _hashtag_rows(hashtags: str) -> str:
    """SQL: the tags of a ``hashtags`` value (``new.hashtags``...) as ``json_each`` rows.

    The value becomes a JSON array of strings: backslashes and quotes escaped (none
    is in a twitter-text hashtag, but a stray one must not break the tweet's
    insert), each space a string boundary.
    """
    escaped = rf"""replace(replace({hashtags}, '\', '\\'), '"', '\"')"""
    return f"""json_each('["' || replace({escaped}, ' ', '","') || '"]')"""


# Search: the FTS5 table over tweets.text, the hashtag table, and the triggers that
# keep both in step with tweets. Created by _migrate, which also fills them from
# the tweets already stored, once.
SEARCH_SCHEMA: tuple[str, ...] = (
    """CREATE VIRTUAL TABLE tweets_fts USING fts5(
        text, content = 'tweets', content_rowid = 'id',
        tokenize = "unicode61 remove_diacritics 2"
    )""",
    """CREATE TRIGGER tweets_fts_insert AFTER INSERT ON tweets BEGIN
        INSERT INTO tweets_fts (rowid, text) VALUES (new.id, new.text);
    END""",
    # external content: the 'delete' command must be given the text that was indexed
    """CREATE TRIGGER tweets_fts_delete AFTER DELETE ON tweets BEGIN
        INSERT INTO tweets_fts (tweets_fts, rowid, text) VALUES ('delete', old.id, old.text);
    END""",
    """CREATE TRIGGER tweets_fts_update AFTER UPDATE OF text ON tweets BEGIN
        INSERT INTO tweets_fts (tweets_fts, rowid, text) VALUES ('delete', old.id, old.text);
        INSERT INTO tweets_fts (rowid, text) VALUES (new.id, new.text);
    END""",
    """CREATE TABLE tweet_hashtags (
        tag      TEXT NOT NULL,
        tweet_id INTEGER NOT NULL,
        PRIMARY KEY (tag, tweet_id)
    ) WITHOUT ROWID""",
    f"""CREATE TRIGGER tweet_hashtags_insert AFTER INSERT ON tweets WHEN new.hashtags <> ''
    BEGIN
        INSERT OR IGNORE INTO tweet_hashtags (tag, tweet_id)
            SELECT value, new.id FROM {_hashtag_rows("new.hashtags")};
    END""",
    f"""CREATE TRIGGER tweet_hashtags_delete AFTER DELETE ON tweets WHEN old.hashtags <> ''
    BEGIN
        DELETE FROM tweet_hashtags WHERE tweet_id = old.id
            AND tag IN (SELECT value FROM {_hashtag_rows("old.hashtags")});
    END""",
    f"""CREATE TRIGGER tweet_hashtags_update AFTER UPDATE OF hashtags ON tweets BEGIN
        DELETE FROM tweet_hashtags WHERE tweet_id = old.id
            AND tag IN (SELECT value FROM {_hashtag_rows("old.hashtags")});
        INSERT OR IGNORE INTO tweet_hashtags (tag, tweet_id)
            SELECT value, new.id FROM {_hashtag_rows("new.hashtags")} WHERE new.hashtags <> '';
    END""",
)


def _migrate_search(conn: sqlite3.Connection) -> None:
    """Create the search tables and triggers if this file has none, filled from its tweets.

    Runs in _migrate's transaction: a folder is never left with the tables and not
    its tweets in them. FTS5's 'rebuild' command indexes every row of ``tweets``.
    """
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'tweets_fts' AND type = 'table'"
    ).fetchone()
    if exists:
        return
    for statement in SEARCH_SCHEMA:
        conn.execute(statement)
    conn.execute("INSERT INTO tweets_fts (tweets_fts) VALUES ('rebuild')")
    conn.execute(
        "INSERT OR IGNORE INTO tweet_hashtags (tag, tweet_id)"
        f" SELECT tags.value, t.id FROM tweets t, {_hashtag_rows('t.hashtags')} AS tags"
        " WHERE t.hashtags <> ''"
    )


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a data folder made by an earlier version up to this schema (idempotent)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(tweets)")}
    if "fanout_pending" not in columns:
        conn.execute("ALTER TABLE tweets ADD COLUMN fanout_pending INTEGER NOT NULL DEFAULT 0")
    for column in ("media_ids", "links", "mention_ids", "ancestor_ids"):
        if column not in columns:
            conn.execute(f"ALTER TABLE tweets ADD COLUMN {column} TEXT NOT NULL DEFAULT ''")
    if "in_reply_to_user_id" not in columns:
        conn.execute("ALTER TABLE tweets ADD COLUMN in_reply_to_user_id INTEGER")
    for column in ("latitude", "longitude"):
        if column not in columns:
            conn.execute(f"ALTER TABLE tweets ADD COLUMN {column} REAL")
    conn.execute(
        "CREATE INDEX IF NOT EXISTS tweets_fanout_pending ON tweets (id) WHERE fanout_pending = 1"
    )
    conn.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS one_retweet_per_author"
        " ON tweets (author_id, retweet_of_id) WHERE retweet_of_id IS NOT NULL"
    )
    conn.execute(
        "CREATE INDEX IF NOT EXISTS tweets_replies"
        " ON tweets (in_reply_to_id, id) WHERE in_reply_to_id IS NOT NULL"
    )
    conn.execute(
        "CREATE INDEX IF NOT EXISTS tweets_quotes"
        " ON tweets (quote_of_id, id) WHERE quote_of_id IS NOT NULL"
    )
    if "quote_count" not in columns:
        # Before this column the store kept neither count: take both from the rows.
        conn.execute("ALTER TABLE tweets ADD COLUMN quote_count INTEGER NOT NULL DEFAULT 0")
        conn.execute(
            "UPDATE tweets SET"
            " reply_count = (SELECT count(*) FROM tweets r WHERE r.in_reply_to_id = tweets.id),"
            " quote_count = (SELECT count(*) FROM tweets q WHERE q.quote_of_id = tweets.id)"
            " WHERE id IN (SELECT in_reply_to_id FROM tweets WHERE in_reply_to_id IS NOT NULL"
            " UNION SELECT quote_of_id FROM tweets WHERE quote_of_id IS NOT NULL)"
        )
    _migrate_search(conn)


_COLUMNS = (
    "id, author_id, text, created_at, like_count, retweet_count, reply_count,"
    " in_reply_to_id, conversation_id, quote_of_id, retweet_of_id, hashtags, media_ids, links,"
    " quote_count, in_reply_to_user_id, mention_ids, ancestor_ids, latitude, longitude"
)
# The same columns of the tweets table aliased ``t`` (for joins).
_T_COLUMNS = ", ".join(f"t.{column.strip()}" for column in _COLUMNS.split(","))


def _ids(text: str) -> tuple[int, ...]:
    return tuple(int(i) for i in text.split(" ")) if text else ()


def _text(ids: Sequence[int]) -> str:
    return " ".join(map(str, ids))


def _tweet(row: tuple[Any, ...]) -> TweetRecord:
    return TweetRecord(
        id=row[0],
        author_id=row[1],
        text=row[2],
        created_at_ms=row[3],
        like_count=row[4],
        retweet_count=row[5],
        reply_count=row[6],
        in_reply_to_id=row[7],
        conversation_id=row[8],
        quote_of_id=row[9],
        retweet_of_id=row[10],
        hashtags=tuple(row[11].split(" ")) if row[11] else (),
        media_ids=_ids(row[12]),
        links=tuple((code, url) for code, url in json.loads(row[13])) if row[13] else (),
        quote_count=row[14],
        in_reply_to_user_id=row[15],
        mention_ids=_ids(row[16]),
        ancestor_ids=_ids(row[17]),
        location=None if row[18] is None else GeoPoint(row[18], row[19]),
    )


# What a reply and a quote count on (their parent, their original), and the field a
# missing one is reported under (MissingTweetError). Retweets count in ``retweet``.
_COUNTED_REFERENCES = (
    ("in_reply_to_id", "reply_count", "inReplyToId"),
    ("quote_of_id", "quote_count", "quoteOfId"),
)
# Every counter a tweet counts on another: uncounted when it is deleted.
_UNCOUNTED_ON_DELETE = (
    ("in_reply_to_id", "reply_count"),
    ("quote_of_id", "quote_count"),
    ("retweet_of_id", "retweet_count"),
)


def _insert(conn: sqlite3.Connection, tweet: TweetRecord) -> None:
    """Insert the tweet and its mentions, counting a reply or quote on its target.

    Raises MissingTweetError when the target does not exist; the caller's write
    transaction then rolls back whatever this unit of work had written.
    """
    for attribute, counter, field in _COUNTED_REFERENCES:
        target = getattr(tweet, attribute)
        if target is None:
            continue
        counted = conn.execute(
            f"UPDATE tweets SET {counter} = {counter} + 1 WHERE id = ?", (target,)
        ).rowcount
        if not counted:
            raise MissingTweetError(field, target)
    conn.execute(
        f"INSERT INTO tweets ({_COLUMNS}, fanout_pending) VALUES ({placeholders(21)})",
        (
            tweet.id,
            tweet.author_id,
            tweet.text,
            tweet.created_at_ms,
            tweet.like_count,
            tweet.retweet_count,
            tweet.reply_count,
            tweet.in_reply_to_id,
            tweet.conversation_id,
            tweet.quote_of_id,
            tweet.retweet_of_id,
            " ".join(tweet.hashtags),
            _text(tweet.media_ids),
            json.dumps(tweet.links) if tweet.links else "",
            tweet.quote_count,
            tweet.in_reply_to_user_id,
            _text(tweet.mention_ids),
            _text(tweet.ancestor_ids),
            tweet.location.latitude if tweet.location else None,
            tweet.location.longitude if tweet.location else None,
            1,
        ),
    )
    conn.executemany(
        "INSERT OR IGNORE INTO tweet_mentions (user_id, tweet_id) VALUES (?, ?)",
        [(user_id, tweet.id) for user_id in tweet.mention_ids],
    )


def _delete(conn: sqlite3.Connection, tweet: TweetRecord) -> None:
    """Delete the tweet with its likes and mentions, and uncount it where it counted."""
    conn.execute("DELETE FROM likes WHERE tweet_id = ?", (tweet.id,))
    conn.executemany(
        "DELETE FROM tweet_mentions WHERE user_id = ? AND tweet_id = ?",
        [(user_id, tweet.id) for user_id in tweet.mention_ids],
    )
    conn.execute("DELETE FROM tweets WHERE id = ?", (tweet.id,))
    for attribute, counter in _UNCOUNTED_ON_DELETE:
        target = getattr(tweet, attribute)
        if target is not None:  # a target deleted already matches no row
            conn.execute(
                f"UPDATE tweets SET {counter} = max({counter} - 1, 0) WHERE id = ?", (target,)
            )


def _select_tweet(conn: sqlite3.Connection, tweet_id: int) -> TweetRecord | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM tweets WHERE id = ?", (tweet_id,)).fetchone()
    return _tweet(row) if row else None


# get_tweets keeps the records it built, by id, for the next reads of the same tweets:
# at most this many (past it, the older half is dropped).
RECORD_CACHE_SIZE = 10_000
_BY_IDS = "FROM tweets WHERE id IN (SELECT value FROM json_each(?))"
_COUNTS_SQL = f"SELECT id, like_count, retweet_count, reply_count, quote_count {_BY_IDS}"
_FULL_SQL = f"SELECT {_COLUMNS} {_BY_IDS}"


class SqliteTweetStore(SqliteAdapter):
    def __init__(self, path: Path, record_cache_size: int = RECORD_CACHE_SIZE) -> None:
        self.db = SqliteDatabase(path, SCHEMA, migrate=_migrate)
        # Records get_tweets built, by id (touched on the event loop's thread only).
        # Only a tweet's four counters ever change in place (the UPDATEs below), so
        # a read of a known tweet asks the database only whether it still exists and
        # its counters: the answer is exactly what a full read gives, whoever wrote
        # (another process included), and building the record is skipped.
        self._records: dict[int, TweetRecord] = {}
        self._record_cache_size = record_cache_size

    async def insert_tweet(
        self, tweet: TweetRecord, idempotency: IdempotencyKey | None = None
    ) -> tuple[TweetRecord | None, bool]:
        def work(conn: sqlite3.Connection) -> tuple[TweetRecord | None, bool]:
            if idempotency is not None:
                conn.execute(
                    "DELETE FROM idempotency_keys WHERE created_at < ?",
                    (tweet.created_at_ms - IDEMPOTENCY_TTL_MS,),
                )
                row = conn.execute(
                    "SELECT fingerprint, tweet_id FROM idempotency_keys"
                    " WHERE user_id = ? AND key = ?",
                    (idempotency.user_id, idempotency.key),
                ).fetchone()
                if row is not None:
                    if row[0] != idempotency.fingerprint:
                        raise IdempotencyConflictError(idempotency.key)
                    return _select_tweet(conn, row[1]), False
                conn.execute(
                    "INSERT INTO idempotency_keys (user_id, key, fingerprint, tweet_id, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (
                        idempotency.user_id,
                        idempotency.key,
                        idempotency.fingerprint,
                        tweet.id,
                        tweet.created_at_ms,
                    ),
                )
            _insert(conn, tweet)
            return tweet, True

        return await self.db.write(work)

    async def get_tweets(self, ids: Sequence[int]) -> dict[int, TweetRecord]:
        if not ids:
            return {}
        records = self._records
        known = {i: records[i] for i in ids if i in records}
        unknown = [i for i in ids if i not in known]

        def work(conn: sqlite3.Connection) -> tuple[list[Any], list[Any]]:
            counts = conn.execute(_COUNTS_SQL, (json_list(known),)).fetchall() if known else []
            rows = conn.execute(_FULL_SQL, (json_list(unknown),)).fetchall() if unknown else []
            return counts, rows

        counts, rows = await self.db.read(work)
        records = self._records  # another read may have cut it meanwhile
        found: dict[int, TweetRecord] = {}
        for tweet_id, likes, retweets, replies, quotes in counts:
            record = known[tweet_id]
            if (
                record.like_count != likes
                or record.retweet_count != retweets
                or record.reply_count != replies
                or record.quote_count != quotes
            ):
                record = dataclasses.replace(
                    record,
                    like_count=likes,
                    retweet_count=retweets,
                    reply_count=replies,
                    quote_count=quotes,
                )
                records[tweet_id] = record
            found[tweet_id] = record
        for row in rows:
            found[row[0]] = records[row[0]] = _tweet(row)
        for tweet_id in known.keys() - found.keys():
            records.pop(tweet_id, None)  # deleted since
        if len(records) > self._record_cache_size:
            self._records = dict(list(records.items())[len(records) // 2 :])
        return found

    async def delete_tweet(self, tweet_id: int) -> TweetRecord | None:
        def work(conn: sqlite3.Connection) -> TweetRecord | None:
            tweet = _select_tweet(conn, tweet_id)
            if tweet is None:
                return None
            _delete(conn, tweet)
            return tweet

        return await self.db.write(work)

    async def tweets_by_authors(
        self,
        author_ids: Sequence[int],
        limit: int,
        before_id: int | None = None,
        include_replies: bool = True,
    ) -> list[TweetRecord]:
        if not author_ids or limit <= 0:
            return []
        sql = f"SELECT {_COLUMNS} FROM tweets WHERE author_id IN (SELECT value FROM json_each(?))"
        params: list[object] = [json_list(set(author_ids))]
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        if not include_replies:
            sql += " AND in_reply_to_id IS NULL"
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)

        def work(conn: sqlite3.Connection) -> list[TweetRecord]:
            return [_tweet(row) for row in conn.execute(sql, params)]

        return await self.db.read(work)

    async def replies(
        self, tweet_id: int, limit: int, before_id: int | None = None
    ) -> list[TweetRecord]:
        # walks the partial index tweets_replies (in_reply_to_id, id) backwards
        return await self._newest(
            f"SELECT {_COLUMNS} FROM tweets WHERE in_reply_to_id = ?",
            "id",
            tweet_id,
            limit,
            before_id,
        )

    async def quotes(
        self, tweet_id: int, limit: int, before_id: int | None = None
    ) -> list[TweetRecord]:
        # walks the partial index tweets_quotes (quote_of_id, id) backwards
        return await self._newest(
            f"SELECT {_COLUMNS} FROM tweets WHERE quote_of_id = ?", "id", tweet_id, limit, before_id
        )

    async def mentioning(
        self, user_id: int, limit: int, before_id: int | None = None
    ) -> list[TweetRecord]:
        # walks tweet_mentions' primary key (user_id, tweet_id), each tweet by its id
        return await self._newest(
            f"SELECT {_T_COLUMNS} FROM tweet_mentions m JOIN tweets t ON t.id = m.tweet_id"
            " WHERE m.user_id = ?",
            "m.tweet_id",
            user_id,
            limit,
            before_id,
        )

    async def _newest(
        self, select: str, id_column: str, key: int, limit: int, before_id: int | None
    ) -> list[TweetRecord]:
        """The rows of ``select`` (filtered by one ``key``) with id < before_id, newest first."""
        if limit <= 0:
            return []
        sql, params = select, [key]
        if before_id is not None:
            sql += f" AND {id_column} < ?"
            params.append(before_id)
        sql += f" ORDER BY {id_column} DESC LIMIT ?"
        params.append(limit)

        def work(conn: sqlite3.Connection) -> list[TweetRecord]:
            return [_tweet(row) for row in conn.execute(sql, params)]

        return await self.db.read(work)

    async def count_by_authors(self, author_ids: Sequence[int]) -> dict[int, int]:
        if not author_ids:
            return {}
        sql = (
            "SELECT author_id, count(*) FROM tweets"
            " WHERE author_id IN (SELECT value FROM json_each(?)) GROUP BY author_id"
        )

        def work(conn: sqlite3.Connection) -> dict[int, int]:
            counts = dict.fromkeys(author_ids, 0)
            counts.update(dict(conn.execute(sql, (json_list(set(author_ids)),)).fetchall()))
            return counts

        return await self.db.read(work)

    async def like(self, user_id: int, tweet_id: int, like_id: int) -> bool | None:
        def work(conn: sqlite3.Connection) -> bool | None:
            if conn.execute("SELECT 1 FROM tweets WHERE id = ?", (tweet_id,)).fetchone() is None:
                return None
            inserted = conn.execute(
                "INSERT OR IGNORE INTO likes (user_id, tweet_id, like_id) VALUES (?, ?, ?)",
                (user_id, tweet_id, like_id),
            ).rowcount
            if inserted:
                conn.execute(
                    "UPDATE tweets SET like_count = like_count + 1 WHERE id = ?", (tweet_id,)
                )
            return bool(inserted)

        return await self.db.write(work)

    async def unlike(self, user_id: int, tweet_id: int) -> bool | None:
        def work(conn: sqlite3.Connection) -> bool | None:
            if conn.execute("SELECT 1 FROM tweets WHERE id = ?", (tweet_id,)).fetchone() is None:
                return None
            removed = conn.execute(
                "DELETE FROM likes WHERE user_id = ? AND tweet_id = ?", (user_id, tweet_id)
            ).rowcount
            if removed:
                conn.execute(
                    "UPDATE tweets SET like_count = max(like_count - 1, 0) WHERE id = ?",
                    (tweet_id,),
                )
            return bool(removed)

        return await self.db.write(work)

    async def liked_tweet_ids(self, user_id: int, tweet_ids: Sequence[int]) -> set[int]:
        if not tweet_ids:
            return set()
        sql = (
            "SELECT tweet_id FROM likes WHERE user_id = ?"
            " AND tweet_id IN (SELECT value FROM json_each(?))"
        )

        def work(conn: sqlite3.Connection) -> set[int]:
            return {row[0] for row in conn.execute(sql, (user_id, json_list(tweet_ids)))}

        return await self.db.read(work)

    async def likes_by_user(
        self, user_id: int, limit: int, before_like_id: int | None = None
    ) -> list[LikeEdge]:
        def work(conn: sqlite3.Connection) -> list[LikeEdge]:
            sql = "SELECT like_id, tweet_id FROM likes WHERE user_id = ?"
            params: list[int] = [user_id]
            if before_like_id is not None:
                sql += " AND like_id < ?"
                params.append(before_like_id)
            sql += " ORDER BY like_id DESC LIMIT ?"
            params.append(limit)
            return [LikeEdge(row[0], row[1]) for row in conn.execute(sql, params)]

        return await self.db.read(work)

    async def retweet(self, retweet: TweetRecord) -> tuple[TweetRecord | None, bool]:
        original_id = retweet.retweet_of_id
        if original_id is None:
            raise ValueError("a retweet needs retweet_of_id")

        def work(conn: sqlite3.Connection) -> tuple[TweetRecord | None, bool]:
            if _select_tweet(conn, original_id) is None:
                return None, False
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM tweets WHERE author_id = ? AND retweet_of_id = ?",
                (retweet.author_id, original_id),
            ).fetchone()
            if row is not None:
                return _tweet(row), False
            _insert(conn, retweet)
            conn.execute(
                "UPDATE tweets SET retweet_count = retweet_count + 1 WHERE id = ?", (original_id,)
            )
            return retweet, True

        return await self.db.write(work)

    async def undo_retweet(self, user_id: int, original_id: int) -> TweetRecord | None:
        def work(conn: sqlite3.Connection) -> TweetRecord | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM tweets WHERE author_id = ? AND retweet_of_id = ?",
                (user_id, original_id),
            ).fetchone()
            if row is None:
                return None
            retweet = _tweet(row)
            _delete(conn, retweet)
            return retweet

        return await self.db.write(work)

    async def retweeted_ids(self, user_id: int, tweet_ids: Sequence[int]) -> set[int]:
        if not tweet_ids:
            return set()
        sql = (
            "SELECT retweet_of_id FROM tweets WHERE author_id = ?"
            " AND retweet_of_id IN (SELECT value FROM json_each(?))"
        )

        def work(conn: sqlite3.Connection) -> set[int]:
            return {row[0] for row in conn.execute(sql, (user_id, json_list(tweet_ids)))}

        return await self.db.read(work)

    async def hashtag_uses(
        self, after_id: int, limit: int
    ) -> list[tuple[int, int, tuple[str, ...]]]:
        sql = (
            "SELECT id, author_id, hashtags FROM tweets WHERE id > ? AND hashtags != ''"
            " AND retweet_of_id IS NULL ORDER BY id LIMIT ?"
        )

        def work(conn: sqlite3.Connection) -> list[tuple[int, int, tuple[str, ...]]]:
            rows = conn.execute(sql, (after_id, limit))
            return [(row[0], row[1], tuple(row[2].split(" "))) for row in rows]

        return await self.db.read(work)

    async def pending_fanout(self, before_id: int, limit: int) -> list[TweetRecord]:
        sql = (
            f"SELECT {_COLUMNS} FROM tweets WHERE fanout_pending = 1 AND id < ? ORDER BY id LIMIT ?"
        )

        def work(conn: sqlite3.Connection) -> list[TweetRecord]:
            return [_tweet(row) for row in conn.execute(sql, (before_id, limit))]

        return await self.db.read(work)

    async def mark_fanned_out(self, tweet_ids: Sequence[int]) -> None:
        if not tweet_ids:
            return
        sql = (
            "UPDATE tweets SET fanout_pending = 0"
            " WHERE fanout_pending = 1 AND id IN (SELECT value FROM json_each(?))"
        )
        ids = json_list(tweet_ids)
        await self.db.write(lambda conn: conn.execute(sql, (ids,)))
