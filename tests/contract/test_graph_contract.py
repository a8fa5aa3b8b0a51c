"""The SocialGraph contract (graph/port.py): every adapter must pass these tests.

The last section checks the embedded adapter's discovery plans (indexes, no scans).
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Mapping
from pathlib import Path

import pytest

from core.models import Credentials, FollowEdge, NewUser, UserRecord
from graph.neo4j import Neo4jSocialGraph
from graph.port import (
    SUGGESTION_PER_FOLLOWEE,
    SUGGESTION_SAMPLE,
    BlockedError,
    HandleTakenError,
    SocialGraph,
)
from graph.sqlite import (
    POPULAR_SQL,
    SEARCH_HANDLES_SQL,
    SEARCH_NAMES_SQL,
    SUGGESTIONS_SQL,
    SqliteSocialGraph,
)
from graph.sqlite import SCHEMA as SQLITE_SCHEMA

_ids = itertools.count(1_000_001)
T = 1_700_000_000_000  # a follow time in unix ms


def new_user(handle: str, **fields: object) -> NewUser:
    values: dict[str, object] = {
        "id": next(_ids),
        "handle": handle,
        "display_name": handle.title(),
        "bio": f"bio of {handle}",
        "created_at_ms": T,
        "password_hash": f"$argon2id$hash-of-{handle}",
    }
    values.update(fields)
    return NewUser(**values)  # type: ignore[arg-type]


async def make_users(graph: SocialGraph, count: int, prefix: str = "u") -> list[UserRecord]:
    return [await graph.create_user(new_user(f"{prefix}{n}")) for n in range(count)]


def as_record(user: NewUser) -> UserRecord:
    return UserRecord(user.id, user.handle, user.display_name, user.bio, user.created_at_ms)


# --- users -------------------------------------------------------------------


async def test_ping_answers_when_the_store_is_up(graph: SocialGraph) -> None:
    await graph.ping()


async def test_create_user_returns_the_record_without_the_password(graph: SocialGraph) -> None:
    new = new_user("Alice")
    created = await graph.create_user(new)
    assert created == as_record(new)
    assert created.handle_lower == "alice"


async def test_get_users_returns_users_by_id_and_omits_missing_ones(graph: SocialGraph) -> None:
    alice, bob = new_user("alice"), new_user("bob")
    await graph.create_user(alice)
    await graph.create_user(bob)
    found = await graph.get_users([alice.id, 999, bob.id, alice.id])
    assert found == {alice.id: as_record(alice), bob.id: as_record(bob)}
    assert await graph.get_users([]) == {}
    assert await graph.get_users([999]) == {}


async def test_has_users_says_whether_any_account_exists(graph: SocialGraph) -> None:
    assert await graph.has_users() is False
    await graph.create_user(new_user("alice"))
    assert await graph.has_users() is True


async def test_unicode_names_and_bios_are_stored_as_given(graph: SocialGraph) -> None:
    new = new_user("zoe", display_name="Zoë 🐦", bio="line one\nline two — ok")
    await graph.create_user(new)
    assert (await graph.get_users([new.id]))[new.id] == as_record(new)


async def test_a_taken_handle_is_refused_case_insensitively(graph: SocialGraph) -> None:
    original = new_user("Alice")
    await graph.create_user(original)
    for clash in ("Alice", "alice", "ALICE", "aLiCe"):
        duplicate = new_user(clash)
        with pytest.raises(HandleTakenError):
            await graph.create_user(duplicate)
        assert await graph.get_users([duplicate.id]) == {}
    assert await graph.get_users_by_handles(["alice"]) == {"alice": as_record(original)}


async def test_get_users_by_handles_is_keyed_by_lower_cased_handle(graph: SocialGraph) -> None:
    alice, bob = new_user("Alice"), new_user("BOB_2")
    await graph.create_user(alice)
    await graph.create_user(bob)
    found = await graph.get_users_by_handles(["alice", "bob_2", "nobody"])
    assert found == {"alice": as_record(alice), "bob_2": as_record(bob)}
    assert found["alice"].handle == "Alice"  # the handle keeps its case
    assert await graph.get_users_by_handles([]) == {}


async def test_credentials_are_found_by_lower_cased_handle(graph: SocialGraph) -> None:
    alice = new_user("Alice", password_hash="$argon2id$v=19$secret")
    await graph.create_user(alice)
    assert await graph.get_credentials("alice") == Credentials(alice.id, "$argon2id$v=19$secret")
    assert await graph.get_credentials("nobody") is None


async def test_update_profile_changes_only_the_given_fields(graph: SocialGraph) -> None:
    new = new_user("alice", display_name="Alice", bio="old bio")
    await graph.create_user(new)

    renamed = await graph.update_profile(new.id, "Alice B.", None)
    assert renamed is not None
    assert (renamed.display_name, renamed.bio) == ("Alice B.", "old bio")

    rebio = await graph.update_profile(new.id, None, "new bio")
    assert rebio is not None
    assert (rebio.display_name, rebio.bio) == ("Alice B.", "new bio")

    unchanged = await graph.update_profile(new.id, None, None)
    assert unchanged == rebio

    cleared = await graph.update_profile(new.id, None, "")
    assert cleared is not None
    assert cleared.bio == ""

    stored = (await graph.get_users([new.id]))[new.id]
    assert stored == UserRecord(new.id, "alice", "Alice B.", "", new.created_at_ms)


async def test_update_profile_of_a_missing_user_is_none(graph: SocialGraph) -> None:
    assert await graph.update_profile(424242, "Ghost", "boo") is None


# --- follow / unfollow -----------------------------------------------------------


async def test_follow_is_true_when_new_false_when_existing(graph: SocialGraph) -> None:
    a, b = await make_users(graph, 2)
    assert await graph.follow(a.id, b.id, T) is True
    assert await graph.follow(a.id, b.id, T + 5) is False
    assert await graph.following_ids(a.id) == [b.id]
    assert await graph.following(a.id, 10) == [FollowEdge(b.id, T)]  # first time is kept


async def test_follow_is_none_when_either_user_is_missing(graph: SocialGraph) -> None:
    [a] = await make_users(graph, 1)
    assert await graph.follow(a.id, 987654, T) is None
    assert await graph.follow(987654, a.id, T) is None
    assert await graph.following_ids(a.id) == []
    assert await graph.count_followers([a.id]) == {a.id: 0}


async def test_follow_is_one_directional(graph: SocialGraph) -> None:
    a, b = await make_users(graph, 2)
    await graph.follow(a.id, b.id, T)
    assert await graph.following_ids(b.id) == []
    assert await graph.followers(a.id, 10) == []
    assert await graph.followers(b.id, 10) == [FollowEdge(a.id, T)]


async def test_unfollow_is_true_when_there_was_an_edge(graph: SocialGraph) -> None:
    a, b = await make_users(graph, 2)
    await graph.follow(a.id, b.id, T)
    assert await graph.unfollow(a.id, b.id) is True
    assert await graph.unfollow(a.id, b.id) is False
    assert await graph.unfollow(b.id, a.id) is False
    assert await graph.unfollow(a.id, 987654) is False
    assert await graph.following_ids(a.id) == []
    assert await graph.follow(a.id, b.id, T + 1) is True  # can follow again


async def test_following_ids_lists_every_followee(graph: SocialGraph) -> None:
    me, *others = await make_users(graph, 6)
    for n, other in enumerate(others):
        await graph.follow(me.id, other.id, T + n)
    assert sorted(await graph.following_ids(me.id)) == sorted(o.id for o in others)
    assert await graph.following_ids(987654) == []


# --- lists and keyset cursors ------------------------------------------------------


async def test_followers_and_following_are_newest_first(graph: SocialGraph) -> None:
    star, a, b, c = await make_users(graph, 4)
    await graph.follow(a.id, star.id, T + 10)
    await graph.follow(b.id, star.id, T + 30)
    await graph.follow(c.id, star.id, T + 20)
    assert await graph.followers(star.id, 10) == [
        FollowEdge(b.id, T + 30),
        FollowEdge(c.id, T + 20),
        FollowEdge(a.id, T + 10),
    ]
    await graph.follow(star.id, a.id, T + 1)
    await graph.follow(star.id, c.id, T + 3)
    await graph.follow(star.id, b.id, T + 2)
    assert await graph.following(star.id, 10) == [
        FollowEdge(c.id, T + 3),
        FollowEdge(b.id, T + 2),
        FollowEdge(a.id, T + 1),
    ]


async def test_ties_on_since_are_broken_by_user_id_descending(graph: SocialGraph) -> None:
    star, *fans = await make_users(graph, 5)
    for fan in fans:
        await graph.follow(fan.id, star.id, T)
        await graph.follow(star.id, fan.id, T)
    expected = [FollowEdge(f.id, T) for f in sorted(fans, key=lambda u: u.id, reverse=True)]
    assert await graph.followers(star.id, 10) == expected
    assert await graph.following(star.id, 10) == expected


async def test_limit_caps_a_list(graph: SocialGraph) -> None:
    star, *fans = await make_users(graph, 5)
    for n, fan in enumerate(fans):
        await graph.follow(fan.id, star.id, T + n)
    assert [e.user_id for e in await graph.followers(star.id, 2)] == [fans[3].id, fans[2].id]


async def test_the_cursor_is_exclusive_and_respects_ties(graph: SocialGraph) -> None:
    star, a, b, c, d = await make_users(graph, 5)
    await graph.follow(a.id, star.id, T + 1)
    await graph.follow(b.id, star.id, T + 2)
    await graph.follow(c.id, star.id, T + 2)
    await graph.follow(d.id, star.id, T + 3)
    everything = await graph.followers(star.id, 10)
    assert [e.since_ms for e in everything] == [T + 3, T + 2, T + 2, T + 1]
    for n, edge in enumerate(everything):
        after = await graph.followers(star.id, 10, (edge.since_ms, edge.user_id))
        assert after == everything[n + 1 :]


async def test_paging_25_edges_7_at_a_time_yields_each_exactly_once(graph: SocialGraph) -> None:
    star, *others = await make_users(graph, 26)
    for n, other in enumerate(others):
        since = T + n // 4  # many ties on since_ms
        await graph.follow(other.id, star.id, since)
        await graph.follow(star.id, other.id, since)

    for listing in (graph.followers, graph.following):
        pages: list[list[FollowEdge]] = []
        after: tuple[int, int] | None = None
        while True:
            page = await listing(star.id, 7, after)
            if not page:
                break
            pages.append(page)
            after = (page[-1].since_ms, page[-1].user_id)
        assert [len(p) for p in pages] == [7, 7, 7, 4]
        seen = [edge for page in pages for edge in page]
        assert sorted(e.user_id for e in seen) == sorted(o.id for o in others)
        assert seen == sorted(seen, key=lambda e: (e.since_ms, e.user_id), reverse=True)


# --- counts and pairs -------------------------------------------------------------


async def test_counts_cover_every_asked_id_including_zero(graph: SocialGraph) -> None:
    a, b, c, loner = await make_users(graph, 4)
    await graph.follow(a.id, b.id, T)
    await graph.follow(c.id, b.id, T)
    await graph.follow(b.id, a.id, T)
    ids = [a.id, b.id, c.id, loner.id, 987654, b.id]
    assert await graph.count_followers(ids) == {
        a.id: 1,
        b.id: 2,
        c.id: 0,
        loner.id: 0,
        987654: 0,
    }
    assert await graph.count_following(ids) == {
        a.id: 1,
        b.id: 1,
        c.id: 1,
        loner.id: 0,
        987654: 0,
    }
    assert await graph.count_followers([]) == {}
    assert await graph.count_following([]) == {}


async def test_counts_of_many_ids_in_one_call(graph: SocialGraph) -> None:
    star, *fans = await make_users(graph, 30)
    for fan in fans:
        await graph.follow(fan.id, star.id, T)
    counts = await graph.count_following([f.id for f in fans] + [star.id])
    assert counts == {**{f.id: 1 for f in fans}, star.id: 0}
    assert (await graph.count_followers([star.id]))[star.id] == 29


async def test_existing_follows_returns_the_pairs_that_are_edges(graph: SocialGraph) -> None:
    a, b, c = await make_users(graph, 3)
    await graph.follow(a.id, b.id, T)
    await graph.follow(b.id, c.id, T)
    asked = [(a.id, b.id), (b.id, a.id), (b.id, c.id), (a.id, c.id), (a.id, 987654), (a.id, b.id)]
    assert await graph.existing_follows(asked) == {(a.id, b.id), (b.id, c.id)}
    assert await graph.existing_follows([]) == set()
    await graph.unfollow(a.id, b.id)
    assert await graph.existing_follows(asked) == {(b.id, c.id)}


# --- celebrities ----------------------------------------------


async def test_a_celebrity_mark_is_seen_by_every_follower(graph: SocialGraph) -> None:
    star, *fans = await make_users(graph, 4)
    for fan in fans:
        await graph.follow(fan.id, star.id, T)
    await graph.set_celebrity(star.id, True)
    for fan in fans:
        assert await graph.followed_celebrities(fan.id) == [star.id]
    await graph.set_celebrity(star.id, False)
    for fan in fans:
        assert await graph.followed_celebrities(fan.id) == []
        assert await graph.following_ids(fan.id) == [star.id]


async def test_followed_celebrities_are_the_marked_users_one_follows(graph: SocialGraph) -> None:
    me, plain, star, other_star, fan = await make_users(graph, 5)
    assert await graph.followed_celebrities(me.id) == []
    await graph.follow(me.id, plain.id, T)
    await graph.follow(me.id, star.id, T + 1)
    await graph.follow(fan.id, other_star.id, T)
    await graph.follow(other_star.id, me.id, T)  # an edge towards me is not a followee of mine
    assert await graph.followed_celebrities(me.id) == []  # nobody is marked yet

    await graph.set_celebrity(star.id, True)
    await graph.set_celebrity(other_star.id, True)
    assert await graph.followed_celebrities(me.id) == [star.id]
    assert await graph.followed_celebrities(fan.id) == [other_star.id]
    assert await graph.followed_celebrities(other_star.id) == []  # me is not marked
    assert await graph.followed_celebrities(star.id) == []
    assert await graph.followed_celebrities(987654) == []

    await graph.follow(me.id, other_star.id, T + 2)
    assert sorted(await graph.followed_celebrities(me.id)) == sorted([star.id, other_star.id])
    await graph.unfollow(me.id, star.id)
    assert await graph.followed_celebrities(me.id) == [other_star.id]
    await graph.set_celebrity(other_star.id, False)
    assert await graph.followed_celebrities(me.id) == []
    assert await graph.followed_celebrities(fan.id) == []
    await graph.set_celebrity(me.id, True)
    assert await graph.followed_celebrities(other_star.id) == [me.id]


async def test_followed_celebrities_agree_with_the_marks_of_the_followee_list(
    graph: SocialGraph,
) -> None:
    users = await make_users(graph, 12)
    for n, follower in enumerate(users):
        for followee in users[n % 3 :: n % 5 + 1]:
            if followee.id != follower.id:
                await graph.follow(follower.id, followee.id, T + n)
    stars = {star.id for star in users[1::4]}
    for star_id in stars:
        await graph.set_celebrity(star_id, True)
    for user in users:
        marked = set(await graph.following_ids(user.id)) & stars
        assert sorted(await graph.followed_celebrities(user.id)) == sorted(marked), user.handle


async def test_set_celebrity_returns_the_previous_mark(graph: SocialGraph) -> None:
    user, other = await make_users(graph, 2)
    assert await graph.set_celebrity(user.id, False) is False  # the default
    assert await graph.set_celebrity(user.id, True) is False
    assert await graph.set_celebrity(user.id, True) is True
    assert await graph.set_celebrity(user.id, False) is True
    assert await graph.set_celebrity(user.id, False) is False
    assert await graph.set_celebrity(user.id, True) is False
    assert await graph.set_celebrity(other.id, True) is False  # marks are per user


async def test_a_celebrity_mark_changes_nothing_else(graph: SocialGraph) -> None:
    new, fan = new_user("star"), new_user("fan")
    await graph.create_user(new)
    await graph.create_user(fan)
    await graph.follow(fan.id, new.id, T)
    await graph.set_celebrity(new.id, True)
    assert await graph.get_users([new.id]) == {new.id: as_record(new)}
    assert await graph.get_users_by_handles(["star"]) == {"star": as_record(new)}
    assert await graph.following_ids(fan.id) == [new.id]
    assert await graph.followers(new.id, 10) == [FollowEdge(fan.id, T)]
    assert await graph.count_followers([new.id]) == {new.id: 1}
    renamed = await graph.update_profile(new.id, "Star!", None)
    assert renamed is not None
    assert renamed.display_name == "Star!"
    assert await graph.followed_celebrities(fan.id) == [new.id]


async def test_set_celebrity_of_a_missing_user_creates_nothing(graph: SocialGraph) -> None:
    assert await graph.set_celebrity(987654, True) is False
    assert await graph.set_celebrity(987654, True) is False
    assert await graph.get_users([987654]) == {}


# --- blocks ---------------------------------------------------------------------

NOW = T + 1_000_000  # the time of a read, well after every block and mute made at T + n


async def test_block_is_new_and_removes_the_follows_both_ways(graph: SocialGraph) -> None:
    a, b = await make_users(graph, 2)
    await graph.follow(a.id, b.id, T)
    await graph.follow(b.id, a.id, T)
    outcome = await graph.block(a.id, b.id, T + 1)
    assert outcome is not None
    assert outcome.created is True
    assert sorted(outcome.removed_follows) == sorted([(a.id, b.id), (b.id, a.id)])
    assert await graph.existing_follows([(a.id, b.id), (b.id, a.id)]) == set()
    assert await graph.following_ids(a.id) == []
    assert await graph.following_ids(b.id) == []
    assert await graph.count_followers([a.id, b.id]) == {a.id: 0, b.id: 0}
    assert await graph.count_following([a.id, b.id]) == {a.id: 0, b.id: 0}
    assert await graph.blocked(a.id, 10) == [FollowEdge(b.id, T + 1)]


async def test_no_follow_across_a_block_either_way(graph: SocialGraph) -> None:
    alice, bob, carol = await make_users(graph, 3, "nf")
    await graph.block(alice.id, bob.id, T)
    for follower, followee in ((alice, bob), (bob, alice)):
        with pytest.raises(BlockedError):
            await graph.follow(follower.id, followee.id, T + 1)
    assert await graph.existing_follows([(alice.id, bob.id), (bob.id, alice.id)]) == set()
    assert await graph.follow(alice.id, carol.id, T + 2) is True  # others are unaffected
    await graph.unblock(alice.id, bob.id)
    assert await graph.follow(bob.id, alice.id, T + 3) is True


async def test_block_removes_a_follow_in_either_single_direction(graph: SocialGraph) -> None:
    me, fan, idol = await make_users(graph, 3)
    await graph.follow(fan.id, me.id, T)
    await graph.follow(me.id, idol.id, T)
    by_fan = await graph.block(me.id, fan.id, T + 1)
    assert by_fan is not None
    assert by_fan.removed_follows == ((fan.id, me.id),)
    of_idol = await graph.block(me.id, idol.id, T + 2)
    assert of_idol is not None
    assert of_idol.removed_follows == ((me.id, idol.id),)
    assert await graph.count_followers([me.id, idol.id]) == {me.id: 0, idol.id: 0}
    assert await graph.count_following([me.id, fan.id]) == {me.id: 0, fan.id: 0}


async def test_block_without_follows_removes_nothing(graph: SocialGraph) -> None:
    a, b = await make_users(graph, 2)
    outcome = await graph.block(a.id, b.id, T)
    assert outcome is not None
    assert (outcome.created, outcome.removed_follows) == (True, ())


async def test_blocking_again_is_not_new_and_keeps_the_first_time(graph: SocialGraph) -> None:
    a, b = await make_users(graph, 2)
    await graph.follow(a.id, b.id, T)
    first = await graph.block(a.id, b.id, T + 1)
    assert first is not None
    assert first.created is True
    again = await graph.block(a.id, b.id, T + 2)
    assert again is not None
    assert (again.created, again.removed_follows) == (False, ())
    assert await graph.blocked(a.id, 10) == [FollowEdge(b.id, T + 1)]


async def test_block_of_a_missing_user_is_none_and_changes_nothing(graph: SocialGraph) -> None:
    a, b = await make_users(graph, 2)
    await graph.follow(a.id, b.id, T)
    await graph.follow(b.id, a.id, T)
    assert await graph.block(a.id, 987654, T) is None
    assert await graph.block(987654, a.id, T) is None
    assert await graph.blocked(a.id, 10) == []
    assert await graph.existing_blocks([(a.id, 987654), (987654, a.id)]) == set()
    assert await graph.existing_follows([(a.id, b.id), (b.id, a.id)]) == {
        (a.id, b.id),
        (b.id, a.id),
    }


async def test_unblock_is_true_when_there_was_a_block(graph: SocialGraph) -> None:
    a, b = await make_users(graph, 2)
    await graph.follow(a.id, b.id, T)
    await graph.block(a.id, b.id, T + 1)
    assert await graph.unblock(b.id, a.id) is False  # the block is a's, not b's
    assert await graph.unblock(a.id, b.id) is True
    assert await graph.unblock(a.id, b.id) is False
    assert await graph.unblock(a.id, 987654) is False
    assert await graph.blocked(a.id, 10) == []
    assert await graph.existing_blocks([(a.id, b.id)]) == set()
    assert await graph.following_ids(a.id) == []  # unblocking brings no follow back
    again = await graph.block(a.id, b.id, T + 2)
    assert again is not None
    assert again.created is True


async def test_a_block_is_one_way(graph: SocialGraph) -> None:
    a, b, c = await make_users(graph, 3)
    await graph.block(a.id, b.id, T)
    await graph.block(c.id, a.id, T)
    asked = [(a.id, b.id), (b.id, a.id), (a.id, c.id), (c.id, a.id), (a.id, 987654), (a.id, b.id)]
    assert await graph.existing_blocks(asked) == {(a.id, b.id), (c.id, a.id)}
    assert await graph.existing_blocks([]) == set()
    assert await graph.blocked(b.id, 10) == []
    assert await graph.blocked(c.id, 10) == [FollowEdge(a.id, T)]


async def test_a_block_leaves_the_other_follows_alone(graph: SocialGraph) -> None:
    a, b, c = await make_users(graph, 3)
    for follower, followee in [(a, b), (b, a), (a, c), (c, a), (b, c), (c, b)]:
        await graph.follow(follower.id, followee.id, T)
    await graph.block(a.id, b.id, T + 1)
    everything = [(x.id, y.id) for x in (a, b, c) for y in (a, b, c) if x != y]
    assert await graph.existing_follows(everything) == {
        (a.id, c.id),
        (c.id, a.id),
        (b.id, c.id),
        (c.id, b.id),
    }
    assert await graph.count_followers([a.id, b.id, c.id]) == {a.id: 1, b.id: 1, c.id: 2}
    assert await graph.count_following([a.id, b.id, c.id]) == {a.id: 1, b.id: 1, c.id: 2}


async def test_blocked_is_newest_first_and_pages_by_an_exclusive_cursor(
    graph: SocialGraph,
) -> None:
    me, *others = await make_users(graph, 10)
    for n, other in enumerate(others):
        await graph.block(me.id, other.id, T + n // 3)  # ties on since_ms
    expected = sorted(
        (FollowEdge(o.id, T + n // 3) for n, o in enumerate(others)),
        key=lambda e: (e.since_ms, e.user_id),
        reverse=True,
    )
    assert await graph.blocked(me.id, 20) == expected
    pages: list[list[FollowEdge]] = []
    after: tuple[int, int] | None = None
    while page := await graph.blocked(me.id, 4, after):
        pages.append(page)
        after = (page[-1].since_ms, page[-1].user_id)
    assert [len(p) for p in pages] == [4, 4, 1]
    assert [edge for page in pages for edge in page] == expected


# --- mutes ----------------------------------------------------------------------


async def test_mute_is_true_when_new_false_when_it_replaces_an_active_one(
    graph: SocialGraph,
) -> None:
    a, b = await make_users(graph, 2)
    assert await graph.mute(a.id, b.id, T, None, False) is True
    assert await graph.hidden_among(a.id, [b.id], T + 1, notifications=True) == set()
    assert await graph.mute(a.id, b.id, T + 5, T + 100, True) is False
    # the new expiry and notification setting apply; the mute keeps its place in the list
    assert await graph.muted(a.id, 10, T + 99) == [FollowEdge(b.id, T)]
    assert await graph.hidden_among(a.id, [b.id], T + 99, notifications=True) == {b.id}
    assert await graph.muted(a.id, 10, T + 100) == []
    assert await graph.hidden_among(a.id, [b.id], T + 100) == set()


async def test_a_mute_made_over_an_expired_one_is_new(graph: SocialGraph) -> None:
    a, b = await make_users(graph, 2)
    assert await graph.mute(a.id, b.id, T, T + 10, False) is True
    assert await graph.mute(a.id, b.id, T + 10, None, True) is True  # expired at T + 10
    assert await graph.muted(a.id, 10, NOW) == [FollowEdge(b.id, T + 10)]
    assert await graph.mute(a.id, b.id, T + 20, None, True) is False


async def test_mute_of_a_missing_user_is_none_and_changes_nothing(graph: SocialGraph) -> None:
    [a] = await make_users(graph, 1)
    assert await graph.mute(a.id, 987654, T, None, True) is None
    assert await graph.mute(987654, a.id, T, None, True) is None
    assert await graph.muted(a.id, 10, NOW) == []
    assert await graph.hidden_ids(a.id, NOW) == set()


async def test_a_mute_is_one_way_and_removes_no_follow(graph: SocialGraph) -> None:
    a, b = await make_users(graph, 2)
    await graph.follow(a.id, b.id, T)
    await graph.follow(b.id, a.id, T)
    await graph.mute(a.id, b.id, T + 1, None, True)
    assert await graph.existing_follows([(a.id, b.id), (b.id, a.id)]) == {
        (a.id, b.id),
        (b.id, a.id),
    }
    assert await graph.existing_blocks([(a.id, b.id), (b.id, a.id)]) == set()
    assert await graph.existing_mutes([(a.id, b.id), (b.id, a.id)], NOW) == {(a.id, b.id)}
    assert await graph.muted(b.id, 10, NOW) == []
    assert await graph.hidden_among(b.id, [a.id], NOW) == set()


async def test_a_mute_ends_at_its_expiry_everywhere(graph: SocialGraph) -> None:
    me, loud, follower = await make_users(graph, 3)
    await graph.follow(follower.id, loud.id, T)
    await graph.follow(me.id, loud.id, T)
    await graph.mute(me.id, loud.id, T, T + 100, True)
    pair = [(me.id, loud.id)]
    readers = [me.id, follower.id]
    at = T + 99  # still muted
    assert await graph.muted(me.id, 10, at) == [FollowEdge(loud.id, T)]
    assert await graph.existing_mutes(pair, at) == {(me.id, loud.id)}
    assert await graph.hidden_among(me.id, [loud.id], at, notifications=True) == {loud.id}
    assert await graph.hidden_ids(me.id, at, notifications=True) == {loud.id}
    assert await graph.audience(readers, at, [loud.id]) == {follower.id}
    at = T + 100  # expired: expires_at <= now
    assert await graph.muted(me.id, 10, at) == []
    assert await graph.existing_mutes(pair, at) == set()
    assert await graph.hidden_among(me.id, [loud.id], at) == set()
    assert await graph.hidden_ids(me.id, at) == set()
    assert await graph.audience(readers, at, [loud.id]) == {me.id, follower.id}


async def test_unmute_is_true_only_for_an_active_mute(graph: SocialGraph) -> None:
    me, a, b = await make_users(graph, 3)
    await graph.mute(me.id, a.id, T, None, False)
    await graph.mute(me.id, b.id, T, T + 10, False)
    assert await graph.unmute(a.id, me.id, NOW) is False  # the mute is me's, not a's
    assert await graph.unmute(me.id, a.id, NOW) is True
    assert await graph.unmute(me.id, a.id, NOW) is False
    assert await graph.unmute(me.id, b.id, T + 20) is False  # expired, and removed too
    assert await graph.muted(me.id, 10, T + 5) == []
    assert await graph.existing_mutes([(me.id, a.id), (me.id, b.id)], T + 5) == set()
    assert await graph.unmute(me.id, 987654, NOW) is False


async def test_unmute_without_a_time_judges_by_the_current_time(graph: SocialGraph) -> None:
    me, forever, lapsed = await make_users(graph, 3)
    await graph.mute(me.id, forever.id, T, None, False)
    await graph.mute(me.id, lapsed.id, T, T + 10, False)  # T is years ago
    assert await graph.unmute(me.id, forever.id) is True
    assert await graph.unmute(me.id, lapsed.id) is False


async def test_muted_lists_active_mutes_newest_first_by_an_exclusive_cursor(
    graph: SocialGraph,
) -> None:
    me, *others = await make_users(graph, 9)
    for n, other in enumerate(others):
        lapsing = n % 3 == 0
        await graph.mute(me.id, other.id, T + n // 2, T + 50 if lapsing else None, n % 2 == 0)
    active = [o for n, o in enumerate(others) if n % 3 != 0]
    assert len(await graph.muted(me.id, 20, T + 49)) == len(others)
    expected = sorted(
        (FollowEdge(o.id, T + others.index(o) // 2) for o in active),
        key=lambda e: (e.since_ms, e.user_id),
        reverse=True,
    )
    assert await graph.muted(me.id, 20, T + 50) == expected
    pages: list[list[FollowEdge]] = []
    after: tuple[int, int] | None = None
    while page := await graph.muted(me.id, 2, T + 50, after):
        pages.append(page)
        after = (page[-1].since_ms, page[-1].user_id)
    assert [len(p) for p in pages] == [2, 2, 1]
    assert [edge for page in pages for edge in page] == expected


async def test_existing_mutes_are_the_active_ones_among_the_pairs(graph: SocialGraph) -> None:
    a, b, c = await make_users(graph, 3)
    await graph.mute(a.id, b.id, T, None, False)
    await graph.mute(a.id, c.id, T, T + 10, True)
    await graph.mute(c.id, a.id, T, T + 1000, False)
    asked = [(a.id, b.id), (b.id, a.id), (a.id, c.id), (c.id, a.id), (a.id, 987654), (a.id, b.id)]
    assert await graph.existing_mutes(asked, T + 5) == {(a.id, b.id), (a.id, c.id), (c.id, a.id)}
    assert await graph.existing_mutes(asked, T + 10) == {(a.id, b.id), (c.id, a.id)}
    assert await graph.existing_mutes(asked, T + 1000) == {(a.id, b.id)}
    assert await graph.existing_mutes([], T) == set()


# --- who is hidden from whom ----------------------------------------------------------


async def test_hidden_among_names_blocks_either_way_and_active_mutes(graph: SocialGraph) -> None:
    users = await make_users(graph, 8)
    viewer, blocked, blocker, muted, quiet, lapsed, friend, stranger = users
    await graph.follow(viewer.id, friend.id, T)
    await graph.block(viewer.id, blocked.id, T)
    await graph.block(blocker.id, viewer.id, T)
    await graph.mute(viewer.id, muted.id, T, None, False)  # timelines only
    await graph.mute(viewer.id, quiet.id, T, NOW + 1, True)  # notifications too
    await graph.mute(viewer.id, lapsed.id, T, NOW, True)  # expired at NOW
    await graph.mute(stranger.id, viewer.id, T, None, True)  # a mute of the viewer hides nothing
    everyone = [*(u.id for u in users), 987654, friend.id]
    assert await graph.hidden_among(viewer.id, everyone, NOW) == {
        blocked.id,
        blocker.id,
        muted.id,
        quiet.id,
    }
    assert await graph.hidden_among(viewer.id, everyone, NOW, notifications=True) == {
        blocked.id,
        blocker.id,
        quiet.id,
    }
    assert await graph.hidden_among(viewer.id, [friend.id, stranger.id, viewer.id], NOW) == set()
    assert await graph.hidden_among(viewer.id, [], NOW) == set()
    # a block hides both ways; a mute only from the muter
    assert await graph.hidden_among(blocked.id, [viewer.id], NOW) == {viewer.id}
    assert await graph.hidden_among(blocker.id, [viewer.id], NOW) == {viewer.id}
    assert await graph.hidden_among(muted.id, [viewer.id], NOW) == set()


async def test_hidden_ids_is_everyone_hidden_among_would_name(graph: SocialGraph) -> None:
    users = await make_users(graph, 7)
    viewer, blocked, blocker, muted, quiet, lapsed, friend = users
    await graph.follow(viewer.id, friend.id, T)
    await graph.follow(friend.id, viewer.id, T)
    await graph.block(viewer.id, blocked.id, T)
    await graph.block(blocker.id, viewer.id, T)
    await graph.mute(viewer.id, muted.id, T, None, False)
    await graph.mute(viewer.id, quiet.id, T, None, True)
    await graph.mute(viewer.id, lapsed.id, T, T + 1, True)
    assert await graph.hidden_ids(viewer.id, NOW) == {blocked.id, blocker.id, muted.id, quiet.id}
    assert await graph.hidden_ids(viewer.id, NOW, notifications=True) == {
        blocked.id,
        blocker.id,
        quiet.id,
    }
    everyone = [u.id for u in users]
    for notifications in (False, True):
        assert await graph.hidden_ids(viewer.id, NOW, notifications) == (
            await graph.hidden_among(viewer.id, everyone, NOW, notifications)
        )
    assert await graph.hidden_ids(friend.id, NOW) == set()
    assert await graph.hidden_ids(blocked.id, NOW) == {viewer.id}  # a block hides both ways
    assert await graph.hidden_ids(muted.id, NOW) == set()  # a mute hides only from the muter
    assert await graph.hidden_ids(987654, NOW) == set()
    await graph.unblock(viewer.id, blocked.id)
    await graph.unmute(viewer.id, quiet.id, NOW)
    assert await graph.hidden_ids(viewer.id, NOW) == {blocker.id, muted.id}


# --- the audience of a tweet ---------------------------------------------------------------


async def test_audience_leaves_out_readers_who_block_are_blocked_by_or_mute_the_author(
    graph: SocialGraph,
) -> None:
    users = await make_users(graph, 8)
    author, plain, blocking, blocked, muting, lapsed, muting_other, other = users
    await graph.block(blocking.id, author.id, T)
    await graph.block(author.id, blocked.id, T)
    await graph.mute(muting.id, author.id, T, None, False)
    await graph.mute(lapsed.id, author.id, T, NOW, True)  # expired at NOW
    await graph.mute(muting_other.id, other.id, T, None, True)
    await graph.mute(author.id, plain.id, T, None, True)  # the author's own mutes do not count
    readers = [u.id for u in users if u is not author and u is not other]
    assert await graph.audience(readers, NOW, [author.id]) == {
        plain.id,
        lapsed.id,
        muting_other.id,
    }
    assert await graph.audience(readers, NOW, []) == set(readers)
    assert await graph.audience([], NOW, [author.id]) == set()


async def test_audience_of_a_retweet_checks_both_authors(graph: SocialGraph) -> None:
    retweeter, original, plain, mutes_original, blocked_by_original = await make_users(graph, 5)
    await graph.mute(mutes_original.id, original.id, T, None, False)
    await graph.block(original.id, blocked_by_original.id, T)
    readers = [plain.id, mutes_original.id, blocked_by_original.id]
    assert await graph.audience(readers, NOW, [retweeter.id]) == set(readers)
    assert await graph.audience(readers, NOW, [retweeter.id, original.id]) == {plain.id}


async def test_audience_with_must_follow_keeps_that_users_followers_and_that_user(
    graph: SocialGraph,
) -> None:
    users = await make_users(graph, 6)
    replier, answered, both, only_replier, blocks_replier, outsider = users
    for reader in (both, only_replier, blocks_replier, answered):
        await graph.follow(reader.id, replier.id, T)
    await graph.follow(both.id, answered.id, T)
    await graph.follow(blocks_replier.id, answered.id, T)
    await graph.follow(replier.id, answered.id, T)
    await graph.block(blocks_replier.id, replier.id, T + 1)
    readers = [both.id, only_replier.id, blocks_replier.id, answered.id, outsider.id]
    assert await graph.audience(readers, NOW, [replier.id], must_follow=answered.id) == {
        both.id,
        answered.id,
    }
    assert await graph.audience(readers, NOW, [replier.id], must_follow=None) == {
        both.id,
        only_replier.id,
        answered.id,
        outsider.id,
    }
    assert await graph.audience([*readers, replier.id], NOW, [replier.id], answered.id) == {
        both.id,
        answered.id,
        replier.id,  # the replier follows the answered user
    }


async def test_audience_leaves_out_ids_that_are_no_user(graph: SocialGraph) -> None:
    author, reader = await make_users(graph, 2)
    assert await graph.audience([reader.id, 987654, reader.id], NOW, [author.id]) == {reader.id}


async def test_audience_of_500_readers_in_one_call(graph: SocialGraph) -> None:
    author, answered, *readers = await make_users(graph, 502, prefix="r")
    left_out: set[int] = set()
    for n, reader in enumerate(readers):
        if n % 7 == 0:
            await graph.block(reader.id, author.id, T)
            left_out.add(reader.id)
        elif n % 11 == 0:
            await graph.block(author.id, reader.id, T)
            left_out.add(reader.id)
        elif n % 13 == 0:
            await graph.mute(reader.id, author.id, T, None, False)
            left_out.add(reader.id)
        elif n % 17 == 0:
            await graph.mute(reader.id, author.id, T, T + 1, False)  # expired: no effect
        if n % 2 == 0:
            await graph.follow(reader.id, answered.id, T)
    ids = [r.id for r in readers]
    assert len(left_out) > 100
    assert await graph.audience(ids, NOW, [author.id]) == set(ids) - left_out
    followers = {r.id for n, r in enumerate(readers) if n % 2 == 0}
    assert await graph.audience(ids, NOW, [author.id], answered.id) == followers - left_out


# --- who to follow ---------------------------------------------------------------------


async def follow_all(graph: SocialGraph, follower: UserRecord, *followees: UserRecord) -> None:
    """``follower`` follows each of ``followees``, one millisecond apart, in that order."""
    for n, followee in enumerate(followees):
        await graph.follow(follower.id, followee.id, T + n)


async def test_suggestions_are_friends_of_friends_ranked_by_how_many_followees_follow_them(
    graph: SocialGraph,
) -> None:
    viewer, a, b, c, three, two, one = await make_users(graph, 7)
    await follow_all(graph, viewer, a, b, c)
    for followee in (a, b, c):
        await graph.follow(followee.id, three.id, T)
    for followee in (a, b):
        await graph.follow(followee.id, two.id, T)
    await graph.follow(c.id, one.id, T)
    assert await graph.suggestions(viewer.id, 10, NOW) == [(three.id, 3), (two.id, 2), (one.id, 1)]
    assert await graph.suggestions(viewer.id, 2, NOW) == [(three.id, 3), (two.id, 2)]
    assert await graph.suggestions(viewer.id, 0, NOW) == []


async def test_suggestions_tie_break_by_fewer_followers_then_by_id(graph: SocialGraph) -> None:
    viewer, friend, fan, big, small, small_too = await make_users(graph, 6)
    await graph.follow(viewer.id, friend.id, T)
    for candidate in (big, small, small_too):
        await graph.follow(friend.id, candidate.id, T)
    await graph.follow(fan.id, big.id, T)  # big: 2 followers, the others 1
    assert await graph.suggestions(viewer.id, 10, NOW) == [
        (small.id, 1),
        (small_too.id, 1),  # as few followers as small: the higher id comes second
        (big.id, 1),
    ]


async def test_suggestions_never_name_the_viewer_nor_anyone_the_viewer_follows(
    graph: SocialGraph,
) -> None:
    viewer, old_friend, friend, stranger = await make_users(graph, 4)
    await follow_all(graph, viewer, old_friend, friend)
    await graph.follow(friend.id, viewer.id, T)
    await graph.follow(friend.id, old_friend.id, T)
    await graph.follow(friend.id, stranger.id, T)
    assert await graph.suggestions(viewer.id, 10, NOW) == [(stranger.id, 1)]
    # a followee outside the sample is still someone the viewer follows
    assert await graph.suggestions(viewer.id, 10, NOW, sample=1) == [(stranger.id, 1)]


async def test_suggestions_leave_out_blocks_either_way_and_active_mutes(
    graph: SocialGraph,
) -> None:
    users = await make_users(graph, 9)
    viewer, friend, blocked, blocker, muted, muted_until_later, lapsed, muter, plain = users
    await graph.follow(viewer.id, friend.id, T)
    for candidate in users[2:]:
        await graph.follow(friend.id, candidate.id, T)
    await graph.block(viewer.id, blocked.id, T + 1)
    await graph.block(blocker.id, viewer.id, T + 1)
    await graph.mute(viewer.id, muted.id, T, None, False)
    await graph.mute(viewer.id, muted_until_later.id, T, NOW + 1, False)
    await graph.mute(viewer.id, lapsed.id, T, NOW, True)  # expired at NOW
    await graph.mute(muter.id, viewer.id, T, None, True)  # muting the viewer hides nothing
    found = await graph.suggestions(viewer.id, 10, NOW)
    assert sorted(found) == sorted([(lapsed.id, 1), (muter.id, 1), (plain.id, 1)])
    assert (muted_until_later.id, 1) in await graph.suggestions(viewer.id, 10, NOW + 1)


async def test_suggestions_count_the_newest_followees_and_their_newest_follows(
    graph: SocialGraph,
) -> None:
    viewer, oldest, middle, newest, x, y, z = await make_users(graph, 7)
    await follow_all(graph, viewer, oldest, middle, newest)
    await follow_all(graph, oldest, x, y, z)  # z is oldest's newest follow
    await follow_all(graph, middle, x)
    await follow_all(graph, newest, z)
    assert await graph.suggestions(viewer.id, 10, NOW) == [(x.id, 2), (z.id, 2), (y.id, 1)]
    # of the viewer's follows, the two newest: middle and newest
    assert await graph.suggestions(viewer.id, 10, NOW, sample=2) == [(x.id, 1), (z.id, 1)]
    # of each followee's follows, the newest one: z (oldest's), x (middle's), z (newest's)
    assert await graph.suggestions(viewer.id, 10, NOW, per_followee=1) == [(z.id, 2), (x.id, 1)]


async def test_suggestions_by_default_read_200_followees_and_100_follows_of_each(
    graph: SocialGraph,
) -> None:
    viewer, unseen, *rest = await make_users(graph, 2 + 201 + 101, prefix="d")
    followees, candidates = rest[:201], rest[201:]
    await follow_all(graph, viewer, *followees)
    await graph.follow(followees[0].id, unseen.id, T)  # the 201st newest followee's follow
    await follow_all(graph, followees[-1], *candidates)  # 101 follows of the newest one
    found = await graph.suggestions(viewer.id, 500, NOW)
    assert (SUGGESTION_SAMPLE, SUGGESTION_PER_FOLLOWEE) == (200, 100)
    assert found == [(c.id, 1) for c in candidates[1:]]  # not the oldest follow, nor unseen


async def test_suggestions_for_someone_who_follows_nobody_or_no_user_are_empty(
    graph: SocialGraph,
) -> None:
    loner, a, b = await make_users(graph, 3)
    await graph.follow(a.id, b.id, T)
    assert await graph.suggestions(loner.id, 10, NOW) == []
    assert await graph.suggestions(987654, 10, NOW) == []


# --- popular accounts ------------------------------------------------------------------


async def test_popular_lists_the_most_followed_first_then_by_id(graph: SocialGraph) -> None:
    newcomer, star, second, tied_first, tied_second, *fans = await make_users(graph, 10)
    for fan in fans:  # 5 fans
        await graph.follow(fan.id, star.id, T)
    for fan in fans[:3]:
        await graph.follow(fan.id, second.id, T)
    for fan in fans[:2]:
        await graph.follow(fan.id, tied_second.id, T)
        await graph.follow(fan.id, tied_first.id, T)
    assert await graph.popular(newcomer.id, 10, NOW) == [
        star.id,
        second.id,
        tied_first.id,
        tied_second.id,
    ]  # nobody follows the fans nor the newcomer: never popular
    assert await graph.popular(newcomer.id, 2, NOW) == [star.id, second.id]
    assert await graph.popular(987654, 1, NOW) == [star.id]  # asked by no user
    assert await graph.popular(newcomer.id, 0, NOW) == []


async def test_popular_leaves_out_the_viewer_followees_blocks_and_active_mutes(
    graph: SocialGraph,
) -> None:
    users = await make_users(graph, 7)
    viewer, followed, blocked, blocker, muted, lapsed, plain = users
    fans = await make_users(graph, 6, prefix="fan")
    for n, user in enumerate(users):  # viewer: 6 fans, followed: 5, ..., plain: none
        for fan in fans[n:]:
            await graph.follow(fan.id, user.id, T)
    await graph.follow(fans[0].id, plain.id, T)
    await graph.follow(viewer.id, followed.id, T)
    await graph.block(viewer.id, blocked.id, T)
    await graph.block(blocker.id, viewer.id, T)
    await graph.mute(viewer.id, muted.id, T, None, False)
    await graph.mute(viewer.id, lapsed.id, T, NOW, False)  # expired at NOW
    assert await graph.popular(viewer.id, 10, NOW) == [lapsed.id, plain.id]


async def test_popular_follows_every_follow_unfollow_and_block(graph: SocialGraph) -> None:
    newcomer, a, b, c, d = await make_users(graph, 5)
    await graph.follow(b.id, a.id, T)
    await graph.follow(c.id, a.id, T)
    await graph.follow(c.id, b.id, T)
    assert await graph.popular(newcomer.id, 10, NOW) == [a.id, b.id]
    await graph.follow(c.id, b.id, T + 1)  # again: nothing changes
    await graph.unfollow(b.id, a.id)
    await graph.unfollow(b.id, a.id)  # again: nothing changes
    await graph.follow(d.id, b.id, T)
    assert await graph.popular(newcomer.id, 10, NOW) == [b.id, a.id]
    await graph.follow(a.id, c.id, T)
    await graph.block(b.id, c.id, T)  # removes c -> b
    await graph.block(a.id, c.id, T)  # removes c -> a and a -> c
    assert await graph.popular(newcomer.id, 10, NOW) == [b.id]
    with pytest.raises(BlockedError):
        await graph.follow(c.id, a.id, T)  # refused: counts nothing
    assert await graph.popular(newcomer.id, 10, NOW) == [b.id]


async def test_popular_fills_the_limit_past_excluded_top_accounts(graph: SocialGraph) -> None:
    viewer, *stars = await make_users(graph, 7)
    fans = await make_users(graph, 6, prefix="fan")
    for n, star in enumerate(stars):  # stars[0]: 6 followers, ..., stars[5]: 1
        for fan in fans[n:]:
            await graph.follow(fan.id, star.id, T)
    assert await graph.popular(viewer.id, 2, NOW) == [s.id for s in stars[:2]]
    await follow_all(graph, viewer, *stars[:4])
    assert await graph.popular(viewer.id, 2, NOW) == [stars[4].id, stars[5].id]
    assert await graph.popular(viewer.id, 5, NOW) == [stars[4].id, stars[5].id]


# --- searching users -------------------------------------------------------------------


async def named(graph: SocialGraph, handle: str, display_name: str) -> UserRecord:
    return await graph.create_user(new_user(handle, display_name=display_name))


def handles(users: list[UserRecord]) -> list[str]:
    return [user.handle for user in users]


async def test_search_users_finds_handle_prefixes_exact_first_then_shorter(
    graph: SocialGraph,
) -> None:
    for handle in ("ALBERT_x", "alina", "Al", "Alice", "bob", "xal"):
        await named(graph, handle, "Somebody")
    assert handles(await graph.search_users("al", 10)) == ["Al", "Alice", "alina", "ALBERT_x"]
    assert handles(await graph.search_users("ALI", 10)) == ["Alice", "alina"]
    assert handles(await graph.search_users("@Alice", 10)) == ["Alice"]  # for @-autocomplete
    assert handles(await graph.search_users("alice", 10)) == ["Alice"]
    assert handles(await graph.search_users("albert_", 10)) == ["ALBERT_x"]
    assert handles(await graph.search_users("al", 2)) == ["Al", "Alice"]


async def test_search_users_then_finds_display_name_word_prefixes_most_followed_first(
    graph: SocialGraph,
) -> None:
    by_handle = await named(graph, "alison", "Nobody Special")
    liked = await named(graph, "carol", "Carol Alison")
    first = await named(graph, "mia", "Ali Mia")
    second = await named(graph, "zed", "Zed Alinsky")
    await named(graph, "bob", "Bob Malice")  # "ali" begins no word of it
    fans = await make_users(graph, 2, prefix="fan")
    for fan in fans:
        await graph.follow(fan.id, liked.id, T)
    assert await graph.search_users("ali", 10) == [by_handle, liked, first, second]


async def test_search_users_ignores_case_and_accents_in_display_names(
    graph: SocialGraph,
) -> None:
    eloise = await named(graph, "em", "Éloïse Martin")
    zoe = await named(graph, "zz", "Zoë 🐦 O'Brien-Lee")
    for query in ("elo", "ÉLO", "Éloïse", "eloise", "martin", "MART", "élo mar"):
        assert await graph.search_users(query, 10) == [eloise], query
    for query in ("zoe", "zoë", "ZOË", "brien", "lee", "o", "zo brien lee"):
        assert await graph.search_users(query, 10) == [zoe], query


async def test_search_users_matches_beginnings_of_words_only(graph: SocialGraph) -> None:
    alice = await named(graph, "a1", "Alice Smith")
    assert await graph.search_users("smi", 10) == [alice]
    assert await graph.search_users("ith", 10) == []
    assert await graph.search_users("lice", 10) == []


async def test_search_users_needs_every_word_of_the_query(graph: SocialGraph) -> None:
    alice = await named(graph, "a1", "Alice Smith")
    alina = await named(graph, "a2", "Alina Jones")
    assert await graph.search_users("ali smi", 10) == [alice]
    assert await graph.search_users("smith al", 10) == [alice]
    assert await graph.search_users("ali jon", 10) == [alina]
    assert await graph.search_users("ali brown", 10) == []
    assert await graph.search_users("alice OR jones", 10) == []  # no query language


async def test_search_users_names_each_user_once(graph: SocialGraph) -> None:
    alice = await named(graph, "alice", "Alice Alicia")  # handle and both words match
    other = await named(graph, "bob", "Alicia Keys")
    assert await graph.search_users("ali", 10) == [alice, other]


async def test_search_users_pages_by_offset_without_gaps_or_repeats(graph: SocialGraph) -> None:
    for n in range(7):
        await named(graph, f"sam{'x' * n}", "Somebody")
        await named(graph, f"other{n}", f"Sam Number {n}")
    everyone = await graph.search_users("sam", 100)
    assert len(everyone) == 14
    assert handles(everyone[:7]) == [f"sam{'x' * n}" for n in range(7)]
    pages = [await graph.search_users("sam", 4, offset) for offset in range(0, 16, 4)]
    assert [len(page) for page in pages] == [4, 4, 4, 2]
    assert [user for page in pages for user in page] == everyone
    assert await graph.search_users("sam", 4, 14) == []


async def test_search_users_follows_renames(graph: SocialGraph) -> None:
    user = await named(graph, "u1", "Alice Smith")
    await graph.update_profile(user.id, "Beatrice Jones", None)
    renamed = (await graph.get_users([user.id]))[user.id]
    assert await graph.search_users("ali", 10) == []
    assert await graph.search_users("bea jon", 10) == [renamed]
    await graph.update_profile(user.id, None, "a new bio")  # the name stays searchable
    assert await graph.search_users("jones", 10) == [(await graph.get_users([user.id]))[user.id]]


async def test_search_users_of_no_letter_or_digit_finds_nobody_and_never_fails(
    graph: SocialGraph,
) -> None:
    await named(graph, "_under", "Under Score")
    await named(graph, "quote", 'The "Quoted" One')
    for query in ("", "   ", "!!!", "@", "_", "__", "*", '"', "'", "-", "(", ")", "^", "🐦", "@@"):
        assert await graph.search_users(query, 10) == [], query
    assert handles(await graph.search_users('"quoted"*', 10)) == ["quote"]  # words only
    assert handles(await graph.search_users("_u", 10)) == ["_under"]


async def test_search_users_finds_users_stored_before_search_existed(
    graph: SocialGraph,
) -> None:
    reopened = await store_as_an_earlier_version(
        graph,
        users=[(1, "first", "Éloïse Martin"), (2, "second", "Alice Smith"), (3, "fan", "Fan")],
        follows=[(3, 1), (3, 2), (2, 1)],
    )
    try:
        assert [u.id for u in await reopened.search_users("elo", 10)] == [1]
        assert [u.id for u in await reopened.search_users("smi", 10)] == [2]
        assert await reopened.popular(3, 10, NOW) == []  # follows both
        assert await reopened.popular(2, 10, NOW) == []  # follows first; nobody follows fan
        assert await reopened.popular(987654, 10, NOW) == [1, 2]
        assert await reopened.suggestions(3, 10, NOW) == []
        await reopened.follow(1, 3, T)
        assert await reopened.popular(987654, 10, NOW) == [1, 2, 3]
    finally:
        if reopened is not graph:
            await reopened.close()


async def store_as_an_earlier_version(
    graph: SocialGraph, users: list[tuple[int, str, str]], follows: list[tuple[int, int]]
) -> SocialGraph:
    """Users and follows written the way a version before discovery wrote them (no
    follower counts, no name index), then the adapter opened on them again."""
    if isinstance(graph, SqliteSocialGraph):
        path = graph.db.path.with_name("earlier.sqlite3")
        with sqlite3.connect(path) as conn:
            conn.executescript(SQLITE_SCHEMA)  # the tables alone, without the migration
            conn.executemany(
                "INSERT INTO users (id, handle, handle_lower, display_name, bio, created_at,"
                " password_hash) VALUES (?, ?, lower(?), ?, '', 0, 'x')",
                [(uid, handle, handle, name) for uid, handle, name in users],
            )
            conn.executemany("INSERT INTO follows VALUES (?, ?, 0)", follows)
        conn.close()
        earlier = SqliteSocialGraph(path)
        await earlier.open()
        return earlier
    assert isinstance(graph, Neo4jSocialGraph)
    await graph.driver.execute_query(
        "UNWIND $users AS u CREATE (:User {id: u[0], handle: u[1], handle_lower: toLower(u[1]),"
        " display_name: u[2], bio: '', created_at: 0, password_hash: 'x'})",
        users=[list(user) for user in users],
        database_=graph.database,
    )
    await graph.driver.execute_query(
        "UNWIND $follows AS f MATCH (a:User {id: f[0]}) WITH a, f"
        " MATCH (b:User {id: f[1]}) CREATE (a)-[:FOLLOWS {since: 0}]->(b)",
        follows=[list(pair) for pair in follows],
        database_=graph.database,
    )
    await graph.open()
    return graph


# --- the embedded adapter's discovery plans: indexes, never a scan of users or follows --


def sqlite_plan(path: Path, sql: str, params: Mapping[str, object]) -> list[str]:
    with sqlite3.connect(path) as conn:
        steps = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    conn.close()
    return steps


@pytest.fixture
async def sqlite_file(tmp_path: Path) -> Path:
    """An embedded graph file with its schema and migrations applied."""
    graph = SqliteSocialGraph(tmp_path / "graph.sqlite3")
    await graph.open()
    await graph.close()
    return graph.db.path


async def test_sqlite_search_reads_handles_in_rank_order_and_names_from_the_word_index(
    sqlite_file: Path,
) -> None:
    window = {"low": "al", "high": "am", "limit": 20, "offset": 0, "match": '"al"*'}
    handles = sqlite_plan(sqlite_file, SEARCH_HANDLES_SQL, window)
    assert handles == [
        "SEARCH users USING INDEX users_by_handle_length (<expr>=? AND handle_lower>? AND"
        " handle_lower<?)"
    ]  # one range per length, already in rank order: no sort, stops at the page
    names = sqlite_plan(sqlite_file, SEARCH_NAMES_SQL, window)
    assert names[0].startswith("SCAN user_names VIRTUAL TABLE INDEX"), names
    assert "SEARCH u USING INTEGER PRIMARY KEY (rowid=?)" in names


async def test_sqlite_popular_walks_the_follower_counts_from_the_top(sqlite_file: Path) -> None:
    steps = sqlite_plan(sqlite_file, POPULAR_SQL, {"viewer": 1, "limit": 10, "now": 0})
    assert steps[0] == "SEARCH u USING COVERING INDEX users_by_followers (followers_count>?)"
    assert not any("TEMP B-TREE" in step for step in steps), steps  # no sort: stops at limit


async def test_sqlite_suggestions_read_follows_by_ranges_of_the_follower_index(
    sqlite_file: Path,
) -> None:
    params = {"viewer": 1, "limit": 10, "now": 0, "sample": 200, "per_followee": 100}
    steps = sqlite_plan(sqlite_file, SUGGESTIONS_SQL, params)
    # the second hop: from each sampled followee, one range from its cut-off on
    assert (
        "SEARCH f USING COVERING INDEX follows_by_follower"
        " (follower_id=? AND (since,followee_id)>(?,?))"
    ) in steps
    scanned = {step.split()[1] for step in steps if step.startswith("SCAN ")}
    assert scanned <= {"recent", "hop"}, steps  # the CTEs' own rows, never a table
