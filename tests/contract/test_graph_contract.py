"""The SocialGraph contract (graph/port.py): every adapter must pass these tests."""

from __future__ import annotations

import itertools

import pytest

from core.models import Credentials, FollowEdge, NewUser, UserRecord
from graph.port import HandleTakenError, SocialGraph

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
