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
import contextlib
import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


_STOP = object()


def _deliver(future: asyncio.Future[T], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class Lane:
    """Threads that run functions for the event loop and hand each result straight back.

    What ``loop.run_in_executor`` with a ThreadPoolExecutor does, in fewer steps:
    a queue put on the way out, one ``call_soon_threadsafe`` on the way back, no
    concurrent.futures Future to create, lock and chain to an asyncio one. Every
    store call of a request crosses to a database thread and back, a handful per
    home page, so the saving counts (BENCHMARKS.md, "What changed").

    A call cancelled before a thread takes it up does not run; one already running
    finishes, and its result is dropped.
    """

    def __init__(self, threads: int, name: str) -> None:
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def run(self, fn: Callable[[], T]) -> asyncio.Future[T]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, future, fn))
        return future

    def _work(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.get()
            if job is _STOP:
                return
            loop, future, fn = job
            if future.cancelled():
                continue
            try:
                result, error = fn(), None
            except BaseException as exc:  # handed to the awaiting coroutine
                result, error = None, exc
            with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting
                loop.call_soon_threadsafe(_deliver, future, result, error)
            del job, loop, future, fn, result, error  # hold nothing between jobs

    def shutdown(self) -> None:
        """Let the threads finish the calls already queued, then stop and join them."""
        for _ in self._threads:
            self._jobs.put(_STOP)
        for thread in self._threads:
            thread.join()


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
        self._writer: Lane | None = None
        self._reader: Lane | None = None

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
        self._writer = Lane(1, f"sqlite-w-{self.path.stem}")
        self._reader = Lane(self._readers, f"sqlite-r-{self.path.stem}")
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

    async def _run(self, lane: Lane | None, fn: Callable[[], T]) -> T:
        if lane is None:
            raise RuntimeError(f"database {self.path} is not open")
        return await lane.run(fn)

    async def close(self) -> None:
        for lane in (self._writer, self._reader):
            if lane is not None:
                lane.shutdown()
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
