"""A small async wrapper over sqlite3 for the embedded stores.

Each database file gets one writer thread (SQLite allows one writer at a time)
and a few reader threads, each thread holding its own connection, in WAL mode
so readers never wait for the writer. A unit of work is a plain function that
receives the connection and runs in one thread: a write function runs inside a
single ``BEGIN IMMEDIATE`` transaction, so it is all-or-nothing and never
interleaves with another coroutine's statements.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


class SqliteDatabase:
    def __init__(
        self,
        path: Path,
        schema: str,
        readers: int = 2,
        migrate: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        self.path = path
        self._schema = schema
        self._migrate = migrate
        self._readers = readers
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._writer: ThreadPoolExecutor | None = None
        self._reader: ThreadPoolExecutor | None = None

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a committed write survives a power cut, not only a process crash.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=5000")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
            with self._connections_lock:
                self._connections.append(conn)
        return conn

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix=f"sqlite-w-{self.path.stem}")
        self._reader = ThreadPoolExecutor(
            self._readers, thread_name_prefix=f"sqlite-r-{self.path.stem}"
        )
        # executescript manages its own transaction, so it runs outside write()
        await self._run(self._writer, lambda: self._connection().executescript(self._schema))
        if self._migrate is not None:
            await self.write(self._migrate)

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one immediate transaction on the writer thread."""

        def run() -> T:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result

        return await self._run(self._writer, run)

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` on a reader thread (its own snapshot per statement)."""
        return await self._run(self._reader, lambda: work(self._connection()))

    async def _run(self, pool: ThreadPoolExecutor | None, fn: Callable[[], T]) -> T:
        if pool is None:
            raise RuntimeError(f"database {self.path} is not open")
        return await asyncio.get_running_loop().run_in_executor(pool, fn)

    async def close(self) -> None:
        for pool in (self._writer, self._reader):
            if pool is not None:
                pool.shutdown(wait=True)
        self._writer = self._reader = None
        with self._connections_lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()


class SqliteAdapter:
    """Base of the embedded adapters: one database file, opened, pinged and closed."""

    db: SqliteDatabase

    async def open(self) -> None:
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> None:
        await self.db.read(lambda conn: conn.execute("SELECT 1").fetchone())


def placeholders(count: int) -> str:
    return ",".join("?" * count)


def json_list(values: Iterable[object]) -> str:
    """A list as one JSON parameter, for ``IN (SELECT value FROM json_each(?))``.

    One bound parameter holds any number of values, so a query never needs
    chunking to stay under SQLite's variable limit.
    """
    return json.dumps(list(values))
