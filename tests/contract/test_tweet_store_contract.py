"""The TweetStore contract (docstore/port.py): every adapter must pass these tests.

Tweets get real snowflake ids whose timestamp is their ``created_at_ms``, so an
adapter may use either the record's time or its own clock for key expiry.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from core.ids import SnowflakeGenerator, id_timestamp_ms
from core.models import IdempotencyKey, LikeEdge, TweetRecord
from docstore.port import IDEMPOTENCY_TTL_MS, IdempotencyConflictError, TweetStore

IDS = SnowflakeGenerator(worker_id=11)
ALICE, BOB, CAROL = 101, 202, 303


def tweet(
    author: int = ALICE, text: str = "hello", snowflake: int | None = None, **fields: object
) -> TweetRecord:
    tweet_id = IDS.next_id() if snowflake is None else snowflake
    return TweetRecord(
        id=tweet_id,
        author_id=author,
        text=text,
        created_at_ms=id_timestamp_ms(tweet_id),
        **fields,  # type: ignore[arg-type]
    )


def id_at(unix_ms: int) -> int:
    return SnowflakeGenerator(worker_id=12, clock_ms=lambda: unix_ms).next_id()


def key(user: int = ALICE, name: str = "k-1", fingerprint: str = "fp-a") -> IdempotencyKey:
    return IdempotencyKey(user, name, fingerprint)


async def insert(store: TweetStore, *records: TweetRecord) -> list[TweetRecord]:
    for record in records:
        stored, created = await store.insert_tweet(record)
        assert (stored, created) == (record, True)
    return list(records)


# --- insert / get / delete ---------------------------------------------------------


async def test_ping_answers_when_the_store_is_up(tweet_store: TweetStore) -> None:
    await tweet_store.ping()


async def test_an_inserted_tweet_reads_back_with_every_field(tweet_store: TweetStore) -> None:
    root = tweet(text="root #a")
    full = tweet(
        author=BOB,
        text="réponse 🐦\nwith two lines",
        like_count=3,
        retweet_count=2,
        reply_count=1,
        in_reply_to_id=root.id,
        conversation_id=root.id,
        quote_of_id=root.id,
        retweet_of_id=None,
        hashtags=("chirp", "café"),
    )
    await insert(tweet_store, root, full)
    found = await tweet_store.get_tweets([root.id, full.id])
    assert found == {root.id: root, full.id: full}
    assert found[full.id].hashtags == ("chirp", "café")
    assert found[root.id].hashtags == ()


async def test_get_tweets_omits_missing_ids(tweet_store: TweetStore) -> None:
    [a] = await insert(tweet_store, tweet())
    assert await tweet_store.get_tweets([a.id, 12345, a.id]) == {a.id: a}
    assert await tweet_store.get_tweets([]) == {}


async def test_delete_returns_the_deleted_tweet_once(tweet_store: TweetStore) -> None:
    a, b = await insert(tweet_store, tweet(), tweet())
    assert await tweet_store.delete_tweet(a.id) == a
    assert await tweet_store.delete_tweet(a.id) is None
    assert await tweet_store.delete_tweet(424242) is None
    assert await tweet_store.get_tweets([a.id, b.id]) == {b.id: b}


async def test_delete_removes_the_tweets_likes(tweet_store: TweetStore) -> None:
    a, b = await insert(tweet_store, tweet(), tweet())
    await tweet_store.like(BOB, a.id, IDS.next_id())
    await tweet_store.like(BOB, b.id, IDS.next_id())
    await tweet_store.like(CAROL, a.id, IDS.next_id())
    await tweet_store.delete_tweet(a.id)

    assert await tweet_store.liked_tweet_ids(BOB, [a.id, b.id]) == {b.id}
    assert [e.tweet_id for e in await tweet_store.likes_by_user(BOB, 10)] == [b.id]
    assert await tweet_store.likes_by_user(CAROL, 10) == []
    assert await tweet_store.like(BOB, a.id, IDS.next_id()) is None
    assert await tweet_store.unlike(BOB, a.id) is None


# --- idempotency -------------------------------------------------------------------


async def test_a_repeated_request_returns_the_first_tweet_and_stores_nothing(
    tweet_store: TweetStore,
) -> None:
    first = tweet(text="once")
    assert await tweet_store.insert_tweet(first, key()) == (first, True)
    retry = tweet(text="once")
    assert await tweet_store.insert_tweet(retry, key()) == (first, False)
    assert await tweet_store.get_tweets([retry.id]) == {}
    assert await tweet_store.count_by_authors([ALICE]) == {ALICE: 1}


async def test_a_key_reused_for_a_different_request_conflicts(tweet_store: TweetStore) -> None:
    first = tweet(text="one thing")
    await tweet_store.insert_tweet(first, key(fingerprint="fp-one"))
    other = tweet(text="another thing")
    with pytest.raises(IdempotencyConflictError):
        await tweet_store.insert_tweet(other, key(fingerprint="fp-two"))
    assert await tweet_store.get_tweets([other.id]) == {}
    assert await tweet_store.tweets_by_authors([ALICE], 10) == [first]


async def test_keys_belong_to_one_user(tweet_store: TweetStore) -> None:
    mine, theirs = tweet(author=ALICE), tweet(author=BOB)
    assert await tweet_store.insert_tweet(mine, key(user=ALICE)) == (mine, True)
    assert await tweet_store.insert_tweet(theirs, key(user=BOB)) == (theirs, True)
    other_fp = tweet(author=CAROL)
    assert await tweet_store.insert_tweet(other_fp, key(user=CAROL, fingerprint="x")) == (
        other_fp,
        True,
    )


async def test_different_keys_of_one_user_are_independent(tweet_store: TweetStore) -> None:
    a, b = tweet(), tweet()
    assert await tweet_store.insert_tweet(a, key(name="k-a")) == (a, True)
    assert await tweet_store.insert_tweet(b, key(name="k-b")) == (b, True)


async def test_inserting_without_a_key_never_deduplicates(tweet_store: TweetStore) -> None:
    a, b = tweet(text="same"), tweet(text="same")
    await insert(tweet_store, a, b)
    assert await tweet_store.count_by_authors([ALICE]) == {ALICE: 2}


async def test_a_retry_after_the_first_tweet_was_deleted_is_none_false(
    tweet_store: TweetStore,
) -> None:
    first = tweet()
    await tweet_store.insert_tweet(first, key())
    await tweet_store.delete_tweet(first.id)
    retry = tweet()
    assert await tweet_store.insert_tweet(retry, key()) == (None, False)
    assert await tweet_store.get_tweets([retry.id]) == {}


async def test_a_key_is_remembered_for_a_day_then_forgotten(tweet_store: TweetStore) -> None:
    now = int(time.time() * 1000)
    old = tweet(snowflake=id_at(now - IDEMPOTENCY_TTL_MS - 60_000))  # 24h and a minute ago
    await tweet_store.insert_tweet(old, key(fingerprint="fp-old"))
    fresh = tweet(snowflake=id_at(now))
    # expired: neither deduplicated nor a conflict, though the fingerprint differs
    assert await tweet_store.insert_tweet(fresh, key(fingerprint="fp-new")) == (fresh, True)
    retry = tweet(snowflake=id_at(now + 1))
    assert await tweet_store.insert_tweet(retry, key(fingerprint="fp-new")) == (fresh, False)


async def test_a_key_within_the_day_is_still_remembered(tweet_store: TweetStore) -> None:
    now = int(time.time() * 1000)
    earlier = tweet(snowflake=id_at(now - IDEMPOTENCY_TTL_MS + 3_600_000))  # 23h ago
    await tweet_store.insert_tweet(earlier, key())
    retry = tweet(snowflake=id_at(now))
    assert await tweet_store.insert_tweet(retry, key()) == (earlier, False)


async def test_concurrent_inserts_with_one_key_store_exactly_one(tweet_store: TweetStore) -> None:
    attempts = [tweet(text="race") for _ in range(20)]
    results = await asyncio.gather(*(tweet_store.insert_tweet(t, key()) for t in attempts))
    created = [stored for stored, was_new in results if was_new]
    assert len(created) == 1
    assert {stored for stored, _ in results} == {created[0]}
    assert await tweet_store.count_by_authors([ALICE]) == {ALICE: 1}


# --- tweets by authors ---------------------------------------------------------------


async def test_tweets_by_authors_are_newest_first_and_only_those_authors(
    tweet_store: TweetStore,
) -> None:
    records = [tweet(author=[ALICE, BOB, CAROL][n % 3], text=f"t{n}") for n in range(9)]
    await insert(tweet_store, *records)
    got = await tweet_store.tweets_by_authors([ALICE, BOB], 100)
    expected = sorted((r for r in records if r.author_id != CAROL), key=lambda r: -r.id)
    assert got == expected
    assert await tweet_store.tweets_by_authors([424242], 10) == []
    assert await tweet_store.tweets_by_authors([], 10) == []


async def test_tweets_by_authors_limit_and_before_id(tweet_store: TweetStore) -> None:
    records = await insert(tweet_store, *(tweet(text=f"t{n}") for n in range(10)))
    newest_first = records[::-1]
    assert await tweet_store.tweets_by_authors([ALICE], 3) == newest_first[:3]
    assert (
        await tweet_store.tweets_by_authors([ALICE], 3, before_id=newest_first[2].id)
        == (newest_first[3:6])
    )
    assert await tweet_store.tweets_by_authors([ALICE], 100, before_id=records[0].id) == []
    assert await tweet_store.tweets_by_authors([ALICE], 0) == []
    assert await tweet_store.tweets_by_authors([ALICE, ALICE], 100) == newest_first


async def test_paging_by_before_id_yields_every_tweet_once(tweet_store: TweetStore) -> None:
    records = await insert(tweet_store, *(tweet(author=[ALICE, BOB][n % 2]) for n in range(23)))
    seen: list[TweetRecord] = []
    before: int | None = None
    while page := await tweet_store.tweets_by_authors([ALICE, BOB], 5, before):
        seen.extend(page)
        before = page[-1].id
    assert seen == records[::-1]


async def test_replies_can_be_left_out(tweet_store: TweetStore) -> None:
    root = tweet(author=BOB)
    reply = tweet(author=ALICE, in_reply_to_id=root.id, conversation_id=root.id)
    own = tweet(author=ALICE)
    await insert(tweet_store, root, reply, own)
    assert await tweet_store.tweets_by_authors([ALICE], 10) == [own, reply]
    assert await tweet_store.tweets_by_authors([ALICE], 10, include_replies=True) == [own, reply]
    assert await tweet_store.tweets_by_authors([ALICE], 10, include_replies=False) == [own]


async def test_count_by_authors_counts_each_author_including_zero(tweet_store: TweetStore) -> None:
    await insert(tweet_store, tweet(ALICE), tweet(ALICE), tweet(BOB))
    reply = tweet(ALICE, in_reply_to_id=1)
    await insert(tweet_store, reply)
    assert await tweet_store.count_by_authors([ALICE, BOB, CAROL]) == {ALICE: 3, BOB: 1, CAROL: 0}
    await tweet_store.delete_tweet(reply.id)
    assert await tweet_store.count_by_authors([ALICE]) == {ALICE: 2}
    assert await tweet_store.count_by_authors([]) == {}


# --- likes -------------------------------------------------------------------


async def like_count(store: TweetStore, tweet_id: int) -> int:
    return (await store.get_tweets([tweet_id]))[tweet_id].like_count


async def test_like_is_true_when_new_false_when_repeated_none_when_missing(
    tweet_store: TweetStore,
) -> None:
    [a] = await insert(tweet_store, tweet())
    assert await tweet_store.like(BOB, a.id, IDS.next_id()) is True
    assert await tweet_store.like(BOB, a.id, IDS.next_id()) is False
    assert await tweet_store.like(BOB, 424242, IDS.next_id()) is None
    assert await like_count(tweet_store, a.id) == 1


async def test_unlike_is_true_when_removed_false_when_absent_none_when_missing(
    tweet_store: TweetStore,
) -> None:
    [a] = await insert(tweet_store, tweet())
    assert await tweet_store.unlike(BOB, a.id) is False
    assert await like_count(tweet_store, a.id) == 0
    await tweet_store.like(BOB, a.id, IDS.next_id())
    await tweet_store.like(CAROL, a.id, IDS.next_id())
    assert await tweet_store.unlike(BOB, a.id) is True
    assert await tweet_store.unlike(BOB, a.id) is False
    assert await tweet_store.unlike(BOB, 424242) is None
    assert await like_count(tweet_store, a.id) == 1
    assert await tweet_store.like(BOB, a.id, IDS.next_id()) is True  # can like again
    assert await like_count(tweet_store, a.id) == 2


async def test_concurrent_likes_by_different_users_all_count(tweet_store: TweetStore) -> None:
    [a] = await insert(tweet_store, tweet())
    results = await asyncio.gather(
        *(tweet_store.like(1000 + n, a.id, IDS.next_id()) for n in range(20))
    )
    assert results == [True] * 20
    assert await like_count(tweet_store, a.id) == 20


async def test_concurrent_likes_by_one_user_count_once(tweet_store: TweetStore) -> None:
    [a] = await insert(tweet_store, tweet())
    results = await asyncio.gather(*(tweet_store.like(BOB, a.id, IDS.next_id()) for _ in range(20)))
    assert sorted(results, key=bool) == [False] * 19 + [True]
    assert await like_count(tweet_store, a.id) == 1
    unliked = await asyncio.gather(*(tweet_store.unlike(BOB, a.id) for _ in range(20)))
    assert sorted(unliked, key=bool) == [False] * 19 + [True]
    assert await like_count(tweet_store, a.id) == 0


async def test_liked_tweet_ids_answers_for_many_tweets(tweet_store: TweetStore) -> None:
    a, b, c = await insert(tweet_store, tweet(), tweet(), tweet())
    await tweet_store.like(BOB, a.id, IDS.next_id())
    await tweet_store.like(BOB, c.id, IDS.next_id())
    await tweet_store.like(CAROL, b.id, IDS.next_id())
    assert await tweet_store.liked_tweet_ids(BOB, [a.id, b.id, c.id, 424242]) == {a.id, c.id}
    assert await tweet_store.liked_tweet_ids(CAROL, [a.id, c.id]) == set()
    assert await tweet_store.liked_tweet_ids(BOB, []) == set()


async def test_likes_by_user_are_most_recent_like_first_and_page(tweet_store: TweetStore) -> None:
    records = await insert(tweet_store, *(tweet() for _ in range(8)))
    order = [records[n] for n in (3, 0, 7, 5, 1, 6, 2, 4)]  # liked in this order
    like_ids = []
    for record in order:
        like_id = IDS.next_id()
        like_ids.append(like_id)
        await tweet_store.like(BOB, record.id, like_id)
    await tweet_store.like(CAROL, records[0].id, IDS.next_id())

    expected = [LikeEdge(lid, r.id) for lid, r in zip(like_ids, order, strict=True)][::-1]
    assert await tweet_store.likes_by_user(BOB, 100) == expected
    assert await tweet_store.likes_by_user(BOB, 3) == expected[:3]
    assert await tweet_store.likes_by_user(BOB, 3, expected[2].like_id) == expected[3:6]

    seen: list[LikeEdge] = []
    before: int | None = None
    while page := await tweet_store.likes_by_user(BOB, 3, before):
        seen.extend(page)
        before = page[-1].like_id
    assert seen == expected
    assert await tweet_store.likes_by_user(424242, 10) == []
    assert await tweet_store.likes_by_user(BOB, 0) == []


async def test_a_repeated_like_keeps_its_first_like_time(tweet_store: TweetStore) -> None:
    a, b = await insert(tweet_store, tweet(), tweet())
    first, second = IDS.next_id(), IDS.next_id()
    await tweet_store.like(BOB, a.id, first)
    await tweet_store.like(BOB, b.id, second)
    await tweet_store.like(BOB, a.id, IDS.next_id())  # already liked: changes nothing
    assert await tweet_store.likes_by_user(BOB, 10) == [
        LikeEdge(second, b.id),
        LikeEdge(first, a.id),
    ]


# --- retweets ----------------------------------------------------------------


def retweet_of(original: TweetRecord, author: int = BOB) -> TweetRecord:
    return tweet(author=author, text="", retweet_of_id=original.id)


async def retweet_count(store: TweetStore, tweet_id: int) -> int:
    return (await store.get_tweets([tweet_id]))[tweet_id].retweet_count


async def test_a_new_retweet_is_stored_and_counted_on_the_original(
    tweet_store: TweetStore,
) -> None:
    [original] = await insert(tweet_store, tweet(author=ALICE))
    rt = retweet_of(original, BOB)
    assert await tweet_store.retweet(rt) == (rt, True)
    assert await tweet_store.get_tweets([rt.id]) == {rt.id: rt}
    assert await retweet_count(tweet_store, original.id) == 1
    assert (await tweet_store.get_tweets([original.id]))[original.id].like_count == 0
    assert await tweet_store.tweets_by_authors([BOB], 10) == [rt]
    assert await tweet_store.count_by_authors([BOB]) == {BOB: 1}


async def test_retweeting_again_returns_the_existing_retweet(tweet_store: TweetStore) -> None:
    [original] = await insert(tweet_store, tweet(author=ALICE))
    first = retweet_of(original, BOB)
    await tweet_store.retweet(first)
    again = retweet_of(original, BOB)
    assert await tweet_store.retweet(again) == (first, False)
    assert await tweet_store.get_tweets([again.id]) == {}  # nothing new stored
    assert await retweet_count(tweet_store, original.id) == 1
    assert await tweet_store.count_by_authors([BOB]) == {BOB: 1}

    other = retweet_of(original, CAROL)  # a different author's retweet is new
    assert await tweet_store.retweet(other) == (other, True)
    assert await retweet_count(tweet_store, original.id) == 2


async def test_retweeting_a_missing_original_stores_nothing(tweet_store: TweetStore) -> None:
    [other] = await insert(tweet_store, tweet(author=ALICE))
    await tweet_store.mark_fanned_out([other.id])
    ghost = tweet(author=ALICE)  # never inserted
    rt = retweet_of(ghost, BOB)
    assert await tweet_store.retweet(rt) == (None, False)
    assert await tweet_store.get_tweets([rt.id]) == {}
    assert await tweet_store.retweeted_ids(BOB, [ghost.id]) == set()
    assert await tweet_store.count_by_authors([BOB]) == {BOB: 0}
    assert await tweet_store.pending_fanout(MAX_ID, 10) == []

    deleted = tweet(author=ALICE)
    await insert(tweet_store, deleted)
    await tweet_store.delete_tweet(deleted.id)
    assert await tweet_store.retweet(retweet_of(deleted, BOB)) == (None, False)
    # once the original exists, the same author can retweet it
    await insert(tweet_store, ghost)
    later = retweet_of(ghost, BOB)
    assert await tweet_store.retweet(later) == (later, True)
    assert await retweet_count(tweet_store, ghost.id) == 1


async def test_concurrent_retweets_by_different_users_all_count(tweet_store: TweetStore) -> None:
    [original] = await insert(tweet_store, tweet(author=ALICE))
    retweets = [retweet_of(original, 1000 + n) for n in range(10)]
    results = await asyncio.gather(*(tweet_store.retweet(rt) for rt in retweets))
    assert results == [(rt, True) for rt in retweets]
    assert await retweet_count(tweet_store, original.id) == 10
    for n in range(10):
        assert await tweet_store.retweeted_ids(1000 + n, [original.id]) == {original.id}


async def test_concurrent_retweets_by_one_user_count_once(tweet_store: TweetStore) -> None:
    [original] = await insert(tweet_store, tweet(author=ALICE))
    attempts = [retweet_of(original, BOB) for _ in range(10)]
    results = await asyncio.gather(*(tweet_store.retweet(rt) for rt in attempts))
    created = [stored for stored, was_new in results if was_new]
    assert len(created) == 1
    assert created[0] in attempts
    assert [stored for stored, _ in results] == [created[0]] * 10
    assert await retweet_count(tweet_store, original.id) == 1
    assert await tweet_store.count_by_authors([BOB]) == {BOB: 1}
    assert await tweet_store.tweets_by_authors([BOB], 20) == created


async def test_undo_retweet_deletes_and_uncounts_it(tweet_store: TweetStore) -> None:
    [original] = await insert(tweet_store, tweet(author=ALICE))
    mine, theirs = retweet_of(original, BOB), retweet_of(original, CAROL)
    await tweet_store.retweet(mine)
    await tweet_store.retweet(theirs)
    assert await tweet_store.undo_retweet(BOB, original.id) == mine
    assert await tweet_store.get_tweets([mine.id]) == {}
    assert await retweet_count(tweet_store, original.id) == 1
    assert await tweet_store.retweeted_ids(BOB, [original.id]) == set()
    assert await tweet_store.retweeted_ids(CAROL, [original.id]) == {original.id}

    assert await tweet_store.undo_retweet(BOB, original.id) is None  # none any more
    assert await tweet_store.undo_retweet(BOB, 424242) is None
    assert await tweet_store.undo_retweet(ALICE, original.id) is None
    assert await retweet_count(tweet_store, original.id) == 1

    again = retweet_of(original, BOB)  # can retweet again
    assert await tweet_store.retweet(again) == (again, True)
    assert await retweet_count(tweet_store, original.id) == 2


async def test_concurrent_undo_retweets_uncount_once(tweet_store: TweetStore) -> None:
    [original] = await insert(tweet_store, tweet(author=ALICE))
    rt = retweet_of(original, BOB)
    await tweet_store.retweet(rt)
    await tweet_store.retweet(retweet_of(original, CAROL))
    results = await asyncio.gather(*(tweet_store.undo_retweet(BOB, original.id) for _ in range(5)))
    assert [r for r in results if r is not None] == [rt]
    assert await retweet_count(tweet_store, original.id) == 1


async def test_deleting_a_retweet_uncounts_it(tweet_store: TweetStore) -> None:
    [original] = await insert(tweet_store, tweet(author=ALICE))
    rt = retweet_of(original, BOB)
    await tweet_store.retweet(rt)
    await tweet_store.retweet(retweet_of(original, CAROL))
    assert await tweet_store.delete_tweet(rt.id) == rt
    assert await retweet_count(tweet_store, original.id) == 1
    assert await tweet_store.retweeted_ids(BOB, [original.id]) == set()
    assert await tweet_store.undo_retweet(BOB, original.id) is None
    assert await tweet_store.delete_tweet(rt.id) is None
    assert await retweet_count(tweet_store, original.id) == 1
    again = retweet_of(original, BOB)
    assert await tweet_store.retweet(again) == (again, True)
    assert await retweet_count(tweet_store, original.id) == 2


async def test_undo_retweet_removes_the_retweets_likes(tweet_store: TweetStore) -> None:
    [original] = await insert(tweet_store, tweet(author=ALICE))
    rt = retweet_of(original, BOB)
    await tweet_store.retweet(rt)
    await tweet_store.like(CAROL, rt.id, IDS.next_id())
    await tweet_store.like(CAROL, original.id, IDS.next_id())
    undone = await tweet_store.undo_retweet(BOB, original.id)
    assert undone is not None
    assert (undone.id, undone.like_count) == (rt.id, 1)  # as it was when deleted
    assert await tweet_store.liked_tweet_ids(CAROL, [rt.id, original.id]) == {original.id}
    assert [e.tweet_id for e in await tweet_store.likes_by_user(CAROL, 10)] == [original.id]


async def test_a_retweet_outlives_its_deleted_original(tweet_store: TweetStore) -> None:
    a, b = await insert(tweet_store, tweet(author=ALICE), tweet(author=ALICE))
    rt_a, rt_b = retweet_of(a, BOB), retweet_of(b, BOB)
    await tweet_store.retweet(rt_a)
    await tweet_store.retweet(rt_b)
    await tweet_store.delete_tweet(a.id)
    await tweet_store.delete_tweet(b.id)
    # readers filter retweets of deleted tweets; the retweets can still be taken back
    assert await tweet_store.get_tweets([rt_a.id, rt_b.id]) == {rt_a.id: rt_a, rt_b.id: rt_b}
    assert await tweet_store.undo_retweet(BOB, a.id) == rt_a
    assert await tweet_store.delete_tweet(rt_b.id) == rt_b
    assert await tweet_store.retweeted_ids(BOB, [a.id, b.id]) == set()


async def test_retweeted_ids_answers_for_many_tweets(tweet_store: TweetStore) -> None:
    a, b, c = await insert(tweet_store, tweet(ALICE), tweet(ALICE), tweet(CAROL))
    await tweet_store.retweet(retweet_of(a, BOB))
    await tweet_store.retweet(retweet_of(c, BOB))
    await tweet_store.retweet(retweet_of(b, CAROL))
    assert await tweet_store.retweeted_ids(BOB, [a.id, b.id, c.id, 424242, a.id]) == {a.id, c.id}
    assert await tweet_store.retweeted_ids(CAROL, [a.id, b.id, c.id]) == {b.id}
    assert await tweet_store.retweeted_ids(ALICE, [a.id, b.id, c.id]) == set()
    assert await tweet_store.retweeted_ids(BOB, []) == set()
    await tweet_store.like(BOB, b.id, IDS.next_id())  # a like is not a retweet
    assert await tweet_store.retweeted_ids(BOB, [b.id]) == set()


# --- fan-out bookkeeping ----------------------------------------------------------

MAX_ID = 2**63 - 1


async def test_new_tweets_are_pending_fanout_oldest_first(tweet_store: TweetStore) -> None:
    records = await insert(tweet_store, *(tweet(author=[ALICE, BOB][n % 2]) for n in range(6)))
    assert await tweet_store.pending_fanout(MAX_ID, 100) == records
    assert await tweet_store.pending_fanout(MAX_ID, 2) == records[:2]
    assert await tweet_store.pending_fanout(records[3].id, 100) == records[:3]  # exclusive
    assert await tweet_store.pending_fanout(records[0].id, 100) == []
    assert await tweet_store.pending_fanout(MAX_ID, 0) == []


async def test_mark_fanned_out_removes_tweets_from_pending(tweet_store: TweetStore) -> None:
    records = await insert(tweet_store, *(tweet() for _ in range(5)))
    await tweet_store.mark_fanned_out([records[1].id, records[3].id])
    assert await tweet_store.pending_fanout(MAX_ID, 100) == [records[0], records[2], records[4]]
    await tweet_store.mark_fanned_out([records[1].id, records[3].id])  # idempotent
    await tweet_store.mark_fanned_out([records[3].id, records[3].id, 424242])
    await tweet_store.mark_fanned_out([])
    assert await tweet_store.pending_fanout(MAX_ID, 100) == [records[0], records[2], records[4]]
    assert await tweet_store.pending_fanout(MAX_ID, 2) == [records[0], records[2]]
    # the tweets themselves are unchanged
    assert await tweet_store.get_tweets([r.id for r in records]) == {r.id: r for r in records}
    await tweet_store.mark_fanned_out([r.id for r in records])
    assert await tweet_store.pending_fanout(MAX_ID, 100) == []


async def test_deleted_and_deduplicated_tweets_are_not_pending(tweet_store: TweetStore) -> None:
    a, b = await insert(tweet_store, tweet(), tweet())
    await tweet_store.delete_tweet(a.id)
    first = tweet()
    await tweet_store.insert_tweet(first, key())
    await tweet_store.insert_tweet(tweet(), key())  # a retry: stores nothing
    assert await tweet_store.pending_fanout(MAX_ID, 100) == [b, first]


async def test_retweets_are_pending_fanout_too(tweet_store: TweetStore) -> None:
    [original] = await insert(tweet_store, tweet(author=ALICE))
    await tweet_store.mark_fanned_out([original.id])
    rt = retweet_of(original, BOB)
    await tweet_store.retweet(rt)
    await tweet_store.retweet(retweet_of(original, BOB))  # existing: nothing new pending
    later = await insert(tweet_store, tweet(author=CAROL))
    pending = await tweet_store.pending_fanout(MAX_ID, 100)
    assert pending == [rt, *later]
    # the original's count changed after the retweet record was taken: still the record
    assert pending[0].retweet_of_id == original.id
    await tweet_store.mark_fanned_out([rt.id])
    assert await tweet_store.pending_fanout(MAX_ID, 100) == later
    await tweet_store.undo_retweet(BOB, original.id)
    assert await tweet_store.pending_fanout(MAX_ID, 100) == later
