"""The SQLite tweet store's record cache: a read of a known tweet is exactly a full read.

Two stores on one file stand for two processes: what one writes (a like, a delete)
the other's next read shows, with no lag, though it built the record before.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.models import TweetRecord
from docstore.sqlite import SqliteTweetStore


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SqliteTweetStore, SqliteTweetStore]]:
    path = tmp_path / "tweets.sqlite3"
    first, second = SqliteTweetStore(path), SqliteTweetStore(path, record_cache_size=4)
    await first.open()
    await second.open()
    try:
        yield first, second
    finally:
        await second.close()
        await first.close()


def _tweet(n: int) -> TweetRecord:
    return TweetRecord(id=1000 + n, author_id=7, text=f"tweet {n}", created_at_ms=1_000_000 + n)


async def test_counts_and_deletes_written_elsewhere_show_on_the_next_read(
    stores: tuple[SqliteTweetStore, SqliteTweetStore],
) -> None:
    reader, writer = stores
    tweet = _tweet(1)
    await writer.insert_tweet(tweet)
    assert (await reader.get_tweets([tweet.id]))[tweet.id] == tweet
    assert await writer.like(8, tweet.id, 5000)
    assert (await reader.get_tweets([tweet.id]))[tweet.id].like_count == 1
    assert await writer.unlike(8, tweet.id)
    again = (await reader.get_tweets([tweet.id]))[tweet.id]
    assert again == tweet
    await writer.delete_tweet(tweet.id)
    assert await reader.get_tweets([tweet.id]) == {}


async def test_known_and_unknown_ids_in_one_read_match_a_fresh_store(
    stores: tuple[SqliteTweetStore, SqliteTweetStore], tmp_path: Path
) -> None:
    _, store = stores  # holds at most 4 records: the cache is cut while reading
    tweets = [_tweet(n) for n in range(10)]
    for tweet in tweets:
        await store.insert_tweet(tweet)
    ids = [t.id for t in tweets]
    for start in range(0, 10, 3):
        await store.get_tweets(ids[start : start + 3])
    fresh = SqliteTweetStore(tmp_path / "tweets.sqlite3", record_cache_size=0)
    await fresh.open()
    try:
        assert await store.get_tweets([*ids, 99]) == await fresh.get_tweets([*ids, 99])
        assert len(store._records) <= 4 + len(ids)
    finally:
        await fresh.close()
