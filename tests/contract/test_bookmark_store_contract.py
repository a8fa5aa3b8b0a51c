"""The bookmarks port: every adapter keeps each user's bookmarks alike, once each.

Bookmark ids are snowflakes made as the service makes them, when the bookmark is
asked for, so they sort by bookmarking time whatever the tweets' own ids.
"""

from __future__ import annotations

import asyncio

from core.ids import SnowflakeGenerator
from core.models import BookmarkEdge
from docstore.bookmarks import BookmarkStore

ALICE, BOB, CAROL = 1, 2, 3
TWEETS = [7_000 + n for n in range(10)]  # oldest first
OLD, NEW, OTHER = TWEETS[0], TWEETS[-1], TWEETS[4]

new_id = SnowflakeGenerator(worker_id=7).next_id


async def bookmark(store: BookmarkStore, user_id: int, tweet_id: int) -> BookmarkEdge:
    """The user bookmarks the tweet, now; the bookmark as it is stored."""
    edge = BookmarkEdge(new_id(), tweet_id)
    assert await store.bookmark(user_id, tweet_id, edge.bookmark_id), f"{tweet_id} was bookmarked"
    return edge


async def tweet_ids(store: BookmarkStore, user_id: int, limit: int = 1000) -> list[int]:
    return [edge.tweet_id for edge in await store.bookmarks_of(user_id, limit)]


async def test_ping_answers_when_the_store_is_up(bookmarks: BookmarkStore) -> None:
    await bookmarks.ping()


async def test_a_bookmark_is_listed_with_its_id(bookmarks: BookmarkStore) -> None:
    edge = await bookmark(bookmarks, ALICE, OLD)
    assert await bookmarks.bookmarks_of(ALICE, 10) == [edge]


async def test_bookmarking_twice_keeps_the_first_bookmark_in_its_place(
    bookmarks: BookmarkStore,
) -> None:
    first = await bookmark(bookmarks, ALICE, OLD)
    later = await bookmark(bookmarks, ALICE, NEW)
    assert await bookmarks.bookmark(ALICE, OLD, new_id()) is False
    assert await bookmarks.bookmarks_of(ALICE, 10) == [later, first]


async def test_concurrent_identical_bookmarks_store_one(bookmarks: BookmarkStore) -> None:
    attempts = [new_id() for _ in range(20)]
    results = await asyncio.gather(*(bookmarks.bookmark(ALICE, OLD, b) for b in attempts))
    assert sorted(results) == [False] * 19 + [True]
    [edge] = await bookmarks.bookmarks_of(ALICE, 50)
    assert edge.tweet_id == OLD
    assert edge.bookmark_id in attempts


async def test_bookmarks_are_most_recently_bookmarked_first_not_newest_tweet_first(
    bookmarks: BookmarkStore,
) -> None:
    for tweet_id in (NEW, OLD, OTHER):
        await bookmark(bookmarks, ALICE, tweet_id)
    assert await tweet_ids(bookmarks, ALICE) == [OTHER, OLD, NEW]


async def test_pages_continue_before_a_bookmark_id(bookmarks: BookmarkStore) -> None:
    made = [await bookmark(bookmarks, ALICE, t) for t in TWEETS]
    newest_first = made[::-1]
    first = await bookmarks.bookmarks_of(ALICE, 4)
    assert first == newest_first[:4]
    second = await bookmarks.bookmarks_of(ALICE, 4, before_bookmark_id=first[-1].bookmark_id)
    assert second == newest_first[4:8]
    rest = await bookmarks.bookmarks_of(ALICE, 4, before_bookmark_id=second[-1].bookmark_id)
    assert rest == newest_first[8:]
    assert await bookmarks.bookmarks_of(ALICE, 4, before_bookmark_id=made[0].bookmark_id) == []
    assert await bookmarks.bookmarks_of(ALICE, 0) == []


async def test_there_is_no_cap_on_bookmarks(bookmarks: BookmarkStore) -> None:
    many = list(range(100_000, 101_001))  # 1,001: more than any page or cache
    edges = [BookmarkEdge(new_id(), t) for t in many]
    added = await asyncio.gather(
        *(bookmarks.bookmark(ALICE, e.tweet_id, e.bookmark_id) for e in edges)
    )
    assert all(added)
    assert await bookmarks.bookmarks_of(ALICE, 2000) == sorted(
        edges, key=lambda e: e.bookmark_id, reverse=True
    )


async def test_unbookmark_removes_the_bookmark(bookmarks: BookmarkStore) -> None:
    await bookmark(bookmarks, ALICE, OLD)
    kept = await bookmark(bookmarks, ALICE, NEW)
    assert await bookmarks.unbookmark(ALICE, OLD) is True
    assert await bookmarks.bookmarks_of(ALICE, 10) == [kept]
    assert await bookmarks.bookmarked_tweet_ids(ALICE, [OLD, NEW]) == {NEW}
    assert await bookmarks.unbookmark(ALICE, OLD) is False  # gone already
    assert await bookmarks.unbookmark(ALICE, OTHER) is False  # never there


async def test_bookmarking_again_after_unbookmarking_puts_it_first(
    bookmarks: BookmarkStore,
) -> None:
    await bookmark(bookmarks, ALICE, OLD)
    await bookmark(bookmarks, ALICE, NEW)
    await bookmarks.unbookmark(ALICE, OLD)
    again = await bookmark(bookmarks, ALICE, OLD)
    assert (await bookmarks.bookmarks_of(ALICE, 10))[0] == again
    assert await tweet_ids(bookmarks, ALICE) == [OLD, NEW]


async def test_which_of_many_tweets_a_user_bookmarked_is_one_call(
    bookmarks: BookmarkStore,
) -> None:
    for tweet_id in TWEETS[::2]:
        await bookmark(bookmarks, ALICE, tweet_id)
    asked = [*TWEETS, 99_999, TWEETS[0]]  # an unknown tweet, a repeat
    assert await bookmarks.bookmarked_tweet_ids(ALICE, asked) == set(TWEETS[::2])
    assert await bookmarks.bookmarked_tweet_ids(ALICE, []) == set()
    assert await bookmarks.bookmarked_tweet_ids(BOB, asked) == set()


async def test_each_user_has_bookmarks_of_their_own(bookmarks: BookmarkStore) -> None:
    await bookmark(bookmarks, ALICE, OLD)
    await bookmark(bookmarks, BOB, OLD)
    await bookmark(bookmarks, BOB, NEW)
    assert await bookmarks.unbookmark(CAROL, OLD) is False
    assert await bookmarks.unbookmark(BOB, OLD) is True
    assert await tweet_ids(bookmarks, ALICE) == [OLD]
    assert await tweet_ids(bookmarks, BOB) == [NEW]
    assert await tweet_ids(bookmarks, CAROL) == []
    assert await bookmarks.bookmarked_tweet_ids(ALICE, [OLD, NEW]) == {OLD}


async def test_a_deleted_tweet_leaves_everyones_bookmarks(bookmarks: BookmarkStore) -> None:
    for user_id in (ALICE, BOB, CAROL):
        await bookmark(bookmarks, user_id, OLD)
    kept = await bookmark(bookmarks, BOB, NEW)
    assert await bookmarks.remove_tweet_everywhere(OLD) == 3
    assert await tweet_ids(bookmarks, ALICE) == []
    assert await bookmarks.bookmarks_of(BOB, 10) == [kept]
    assert await bookmarks.bookmarked_tweet_ids(CAROL, [OLD]) == set()
    assert await bookmarks.remove_tweet_everywhere(OLD) == 0
