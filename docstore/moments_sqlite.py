"""Embedded moments: two tables in a SQLite file of their own.

``moments`` holds each moment with its exact ``tweet_count`` and ``last_position``,
the position its newest entry was given (never lowered, so a position is never given
twice); ``moment_tweets`` holds the entries, keyed by (moment, position) for the
page, unique per (moment, tweet), and indexed by tweet for a deleted tweet's way out.
Entries go with their moment (a foreign key, ON DELETE CASCADE). Every write is one
immediate transaction, so a count moves with its entries.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from core.models import MomentEntry, MomentRecord
from core.sqlite import SqliteAdapter, SqliteDatabase, json_list

SCHEMA = """
CREATE TABLE IF NOT EXISTS moments (
    id            INTEGER PRIMARY KEY,
    owner_id      INTEGER NOT NULL,
    title         TEXT NOT NULL,
    description   TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    tweet_count   INTEGER NOT NULL DEFAULT 0 CHECK (tweet_count >= 0),
    last_position INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS moments_of_owner ON moments (owner_id, id);
CREATE TABLE IF NOT EXISTS moment_tweets (
    moment_id INTEGER NOT NULL REFERENCES moments (id) ON DELETE CASCADE,
    position  INTEGER NOT NULL,
    tweet_id  INTEGER NOT NULL,
    PRIMARY KEY (moment_id, position),
    UNIQUE (moment_id, tweet_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS moment_tweets_of_tweet ON moment_tweets (tweet_id);
"""
_COLUMNS = "id, owner_id, title, description, created_at, tweet_count"


def _moment(row: tuple[Any, ...]) -> MomentRecord:
    return MomentRecord(*row)


def _get(conn: sqlite3.Connection, moment_id: int) -> MomentRecord | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM moments WHERE id = ?", (moment_id,)).fetchone()
    return _moment(row) if row else None


def _append(conn: sqlite3.Connection, moment_id: int, tweet_id: int) -> None:
    """Put the tweet last in the (existing) moment unless it is in it; counted."""
    placed = conn.execute(
        "INSERT INTO moment_tweets (moment_id, position, tweet_id)"
        " SELECT id, last_position + 1, ? FROM moments WHERE id = ?"
        " ON CONFLICT (moment_id, tweet_id) DO NOTHING",
        (tweet_id, moment_id),
    )
    if placed.rowcount == 1:
        conn.execute(
            "UPDATE moments SET tweet_count = tweet_count + 1, last_position = last_position + 1"
            " WHERE id = ?",
            (moment_id,),
        )


class SqliteMomentStore(SqliteAdapter):
    def __init__(self, path: Path) -> None:
        self.db = SqliteDatabase(path, SCHEMA)

    async def create_moment(
        self, moment: MomentRecord, tweet_ids: Sequence[int] = ()
    ) -> MomentRecord:
        m = moment
        unique = list(dict.fromkeys(tweet_ids))  # each once, at its first place

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO moments (id, owner_id, title, description, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (m.id, m.owner_id, m.title, m.description, m.created_at_ms),
            )
            for tweet_id in unique:
                _append(conn, m.id, tweet_id)

        await self.db.write(work)
        return replace(m, tweet_count=len(unique))

    async def get_moments(self, ids: Sequence[int]) -> dict[int, MomentRecord]:
        if not ids:
            return {}
        sql = f"SELECT {_COLUMNS} FROM moments WHERE id IN (SELECT value FROM json_each(?))"
        wanted = json_list(set(ids))
        return await self.db.read(
            lambda conn: {row[0]: _moment(row) for row in conn.execute(sql, (wanted,))}
        )

    async def moments_of(
        self, owner_id: int, limit: int, before_id: int | None = None
    ) -> list[MomentRecord]:
        if limit <= 0:
            return []
        sql = f"SELECT {_COLUMNS} FROM moments WHERE owner_id = ?"
        params: list[object] = [owner_id]
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return await self.db.read(lambda conn: [_moment(row) for row in conn.execute(sql, params)])

    async def add_tweet(self, moment_id: int, tweet_id: int) -> MomentRecord | None:
        def work(conn: sqlite3.Connection) -> MomentRecord | None:
            _append(conn, moment_id, tweet_id)  # nothing when there is no such moment
            return _get(conn, moment_id)

        return await self.db.write(work)

    async def remove_tweet(self, moment_id: int, tweet_id: int) -> MomentRecord | None:
        def work(conn: sqlite3.Connection) -> MomentRecord | None:
            removed = conn.execute(
                "DELETE FROM moment_tweets WHERE moment_id = ? AND tweet_id = ?",
                (moment_id, tweet_id),
            )
            if removed.rowcount == 1:
                conn.execute(
                    "UPDATE moments SET tweet_count = tweet_count - 1 WHERE id = ?", (moment_id,)
                )
            return _get(conn, moment_id)

        return await self.db.write(work)

    async def delete_moment(self, moment_id: int) -> MomentRecord | None:
        def work(conn: sqlite3.Connection) -> MomentRecord | None:
            row = conn.execute(
                f"DELETE FROM moments WHERE id = ? RETURNING {_COLUMNS}", (moment_id,)
            ).fetchone()
            return _moment(row) if row else None  # its entries went with it (cascade)

        return await self.db.write(work)

    async def moment_tweets(
        self, moment_id: int, limit: int, after_position: int | None = None
    ) -> list[MomentEntry]:
        if limit <= 0:
            return []
        sql = (
            "SELECT position, tweet_id FROM moment_tweets WHERE moment_id = ? AND position > ?"
            " ORDER BY position LIMIT ?"
        )
        params = (moment_id, after_position or 0, limit)
        return await self.db.read(
            lambda conn: [MomentEntry(*row) for row in conn.execute(sql, params)]
        )

    async def remove_tweet_everywhere(self, tweet_id: int) -> int:
        def work(conn: sqlite3.Connection) -> int:
            left = [
                row[0]
                for row in conn.execute(
                    "DELETE FROM moment_tweets WHERE tweet_id = ? RETURNING moment_id", (tweet_id,)
                )
            ]
            conn.execute(
                "UPDATE moments SET tweet_count = tweet_count - 1"
                " WHERE id IN (SELECT value FROM json_each(?))",
                (json_list(left),),
            )
            return len(left)

        return await self.db.write(work)
