"""The moments port: every adapter keeps moments' tweets alike, in the order added.

Moment ids are snowflakes made as the service makes them, so a later moment has a
higher id. Tweet ids are plain numbers: a moment's order is the order of adding,
never the tweets' own.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from core.ids import SnowflakeGenerator
from core.models import MomentEntry, MomentRecord
from docstore.moments import MomentStore

ALICE, BOB = 1, 2
T0 = 1_790_000_000_000  # unix ms
A, B, C, D = 500, 400, 300, 200  # tweets, named in the order the tests add them

new_id = SnowflakeGenerator(worker_id=7).next_id


def moment(owner_id: int = ALICE, title: str = "Launch day") -> MomentRecord:
    return MomentRecord(
        id=new_id(),
        owner_id=owner_id,
        title=title,
        description=f"{title}, as it happened",
        created_at_ms=T0,
    )


async def create(
    store: MomentStore, owner_id: int = ALICE, tweet_ids: tuple[int, ...] = ()
) -> MomentRecord:
    return await store.create_moment(moment(owner_id), tweet_ids)


async def tweets_of(store: MomentStore, moment_id: int) -> list[int]:
    return [entry.tweet_id for entry in await store.moment_tweets(moment_id, 1000)]


async def count_of(store: MomentStore, moment_id: int) -> int:
    return (await store.get_moments([moment_id]))[moment_id].tweet_count


async def add(store: MomentStore, moment_id: int, tweet_id: int) -> MomentRecord:
    updated = await store.add_tweet(moment_id, tweet_id)
    assert updated is not None, f"moment {moment_id} is missing"
    return updated


# --- the record -----------------------------------------------------------------------


async def test_ping_answers_when_the_store_is_up(moments: MomentStore) -> None:
    await moments.ping()


async def test_create_returns_the_moment_as_stored_and_it_is_found_by_id(
    moments: MomentStore,
) -> None:
    made = moment()
    stored = await moments.create_moment(replace(made, tweet_count=99))  # count: the store's
    assert stored == made
    assert await moments.get_moments([made.id, 12345]) == {made.id: made}
    assert await moments.get_moments([]) == {}
    assert await moments.moment_tweets(made.id, 10) == []


async def test_a_moment_created_with_tweets_holds_them_in_that_order_once_each(
    moments: MomentStore,
) -> None:
    stored = await create(moments, tweet_ids=(C, A, B, A))
    assert stored.tweet_count == 3
    assert await tweets_of(moments, stored.id) == [C, A, B]
    assert await count_of(moments, stored.id) == 3


async def test_moments_of_a_user_are_newest_first_in_pages_and_theirs_only(
    moments: MomentStore,
) -> None:
    made = [await create(moments) for _ in range(5)]
    bobs = await create(moments, owner_id=BOB)
    newest_first = made[::-1]
    first = await moments.moments_of(ALICE, 2)
    assert first == newest_first[:2]
    rest = await moments.moments_of(ALICE, 10, before_id=first[-1].id)
    assert rest == newest_first[2:]
    assert await moments.moments_of(ALICE, 10, before_id=made[0].id) == []
    assert await moments.moments_of(ALICE, 0) == []
    assert await moments.moments_of(BOB, 10) == [bobs]


# --- adding and removing ----------------------------------------------------------------


async def test_tweets_are_read_first_added_first_and_counted(moments: MomentStore) -> None:
    made = await create(moments)
    assert (await add(moments, made.id, A)).tweet_count == 1
    assert (await add(moments, made.id, B)).tweet_count == 2
    updated = await add(moments, made.id, C)
    assert updated == replace(made, tweet_count=3)
    assert await moments.moment_tweets(made.id, 10) == [
        MomentEntry(1, A),
        MomentEntry(2, B),
        MomentEntry(3, C),
    ]


async def test_adding_a_tweet_twice_keeps_its_first_position(moments: MomentStore) -> None:
    made = await create(moments, tweet_ids=(A, B))
    assert (await add(moments, made.id, A)).tweet_count == 2
    await add(moments, made.id, C)
    assert await tweets_of(moments, made.id) == [A, B, C]
    assert await count_of(moments, made.id) == 3


async def test_pages_continue_after_a_position(moments: MomentStore) -> None:
    made = await create(moments)
    added = list(range(1, 13))  # twelve: positions pass from one digit to two
    for tweet_id in added:
        await add(moments, made.id, tweet_id)
    first = await moments.moment_tweets(made.id, 5)
    assert [e.tweet_id for e in first] == added[:5]
    second = await moments.moment_tweets(made.id, 5, after_position=first[-1].position)
    assert [e.tweet_id for e in second] == added[5:10]
    rest = await moments.moment_tweets(made.id, 5, after_position=second[-1].position)
    assert [e.tweet_id for e in rest] == added[10:]
    assert await moments.moment_tweets(made.id, 5, after_position=rest[-1].position) == []
    assert await moments.moment_tweets(made.id, 0) == []


async def test_removing_a_tweet_keeps_the_others_in_order(moments: MomentStore) -> None:
    made = await create(moments, tweet_ids=(A, B, C))
    updated = await moments.remove_tweet(made.id, B)
    assert updated == replace(made, tweet_count=2)
    assert await tweets_of(moments, made.id) == [A, C]
    # removing a tweet that is not there changes nothing
    assert await moments.remove_tweet(made.id, B) == updated
    assert await moments.remove_tweet(made.id, D) == updated


async def test_a_tweet_added_again_after_its_removal_goes_last(moments: MomentStore) -> None:
    made = await create(moments, tweet_ids=(A, B, C))
    await moments.remove_tweet(made.id, A)
    await add(moments, made.id, A)
    entries = await moments.moment_tweets(made.id, 10)
    assert [e.tweet_id for e in entries] == [B, C, A]
    assert len({e.position for e in entries}) == 3
    assert await count_of(moments, made.id) == 3


async def test_changes_to_a_missing_moment_answer_none(moments: MomentStore) -> None:
    missing = new_id()
    assert await moments.add_tweet(missing, A) is None
    assert await moments.remove_tweet(missing, A) is None
    assert await moments.delete_moment(missing) is None
    assert await moments.moment_tweets(missing, 10) == []


async def test_moments_are_separate(moments: MomentStore) -> None:
    first = await create(moments, tweet_ids=(A, B))
    second = await create(moments, owner_id=BOB, tweet_ids=(B, A))
    await moments.remove_tweet(first.id, A)
    await add(moments, second.id, C)
    assert await tweets_of(moments, first.id) == [B]
    assert await tweets_of(moments, second.id) == [B, A, C]
    assert (await count_of(moments, first.id), await count_of(moments, second.id)) == (1, 3)


# --- deleting -------------------------------------------------------------------------


async def test_deleting_a_moment_deletes_its_entries(moments: MomentStore) -> None:
    made = await create(moments, tweet_ids=(A, B, C))
    kept = await create(moments, tweet_ids=(A,))
    assert await moments.delete_moment(made.id) == made
    assert await moments.get_moments([made.id]) == {}
    assert await moments.moment_tweets(made.id, 10) == []
    assert await moments.moments_of(ALICE, 10) == [kept]
    assert await moments.delete_moment(made.id) is None  # gone already
    assert await moments.add_tweet(made.id, D) is None  # nothing joins a deleted moment
    assert await moments.moment_tweets(made.id, 10) == []
    # the tweets' other moments are untouched, and no longer count the deleted one
    assert await tweets_of(moments, kept.id) == [A]
    assert await moments.remove_tweet_everywhere(A) == 1


async def test_a_deleted_tweet_leaves_every_moment(moments: MomentStore) -> None:
    holding = [
        await create(moments, tweet_ids=(A, B, C)),
        await create(moments, tweet_ids=(B,)),
        await create(moments, owner_id=BOB, tweet_ids=(C, B, A)),
    ]
    other = await create(moments, tweet_ids=(A, C))
    assert await moments.remove_tweet_everywhere(B) == 3
    assert [await tweets_of(moments, m.id) for m in holding] == [[A, C], [], [C, A]]
    assert [await count_of(moments, m.id) for m in holding] == [2, 0, 2]
    assert await tweets_of(moments, other.id) == [A, C]
    assert await count_of(moments, other.id) == 2
    assert await moments.remove_tweet_everywhere(B) == 0


# --- concurrency ----------------------------------------------------------------------


async def test_concurrent_adds_of_different_tweets_are_all_counted_each_in_its_own_place(
    moments: MomentStore,
) -> None:
    made = await create(moments)
    tweets = list(range(1, 31))
    await asyncio.gather(*(moments.add_tweet(made.id, t) for t in tweets))
    entries = await moments.moment_tweets(made.id, 100)
    assert sorted(e.tweet_id for e in entries) == tweets
    assert sorted(e.position for e in entries) == list(range(1, 31))
    assert await count_of(moments, made.id) == 30


async def test_concurrent_adds_of_one_tweet_store_it_once(moments: MomentStore) -> None:
    made = await create(moments)
    results = await asyncio.gather(*(moments.add_tweet(made.id, A) for _ in range(20)))
    assert {r.tweet_count if r else None for r in results} == {1}
    assert await moments.moment_tweets(made.id, 10) == [MomentEntry(1, A)]


async def test_the_count_stays_exact_under_concurrent_adds_and_removes(
    moments: MomentStore,
) -> None:
    made = await create(moments, tweet_ids=tuple(range(1, 21)))
    removals = [moments.remove_tweet(made.id, t) for t in range(1, 21, 2)]  # the odd ones
    repeats = [moments.remove_tweet(made.id, t) for t in range(1, 21, 2)]  # twice each
    additions = [moments.add_tweet(made.id, t) for t in range(21, 31)]
    await asyncio.gather(*removals, *additions, *repeats)
    expected = [*range(2, 21, 2), *range(21, 31)]
    assert sorted(await tweets_of(moments, made.id)) == expected
    assert await count_of(moments, made.id) == len(expected)


async def test_the_count_stays_exact_when_a_tweet_leaves_everywhere_during_adds(
    moments: MomentStore,
) -> None:
    made = [await create(moments, tweet_ids=(A,)) for _ in range(5)]
    await asyncio.gather(
        moments.remove_tweet_everywhere(A),
        *(moments.add_tweet(m.id, B) for m in made),
        *(moments.remove_tweet(m.id, A) for m in made[:2]),
    )
    for m in made:
        assert await tweets_of(moments, m.id) == [B]
        assert await count_of(moments, m.id) == 1
