"""Embedded lists: two tables in a SQLite file of their own.

``lists`` holds each list with its exact ``member_count``; ``list_members`` holds one
row per (list, account), its primary key, with the membership's id, indexed by
(list, added id) for the page. Memberships go with their list (a foreign key, ON
DELETE CASCADE).

The cap is exact: every write is one immediate transaction on the file's one writer,
so two adds never interleave, and a new membership is counted by
``UPDATE ... WHERE member_count < cap``: when that changes no row the list is full
(or gone) and the transaction rolls back, the membership with it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.models import MAX_LIST_MEMBERS, ListMember, ListRecord
from core.sqlite import SqliteAdapter, SqliteDatabase, json_list
from docstore.lists import ListFullError

SCHEMA = """
CREATE TABLE IF NOT EXISTS lists (
    id           INTEGER PRIMARY KEY,
    owner_id     INTEGER NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    private      INTEGER NOT NULL CHECK (private IN (0, 1)),
    created_at   INTEGER NOT NULL,
    member_count INTEGER NOT NULL DEFAULT 0 CHECK (member_count >= 0)
);
CREATE INDEX IF NOT EXISTS lists_of_owner ON lists (owner_id, id);
CREATE TABLE IF NOT EXISTS list_members (
    list_id  INTEGER NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    user_id  INTEGER NOT NULL,
    added_id INTEGER NOT NULL,
    PRIMARY KEY (list_id, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS list_members_newest ON list_members (list_id, added_id);
"""
_COLUMNS = "id, owner_id, name, description, private, created_at, member_count"


class _Refused(Exception):
    """Rolls back an add that its list's count did not take: the list is full or gone."""


def _list(row: tuple[Any, ...]) -> ListRecord:
    id_, owner_id, name, description, private, created_at, member_count = row
    return ListRecord(id_, owner_id, name, description, bool(private), created_at, member_count)


def _get(conn: sqlite3.Connection, list_id: int) -> ListRecord | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM lists WHERE id = ?", (list_id,)).fetchone()
    return _list(row) if row else None


class SqliteListStore(SqliteAdapter):
    def __init__(self, path: Path, max_members: int = MAX_LIST_MEMBERS) -> None:
        self.db = SqliteDatabase(path, SCHEMA)
        self.max_members = max_members

    async def create_list(self, record: ListRecord) -> ListRecord:
        r = record
        values = (r.id, r.owner_id, r.name, r.description, int(r.private), r.created_at_ms)

        def work(conn: sqlite3.Connection) -> ListRecord:
            row = conn.execute(
                "INSERT INTO lists (id, owner_id, name, description, private, created_at)"
                f" VALUES (?, ?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                values,
            ).fetchone()
            return _list(row)

        return await self.db.write(work)

    async def get_lists(self, ids: Sequence[int]) -> dict[int, ListRecord]:
        if not ids:
            return {}
        sql = f"SELECT {_COLUMNS} FROM lists WHERE id IN (SELECT value FROM json_each(?))"
        wanted = json_list(set(ids))
        return await self.db.read(
            lambda conn: {row[0]: _list(row) for row in conn.execute(sql, (wanted,))}
        )

    async def lists_of(
        self,
        owner_id: int,
        limit: int,
        before_id: int | None = None,
        include_private: bool = True,
    ) -> list[ListRecord]:
        if limit <= 0:
            return []
        sql = f"SELECT {_COLUMNS} FROM lists WHERE owner_id = ?"
        params: list[object] = [owner_id]
        if not include_private:
            sql += " AND private = 0"
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return await self.db.read(lambda conn: [_list(row) for row in conn.execute(sql, params)])

    async def add_member(self, list_id: int, user_id: int, added_id: int) -> ListRecord | None:
        cap = self.max_members

        def work(conn: sqlite3.Connection) -> ListRecord | None:
            added = conn.execute(
                "INSERT INTO list_members (list_id, user_id, added_id)"
                " SELECT id, ?, ? FROM lists WHERE id = ?"
                " ON CONFLICT (list_id, user_id) DO NOTHING",
                (user_id, added_id, list_id),
            )
            if added.rowcount == 1:
                counted = conn.execute(
                    "UPDATE lists SET member_count = member_count + 1"
                    " WHERE id = ? AND member_count < ?",
                    (list_id, cap),
                )
                if counted.rowcount == 0:
                    raise _Refused  # full: write() rolls the membership back
            return _get(conn, list_id)

        try:
            return await self.db.write(work)
        except _Refused:
            raise ListFullError(list_id, cap) from None

    async def remove_member(self, list_id: int, user_id: int) -> ListRecord | None:
        def work(conn: sqlite3.Connection) -> ListRecord | None:
            removed = conn.execute(
                "DELETE FROM list_members WHERE list_id = ? AND user_id = ?", (list_id, user_id)
            )
            if removed.rowcount == 1:
                conn.execute(
                    "UPDATE lists SET member_count = member_count - 1 WHERE id = ?", (list_id,)
                )
            return _get(conn, list_id)

        return await self.db.write(work)

    async def delete_list(self, list_id: int) -> ListRecord | None:
        def work(conn: sqlite3.Connection) -> ListRecord | None:
            row = conn.execute(
                f"DELETE FROM lists WHERE id = ? RETURNING {_COLUMNS}", (list_id,)
            ).fetchone()
            return _list(row) if row else None  # its memberships went with it (cascade)

        return await self.db.write(work)

    async def members(
        self, list_id: int, limit: int, before_added_id: int | None = None
    ) -> list[ListMember]:
        if limit <= 0:
            return []
        sql = "SELECT user_id, added_id FROM list_members WHERE list_id = ?"
        params: list[object] = [list_id]
        if before_added_id is not None:
            sql += " AND added_id < ?"
            params.append(before_added_id)
        sql += " ORDER BY added_id DESC LIMIT ?"
        params.append(limit)
        return await self.db.read(
            lambda conn: [ListMember(*row) for row in conn.execute(sql, params)]
        )

    async def member_ids(self, list_id: int) -> list[int]:
        sql = "SELECT user_id FROM list_members WHERE list_id = ? ORDER BY added_id DESC"
        return await self.db.read(lambda conn: [row[0] for row in conn.execute(sql, (list_id,))])
