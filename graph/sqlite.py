"""The embedded social graph: a SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.models import Credentials, FollowEdge, NewUser, UserRecord
from core.sqlite import SqliteAdapter, SqliteDatabase, json_list
from graph.port import HandleTakenError

SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    handle        TEXT NOT NULL,
    handle_lower  TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    bio           TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS follows (
    follower_id INTEGER NOT NULL REFERENCES users(id),
    followee_id INTEGER NOT NULL REFERENCES users(id),
    since       INTEGER NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS follows_by_followee ON follows (followee_id, since, follower_id);
CREATE INDEX IF NOT EXISTS follows_by_follower ON follows (follower_id, since, followee_id);
"""

_USER_COLUMNS = "id, handle, display_name, bio, created_at"

# The partial index lists the (few) celebrities; each one's edge from the reader is one
# primary-key lookup, so the reader's followee list is never read.
FOLLOWED_CELEBRITIES_SQL = (
    "SELECT u.id FROM users AS u WHERE u.celebrity = 1 AND EXISTS"
    " (SELECT 1 FROM follows AS f WHERE f.follower_id = ? AND f.followee_id = u.id)"
)


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a data folder made by an earlier version up to this schema (idempotent)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(users)")}
    if "celebrity" not in columns:
        conn.execute("ALTER TABLE users ADD COLUMN celebrity INTEGER NOT NULL DEFAULT 0")
    # The few celebrities, for followed_celebrities; set_celebrity writes 1 or 0.
    conn.execute("CREATE INDEX IF NOT EXISTS users_celebrities ON users (id) WHERE celebrity = 1")


def _user(row: tuple[Any, ...]) -> UserRecord:
    return UserRecord(
        id=row[0], handle=row[1], display_name=row[2], bio=row[3], created_at_ms=row[4]
    )


