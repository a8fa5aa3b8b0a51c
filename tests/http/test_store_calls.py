"""A timeline page costs a constant number of store calls, not one per tweet or followee."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bootstrap.services import Overrides
from docstore.sqlite import SqliteTweetStore
from graph.sqlite import SqliteSocialGraph
from services.container import Stores
from tests.conftest import AppFactory, GraphQLClient
from timeline.memory import MemoryTimelineCache

PAGE = """query($first: Int) {
  homeTimeline(first: $first) {
    edges { cursor node {
      id text createdAt likeCount viewerHasLiked url hashtags mentions { handle }
      author { id handle displayName followersCount followingCount tweetsCount viewerFollows followsViewer }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


class Counting:
    """Wraps an adapter; counts every coroutine method call by name."""

    def __init__(self, inner: Any, calls: Counter[str], prefix: str) -> None:
        self._inner = inner
        self._calls = calls
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target):
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._calls[f"{self._prefix}.{name}"] += 1
            return await target(*args, **kwargs)

        return call


@pytest.fixture
async def counted(
    tmp_path: Path, make_client: AppFactory
) -> AsyncIterator[tuple[GraphQLClient, Counter[str]]]:
    graph = SqliteSocialGraph(tmp_path / "g.sqlite3")
    tweets = SqliteTweetStore(tmp_path / "t.sqlite3")
    await graph.open()
    await tweets.open()
    calls: Counter[str] = Counter()
    stores = Stores(
        graph=Counting(graph, calls, "graph"),
        tweets=Counting(tweets, calls, "tweets"),
        timelines=MemoryTimelineCache(),
    )
    client = await make_client(Overrides(stores=stores))
    yield client, calls
    await graph.close()
    await tweets.close()


async def calls_for_page(
    gql: GraphQLClient, calls: Counter[str], token: str, first: int
) -> tuple[int, Counter[str]]:
    await gql.settle()  # fan-out of the set-up's tweets is not part of the read
    calls.clear()
    data = await gql.ok(PAGE, {"first": first}, token)
    return len(data["homeTimeline"]["edges"]), Counter(calls)


async def test_home_page_store_calls_do_not_grow_with_page_size_or_followees(
    counted: tuple[GraphQLClient, Counter[str]],
) -> None:
    gql, calls = counted
    reader, _ = await gql.sign_up("reader")
    few, _ = await gql.sign_up("few")
    for i in range(12):
        token, user_id = await gql.sign_up(f"author{i}")
        await gql.follow(reader, user_id)
        if i < 2:
            await gql.follow(few, user_id)
        for n in range(5):
            await gql.tweet(token, f"hello @reader #t{i} from {i}, number {n}")

    for viewer in (reader, few):  # the first read builds the cached timeline
        await calls_for_page(gql, calls, viewer, 1)
    small_n, small = await calls_for_page(gql, calls, reader, 3)
    large_n, large = await calls_for_page(gql, calls, reader, 20)
    few_n, of_few = await calls_for_page(gql, calls, few, 3)
    assert (small_n, large_n, few_n) == (3, 20, 3)
    assert small == large == of_few, (small, large, of_few)
    # never one call per tweet or per followee: the repeats are the viewer's own lookup
    # (get_users) and follow-edge checks (the engine's check of the page's authors, then
    # the viewerFollows and followsViewer fields)
    assert max(large.values()) <= 2, large
    assert sum(large.values()) <= 11, large
    # a page of a warm cached timeline never loads the reader's followee list
    assert large["graph.following_ids"] == 0, large
    assert (large["graph.followed_celebrities"], large["graph.existing_follows"]) == (1, 2), large
