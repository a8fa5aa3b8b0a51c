"""Embedded apps: a table in a SQLite file of its own."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from core.models import AppRecord
from core.sqlite import SqliteAdapter, SqliteDatabase, json_list

SCHEMA = """
CREATE TABLE IF NOT EXISTS apps (
    id             INTEGER PRIMARY KEY,
    owner_id       INTEGER NOT NULL,
    name           TEXT NOT NULL,
    key_hash       TEXT NOT NULL UNIQUE,
    created_at     INTEGER NOT NULL,
    quota_per_hour INTEGER NOT NULL,
    revoked_at     INTEGER
);
CREATE INDEX IF NOT EXISTS apps_of_owner ON apps (owner_id, id) WHERE revoked_at IS NULL;
"""
_COLUMNS = "id, owner_id, name, key_hash, created_at, quota_per_hour, revoked_at"


def _app(row: tuple[Any, ...]) -> AppRecord:
    return AppRecord(*row)


class SqliteAppStore(SqliteAdapter):
    def __init__(self, path: Path) -> None:
        self.db = SqliteDatabase(path, SCHEMA)

    async def create_app(self, app: AppRecord) -> None:
        values = (
            app.id,
            app.owner_id,
            app.name,
            app.key_hash,
            app.created_at_ms,
            app.quota_per_hour,
            app.revoked_at_ms,
        )
        await self.db.write(
            lambda conn: conn.execute(
                f"INSERT INTO apps ({_COLUMNS}) VALUES (?,?,?,?,?,?,?)", values
            )
        )

    async def app_by_key_hash(self, key_hash: str) -> AppRecord | None:
        sql = f"SELECT {_COLUMNS} FROM apps WHERE key_hash = ?"
        row = await self.db.read(lambda conn: conn.execute(sql, (key_hash,)).fetchone())
        return _app(row) if row else None

    async def get_apps(self, ids: list[int]) -> dict[int, AppRecord]:
        if not ids:
            return {}
        sql = f"SELECT {_COLUMNS} FROM apps WHERE id IN (SELECT value FROM json_each(?))"
        wanted = json_list(ids)
        return await self.db.read(
            lambda conn: {row[0]: _app(row) for row in conn.execute(sql, (wanted,))}
        )

    async def apps_of(self, owner_id: int) -> list[AppRecord]:
        sql = (
            f"SELECT {_COLUMNS} FROM apps WHERE owner_id = ? AND revoked_at IS NULL"
            " ORDER BY id DESC"
        )
        return await self.db.read(lambda conn: [_app(r) for r in conn.execute(sql, (owner_id,))])

    async def revoke_app(self, app_id: int, owner_id: int, at_ms: int) -> bool:
        def work(conn: sqlite3.Connection) -> bool:
            done = conn.execute(
                "UPDATE apps SET revoked_at = ? WHERE id = ? AND owner_id = ? AND revoked_at IS NULL",
                (at_ms, app_id, owner_id),
            )
            return done.rowcount == 1

        return await self.db.write(work)
