"""Embedded attachments: media records and short links in a SQLite file."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from core.models import MediaRecord
from core.sqlite import SqliteAdapter, SqliteDatabase, json_list

SCHEMA = """
CREATE TABLE IF NOT EXISTS media (
    id           INTEGER PRIMARY KEY,
    owner_id     INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    status       TEXT NOT NULL,
    key          TEXT,
    width        INTEGER,
    height       INTEGER,
    attached     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS media_unattached ON media (created_at) WHERE attached = 0;
CREATE TABLE IF NOT EXISTS links (
    code TEXT PRIMARY KEY,
    url  TEXT NOT NULL
) WITHOUT ROWID;
"""
_COLUMNS = (
    "id, owner_id, kind, content_type, size_bytes, created_at, status, key, width, height, attached"
)


def _media(row: tuple[Any, ...]) -> MediaRecord:
    return MediaRecord(
        id=row[0],
        owner_id=row[1],
        kind=row[2],
        content_type=row[3],
        size_bytes=row[4],
        created_at_ms=row[5],
        status=row[6],
        key=row[7],
        width=row[8],
        height=row[9],
        attached=bool(row[10]),
    )


class SqliteAttachmentStore(SqliteAdapter):
    def __init__(self, path: Path) -> None:
        self.db = SqliteDatabase(path, SCHEMA)

    async def create_media(self, media: MediaRecord) -> None:
        values = (
            media.id,
            media.owner_id,
            media.kind,
            media.content_type,
            media.size_bytes,
            media.created_at_ms,
            media.status,
            media.key,
            media.width,
            media.height,
            int(media.attached),
        )
        sql = f"INSERT INTO media ({_COLUMNS}) VALUES ({','.join('?' * len(values))})"
        await self.db.write(lambda conn: conn.execute(sql, values))

    async def get_media(self, ids: Sequence[int]) -> dict[int, MediaRecord]:
        if not ids:
            return {}
        sql = f"SELECT {_COLUMNS} FROM media WHERE id IN (SELECT value FROM json_each(?))"
        wanted = json_list(ids)
        return await self.db.read(
            lambda conn: {row[0]: _media(row) for row in conn.execute(sql, (wanted,))}
        )

    async def complete_media(
        self, media_id: int, key: str, width: int | None, height: int | None
    ) -> MediaRecord | None:
        def work(conn: sqlite3.Connection) -> MediaRecord | None:
            conn.execute(
                "UPDATE media SET status = 'READY', key = ?, width = ?, height = ?"
                " WHERE id = ? AND status = 'PENDING'",
                (key, width, height, media_id),
            )
            row = conn.execute(f"SELECT {_COLUMNS} FROM media WHERE id = ?", (media_id,)).fetchone()
            return _media(row) if row else None

        return await self.db.write(work)

    async def attach_media(self, ids: Sequence[int]) -> None:
        if ids:
            sql = "UPDATE media SET attached = 1 WHERE id IN (SELECT value FROM json_each(?))"
            wanted = json_list(ids)
            await self.db.write(lambda conn: conn.execute(sql, (wanted,)))

    async def stale_media(self, created_before_ms: int, limit: int) -> list[MediaRecord]:
        if limit <= 0:  # SQLite reads a negative LIMIT as "no limit"
            return []
        sql = (
            f"SELECT {_COLUMNS} FROM media WHERE attached = 0 AND created_at < ?"
            " ORDER BY created_at LIMIT ?"
        )
        return await self.db.read(
            lambda conn: [_media(r) for r in conn.execute(sql, (created_before_ms, limit))]
        )

    async def delete_media(self, ids: Sequence[int]) -> None:
        if ids:
            sql = "DELETE FROM media WHERE id IN (SELECT value FROM json_each(?))"
            wanted = json_list(ids)
            await self.db.write(lambda conn: conn.execute(sql, (wanted,)))

    async def put_links(self, links: Sequence[tuple[str, str]]) -> None:
        if links:
            rows = list(links)
            await self.db.write(
                lambda conn: conn.executemany(
                    "INSERT OR IGNORE INTO links (code, url) VALUES (?, ?)", rows
                )
            )

    async def get_links(self, codes: Sequence[str]) -> dict[str, str]:
        if not codes:
            return {}
        sql = "SELECT code, url FROM links WHERE code IN (SELECT value FROM json_each(?))"
        wanted = json_list(codes)
        return await self.db.read(lambda conn: dict(conn.execute(sql, (wanted,)).fetchall()))
