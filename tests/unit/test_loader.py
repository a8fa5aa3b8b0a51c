"""The request-scoped batching loader (resolvers/dataloader.py)."""

from __future__ import annotations

import asyncio

import pytest

from resolvers.dataloader import MISSING, Loader, WrongNumberOfResults


class Source:
    """A batch function that records each call's keys."""

    def __init__(self, fail: set[int] | None = None) -> None:
        self.calls: list[list[int]] = []
        self.fail = fail or set()

    async def __call__(self, keys: list[int]) -> list[object]:
        self.calls.append(list(keys))
        await asyncio.sleep(0)
        return [ValueError(f"no {k}") if k in self.fail else k * 10 for k in keys]


async def test_loads_made_in_one_tick_go_out_as_one_batch_of_distinct_keys() -> None:
    source = Source()
    loader: Loader[int, object] = Loader(source)
    futures = [loader.load(k) for k in (1, 2, 1, 3)]
    assert await asyncio.gather(*futures) == [10, 20, 10, 30]
    assert source.calls == [[1, 2, 3]]


async def test_loads_from_tasks_started_together_share_a_batch() -> None:
    source = Source()
    loader: Loader[int, object] = Loader(source)

    async def one(key: int) -> object:
        return await loader.load(key)

    assert list(await asyncio.gather(one(1), one(2), one(3))) == [10, 20, 30]
    assert source.calls == [[1, 2, 3]]


async def test_values_are_cached_for_the_loader_life() -> None:
    source = Source()
    loader: Loader[int, object] = Loader(source)
    assert await loader.load(4) == 40
    assert await loader.load(4) == 40
    assert await loader.load_many([4, 5]) == [40, 50]
    assert source.calls == [[4], [5]]


async def test_an_exception_value_fails_only_its_key() -> None:
    loader: Loader[int, object] = Loader(Source(fail={2}))
    first, second = loader.load(1), loader.load(2)
    assert await first == 10
    with pytest.raises(ValueError, match="no 2"):
        await second


async def test_a_failing_batch_fails_every_key_of_the_batch() -> None:
    async def broken(keys: list[int]) -> list[int]:
        raise ConnectionError("store down")

    loader: Loader[int, int] = Loader(broken)
    futures = [loader.load(1), loader.load(2)]
    results = await asyncio.gather(*futures, return_exceptions=True)
    assert all(isinstance(r, ConnectionError) for r in results)


async def test_a_batch_function_answering_the_wrong_number_of_values_fails_the_batch() -> None:
    async def short(keys: list[int]) -> list[int]:
        return keys[:-1]

    loader: Loader[int, int] = Loader(short)
    with pytest.raises(WrongNumberOfResults):
        await asyncio.gather(loader.load(1), loader.load(2))


async def test_prime_answers_without_a_call_and_force_replaces() -> None:
    source = Source()
    loader: Loader[int, object] = Loader(source)
    loader.prime(7, "primed")
    assert await loader.load(7) == "primed"
    loader.prime(7, "ignored")
    assert await loader.load(7) == "primed"
    loader.prime(7, "forced", force=True)
    assert await loader.load(7) == "forced"
    assert source.calls == []


async def test_prime_answers_a_load_still_waiting_for_its_batch() -> None:
    source = Source()
    loader: Loader[int, object] = Loader(source)
    waiting = loader.load(8)
    loader.prime(8, "primed")
    assert await waiting == "primed"
    await asyncio.sleep(0.01)
    assert source.calls == []  # the batch held nothing left to fetch


async def test_cancelling_one_awaiter_leaves_the_value_to_the_others() -> None:
    source = Source()
    loader: Loader[int, object] = Loader(source)

    async def field() -> object:
        return await loader.load(9)

    first, second = asyncio.ensure_future(field()), asyncio.ensure_future(field())
    await asyncio.sleep(0)
    first.cancel()  # as graphql-core does to the siblings of a failed field
    assert await second == 90
    with pytest.raises(asyncio.CancelledError):
        await first
    assert await loader.load(9) == 90


async def test_known_values_are_answered_without_a_future() -> None:
    source = Source()
    loader: Loader[int, object] = Loader(source)
    assert loader.peek(1) is MISSING
    pending = loader.value_or_load(1)
    assert isinstance(pending, asyncio.Future)
    assert await pending == 10
    assert loader.peek(1) == 10
    assert loader.value_or_load(1) == 10
    loader.prime(2, "primed")
    assert loader.value_or_load(2) == "primed"
    assert source.calls == [[1]]


async def test_prefetch_fetches_unknown_keys_in_one_batch_then_loads_answer_at_once() -> None:
    source = Source()
    loader: Loader[int, object] = Loader(source)
    assert await loader.load(1) == 10
    await loader.prefetch([1, 2, 3, 2])
    assert source.calls == [[1], [2, 3]]  # 1 was known; 2 and 3 once each
    assert [loader.value_or_load(k) for k in (1, 2, 3)] == [10, 20, 30]
    assert await loader.load(3) == 30
    assert source.calls == [[1], [2, 3]]


async def test_a_failed_prefetch_keeps_nothing_and_later_loads_fail_on_their_own() -> None:
    calls: list[list[int]] = []
    down = True

    async def flaky(keys: list[int]) -> list[int]:
        calls.append(list(keys))
        if down:
            raise ConnectionError("store down")
        return [k * 10 for k in keys]

    loader: Loader[int, int] = Loader(flaky)
    await loader.prefetch([1, 2])  # swallowed: the fields report errors, not the prefetch
    assert loader.peek(1) is MISSING
    with pytest.raises(ConnectionError):
        await loader.load(1)
    down = False
    assert await loader.load(2) == 20
    assert calls == [[1, 2], [1], [2]]


async def test_a_prefetched_error_value_is_not_kept() -> None:
    source = Source(fail={2})
    loader: Loader[int, object] = Loader(source)
    await loader.prefetch([1, 2])
    assert loader.peek(1) == 10
    assert loader.peek(2) is MISSING
    with pytest.raises(ValueError, match="no 2"):
        await loader.load(2)


async def test_a_load_made_while_a_prefetch_runs_gets_its_value() -> None:
    source = Source()
    loader: Loader[int, object] = Loader(source)
    prefetch = asyncio.ensure_future(loader.prefetch([5]))
    await asyncio.sleep(0)  # the prefetch's fetch is under way
    value, _ = await asyncio.gather(loader.load(5), prefetch)
    assert value == 50
    assert source.calls == [[5]]  # the prefetch answered it before its own batch went out
