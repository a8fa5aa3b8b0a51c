"""Embedded notifications: three tables in a SQLite file of their own.

``notifications`` holds one row per event for its one recipient, with the key of
the group it joined; ``notification_groups`` holds each group's exact count, its
newest notification (which orders the groups) and when it started (which decides
whether the next notification of its (kind, tweet) still joins it);
``notification_markers`` holds each recipient's read marker. Every write is one
immediate transaction, so a group's count moves with its notifications; reads
that take several statements run in one read transaction, so they see one
snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from core.models import GROUP_SPAN_MS, GROUPED_KINDS, NotificationGroupRecord, NotificationRecord
from core.sqlite import SqliteAdapter, SqliteDatabase, json_list

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    id           INTEGER PRIMARY KEY,
    recipient_id INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    actor_id     INTEGER NOT NULL,
    tweet_id     INTEGER,
    created_at   INTEGER NOT NULL,
    group_key    TEXT NOT NULL
);
-- once per (recipient, kind, actor, tweet); FOLLOW has no tweet, and NULLs are
-- distinct in a unique index, hence the coalesce (snowflake ids are never 0)
CREATE UNIQUE INDEX IF NOT EXISTS notifications_once
    ON notifications (recipient_id, kind, actor_id, coalesce(tweet_id, 0));
CREATE INDEX IF NOT EXISTS notifications_page ON notifications (recipient_id, id);
CREATE INDEX IF NOT EXISTS notifications_about_tweet ON notifications (tweet_id);
CREATE INDEX IF NOT EXISTS notifications_by_actor
    ON notifications (actor_id, recipient_id, group_key);
-- a group's notifications newest first; actor_id makes it covering for the actor lists
CREATE INDEX IF NOT EXISTS notifications_of_group
    ON notifications (recipient_id, group_key, id, actor_id);
CREATE TABLE IF NOT EXISTS notification_groups (
    recipient_id INTEGER NOT NULL,
    key          TEXT NOT NULL,
    kind         TEXT NOT NULL,
    tweet_id     INTEGER,
    count        INTEGER NOT NULL,
    latest_id    INTEGER NOT NULL,
    latest_at    INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    PRIMARY KEY (recipient_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS notification_groups_page
    ON notification_groups (recipient_id, latest_id);
-- the newest group of a (recipient, kind, tweet): the one a new notification may join
CREATE INDEX IF NOT EXISTS notification_groups_open
    ON notification_groups (recipient_id, kind, tweet_id, started_at);
CREATE INDEX IF NOT EXISTS notification_groups_about_tweet ON notification_groups (tweet_id);
CREATE TABLE IF NOT EXISTS notification_markers (
    recipient_id INTEGER PRIMARY KEY,
    read_up_to   INTEGER NOT NULL
);
"""

_NO_ID_ABOVE = (1 << 63) - 1  # the largest int64: "before" with no cursor
_COLUMNS = "id, recipient_id, kind, actor_id, tweet_id, created_at, group_key"
_VISIBLE = "actor_id NOT IN (SELECT value FROM json_each(?))"
# Dropped once its last notification goes; the newest left is its latest otherwise.
_SETTLE = """
UPDATE notification_groups SET count = count - ?, (latest_id, latest_at) = (
    SELECT id, created_at FROM notifications
    WHERE recipient_id = notification_groups.recipient_id
      AND group_key = notification_groups.key
    ORDER BY id DESC LIMIT 1)
WHERE recipient_id = ? AND key = ? AND count > ?
"""


def new_group_key(notification: NotificationRecord) -> str:
    """The key of a group that ``notification`` starts: its kind and its (unique) id."""
    return f"{notification.kind.lower()}-{notification.id}"


def _notification(row: tuple[Any, ...]) -> NotificationRecord:
    return NotificationRecord(*row)


def _once(recipient_id: int, kind: str, actor_id: int, tweet_id: int | None) -> tuple[Any, ...]:
    return (recipient_id, kind, actor_id, tweet_id or 0)


