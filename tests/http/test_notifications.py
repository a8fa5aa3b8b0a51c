"""Notifications through the API, on both ways of running: each kind, withdrawal when the
action is undone, read state, groups, and live delivery."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import GraphQLClient
from tests.http.test_conversations import RETWEET, posted

NOTIFICATIONS = """query($first: Int, $after: String) { notifications(first: $first, after: $after) {
  unreadCount
  edges { cursor node { id kind read actor { handle } tweet { id text } } }
  pageInfo { hasNextPage endCursor } } }"""
GROUPS = """query($first: Int, $actors: Int) { notificationGroups(first: $first) {
  unreadCount
  edges { node { id kind count read tweet { id } actors(first: $actors) { handle } latestAt } }
  pageInfo { hasNextPage endCursor } } }"""
LIKE = "mutation($id: ID!) { likeTweet(tweetId: $id) { tweet { likeCount } errors { code } } }"
UNLIKE = "mutation($id: ID!) { unlikeTweet(tweetId: $id) { tweet { likeCount } errors { code } } }"
UNDO_RETWEET = "mutation($id: ID!) { undoRetweet(tweetId: $id) { tweet { id } errors { code } } }"
UNFOLLOW = "mutation($id: ID!) { unfollowUser(userId: $id) { user { id } errors { code } } }"
DELETE = "mutation($id: ID!) { deleteTweet(id: $id) { deletedId errors { code } } }"
MARK = "mutation($id: ID) { markNotificationsRead(upToId: $id) }"


async def notifications(gql: GraphQLClient, token: str, first: int = 50) -> dict[str, Any]:
    await gql.settle()
    found: dict[str, Any] = (await gql.ok(NOTIFICATIONS, {"first": first}, token))["notifications"]
    return found


async def kinds(gql: GraphQLClient, token: str) -> list[tuple[str, str]]:
    """(kind, actor) of each notification, newest first."""
    page = await notifications(gql, token)
    return [(e["node"]["kind"], e["node"]["actor"]["handle"]) for e in page["edges"]]


async def test_each_kind_of_notification_reaches_its_one_recipient(chirp: GraphQLClient) -> None:
    alice, alice_id = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    await chirp.follow(bob, alice_id)
    hello = await posted(chirp, alice, "hello world")
    await chirp.ok(LIKE, {"id": hello["id"]}, bob)
    await chirp.ok(RETWEET, {"id": hello["id"]}, bob)
    reply = await posted(chirp, bob, "hi alice", inReplyToId=hello["id"])
    mention = await posted(chirp, bob, "look @alice")
    quote = await posted(chirp, bob, "quoting", quoteOfId=hello["id"])
    assert await kinds(chirp, alice) == [
        ("QUOTE", "bob"),
        ("MENTION", "bob"),
        ("REPLY", "bob"),
        ("RETWEET", "bob"),
        ("LIKE", "bob"),
        ("FOLLOW", "bob"),
    ]
    page = await notifications(chirp, alice)
    tweets = [e["node"]["tweet"] for e in page["edges"]]
    assert [t["id"] if t else None for t in tweets] == [
        quote["id"],
        mention["id"],
        reply["id"],
        hello["id"],  # a retweet's notification is about the original
        hello["id"],
        None,  # FOLLOW is about no tweet
    ]
    assert page["unreadCount"] == 6
    assert await kinds(chirp, bob) == []  # nothing for one's own actions


async def test_own_actions_notify_nothing(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    mine = await posted(chirp, alice, "talking to myself @alice")
    await chirp.ok(LIKE, {"id": mine["id"]}, alice)
    await posted(chirp, alice, "and replying", inReplyToId=mine["id"])
    await posted(chirp, alice, "and quoting", quoteOfId=mine["id"])
    assert await kinds(chirp, alice) == []


async def test_undoing_an_action_withdraws_its_notification(chirp: GraphQLClient) -> None:
    alice, alice_id = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    hello = await posted(chirp, alice, "hello")
    await chirp.follow(bob, alice_id)
    await chirp.ok(LIKE, {"id": hello["id"]}, bob)
    await chirp.ok(RETWEET, {"id": hello["id"]}, bob)
    reply = await posted(chirp, bob, "@alice hi", inReplyToId=hello["id"])
    await chirp.settle()
    assert len(await kinds(chirp, alice)) == 4
    await chirp.ok(UNLIKE, {"id": hello["id"]}, bob)
    await chirp.ok(UNDO_RETWEET, {"id": hello["id"]}, bob)
    await chirp.ok(UNFOLLOW, {"id": alice_id}, bob)
    assert await kinds(chirp, alice) == [("REPLY", "bob")]
    await chirp.ok(DELETE, {"id": reply["id"]}, bob)
    assert await kinds(chirp, alice) == []
    assert (await notifications(chirp, alice))["unreadCount"] == 0


async def test_a_deleted_tweet_takes_the_notifications_about_it_along(
    chirp: GraphQLClient,
) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    hello = await posted(chirp, alice, "hello")
    await chirp.ok(LIKE, {"id": hello["id"]}, bob)
    await chirp.settle()
    await chirp.ok(DELETE, {"id": hello["id"]}, alice)
    assert await kinds(chirp, alice) == []


async def test_liking_twice_or_concurrently_notifies_once(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    hello = await posted(chirp, alice, "hello")
    await asyncio.gather(*(chirp.ok(LIKE, {"id": hello["id"]}, bob) for _ in range(5)))
    assert await kinds(chirp, alice) == [("LIKE", "bob")]


async def test_marking_read_moves_the_marker_and_says_how_many_changed(
    chirp: GraphQLClient,
) -> None:
    alice, alice_id = await chirp.sign_up("alice")
    fans = [(await chirp.sign_up(f"fan{n}"))[0] for n in range(4)]
    for fan in fans:
        await chirp.follow(fan, alice_id)
    page = await notifications(chirp, alice)
    ids = [e["node"]["id"] for e in page["edges"]]  # newest first
    assert page["unreadCount"] == 4
    assert (await chirp.ok(MARK, {"id": ids[2]}, alice))["markNotificationsRead"] == 2
    page = await notifications(chirp, alice)
    assert [e["node"]["read"] for e in page["edges"]] == [False, False, True, True]
    assert page["unreadCount"] == 2
    assert (await chirp.ok(MARK, {"id": ids[3]}, alice))["markNotificationsRead"] == 0
    assert (await chirp.ok(MARK, {}, alice))["markNotificationsRead"] == 2
    assert (await notifications(chirp, alice))["unreadCount"] == 0
    body = await chirp.raw(MARK, {"id": "not-an-id"}, alice)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ID"
    assert await chirp.error_code(MARK, {}) == "UNAUTHENTICATED"


async def test_notifications_paginate_newest_first(chirp: GraphQLClient) -> None:
    alice, alice_id = await chirp.sign_up("alice")
    for n in range(5):
        fan, _ = await chirp.sign_up(f"fan{n}")
        await chirp.follow(fan, alice_id)
    await chirp.settle()
    walked: list[str] = []
    after = None
    while True:
        page = (await chirp.ok(NOTIFICATIONS, {"first": 2, "after": after}, alice))["notifications"]
        walked += [e["node"]["actor"]["handle"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == [f"fan{n}" for n in reversed(range(5))]


async def test_likes_of_one_tweet_fold_into_one_group_that_keeps_its_id(
    chirp: GraphQLClient,
) -> None:
    alice, alice_id = await chirp.sign_up("alice")
    fans = [(await chirp.sign_up(f"fan{n}"))[0] for n in range(5)]
    hello = await posted(chirp, alice, "hello")
    other = await posted(chirp, alice, "other")
    await chirp.ok(LIKE, {"id": hello["id"]}, fans[0])
    await chirp.settle()
    first = (await chirp.ok(GROUPS, {"first": 10, "actors": 3}, alice))["notificationGroups"]
    group_id = first["edges"][0]["node"]["id"]
    for fan in fans[1:]:
        await chirp.ok(LIKE, {"id": hello["id"]}, fan)
    await chirp.ok(LIKE, {"id": other["id"]}, fans[0])
    await posted(chirp, fans[1], "@alice hi")
    await posted(chirp, fans[2], "@alice hello")
    await chirp.follow(fans[3], alice_id)
    await chirp.follow(fans[4], alice_id)
    await chirp.settle()
    groups = (await chirp.ok(GROUPS, {"first": 10, "actors": 3}, alice))["notificationGroups"]
    nodes = [e["node"] for e in groups["edges"]]
    assert [(g["kind"], g["count"]) for g in nodes] == [
        ("FOLLOW", 2),
        ("MENTION", 1),  # every other kind stands alone
        ("MENTION", 1),
        ("LIKE", 1),  # "other"
        ("LIKE", 5),  # "hello", grown from one like
    ]
    liked = nodes[4]
    assert liked["id"] == group_id
    assert liked["tweet"] == {"id": hello["id"]}
    assert [a["handle"] for a in liked["actors"]] == ["fan4", "fan3", "fan2"]
    assert [a["handle"] for a in nodes[0]["actors"]] == ["fan4", "fan3"]
    assert groups["unreadCount"] == 5
    await chirp.ok(MARK, {}, alice)
    groups = (await chirp.ok(GROUPS, {"first": 10}, alice))["notificationGroups"]
    assert groups["unreadCount"] == 0
    assert all(e["node"]["read"] for e in groups["edges"])


async def test_a_new_notification_arrives_live(chirp: GraphQLClient) -> None:
    alice, alice_id = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    ws = await chirp.http.ws_connect("/graphql", protocols=["graphql-transport-ws"])
    try:
        await ws.send_json(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {alice}"}}
        )
        assert (await ws.receive_json(timeout=5))["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": "subscription { notifications { kind actor { handle } } }"},
            }
        )
        await asyncio.sleep(0.2)
        await chirp.follow(bob, alice_id)
        message = await ws.receive_json(timeout=10)
        assert message["type"] == "next", message
        assert message["payload"]["data"]["notifications"] == {
            "kind": "FOLLOW",
            "actor": {"handle": "bob"},
        }
    finally:
        await ws.close()
