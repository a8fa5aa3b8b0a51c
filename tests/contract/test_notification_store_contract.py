"""The notifications port: every adapter stores, folds, hides and counts notifications alike.

Ids are snowflakes made from each notification's own time (``note(..., at=...)``),
so they sort as the events happened, the way the service makes them.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import replace

from core.ids import min_id_for_ms
from core.models import GROUP_SPAN_MS, NotificationGroupRecord, NotificationRecord
from docstore.mongo import connect as mongo_connect
from docstore.notifications import NotificationStore
from docstore.notifications_mongo import INDEXES, init_notifications
from tests.backends import MongoTarget, fresh_mongo_db

T0 = 1_790_000_000_000  # unix ms, the day these tests happen
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
ALICE, BOB, CAROL, DAVE, MALLORY = 1, 2, 3, 4, 5
TWEET, OTHER_TWEET = 70, 80

_low_bits = itertools.count(1)  # worker and sequence bits: unique ids within one millisecond


def note(
    kind: str,
    actor: int,
    tweet: int | None = None,
    *,
    at: int = 0,
    recipient: int = ALICE,
) -> NotificationRecord:
    """``actor`` did ``kind`` (about ``tweet``) ``at`` ms after T0, for ``recipient``."""
    created = T0 + at
    return NotificationRecord(
        id=min_id_for_ms(created) + next(_low_bits),
        recipient_id=recipient,
        kind=kind,
        actor_id=actor,
        tweet_id=tweet,
        created_at_ms=created,
    )


async def add(store: NotificationStore, notification: NotificationRecord) -> NotificationRecord:
    stored = await store.add(notification)
    assert stored is not None, f"{notification} was refused"
    return stored


async def add_all(
    store: NotificationStore, notifications: list[NotificationRecord]
) -> list[NotificationRecord]:
    return [await add(store, n) for n in notifications]


async def only_group(store: NotificationStore, recipient: int = ALICE) -> NotificationGroupRecord:
    groups = await store.groups(recipient, 10)
    assert len(groups) == 1, groups
    return groups[0]


def ids(notifications: list[NotificationRecord]) -> list[int]:
    return [n.id for n in notifications]


# --- storing once -----------------------------------------------------------------


async def test_ping_answers_when_the_store_is_up(notifications: NotificationStore) -> None:
    await notifications.ping()


async def test_add_returns_the_notification_as_stored_with_its_group_key(
    notifications: NotificationStore,
) -> None:
    like = note("LIKE", BOB, TWEET)
    stored = await add(notifications, like)
    assert stored.group_key != ""
    assert stored == replace(like, group_key=stored.group_key)
    assert await notifications.page(ALICE, 10) == [stored]


async def test_notifications_are_found_by_id_until_withdrawn(
    notifications: NotificationStore,
) -> None:
    like = await add(notifications, note("LIKE", BOB, TWEET))
    follow = await add(notifications, note("FOLLOW", CAROL, at=1))
    found = await notifications.get_notifications([like.id, follow.id, 12345])
    assert found == {like.id: like, follow.id: follow}
    await notifications.withdraw(ALICE, "LIKE", BOB, TWEET)
    assert await notifications.get_notifications([like.id]) == {}
    assert await notifications.get_notifications([]) == {}


async def test_a_notification_is_stored_once_per_kind_actor_and_tweet(
    notifications: NotificationStore,
) -> None:
    first_like = await add(notifications, note("LIKE", BOB, TWEET, at=1))
    first_follow = await add(notifications, note("FOLLOW", BOB, at=2))
    assert await notifications.add(note("LIKE", BOB, TWEET, at=3)) is None
    assert await notifications.add(note("FOLLOW", BOB, at=4)) is None  # no tweet: still once
    others = [
        await add(notifications, note("LIKE", BOB, OTHER_TWEET, at=5)),  # another tweet
        await add(notifications, note("RETWEET", BOB, TWEET, at=6)),  # another kind
        await add(notifications, note("LIKE", CAROL, TWEET, at=7)),  # another actor
        await add(notifications, note("LIKE", BOB, TWEET, at=8, recipient=CAROL)),
    ]
    newest_first = [*reversed(others[:3]), first_follow, first_like]
    assert ids(await notifications.page(ALICE, 10)) == ids(newest_first)
    assert ids(await notifications.page(CAROL, 10)) == [others[3].id]


async def test_concurrent_identical_adds_store_one_notification(
    notifications: NotificationStore,
) -> None:
    copies = [note("LIKE", BOB, TWEET, at=n) for n in range(20)]
    results = await asyncio.gather(*(notifications.add(copy) for copy in copies))
    stored = [r for r in results if r is not None]
    assert len(stored) == 1
    assert await notifications.page(ALICE, 50) == stored
    group = await only_group(notifications)
    assert (group.count, group.actor_ids) == (1, (BOB,))


# --- pages --------------------------------------------------------------------------


async def test_pages_are_newest_first_and_continue_before_an_id(
    notifications: NotificationStore,
) -> None:
    made = await add_all(
        notifications,
        [note("LIKE", actor, TWEET, at=actor * MINUTE) for actor in (BOB, CAROL, DAVE, MALLORY)]
        + [note("FOLLOW", BOB, at=10 * MINUTE)],
    )
    newest_first = ids(made)[::-1]
    first = await notifications.page(ALICE, 2)
    assert ids(first) == newest_first[:2]
    rest = await notifications.page(ALICE, 10, before_id=first[-1].id)
    assert ids(rest) == newest_first[2:]
    assert await notifications.page(ALICE, 10, before_id=made[0].id) == []
    assert await notifications.page(ALICE, 0) == []


# --- withdrawing --------------------------------------------------------------------


async def test_withdraw_removes_the_notification_and_returns_it(
    notifications: NotificationStore,
) -> None:
    like = await add(notifications, note("LIKE", BOB, TWEET))
    follow = await add(notifications, note("FOLLOW", BOB, at=MINUTE))
    assert await notifications.withdraw(ALICE, "LIKE", BOB, TWEET) == like
    assert await notifications.withdraw(ALICE, "FOLLOW", BOB, None) == follow
    assert await notifications.page(ALICE, 10) == []
    assert await notifications.groups(ALICE, 10) == []
    assert await notifications.withdraw(ALICE, "LIKE", BOB, TWEET) is None  # gone already
    assert await notifications.withdraw(ALICE, "LIKE", CAROL, TWEET) is None  # never there


async def test_withdraw_takes_the_notification_out_of_its_group(
    notifications: NotificationStore,
) -> None:
    await add_all(
        notifications, [note("LIKE", actor, TWEET, at=actor) for actor in (BOB, CAROL, DAVE)]
    )
    await notifications.withdraw(ALICE, "LIKE", CAROL, TWEET)
    group = await only_group(notifications)
    assert (group.count, group.actor_ids) == (2, (DAVE, BOB))
    await notifications.withdraw(ALICE, "LIKE", BOB, TWEET)
    await notifications.withdraw(ALICE, "LIKE", DAVE, TWEET)
    assert await notifications.groups(ALICE, 10) == []  # emptied: gone
    assert await notifications.unread_group_count(ALICE) == 0


async def test_withdraw_about_a_tweet_removes_every_notification_about_it(
    notifications: NotificationStore,
) -> None:
    await add_all(
        notifications,
        [
            note("LIKE", BOB, TWEET, at=1),
            note("LIKE", CAROL, TWEET, at=2),
            note("RETWEET", DAVE, TWEET, at=3),
            note("MENTION", ALICE, TWEET, at=4, recipient=BOB),  # the tweet mentioned Bob
        ],
    )
    kept = await add_all(
        notifications, [note("LIKE", BOB, OTHER_TWEET, at=5), note("FOLLOW", CAROL, at=6)]
    )
    assert await notifications.withdraw_about_tweet(TWEET) == 4
    assert ids(await notifications.page(ALICE, 10)) == ids(kept)[::-1]
    assert [(g.kind, g.tweet_id) for g in await notifications.groups(ALICE, 10)] == [
        ("FOLLOW", None),
        ("LIKE", OTHER_TWEET),
    ]
    assert await notifications.page(BOB, 10) == []
    assert await notifications.groups(BOB, 10) == []
    assert await notifications.withdraw_about_tweet(TWEET) == 0


async def test_withdraw_between_two_users_removes_both_directions_only(
    notifications: NotificationStore,
) -> None:
    await add_all(
        notifications,
        [
            note("LIKE", BOB, TWEET, at=1),  # Bob to Alice
            note("FOLLOW", BOB, at=2),
            note("FOLLOW", ALICE, at=3, recipient=BOB),  # Alice to Bob
        ],
    )
    carol_likes = await add(notifications, note("LIKE", CAROL, TWEET, at=4))  # same group
    bob_to_carol = await add(notifications, note("FOLLOW", BOB, at=5, recipient=CAROL))
    assert await notifications.withdraw_between(ALICE, BOB) == 3
    assert await notifications.page(ALICE, 10) == [carol_likes]
    group = await only_group(notifications)
    assert (group.count, group.actor_ids, group.latest_id) == (1, (CAROL,), carol_likes.id)
    assert await notifications.page(BOB, 10) == []
    assert await notifications.groups(BOB, 10) == []
    assert await notifications.page(CAROL, 10) == [bob_to_carol]
    assert await notifications.withdraw_between(BOB, ALICE) == 0


# --- groups -------------------------------------------------------------------------


async def test_likes_of_one_tweet_fold_into_one_group(notifications: NotificationStore) -> None:
    likes = await add_all(
        notifications,
        [note("LIKE", actor, TWEET, at=actor * MINUTE) for actor in (BOB, CAROL, DAVE)],
    )
    group = await only_group(notifications)
    assert {like.group_key for like in likes} == {group.key}
    assert (group.kind, group.tweet_id, group.count) == ("LIKE", TWEET, 3)
    assert group.actor_ids == (DAVE, CAROL, BOB)
    assert (group.latest_id, group.latest_at_ms) == (likes[-1].id, likes[-1].created_at_ms)


async def test_likes_of_two_tweets_and_retweets_of_one_are_separate_groups(
    notifications: NotificationStore,
) -> None:
    await add_all(
        notifications,
        [
            note("LIKE", BOB, TWEET, at=1),
            note("LIKE", CAROL, OTHER_TWEET, at=2),
            note("RETWEET", BOB, TWEET, at=3),
            note("RETWEET", DAVE, TWEET, at=4),
            note("LIKE", DAVE, TWEET, at=5),
        ],
    )
    groups = await notifications.groups(ALICE, 10)
    assert [(g.kind, g.tweet_id, g.count, g.actor_ids) for g in groups] == [
        ("LIKE", TWEET, 2, (DAVE, BOB)),
        ("RETWEET", TWEET, 2, (DAVE, BOB)),
        ("LIKE", OTHER_TWEET, 1, (CAROL,)),
    ]


async def test_follows_fold_into_one_group(notifications: NotificationStore) -> None:
    follows = await add_all(
        notifications, [note("FOLLOW", actor, at=actor * MINUTE) for actor in (BOB, CAROL)]
    )
    group = await only_group(notifications)
    assert (group.kind, group.tweet_id, group.count) == ("FOLLOW", None, 2)
    assert group.actor_ids == (CAROL, BOB)
    assert {f.group_key for f in follows} == {group.key}


async def test_replies_mentions_and_quotes_stand_alone(notifications: NotificationStore) -> None:
    made = await add_all(
        notifications,
        [
            note("REPLY", BOB, 101, at=1),
            note("REPLY", BOB, 102, at=2),
            note("MENTION", CAROL, 103, at=3),
            note("MENTION", DAVE, 103, at=4),  # even about one tweet
            note("QUOTE", BOB, 105, at=5),
        ],
    )
    groups = await notifications.groups(ALICE, 10)
    assert [(g.key, g.kind, g.tweet_id, g.count) for g in groups] == [
        (n.group_key, n.kind, n.tweet_id, 1) for n in reversed(made)
    ]
    assert len({g.key for g in groups}) == 5


async def test_a_like_more_than_12_hours_after_its_group_started_starts_a_new_group(
    notifications: NotificationStore,
) -> None:
    first_group = await add_all(
        notifications,
        [
            note("LIKE", BOB, TWEET, at=0),
            note("LIKE", CAROL, TWEET, at=11 * HOUR),
            note("LIKE", DAVE, TWEET, at=GROUP_SPAN_MS),  # 12 h to the millisecond: joins
        ],
    )
    second_group = await add_all(
        notifications,
        [
            note("LIKE", MALLORY, TWEET, at=GROUP_SPAN_MS + 1),
            note("LIKE", 6, TWEET, at=13 * HOUR),  # 13 h after the first group started
        ],
    )
    assert len({n.group_key for n in first_group}) == 1
    assert len({n.group_key for n in second_group}) == 1
    newer, older = await notifications.groups(ALICE, 10)
    assert (newer.key, newer.count, newer.actor_ids) == (second_group[0].group_key, 2, (6, MALLORY))
    assert (older.key, older.count, older.actor_ids) == (
        first_group[0].group_key,
        3,
        (DAVE, CAROL, BOB),
    )


async def test_a_group_count_is_exact_under_concurrent_likes(
    notifications: NotificationStore,
) -> None:
    likes = [note("LIKE", 100 + n, TWEET, at=n * SECOND) for n in range(30)]
    stored = await asyncio.gather(*(notifications.add(like) for like in likes))
    assert all(s is not None for s in stored)
    assert len({s.group_key for s in stored if s is not None}) == 1
    group = await only_group(notifications)
    assert group.count == 30
    assert group.actor_ids == (129, 128, 127)
    assert group.latest_id == likes[-1].id
    assert len(await notifications.page(ALICE, 50)) == 30


async def test_group_actors_are_the_most_recent_first_as_many_as_asked(
    notifications: NotificationStore,
) -> None:
    actors = list(range(100, 112))  # more than an adapter may keep at hand
    await add_all(notifications, [note("LIKE", a, TWEET, at=a * SECOND) for a in actors])
    newest_first = tuple(reversed(actors))

    async def actor_ids(asked: int) -> tuple[int, ...]:
        (group,) = await notifications.groups(ALICE, 10, actors=asked)
        assert group.count == 12
        return group.actor_ids

    assert await actor_ids(3) == newest_first[:3]
    assert await actor_ids(10) == newest_first[:10]
    assert await actor_ids(50) == newest_first
    assert await actor_ids(0) == ()


async def test_a_group_follows_its_newest_notification(notifications: NotificationStore) -> None:
    early, middle, late = await add_all(
        notifications, [note("LIKE", a, TWEET, at=a * MINUTE) for a in (BOB, CAROL, DAVE)]
    )
    await notifications.withdraw(ALICE, "LIKE", DAVE, TWEET)
    group = await only_group(notifications)
    assert (group.latest_id, group.latest_at_ms) == (middle.id, middle.created_at_ms)
    await notifications.withdraw(ALICE, "LIKE", BOB, TWEET)  # not the newest: no change
    group = await only_group(notifications)
    assert (group.latest_id, group.latest_at_ms, group.actor_ids) == (
        middle.id,
        middle.created_at_ms,
        (CAROL,),
    )
    assert early.group_key == late.group_key == group.key


async def test_a_notification_that_arrives_late_takes_its_place_by_id(
    notifications: NotificationStore,
) -> None:
    newer = note("LIKE", CAROL, TWEET, at=2 * MINUTE)
    older = note("LIKE", BOB, TWEET, at=MINUTE)
    await add_all(notifications, [newer, older])  # stored out of order
    group = await only_group(notifications)
    assert (group.latest_id, group.latest_at_ms) == (newer.id, newer.created_at_ms)
    assert group.actor_ids == (CAROL, BOB)
    assert ids(await notifications.page(ALICE, 10)) == [newer.id, older.id]


async def test_groups_are_ordered_by_latest_activity_and_paginate(
    notifications: NotificationStore,
) -> None:
    await add_all(
        notifications,
        [
            note("LIKE", BOB, TWEET, at=0),
            note("LIKE", CAROL, OTHER_TWEET, at=MINUTE),
            note("FOLLOW", DAVE, at=2 * MINUTE),
            note("LIKE", DAVE, TWEET, at=3 * MINUTE),  # TWEET's group is the most recent again
        ],
    )
    first = await notifications.groups(ALICE, 2)
    assert [(g.kind, g.tweet_id) for g in first] == [("LIKE", TWEET), ("FOLLOW", None)]
    rest = await notifications.groups(ALICE, 2, before_latest_id=first[-1].latest_id)
    assert [(g.kind, g.tweet_id) for g in rest] == [("LIKE", OTHER_TWEET)]
    assert await notifications.groups(ALICE, 2, before_latest_id=rest[-1].latest_id) == []
    assert await notifications.groups(ALICE, 0) == []


# --- hidden actors --------------------------------------------------------------------


async def test_hidden_actors_are_left_out_of_pages_and_unread_counts(
    notifications: NotificationStore,
) -> None:
    made = await add_all(
        notifications,
        [
            note("LIKE", BOB, TWEET, at=1),
            note("LIKE", MALLORY, TWEET, at=2),
            note("FOLLOW", MALLORY, at=3),
            note("MENTION", CAROL, 101, at=4),
        ],
    )
    hidden = {MALLORY, DAVE}
    assert ids(await notifications.page(ALICE, 10, exclude_actors=hidden)) == [
        made[3].id,
        made[0].id,
    ]
    assert ids(await notifications.page(ALICE, 1, made[3].id, exclude_actors=hidden)) == [
        made[0].id
    ]
    assert await notifications.unread_count(ALICE, exclude_actors=hidden) == 2
    assert await notifications.unread_group_count(ALICE, exclude_actors=hidden) == 2
    assert await notifications.unread_count(ALICE) == 4  # back when no longer hidden
    assert await notifications.unread_group_count(ALICE) == 3


async def test_hidden_actors_are_left_out_of_group_counts_and_actors(
    notifications: NotificationStore,
) -> None:
    await add_all(
        notifications,
        [
            note("LIKE", BOB, TWEET, at=1),
            note("LIKE", MALLORY, TWEET, at=2),
            note("LIKE", CAROL, TWEET, at=3),
            note("FOLLOW", MALLORY, at=4),  # a group of Mallory alone
        ],
    )
    (likes,) = await notifications.groups(ALICE, 10, exclude_actors=[MALLORY])
    assert (likes.tweet_id, likes.count, likes.actor_ids) == (TWEET, 2, (CAROL, BOB))
    assert [g.count for g in await notifications.groups(ALICE, 10)] == [1, 3]


async def test_a_group_whose_newest_notification_is_hidden_takes_its_newest_visible_place(
    notifications: NotificationStore,
) -> None:
    bob_likes = await add(notifications, note("LIKE", BOB, TWEET, at=0))
    carol_likes = await add(notifications, note("LIKE", CAROL, OTHER_TWEET, at=MINUTE))
    await add(notifications, note("LIKE", MALLORY, TWEET, at=2 * MINUTE))
    dave_follows = await add(notifications, note("FOLLOW", DAVE, at=3 * MINUTE))
    await add(notifications, note("FOLLOW", MALLORY, at=4 * MINUTE))
    await notifications.mark_read(ALICE, carol_likes.id)
    hidden = [MALLORY]
    seen: list[NotificationGroupRecord] = []
    before: int | None = None
    for _ in range(4):  # one page per group, then an empty one
        page = await notifications.groups(ALICE, 1, before, exclude_actors=hidden)
        if not page:
            break
        seen += page
        before = page[-1].latest_id
    assert [(g.kind, g.tweet_id, g.latest_id, g.count, g.actor_ids) for g in seen] == [
        ("FOLLOW", None, dave_follows.id, 1, (DAVE,)),
        ("LIKE", OTHER_TWEET, carol_likes.id, 1, (CAROL,)),
        ("LIKE", TWEET, bob_likes.id, 1, (BOB,)),
    ]
    assert seen[-1].latest_at_ms == bob_likes.created_at_ms
    # TWEET's group is read for Alice: its newest visible notification is
    assert await notifications.unread_group_count(ALICE, exclude_actors=hidden) == 1
    assert await notifications.unread_group_count(ALICE) == 2


async def test_hidden_actors_among_many_leave_the_rest_of_the_group(
    notifications: NotificationStore,
) -> None:
    visible = [100, 101, 102]
    hidden = list(range(200, 212))  # the newest dozen: more than an adapter may keep at hand
    made = await add_all(
        notifications,
        [note("LIKE", a, TWEET, at=n * SECOND) for n, a in enumerate(visible + hidden)],
    )
    (group,) = await notifications.groups(ALICE, 10, actors=5, exclude_actors=hidden)
    assert (group.count, group.actor_ids) == (3, (102, 101, 100))
    assert (group.latest_id, group.latest_at_ms) == (made[2].id, made[2].created_at_ms)
    everyone = await notifications.groups(ALICE, 10, actors=2, exclude_actors=[BOB])
    assert [(g.count, g.actor_ids, g.latest_id) for g in everyone] == [
        (15, (211, 210), made[-1].id)
    ]


# --- read state ---------------------------------------------------------------------


async def test_the_read_marker_starts_at_zero_and_never_moves_back(
    notifications: NotificationStore,
) -> None:
    assert await notifications.read_marker(ALICE) == 0
    first, second, third = await add_all(
        notifications,
        [
            note("LIKE", BOB, TWEET, at=1),
            note("FOLLOW", MALLORY, at=2),
            note("FOLLOW", CAROL, at=3),
        ],
    )
    assert await notifications.mark_read(ALICE, second.id) == 2
    assert await notifications.read_marker(ALICE) == second.id
    assert await notifications.mark_read(ALICE, first.id) == 0
    assert await notifications.mark_read(ALICE, second.id) == 0
    assert await notifications.read_marker(ALICE) == second.id
    assert await notifications.mark_read(ALICE, third.id + 1000) == 1
    assert await notifications.read_marker(ALICE) == third.id + 1000


async def test_marking_read_counts_what_the_reader_sees_and_marks_hidden_actors_too(
    notifications: NotificationStore,
) -> None:
    *_, third = await add_all(
        notifications,
        [
            note("LIKE", BOB, TWEET, at=1),
            note("FOLLOW", MALLORY, at=2),
            note("FOLLOW", CAROL, at=3),
        ],
    )
    assert await notifications.mark_read(ALICE, third.id, exclude_actors=[MALLORY]) == 2
    assert await notifications.read_marker(ALICE) == third.id
    assert await notifications.unread_count(ALICE) == 0  # mallory's too, once shown again


async def test_unread_counts_follow_the_read_marker(notifications: NotificationStore) -> None:
    _, carol_likes, _, dave_likes = await add_all(
        notifications,
        [
            note("LIKE", BOB, TWEET, at=1),
            note("LIKE", CAROL, OTHER_TWEET, at=2),
            note("FOLLOW", DAVE, at=3),
            note("LIKE", DAVE, TWEET, at=4),
        ],
    )
    assert (
        await notifications.unread_count(ALICE),
        await notifications.unread_group_count(ALICE),
    ) == (
        4,
        3,
    )
    await notifications.mark_read(ALICE, carol_likes.id)
    # TWEET's group is unread: its newest notification (Dave's like) is
    assert (
        await notifications.unread_count(ALICE),
        await notifications.unread_group_count(ALICE),
    ) == (
        2,
        2,
    )
    await notifications.mark_read(ALICE, dave_likes.id)
    assert (
        await notifications.unread_count(ALICE),
        await notifications.unread_group_count(ALICE),
    ) == (
        0,
        0,
    )


async def test_recipients_are_isolated_from_each_other(notifications: NotificationStore) -> None:
    for_alice = await add(notifications, note("LIKE", CAROL, TWEET, at=1))
    for_bob = await add(notifications, note("LIKE", CAROL, TWEET, at=2, recipient=BOB))
    assert for_alice.group_key != for_bob.group_key
    assert await notifications.page(ALICE, 10) == [for_alice]
    assert await notifications.page(BOB, 10) == [for_bob]
    await notifications.mark_read(ALICE, for_bob.id)
    assert await notifications.read_marker(BOB) == 0
    assert await notifications.unread_count(BOB) == 1
    assert await notifications.unread_group_count(BOB) == 1
    assert await notifications.withdraw(ALICE, "LIKE", CAROL, TWEET) == for_alice
    assert [(g.key, g.count) for g in await notifications.groups(BOB, 10)] == [
        (for_bob.group_key, 1)
    ]


# --- the MongoDB adapter's admin step -------------------------------------------------


def test_the_mongo_index_plan_serves_the_reads_and_keeps_notifications_once() -> None:
    plan = {
        (collection, model.document["name"]): model.document
        for collection, models in INDEXES.items()
        for model in models
    }

    def key(collection: str, name: str) -> list[tuple[str, int]]:
        return list(plan[(collection, name)]["key"].items())

    assert key("notifications", "once") == [("recipient_id", 1), ("once", 1)]
    assert plan[("notifications", "once")]["unique"] is True
    assert key("notifications", "recipient_newest") == [("recipient_id", 1), ("_id", -1)]
    assert key("notifications", "group_newest") == [
        ("recipient_id", 1),
        ("group_key", 1),
        ("_id", -1),
    ]
    assert key("notification_groups", "latest") == [("recipient_id", 1), ("latest_id", -1)]


async def test_the_mongo_admin_step_creates_every_index_and_can_run_again(
    mongo_target: MongoTarget,
) -> None:
    # A database of its own: on nx-27017 the indexes holding _id break later inserts.
    database = fresh_mongo_db()
    client = mongo_connect(mongo_target.uri)
    try:
        for _ in range(2):
            done = await init_notifications(client, database)
            assert done == [
                f"{database}.{collection}: indexes {', '.join(m.document['name'] for m in models)}"
                for collection, models in INDEXES.items()
            ]
    finally:
        await client.drop_database(database)
        await client.close()