_ONCE = "recipient_id = ? AND kind = ? AND actor_id = ? AND coalesce(tweet_id, 0) = ?"


def _join_or_start(conn: sqlite3.Connection, notification: NotificationRecord) -> str:
    """The key of the group ``notification`` joins, the group counted and updated."""
    n = notification
    if n.kind in GROUPED_KINDS:
        newest = conn.execute(
            "SELECT key, started_at FROM notification_groups"
            " WHERE recipient_id = ? AND kind = ? AND tweet_id IS ?"
            " ORDER BY started_at DESC LIMIT 1",
            (n.recipient_id, n.kind, n.tweet_id),
        ).fetchone()
        if newest is not None and n.created_at_ms - newest[1] <= GROUP_SPAN_MS:
            conn.execute(
                "UPDATE notification_groups SET count = count + 1,"
                " latest_at = CASE WHEN ? > latest_id THEN ? ELSE latest_at END,"
                " latest_id = max(latest_id, ?)"
                " WHERE recipient_id = ? AND key = ?",
                (n.id, n.created_at_ms, n.id, n.recipient_id, newest[0]),
            )
            return str(newest[0])
    key = new_group_key(n)
    conn.execute(
        "INSERT INTO notification_groups"
        " (recipient_id, key, kind, tweet_id, count, latest_id, latest_at, started_at)"
        " VALUES (?, ?, ?, ?, 1, ?, ?, ?)",
        (n.recipient_id, key, n.kind, n.tweet_id, n.id, n.created_at_ms, n.created_at_ms),
    )
    return key


