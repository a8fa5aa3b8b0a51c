"""A request-scoped batching loader: the DataLoader pattern, kept lean.

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


class Loader(Generic[K, V]):
    """Batches the loads made in one loop iteration into one call of ``fetch``; caches them.

    ``fetch`` takes the keys (distinct, in the order first asked) and returns one
    value per key, in that order; an exception instance as a value fails that key
    only. A failing ``fetch`` fails every key of its batch. Values stay cached for
    the loader's life (one request).
    """

    __slots__ = ("_batch", "_cache", "_fetch", "_primed", "_tasks")

    def __init__(self, fetch: Fetch[K, V]) -> None:
        self._fetch = fetch
        self._cache: dict[K, asyncio.Future[V]] = {}
        self._primed: dict[K, V] = {}  # values known in advance, not asked for yet
        self._batch: list[tuple[K, asyncio.Future[V]]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()  # running batches, kept referenced

    def load(self, key: K) -> asyncio.Future[V]:
        found = self._cache.get(key)
        if found is not None and not found.cancelled():
            return found
        loop = asyncio.get_running_loop()
        future: asyncio.Future[V] = SharedFuture(loop=loop)
        self._cache[key] = future
        if key in self._primed:
            future.set_result(self._primed.pop(key))
            return future
        batch = self._batch
        if batch is None:
            batch = self._batch = []
            loop.call_soon(self._dispatch, batch)
        batch.append((key, future))
        return future

    def load_many(self, keys: Iterable[K]) -> Awaitable[list[V]]:
        return asyncio.gather(*map(self.load, keys))

    def prime(self, key: K, value: V, force: bool = False) -> None:
        """Cache a value already known; ``force`` replaces one cached before.

        A load of the key still waiting for its batch is answered with the value.
        """
        found = self._cache.get(key)
        if found is None or found.cancelled():
            if force or key not in self._primed:
                self._primed[key] = value
            return
        if not found.done():
            found.set_result(value)
        elif force:
            del self._cache[key]
            self._primed[key] = value

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
        for (_, future), value in zip(waiting, values, strict=True):
            if future.done():
                continue
            if isinstance(value, BaseException):
                future.set_exception(value)
            else:
                future.set_result(value)
