"""A request-scoped batching loader: the DataLoader pattern, kept lean; and views of it.

A home page of 20 tweets makes about 80 loads (authors, viewer flags). Each
``load`` here is a dict lookup, one future and a list append; the batch goes
out one loop iteration after the first load of a tick, exactly when
strawberry's DataLoader would send it, so batches are as large.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
W = TypeVar("W")

Fetch = Callable[[list[K]], Awaitable[Sequence[V | BaseException]]]


class SharedFuture(asyncio.Future[V]):
    """A cached loader value: many fields of a request await the same one.

    Cancelling one of them (graphql-core cancels the siblings of a failed field)
    must not cancel it for the others, so ``cancel`` leaves it alone; the
    cancelled awaiter still ends with CancelledError once the value arrives.
    """

    def cancel(self, msg: object = None) -> bool:
        return False


class WrongNumberOfResults(RuntimeError):
    """A batch function answered with a list of another length than its keys."""


class _Missing:
    """What ``Loader.peek`` answers for a key whose value is not known yet."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()


class Loader(Generic[K, V]):
    """Batches the loads made in one loop iteration into one call of ``fetch``; caches them.

    ``fetch`` takes the keys (distinct, in the order first asked) and returns one
    value per key, in that order; an exception instance as a value fails that key
    only. A failing ``fetch`` fails every key of its batch. Values stay cached for
    the loader's life (one request).

    Values already known (primed, fetched by an earlier batch, or prefetched) are
    also answered without a future: ``peek`` and ``value_or_load``. A resolver that
    returns such a value completes at once, where a future would have to be awaited.
    """

    __slots__ = ("_batch", "_cache", "_fetch", "_tasks", "_values")

    def __init__(self, fetch: Fetch[K, V]) -> None:
        self._fetch = fetch
        self._cache: dict[K, asyncio.Future[V]] = {}  # keys asked for with load()
        self._values: dict[K, V] = {}  # settled values: primed, fetched or prefetched
        self._batch: list[tuple[K, asyncio.Future[V]]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # running batches, kept referenced

    def load(self, key: K) -> asyncio.Future[V]:
        found = self._cache.get(key)
        if found is not None and not found.cancelled():
            return found
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V] = SharedFuture(loop=loop)
        self._cache[key] = future
        if key in self._values:
            future.set_result(self._values[key])
            return future
        batch = self._batch
        if batch is None:
            batch = self._batch = []
            loop.call_soon(self._dispatch, batch)
        batch.append((key, future))
        return future

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        return asyncio.gather(*map(self.load, keys))

    def peek(self, key: K) -> V | _Missing:
        """The value of ``key`` if it is already known, else ``MISSING``; never fetches."""
        return self._values.get(key, MISSING)

    def value_or_load(self, key: K) -> V | asyncio.Future[V]:
        """The value itself when already known, else ``load(key)``."""
        value = self.peek(key)
        return self.load(key) if value is MISSING else value  # type: ignore[return-value]

    async def prefetch(self, keys: Iterable[K]) -> None:
        """Fetch in one batch the keys neither known nor asked for yet.

        For a resolver that knows which keys its children will load: once this
        returns, their loads and ``value_or_load`` answer at once. Best effort: if
        the fetch fails, or a key's value is an error, nothing is kept, and a later
        load of that key fetches it again and fails (or succeeds) on its own, as if
        there had been no prefetch.
        """
        missing = [k for k in dict.fromkeys(keys) if k not in self._values and k not in self._cache]
        if not missing:
            return
        try:
            values = list(await self._fetch(missing))
        except Exception:
            return
        if len(values) != len(missing):
            return
        for key, value in zip(missing, values, strict=True):
            if isinstance(value, BaseException) or key in self._values:
                continue
            self._values[key] = value
            found = self._cache.get(key)  # loaded while the prefetch ran: answer it
            if found is not None and not found.done():
                found.set_result(value)

    def prime(self, key: K, value: V, force: bool = False) -> None:
        """Cache a value already known; ``force`` replaces one cached before.

        A load of the key still waiting for its batch is answered with the value.
        """
        found = self._cache.get(key)
        if found is None or found.cancelled():
            if force or key not in self._values:
                self._values[key] = value
            return
        if not found.done():
            found.set_result(value)
            self._values[key] = value
        elif force:
            del self._cache[key]
            self._values[key] = value

    def prime_many(self, items: Iterable[tuple[K, V]]) -> None:
        """``prime`` each (key, value)."""
        for key, value in items:
            self.prime(key, value)

    def _dispatch(self, batch: list[tuple[K, asyncio.Future[V]]]) -> None:
        if self._batch is batch:
            self._batch = None
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, batch: list[tuple[K, asyncio.Future[V]]]) -> None:
        waiting = [(key, future) for key, future in batch if not future.done()]
        if not waiting:
            return  # every key was primed or cancelled meanwhile
        keys = [key for key, _ in waiting]
        try:
            values = list(await self._fetch(keys))
            if len(values) != len(keys):
                raise WrongNumberOfResults(
                    f"the batch function returned {len(values)} values for {len(keys)} keys"
                )
        except Exception as exc:
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        for (key, future), value in zip(waiting, values, strict=True):
            if future.done():
                continue
            if isinstance(value, BaseException):
                future.set_exception(value)
            else:
                future.set_result(value)
                self._values[key] = value


class View(Generic[K, V, W]):
    """A loader's values, each made into another object once per request.

    For a schema type built from a record (a ``User`` from a ``UserRecord``): the
    field gets the object itself when the record is already loaded (primed or
    prefetched), else an awaitable of it, and every field asking for the same key
    gets the same object. A key the loader has no value for (None) fails with
    LookupError: the view is for references that must resolve, such as authors.
    """

    __slots__ = ("_loader", "_made", "_make", "_what")

    def __init__(self, loader: Loader[K, V | None], make: Callable[[V], W], what: str) -> None:
        self._loader = loader
        self._make = make
        self._what = what
        self._made: dict[K, W] = {}

    def value_or_load(self, key: K) -> W | Awaitable[W]:
        """The made object when its value is known, else an awaitable of it."""
        made = self._made.get(key)  # the objects made are never None
        if made is not None:
            return made
        value = self._loader.peek(key)
        if value is MISSING:
            return self._later(key)
        return self._keep(key, value)  # type: ignore[arg-type]

    def _keep(self, key: K, value: V | None) -> W:
        if value is None:
            raise LookupError(f"{self._what} {key} missing")
        made = self._made[key] = self._make(value)
        return made

    async def _later(self, key: K) -> W:
        return self._keep(key, await self._loader.load(key))
