"""Embedded bookmarks: a table in a SQLite file of its own.

``bookmarks`` holds one row per (user, tweet), its primary key, so a bookmark exists
once whatever the concurrency; a user's page is a range read of
``bookmarks_newest`` (user, bookmark id); a deleted tweet's bookmarks are found by
``bookmarks_of_tweet``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from core.models import BookmarkEdge
from core.sqlite import SqliteAdapter, SqliteDatabase, json_list

SCHEMA = """
CREATE TABLE IF NOT EXISTS bookmarks (
    user_id     INTEGER NOT NULL,
    tweet_id    INTEGER NOT NULL,
    bookmark_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, tweet_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS bookmarks_newest ON bookmarks (user_id, bookmark_id);
CREATE INDEX IF NOT EXISTS bookmarks_of_tweet ON bookmarks (tweet_id);
"""


class SqliteBookmarkStore(SqliteAdapter):
    def __init__(self, path: Path) -> None:
        self.db = SqliteDatabase(path, SCHEMA)

    async def bookmark(self, user_id: int, tweet_id: int, bookmark_id: int) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            done = conn.execute(
                "INSERT INTO bookmarks (user_id, tweet_id, bookmark_id) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id, tweet_id) DO NOTHING",
                (user_id, tweet_id, bookmark_id),
            )
            return done.rowcount == 1

        return await self.db.write(work)

    async def unbookmark(self, user_id: int, tweet_id: int) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            done = conn.execute(
                "DELETE FROM bookmarks WHERE user_id = ? AND tweet_id = ?", (user_id, tweet_id)
            )
            return done.rowcount == 1

        return await self.db.write(work)

    async def bookmarks_of(
        self, user_id: int, limit: int, before_bookmark_id: int | None = None
    ) -> list[BookmarkEdge]:
        if limit <= 0:
            return []
        sql = "SELECT bookmark_id, tweet_id FROM bookmarks WHERE user_id = ?"
        params: list[object] = [user_id]
        if before_bookmark_id is not None:
            sql += " AND bookmark_id < ?"
            params.append(before_bookmark_id)
        sql += " ORDER BY bookmark_id DESC LIMIT ?"
        params.append(limit)
        return await self.db.read(
            lambda conn: [BookmarkEdge(*row) for row in conn.execute(sql, params)]
        )

    async def bookmarked_tweet_ids(self, user_id: int, tweet_ids: Sequence[int]) -> set[int]:
        if not tweet_ids:
            return set()
        sql = (
            "SELECT tweet_id FROM bookmarks"
            " WHERE user_id = ? AND tweet_id IN (SELECT value FROM json_each(?))"
        )
        wanted = json_list(set(tweet_ids))
        return await self.db.read(
            lambda conn: {row[0] for row in conn.execute(sql, (user_id, wanted))}
        )

    async def remove_tweet_everywhere(self, tweet_id: int) -> int:
        return await self.db.write(
            lambda conn: (
                conn.execute("DELETE FROM bookmarks WHERE tweet_id = ?", (tweet_id,)).rowcount
            )
        )
