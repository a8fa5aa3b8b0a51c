"""The database threads' lane (core/sqlite.py): calls run on its threads, results come back."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from functools import partial
from pathlib import Path

import pytest

from core.sqlite import Lane, SqliteDatabase


async def test_a_call_runs_on_a_lane_thread_and_its_result_comes_back() -> None:
    lane = Lane(2, "test")
    try:
        names = await asyncio.gather(
            *(lane.run(lambda: threading.current_thread().name) for _ in range(8))
        )
        assert set(names) <= {"test-0", "test-1"}
        assert await lane.run(lambda: 6 * 7) == 42
    finally:
        lane.shutdown()


async def test_an_exception_is_raised_in_the_awaiting_coroutine() -> None:
    lane = Lane(1, "test")

    def broken() -> None:
        raise sqlite3.OperationalError("database is locked")

    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await lane.run(broken)
        assert await lane.run(lambda: "still serving") == "still serving"
    finally:
        lane.shutdown()


async def test_a_call_cancelled_before_a_thread_takes_it_never_runs() -> None:
    lane = Lane(1, "test")
    release = threading.Event()
    ran: list[str] = []
    try:
        busy = lane.run(release.wait)  # holds the only thread
        queued = lane.run(lambda: ran.append("queued"))
        queued.cancel()
        release.set()
        assert await busy is True
        assert await lane.run(lambda: "after") == "after"
        assert ran == []
    finally:
        lane.shutdown()


async def test_shutdown_finishes_the_calls_already_queued() -> None:
    lane = Lane(1, "test")
    done: list[int] = []
    futures = [lane.run(partial(done.append, n)) for n in range(5)]
    lane.shutdown()
    assert done == [0, 1, 2, 3, 4]
    await asyncio.gather(*futures)


async def test_a_closed_database_refuses_calls(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "x.sqlite3", "CREATE TABLE IF NOT EXISTS t (v INTEGER);")
    await db.open()
    await db.write(lambda conn: conn.execute("INSERT INTO t VALUES (1)"))
    assert await db.read(lambda conn: conn.execute("SELECT v FROM t").fetchall()) == [(1,)]
    await db.close()
    with pytest.raises(RuntimeError, match="not open"):
        await db.read(lambda conn: conn.execute("SELECT 1").fetchone())