class SqliteSocialGraph(SqliteAdapter):
    def __init__(self, path: Path) -> None:
        self.db = SqliteDatabase(path, SCHEMA, migrate=_migrate)

    async def create_user(self, user: NewUser) -> UserRecord:
        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO users (id, handle, handle_lower, display_name, bio, created_at,"
                " password_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    user.id,
                    user.handle,
                    user.handle.lower(),
                    user.display_name,
                    user.bio,
                    user.created_at_ms,
                    user.password_hash,
                ),
            )

        try:
            await self.db.write(work)
        except sqlite3.IntegrityError as exc:
            if "handle_lower" in str(exc):
                raise HandleTakenError(user.handle) from exc
            raise
        return UserRecord(user.id, user.handle, user.display_name, user.bio, user.created_at_ms)

    async def get_users(self, ids: Sequence[int]) -> dict[int, UserRecord]:
        if not ids:
            return {}
        sql = f"SELECT {_USER_COLUMNS} FROM users WHERE id IN (SELECT value FROM json_each(?))"

        def work(conn: sqlite3.Connection) -> dict[int, UserRecord]:
            return {row[0]: _user(row) for row in conn.execute(sql, (json_list(ids),))}

        return await self.db.read(work)

    async def get_users_by_handles(self, handles_lower: Sequence[str]) -> dict[str, UserRecord]:
        if not handles_lower:
            return {}
        sql = (
            f"SELECT {_USER_COLUMNS} FROM users"
            " WHERE handle_lower IN (SELECT value FROM json_each(?))"
        )
        wanted = json_list(h.lower() for h in handles_lower)

        def work(conn: sqlite3.Connection) -> dict[str, UserRecord]:
            users = (_user(row) for row in conn.execute(sql, (wanted,)))
            return {user.handle_lower: user for user in users}

        return await self.db.read(work)

    async def get_credentials(self, handle_lower: str) -> Credentials | None:
        def work(conn: sqlite3.Connection) -> Credentials | None:
            row = conn.execute(
                "SELECT id, password_hash FROM users WHERE handle_lower = ?", (handle_lower,)
            ).fetchone()
            return Credentials(row[0], row[1]) if row else None

        return await self.db.read(work)

    async def update_profile(
        self, user_id: int, display_name: str | None, bio: str | None
    ) -> UserRecord | None:
        def work(conn: sqlite3.Connection) -> UserRecord | None:
            conn.execute(
                "UPDATE users SET display_name = COALESCE(?, display_name),"
                " bio = COALESCE(?, bio) WHERE id = ?",
                (display_name, bio, user_id),
            )
            row = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,)
            ).fetchone()
            return _user(row) if row else None

        return await self.db.write(work)

    async def follow(self, follower_id: int, followee_id: int, since_ms: int) -> bool | None:
        def work(conn: sqlite3.Connection) -> bool | None:
            (present,) = conn.execute(
                "SELECT count(*) FROM users WHERE id IN (?, ?)", (follower_id, followee_id)
            ).fetchone()
            if present != len({follower_id, followee_id}):
                return None
            cursor = conn.execute(
                "INSERT OR IGNORE INTO follows (follower_id, followee_id, since) VALUES (?, ?, ?)",
                (follower_id, followee_id, since_ms),
            )
            return cursor.rowcount == 1

        return await self.db.write(work)

    async def unfollow(self, follower_id: int, followee_id: int) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            cursor = conn.execute(
                "DELETE FROM follows WHERE follower_id = ? AND followee_id = ?",
                (follower_id, followee_id),
            )
            return cursor.rowcount == 1

        return await self.db.write(work)

    async def _edges(
        self, own: str, other: str, user_id: int, limit: int, after: tuple[int, int] | None
    ) -> list[FollowEdge]:
        def work(conn: sqlite3.Connection) -> list[FollowEdge]:
            sql = f"SELECT {other}, since FROM follows WHERE {own} = ?"
            params: list[int] = [user_id]
            if after is not None:
                sql += f" AND (since < ? OR (since = ? AND {other} < ?))"
                params += [after[0], after[0], after[1]]
            sql += f" ORDER BY since DESC, {other} DESC LIMIT ?"
            params.append(limit)
            return [FollowEdge(row[0], row[1]) for row in conn.execute(sql, params)]

        return await self.db.read(work)

    async def followers(
        self, user_id: int, limit: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        return await self._edges("followee_id", "follower_id", user_id, limit, after)

    async def following(
        self, user_id: int, limit: int, after: tuple[int, int] | None = None
    ) -> list[FollowEdge]:
        return await self._edges("follower_id", "followee_id", user_id, limit, after)

    async def following_ids(self, user_id: int) -> list[int]:
        def work(conn: sqlite3.Connection) -> list[int]:
            rows = conn.execute("SELECT followee_id FROM follows WHERE follower_id = ?", (user_id,))
            return [row[0] for row in rows]

        return await self.db.read(work)

    async def followed_celebrities(self, user_id: int) -> list[int]:
        def work(conn: sqlite3.Connection) -> list[int]:
            return [row[0] for row in conn.execute(FOLLOWED_CELEBRITIES_SQL, (user_id,))]

        return await self.db.read(work)

    async def set_celebrity(self, user_id: int, celebrity: bool) -> bool:
        # Every fan-out job sets the flag; it changes rarely. A read answers the
        # common case without a write transaction (and its fsync).
        current = await self.db.read(
            lambda conn: conn.execute(
                "SELECT celebrity FROM users WHERE id = ?", (user_id,)
            ).fetchone()
        )
        if current is not None and bool(current[0]) == celebrity:
            return celebrity

        def work(conn: sqlite3.Connection) -> bool:
            row = conn.execute("SELECT celebrity FROM users WHERE id = ?", (user_id,)).fetchone()
            conn.execute("UPDATE users SET celebrity = ? WHERE id = ?", (int(celebrity), user_id))
            return bool(row and row[0])

        return await self.db.write(work)

    async def _counts(self, column: str, ids: Sequence[int]) -> dict[int, int]:
        if not ids:
            return {}
        sql = (
            f"SELECT {column}, count(*) FROM follows"
            f" WHERE {column} IN (SELECT value FROM json_each(?)) GROUP BY {column}"
        )

        def work(conn: sqlite3.Connection) -> dict[int, int]:
            counts = dict.fromkeys(ids, 0)
            counts.update(dict(conn.execute(sql, (json_list(set(ids)),)).fetchall()))
            return counts

        return await self.db.read(work)

    async def count_followers(self, ids: Sequence[int]) -> dict[int, int]:
        return await self._counts("followee_id", ids)

    async def count_following(self, ids: Sequence[int]) -> dict[int, int]:
        return await self._counts("follower_id", ids)

    async def existing_follows(self, pairs: Sequence[tuple[int, int]]) -> set[tuple[int, int]]:
        if not pairs:
            return set()
        sql = (
            "SELECT follower_id, followee_id FROM follows WHERE (follower_id, followee_id) IN"
            " (SELECT value ->> 0, value ->> 1 FROM json_each(?))"
        )

        def work(conn: sqlite3.Connection) -> set[tuple[int, int]]:
            rows = conn.execute(sql, (json_list(list(p) for p in set(pairs)),))
            return {(row[0], row[1]) for row in rows}

        return await self.db.read(work)
