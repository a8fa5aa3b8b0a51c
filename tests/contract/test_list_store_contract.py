"""The lists port: every adapter keeps lists' members alike, counted and capped exactly.

List and membership ids are snowflakes made as the service makes them, so a later
list, or a later member, has a higher id. A test of the cap gives the store a small
one (``@pytest.mark.parametrize("list_cap", [CAP])`` sets the ``lists`` fixture's, and
the test reads it as ``list_cap``);
``test_the_real_cap_is_5000_members`` checks the real one on the embedded adapter.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from core.ids import SnowflakeGenerator
from core.models import MAX_LIST_MEMBERS, ListMember, ListRecord
from docstore.lists import ListFullError, ListStore
from docstore.lists_sqlite import SqliteListStore

ALICE, BOB, CAROL, DAVE, ERIN = 1, 2, 3, 4, 5
T0 = 1_790_000_000_000  # unix ms
CAP = 3

new_id = SnowflakeGenerator(worker_id=7).next_id


def a_list(owner_id: int = ALICE, private: bool = False, name: str = "Astronomers") -> ListRecord:
    return ListRecord(
        id=new_id(),
        owner_id=owner_id,
        name=name,
        description=f"{name} worth reading",
        private=private,
        created_at_ms=T0,
    )


async def create(store: ListStore, owner_id: int = ALICE, private: bool = False) -> ListRecord:
    return await store.create_list(a_list(owner_id, private))


async def add(store: ListStore, list_id: int, user_id: int) -> ListMember:
    """Add the user to the list, now; the membership as it is stored."""
    member = ListMember(user_id, new_id())
    assert await store.add_member(list_id, user_id, member.added_id) is not None
    return member


async def count_of(store: ListStore, list_id: int) -> int:
    return (await store.get_lists([list_id]))[list_id].member_count


# --- the record -----------------------------------------------------------------------


async def test_ping_answers_when_the_store_is_up(lists: ListStore) -> None:
    await lists.ping()


async def test_create_returns_the_list_as_stored_and_it_is_found_by_id(
    lists: ListStore,
) -> None:
    public, private = a_list(), a_list(private=True)
    assert await lists.create_list(replace(public, member_count=9)) == public  # the store's
    assert await lists.create_list(private) == private
    assert await lists.get_lists([public.id, private.id, 12345]) == {
        public.id: public,
        private.id: private,
    }
    assert await lists.get_lists([]) == {}
    assert await lists.members(public.id, 10) == []
    assert await lists.member_ids(public.id) == []


async def test_lists_of_a_user_are_newest_first_in_pages_and_theirs_only(
    lists: ListStore,
) -> None:
    made = [await create(lists, private=n % 2 == 1) for n in range(5)]
    bobs = await create(lists, owner_id=BOB)
    newest_first = made[::-1]
    first = await lists.lists_of(ALICE, 2)
    assert first == newest_first[:2]
    rest = await lists.lists_of(ALICE, 10, before_id=first[-1].id)
    assert rest == newest_first[2:]
    assert await lists.lists_of(ALICE, 10, before_id=made[0].id) == []
    assert await lists.lists_of(ALICE, 0) == []
    assert await lists.lists_of(BOB, 10) == [bobs]


async def test_lists_of_a_user_leave_out_private_ones_unless_asked(lists: ListStore) -> None:
    public = [await create(lists), await create(lists)]
    private = await create(lists, private=True)
    newer_public = await create(lists)
    assert await lists.lists_of(ALICE, 10) == [newer_public, private, *public[::-1]]
    assert await lists.lists_of(ALICE, 10, include_private=False) == [newer_public, *public[::-1]]
    page = await lists.lists_of(ALICE, 1, include_private=False)
    assert page == [newer_public]
    after = await lists.lists_of(ALICE, 10, before_id=page[-1].id, include_private=False)
    assert after == public[::-1]


# --- members ------------------------------------------------------------------------


async def test_members_are_most_recently_added_first_and_counted(lists: ListStore) -> None:
    made = await create(lists)
    added = [await add(lists, made.id, user_id) for user_id in (CAROL, ALICE, BOB)]
    assert await lists.members(made.id, 10) == added[::-1]
    assert await lists.member_ids(made.id) == [BOB, ALICE, CAROL]
    assert await lists.get_lists([made.id]) == {made.id: replace(made, member_count=3)}


async def test_add_member_returns_the_list_as_it_now_is(lists: ListStore) -> None:
    made = await create(lists)
    assert await lists.add_member(made.id, BOB, new_id()) == replace(made, member_count=1)
    assert await lists.add_member(made.id, CAROL, new_id()) == replace(made, member_count=2)


async def test_adding_a_member_twice_keeps_the_first_membership(lists: ListStore) -> None:
    made = await create(lists)
    first = await add(lists, made.id, BOB)
    later = await add(lists, made.id, CAROL)
    assert await lists.add_member(made.id, BOB, new_id()) == replace(made, member_count=2)
    assert await lists.members(made.id, 10) == [later, first]


async def test_pages_of_members_continue_before_an_added_id(lists: ListStore) -> None:
    made = await create(lists)
    added = [await add(lists, made.id, user_id) for user_id in range(100, 111)]
    newest_first = added[::-1]
    first = await lists.members(made.id, 4)
    assert first == newest_first[:4]
    second = await lists.members(made.id, 4, before_added_id=first[-1].added_id)
    assert second == newest_first[4:8]
    rest = await lists.members(made.id, 4, before_added_id=second[-1].added_id)
    assert rest == newest_first[8:]
    assert await lists.members(made.id, 4, before_added_id=added[0].added_id) == []
    assert await lists.members(made.id, 0) == []


async def test_remove_member_takes_them_off_and_is_idempotent(lists: ListStore) -> None:
    made = await create(lists)
    bob = await add(lists, made.id, BOB)
    await add(lists, made.id, CAROL)
    assert await lists.remove_member(made.id, CAROL) == replace(made, member_count=1)
    assert await lists.members(made.id, 10) == [bob]
    assert await lists.remove_member(made.id, CAROL) == replace(made, member_count=1)
    assert await lists.remove_member(made.id, DAVE) == replace(made, member_count=1)
    assert await lists.member_ids(made.id) == [BOB]


async def test_a_member_added_again_after_removal_comes_first(lists: ListStore) -> None:
    made = await create(lists)
    await add(lists, made.id, BOB)
    await add(lists, made.id, CAROL)
    await lists.remove_member(made.id, BOB)
    again = await add(lists, made.id, BOB)
    assert (await lists.members(made.id, 10))[0] == again
    assert await lists.member_ids(made.id) == [BOB, CAROL]


async def test_changes_to_a_missing_list_answer_none(lists: ListStore) -> None:
    missing = new_id()
    assert await lists.add_member(missing, BOB, new_id()) is None
    assert await lists.remove_member(missing, BOB) is None
    assert await lists.delete_list(missing) is None
    assert await lists.members(missing, 10) == []
    assert await lists.member_ids(missing) == []


async def test_lists_are_separate(lists: ListStore) -> None:
    first, second = await create(lists), await create(lists, owner_id=BOB)
    for list_id in (first.id, second.id):
        await add(lists, list_id, CAROL)
        await add(lists, list_id, DAVE)
    await lists.remove_member(first.id, CAROL)
    await add(lists, second.id, ERIN)
    assert await lists.member_ids(first.id) == [DAVE]
    assert await lists.member_ids(second.id) == [ERIN, DAVE, CAROL]
    assert (await count_of(lists, first.id), await count_of(lists, second.id)) == (1, 3)


# --- deleting -------------------------------------------------------------------------


async def test_deleting_a_list_deletes_its_memberships(lists: ListStore) -> None:
    made = await create(lists)
    kept = await create(lists)
    for user_id in (BOB, CAROL):
        await add(lists, made.id, user_id)
        await add(lists, kept.id, user_id)
    assert await lists.delete_list(made.id) == replace(made, member_count=2)
    assert await lists.get_lists([made.id]) == {}
    assert await lists.members(made.id, 10) == []
    assert await lists.member_ids(made.id) == []
    assert await lists.lists_of(ALICE, 10) == [replace(kept, member_count=2)]
    assert await lists.delete_list(made.id) is None  # gone already
    assert await lists.add_member(made.id, DAVE, new_id()) is None  # nobody joins it
    assert await lists.member_ids(made.id) == []
    assert await lists.member_ids(kept.id) == [CAROL, BOB]


# --- the cap --------------------------------------------------------------------------


@pytest.mark.parametrize("list_cap", [CAP])
async def test_a_full_list_refuses_a_new_member_and_stores_nothing(
    lists: ListStore, list_cap: int
) -> None:
    made = await create(lists)
    members = [await add(lists, made.id, user_id) for user_id in (BOB, CAROL, DAVE)]
    with pytest.raises(ListFullError) as refused:
        await lists.add_member(made.id, ERIN, new_id())
    assert (refused.value.list_id, refused.value.cap) == (made.id, list_cap)
    assert await lists.members(made.id, 10) == members[::-1]
    assert await count_of(lists, made.id) == list_cap


@pytest.mark.parametrize("list_cap", [CAP])
async def test_a_full_list_takes_a_member_again_once_one_leaves(
    lists: ListStore, list_cap: int
) -> None:
    made = await create(lists)
    for user_id in (BOB, CAROL, DAVE):
        await add(lists, made.id, user_id)
    # adding a member who is on it already is no new member: still fine when full
    assert await lists.add_member(made.id, BOB, new_id()) == replace(made, member_count=list_cap)
    await lists.remove_member(made.id, CAROL)
    await add(lists, made.id, ERIN)
    assert await lists.member_ids(made.id) == [ERIN, DAVE, BOB]
    with pytest.raises(ListFullError):
        await lists.add_member(made.id, CAROL, new_id())


@pytest.mark.parametrize("list_cap", [CAP])
async def test_concurrent_adds_never_take_a_list_past_its_cap(
    lists: ListStore, list_cap: int
) -> None:
    made = await create(lists)
    others = await create(lists)
    candidates = list(range(100, 112))
    results = await asyncio.gather(
        *(lists.add_member(made.id, user_id, new_id()) for user_id in candidates),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, ListFullError)]
    stored = [r for r in results if isinstance(r, ListRecord)]
    assert len(refused) == len(candidates) - list_cap
    # each accepted add saw the list one fuller than the one before it
    assert sorted(r.member_count for r in stored) == list(range(1, list_cap + 1))
    member_ids = await lists.member_ids(made.id)
    assert len(member_ids) == list_cap
    assert set(member_ids) <= set(candidates)
    assert await count_of(lists, made.id) == list_cap
    assert await count_of(lists, others.id) == 0  # the cap is per list


@pytest.mark.parametrize("list_cap", [CAP])
async def test_concurrent_adds_and_removes_on_a_full_list_keep_it_at_most_full(
    lists: ListStore, list_cap: int
) -> None:
    made = await create(lists)
    for user_id in (BOB, CAROL, DAVE):
        await add(lists, made.id, user_id)
    results = await asyncio.gather(
        lists.remove_member(made.id, BOB),
        *(lists.add_member(made.id, user_id, new_id()) for user_id in range(100, 106)),
        return_exceptions=True,
    )
    assert all(isinstance(r, ListRecord | ListFullError) for r in results), results
    taken = [r for r in results[1:] if isinstance(r, ListRecord)]
    assert len(taken) <= 1  # the place Bob freed, taken at most once (none if he left last)
    member_ids = await lists.member_ids(made.id)
    assert BOB not in member_ids
    assert len(member_ids) == list_cap - 1 + len(taken)
    assert await count_of(lists, made.id) == len(member_ids)


async def test_the_count_stays_exact_under_concurrent_adds_and_removes(
    lists: ListStore,
) -> None:
    made = await create(lists)
    for user_id in range(1, 21):
        await add(lists, made.id, user_id)
    removals = [lists.remove_member(made.id, u) for u in range(1, 21, 2)]  # the odd ones
    repeats = [lists.remove_member(made.id, u) for u in range(1, 21, 2)]  # twice each
    additions = [lists.add_member(made.id, u, new_id()) for u in range(21, 31)]
    doubled = [lists.add_member(made.id, u, new_id()) for u in range(21, 31)]
    await asyncio.gather(*removals, *additions, *repeats, *doubled)
    expected = [*range(2, 21, 2), *range(21, 31)]
    assert sorted(await lists.member_ids(made.id)) == expected
    assert await count_of(lists, made.id) == len(expected)


async def test_the_real_cap_is_5000_members(tmp_path: Path) -> None:
    """On the embedded adapter only, where 5,001 concurrent adds take about a second (the
    cap's logic is the same at any size; the small-cap tests run it on every adapter)."""
    assert MAX_LIST_MEMBERS == 5000
    store = SqliteListStore(tmp_path / "lists.sqlite3")  # the default cap
    await store.open()
    try:
        made = await store.create_list(a_list())
        users = range(10_000, 10_000 + MAX_LIST_MEMBERS + 1)
        results = await asyncio.gather(
            *(store.add_member(made.id, u, new_id()) for u in users), return_exceptions=True
        )
        refused = [r for r in results if isinstance(r, ListFullError)]
        assert len(refused) == 1
        assert refused[0].cap == MAX_LIST_MEMBERS
        assert await count_of(store, made.id) == MAX_LIST_MEMBERS
        assert len(await store.member_ids(made.id)) == MAX_LIST_MEMBERS
    finally:
        await store.close()