def _remove(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Delete these notification rows (``_COLUMNS``) and settle their groups' counts."""
    if not rows:
        return
    conn.execute(
        "DELETE FROM notifications WHERE id IN (SELECT value FROM json_each(?))",
        (json_list(row[0] for row in rows),),
    )
    removed: dict[tuple[int, str], int] = {}
    for row in rows:
        group = (row[1], row[6])
        removed[group] = removed.get(group, 0) + 1
    for (recipient_id, key), count in removed.items():
        settled = conn.execute(_SETTLE, (count, recipient_id, key, count)).rowcount
        if not settled:
            conn.execute(
                "DELETE FROM notification_groups WHERE recipient_id = ? AND key = ?",
                (recipient_id, key),
            )


def _snapshot(work: Callable[[sqlite3.Connection], T]) -> Callable[[sqlite3.Connection], T]:
    """``work`` in one read transaction: its statements see one snapshot of the file."""

    def run(conn: sqlite3.Connection) -> T:
        conn.execute("BEGIN")
        try:
            return work(conn)
        finally:
            conn.execute("COMMIT")

    return run


def _marker(conn: sqlite3.Connection, recipient_id: int) -> int:
    row = conn.execute(
        "SELECT read_up_to FROM notification_markers WHERE recipient_id = ?", (recipient_id,)
    ).fetchone()
    return int(row[0]) if row else 0


class SqliteNotificationStore(SqliteAdapter):
    def __init__(self, path: Path) -> None:
        self.db = SqliteDatabase(path, SCHEMA)

    async def add(self, notification: NotificationRecord) -> NotificationRecord | None:
        n = notification

        def work(conn: sqlite3.Connection) -> NotificationRecord | None:
            once = _once(n.recipient_id, n.kind, n.actor_id, n.tweet_id)
            if conn.execute(f"SELECT 1 FROM notifications WHERE {_ONCE}", once).fetchone():
                return None
            stored = replace(n, group_key=_join_or_start(conn, n))
            conn.execute(
                f"INSERT INTO notifications ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    stored.id,
                    stored.recipient_id,
                    stored.kind,
                    stored.actor_id,
                    stored.tweet_id,
                    stored.created_at_ms,
                    stored.group_key,
                ),
            )
            return stored

        return await self.db.write(work)

    async def withdraw(
        self, recipient_id: int, kind: str, actor_id: int, tweet_id: int | None
    ) -> NotificationRecord | None:
        def work(conn: sqlite3.Connection) -> NotificationRecord | None:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM notifications WHERE {_ONCE}",
                _once(recipient_id, kind, actor_id, tweet_id),
            ).fetchone()
            if row is None:
                return None
            _remove(conn, [row])
            return _notification(row)

        return await self.db.write(work)

    async def withdraw_about_tweet(self, tweet_id: int) -> int:
        def work(conn: sqlite3.Connection) -> int:
            # Every notification of a group has the group's tweet (groups are per
            # (kind, tweet); FOLLOW has none), so the tweet's groups go whole.
            conn.execute("DELETE FROM notification_groups WHERE tweet_id = ?", (tweet_id,))
            return conn.execute(
                "DELETE FROM notifications WHERE tweet_id = ?", (tweet_id,)
            ).rowcount

        return await self.db.write(work)

    async def withdraw_between(self, user_a: int, user_b: int) -> int:
        def work(conn: sqlite3.Connection) -> int:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM notifications"
                " WHERE (actor_id = ? AND recipient_id = ?) OR (actor_id = ? AND recipient_id = ?)",
                (user_a, user_b, user_b, user_a),
            ).fetchall()
            _remove(conn, rows)
            return len(rows)

        return await self.db.write(work)

    async def get_notifications(self, ids: Sequence[int]) -> dict[int, NotificationRecord]:
        if not ids:
            return {}
        sql = f"SELECT {_COLUMNS} FROM notifications WHERE id IN (SELECT value FROM json_each(?))"
        wanted = json_list(set(ids))
        return await self.db.read(
            lambda conn: {row[0]: _notification(row) for row in conn.execute(sql, (wanted,))}
        )

    async def page(
        self,
        recipient_id: int,
        limit: int,
        before_id: int | None = None,
        exclude_actors: Collection[int] = (),
    ) -> list[NotificationRecord]:
        if limit <= 0:
            return []
        sql = f"SELECT {_COLUMNS} FROM notifications WHERE recipient_id = ? AND {_VISIBLE}"
        params: list[object] = [recipient_id, json_list(set(exclude_actors))]
        if before_id is not None:
            sql += " AND id < ?"
            params.append(before_id)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return await self.db.read(
            lambda conn: [_notification(row) for row in conn.execute(sql, params)]
        )

    async def groups(
        self,
        recipient_id: int,
        limit: int,
        before_latest_id: int | None = None,
        actors: int = 3,
        exclude_actors: Collection[int] = (),
    ) -> list[NotificationGroupRecord]:
        if limit <= 0:
            return []
        hidden = json_list(set(exclude_actors))
        before = before_latest_id if before_latest_id is not None else _NO_ID_ABOVE

        def work(conn: sqlite3.Connection) -> list[NotificationGroupRecord]:
            # Groups holding a hidden actor's notification ("touched") have a smaller
            # count and perhaps an older newest visible notification, which is where
            # they belong in the order; every other group is where its row says.
            touched: dict[str, int] = {}
            if exclude_actors:
                # INDEXED BY: without statistics the planner would rather walk every
                # notification of the recipient, for the order of group_key
                touched = dict(
                    conn.execute(
                        "SELECT group_key, count(*) FROM notifications INDEXED BY notifications_by_actor"
                        " WHERE recipient_id = ? AND actor_id IN (SELECT value FROM json_each(?))"
                        " GROUP BY group_key",
                        (recipient_id, hidden),
                    ).fetchall()
                )
            touched_keys = json_list(touched)
            rows = conn.execute(
                "SELECT key, kind, tweet_id, count, latest_id, latest_at FROM notification_groups"
                " WHERE recipient_id = ? AND latest_id < ?"
                " AND key NOT IN (SELECT value FROM json_each(?))"
                " ORDER BY latest_id DESC LIMIT ?",
                (recipient_id, before, touched_keys, limit),
            ).fetchall()
            if touched:
                newest_visible = (
                    "SELECT id FROM notifications WHERE recipient_id = g.recipient_id"
                    f" AND group_key = g.key AND {_VISIBLE} ORDER BY id DESC LIMIT 1"
                )
                for key, kind, tweet_id, count, latest_id, latest_at in conn.execute(
                    "SELECT g.key, g.kind, g.tweet_id, g.count, n.id, n.created_at"
                    " FROM notification_groups g JOIN json_each(?) t ON g.key = t.value"
                    f" JOIN notifications n ON n.id = ({newest_visible})"
                    " WHERE g.recipient_id = ?",
                    (touched_keys, hidden, recipient_id),
                ):
                    if latest_id < before:
                        rows.append(
                            (key, kind, tweet_id, count - touched[key], latest_id, latest_at)
                        )
                rows.sort(key=lambda row: row[4], reverse=True)
                del rows[limit:]
            actor_ids: dict[str, list[int]] = {row[0]: [] for row in rows}
            if actors > 0 and rows:
                for key, actor_id in conn.execute(
                    "SELECT p.value, n.actor_id FROM json_each(?) p JOIN notifications n"
                    " ON n.id IN (SELECT id FROM notifications WHERE recipient_id = ?"
                    f" AND group_key = p.value AND {_VISIBLE} ORDER BY id DESC LIMIT ?)"
                    " ORDER BY n.id DESC",
                    (json_list(actor_ids), recipient_id, hidden, actors),
                ):
                    actor_ids[key].append(actor_id)
            return [
                NotificationGroupRecord(
                    key=key,
                    recipient_id=recipient_id,
                    kind=kind,
                    tweet_id=tweet_id,
                    count=count,
                    latest_id=latest_id,
                    latest_at_ms=latest_at,
                    actor_ids=tuple(actor_ids[key]),
                )
                for key, kind, tweet_id, count, latest_id, latest_at in rows
            ]

        return await self.db.read(_snapshot(work))

    async def unread_count(self, recipient_id: int, exclude_actors: Collection[int] = ()) -> int:
        hidden = json_list(set(exclude_actors))

        def work(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT count(*) FROM notifications"
                f" WHERE recipient_id = ? AND id > ? AND {_VISIBLE}",
                (recipient_id, _marker(conn, recipient_id), hidden),
            ).fetchone()
            return int(row[0])

        return await self.db.read(_snapshot(work))

    async def unread_group_count(
        self, recipient_id: int, exclude_actors: Collection[int] = ()
    ) -> int:
        hidden = json_list(set(exclude_actors))

        def work(conn: sqlite3.Connection) -> int:
            marker = _marker(conn, recipient_id)
            if exclude_actors:
                # a group is unread when a visible notification of it is
                row = conn.execute(
                    "SELECT count(DISTINCT group_key) FROM notifications"
                    f" WHERE recipient_id = ? AND id > ? AND {_VISIBLE}",
                    (recipient_id, marker, hidden),
                ).fetchone()
            else:
                row = conn.execute(
                    "SELECT count(*) FROM notification_groups"
                    " WHERE recipient_id = ? AND latest_id > ?",
                    (recipient_id, marker),
                ).fetchone()
            return int(row[0])

        return await self.db.read(_snapshot(work))

    async def read_marker(self, recipient_id: int) -> int:
        return await self.db.read(lambda conn: _marker(conn, recipient_id))

    async def mark_read(
        self, recipient_id: int, up_to_id: int, exclude_actors: Collection[int] = ()
    ) -> int:
        hidden = json_list(set(exclude_actors))

        def work(conn: sqlite3.Connection) -> int:
            marker = _marker(conn, recipient_id)
            if up_to_id <= marker:
                return 0
            conn.execute(
                "INSERT INTO notification_markers (recipient_id, read_up_to) VALUES (?, ?)"
                " ON CONFLICT (recipient_id) DO UPDATE SET read_up_to = excluded.read_up_to",
                (recipient_id, up_to_id),
            )
            row = conn.execute(
                "SELECT count(*) FROM notifications"
                f" WHERE recipient_id = ? AND id > ? AND id <= ? AND {_VISIBLE}",
                (recipient_id, marker, up_to_id, hidden),
            ).fetchone()
            return int(row[0])

        return await self.db.write(work)
