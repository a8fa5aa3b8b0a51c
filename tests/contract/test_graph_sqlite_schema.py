"""The embedded graph's schema: what followed_celebrities relies on, and its migration.

A home read asks followed_celebrities on every page, so it must not scan the
reader's followee list (nor the users table): the plan walks the partial index
of celebrities and looks each edge up by the primary key.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.models import NewUser
from graph.sqlite import FOLLOWED_CELEBRITIES_SQL, SqliteSocialGraph

T = 1_700_000_000_000

# The tables of a data folder made before the celebrity mark existed.
OLD_SCHEMA = """
CREATE TABLE users (
    id INTEGER PRIMARY KEY, handle TEXT NOT NULL, handle_lower TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL, bio TEXT NOT NULL, created_at INTEGER NOT NULL,
    password_hash TEXT NOT NULL
);
CREATE TABLE follows (
    follower_id INTEGER NOT NULL REFERENCES users(id),
    followee_id INTEGER NOT NULL REFERENCES users(id),
    since INTEGER NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
) WITHOUT ROWID;
"""


def plan(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute(f"EXPLAIN QUERY PLAN {FOLLOWED_CELEBRITIES_SQL}", (1,)).fetchall()
    return [row[3] for row in rows]


async def test_followed_celebrities_uses_the_celebrity_index_and_the_edge_key(
    tmp_path: Path,
) -> None:
    path = tmp_path / "graph.sqlite3"
    graph = SqliteSocialGraph(path)
    await graph.open()
    await graph.close()
    steps = plan(path)
    assert any("USING INDEX users_celebrities" in step for step in steps), steps
    assert any(
        "SEARCH f USING PRIMARY KEY (follower_id=? AND followee_id=?)" in step for step in steps
    ), steps
    assert not any(step.startswith("SCAN f") or step == "SCAN u" for step in steps), steps


async def test_a_data_folder_from_before_the_celebrity_mark_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "graph.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SCHEMA)
        conn.executemany(
            "INSERT INTO users VALUES (?, ?, ?, '', '', 0, '-')",
            [(1, "Me", "me"), (2, "Star", "star")],
        )
        conn.execute("INSERT INTO follows VALUES (1, 2, ?)", (T,))
    graph = SqliteSocialGraph(path)
    await graph.open()
    try:
        assert await graph.followed_celebrities(1) == []
        assert await graph.set_celebrity(2, True) is False
        assert await graph.followed_celebrities(1) == [2]
        await graph.create_user(NewUser(3, "new", "New", "", T, "-"))
        await graph.follow(3, 2, T)
        assert await graph.followed_celebrities(3) == [2]
    finally:
        await graph.close()
    assert any("users_celebrities" in step for step in plan(path))
    graph = SqliteSocialGraph(path)  # opening again changes nothing
    await graph.open()
    try:
        assert await graph.followed_celebrities(1) == [2]
    finally:
        await graph.close()


async def test_setting_the_mark_a_user_already_has_writes_nothing(tmp_path: Path) -> None:
    """Every fan-out job sets the mark: the unchanged case must not cost a write."""
    graph = SqliteSocialGraph(tmp_path / "graph.sqlite3")
    await graph.open()
    try:
        user = await graph.create_user(
            NewUser(
                id=1, handle="star", display_name="Star", bio="", created_at_ms=T, password_hash="x"
            )
        )
        writes = 0
        write = graph.db.write

        async def counted(work: Callable[[sqlite3.Connection], Any]) -> Any:
            nonlocal writes
            writes += 1
            return await write(work)

        graph.db.write = counted  # type: ignore[method-assign]
        assert await graph.set_celebrity(user.id, False) is False
        assert writes == 0
        assert await graph.set_celebrity(user.id, True) is False
        assert writes == 1
        assert await graph.set_celebrity(user.id, True) is True
        assert writes == 1
    finally:
        await graph.close()
