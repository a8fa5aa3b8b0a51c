"""Blocks and mutes through the API, on both ways of running."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.conftest import GraphQLClient
from tests.http.test_conversations import RETWEET, home_texts, post, posted
from tests.http.test_notifications import LIKE, kinds

BLOCK = """mutation($id: ID!) { blockUser(userId: $id) {
  user { handle viewerBlocks blocksViewer viewerFollows followsViewer } errors { code field } } }"""
UNBLOCK = (
    "mutation($id: ID!) { unblockUser(userId: $id) { user { viewerBlocks } errors { code } } }"
)
MUTE = """mutation($id: ID!, $hide: Boolean, $seconds: Int) {
  muteUser(userId: $id, hideNotifications: $hide, durationSeconds: $seconds) {
    user { handle viewerMutes } errors { code field } } }"""
UNMUTE = "mutation($id: ID!) { unmuteUser(userId: $id) { user { viewerMutes } errors { code } } }"
FOLLOW = "mutation($id: ID!) { followUser(userId: $id) { user { id } errors { code field } } }"
FLAGS = """query($h: String!) { user(handle: $h) {
  viewerBlocks viewerMutes blocksViewer followersCount followingCount
  tweets { edges { node { text } } } } }"""


async def flags(gql: GraphQLClient, handle: str, token: str) -> dict[str, Any]:
    found: dict[str, Any] = (await gql.ok(FLAGS, {"h": handle}, token))["user"]
    return found


async def test_a_block_removes_follows_both_ways_and_forbids_following(
    chirp: GraphQLClient,
) -> None:
    alice, alice_id = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    await chirp.follow(alice, bob_id)
    await chirp.follow(bob, alice_id)
    data = (await chirp.ok(BLOCK, {"id": bob_id}, alice))["blockUser"]
    assert data == {
        "user": {
            "handle": "bob",
            "viewerBlocks": True,
            "blocksViewer": False,
            "viewerFollows": False,
            "followsViewer": False,
        },
        "errors": [],
    }
    assert (await chirp.ok(BLOCK, {"id": bob_id}, alice))["blockUser"]["errors"] == []
    bob_view = await flags(chirp, "alice", bob)
    assert (bob_view["blocksViewer"], bob_view["viewerBlocks"]) == (True, False)
    assert (bob_view["followersCount"], bob_view["followingCount"]) == (0, 0)
    refused = (await chirp.ok(FOLLOW, {"id": alice_id}, bob))["followUser"]
    assert refused == {"user": None, "errors": [{"code": "FORBIDDEN", "field": "userId"}]}
    refused = (await chirp.ok(FOLLOW, {"id": bob_id}, alice))["followUser"]
    assert refused["errors"][0]["code"] == "FORBIDDEN"
    assert (await flags(chirp, "bob", alice))["followersCount"] == 0
    blocks = "{ blockedUsers { edges { node { handle } } } }"
    assert (await chirp.ok(blocks, token=alice))["blockedUsers"]["edges"] == [
        {"node": {"handle": "bob"}}
    ]
    assert (await chirp.ok(UNBLOCK, {"id": bob_id}, alice))["unblockUser"]["user"] == {
        "viewerBlocks": False
    }
    assert (await chirp.ok(FOLLOW, {"id": alice_id}, bob))["followUser"]["errors"] == []


async def test_blocking_or_muting_yourself_or_nobody_is_an_error(chirp: GraphQLClient) -> None:
    alice, alice_id = await chirp.sign_up("alice")
    _, bob_id = await chirp.sign_up("bob")
    assert (await chirp.ok(BLOCK, {"id": alice_id}, alice))["blockUser"]["errors"] == [
        {"code": "SELF_BLOCK", "field": "userId"}
    ]
    assert (await chirp.ok(MUTE, {"id": alice_id}, alice))["muteUser"]["errors"] == [
        {"code": "SELF_MUTE", "field": "userId"}
    ]
    missing = "123456789012345678"
    assert (await chirp.ok(BLOCK, {"id": missing}, alice))["blockUser"]["errors"][0][
        "code"
    ] == "NOT_FOUND"
    assert (await chirp.ok(BLOCK, {"id": "x"}, alice))["blockUser"]["errors"][0][
        "code"
    ] == "INVALID_ID"
    bad = (await chirp.ok(MUTE, {"id": bob_id, "seconds": 0}, alice))["muteUser"]
    assert bad["errors"] == [{"code": "INVALID_DURATION", "field": "durationSeconds"}]
    assert (await flags(chirp, "bob", alice))["viewerMutes"] is False
    assert await chirp.error_code(BLOCK, {"id": bob_id}) == "UNAUTHENTICATED"


async def test_the_blocked_cannot_reply_quote_like_or_retweet_and_mentions_notify_nothing(
    chirp: GraphQLClient,
) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    hello = await posted(chirp, alice, "hello")
    await chirp.ok(BLOCK, {"id": bob_id}, alice)
    for field, fields in (
        ("inReplyToId", {"inReplyToId": hello["id"]}),
        ("quoteOfId", {"quoteOfId": hello["id"]}),
    ):
        payload = await post(chirp, bob, "hey", **fields)
        assert payload["tweet"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("FORBIDDEN", field)]
    assert (await chirp.ok(LIKE, {"id": hello["id"]}, bob))["likeTweet"]["errors"][0][
        "code"
    ] == "FORBIDDEN"
    assert (await chirp.ok(RETWEET, {"id": hello["id"]}, bob))["retweet"]["errors"][0][
        "code"
    ] == "FORBIDDEN"
    await posted(chirp, bob, "hey @alice")
    assert await kinds(chirp, alice) == []
    mentions = "{ mentions { edges { node { id } } } }"
    assert (await chirp.ok(mentions, token=alice))["mentions"]["edges"] == []


async def test_a_block_removes_the_notifications_between_the_two(chirp: GraphQLClient) -> None:
    alice, alice_id = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    await chirp.follow(bob, alice_id)
    hello = await posted(chirp, alice, "hello")
    await chirp.ok(LIKE, {"id": hello["id"]}, bob)
    assert len(await kinds(chirp, alice)) == 2
    await chirp.ok(BLOCK, {"id": bob_id}, alice)
    assert await kinds(chirp, alice) == []


async def test_each_vanishes_from_the_others_timelines(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    carol, carol_id = await chirp.sign_up("carol")
    await chirp.follow(alice, carol_id)
    await chirp.follow(alice, bob_id)
    bob_says = await posted(chirp, bob, "bob says")
    await posted(chirp, carol, "carol says")
    await chirp.ok(RETWEET, {"id": bob_says["id"]}, carol)
    reply_root = await posted(chirp, alice, "alice asks")
    await posted(chirp, bob, "bob answers", inReplyToId=reply_root["id"])
    # bob's tweet shows once, as carol's (newer) retweet of it
    assert await home_texts(chirp, alice) == ["bob answers", "alice asks", "", "carol says"]
    await chirp.ok(BLOCK, {"id": bob_id}, alice)
    texts = await home_texts(chirp, alice)
    assert texts == ["alice asks", "carol says"]  # carol's retweet of bob's tweet too is gone
    assert (await flags(chirp, "bob", alice))["tweets"]["edges"] == []
    assert (await flags(chirp, "alice", bob))["tweets"]["edges"] == []
    replies = """query($id: ID!) { tweet(id: $id) { replies { edges { node { text } } } } }"""
    assert (await chirp.ok(replies, {"id": reply_root["id"]}, alice))["tweet"]["replies"][
        "edges"
    ] == []
    assert (
        len((await chirp.ok(replies, {"id": reply_root["id"]}))["tweet"]["replies"]["edges"]) == 1
    )
    await posted(chirp, bob, "after the block")
    assert "after the block" not in await home_texts(chirp, alice)
    await posted(chirp, alice, "alice again")
    assert "alice again" not in await home_texts(chirp, bob)  # he follows her no longer


async def test_a_mute_hides_tweets_retweets_and_notifications_privately(
    chirp: GraphQLClient,
) -> None:
    alice, alice_id = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    carol, carol_id = await chirp.sign_up("carol")
    await chirp.follow(alice, bob_id)
    await chirp.follow(alice, carol_id)
    await chirp.follow(bob, alice_id)
    bob_says = await posted(chirp, bob, "bob says")
    await chirp.ok(RETWEET, {"id": bob_says["id"]}, carol)
    await posted(chirp, carol, "carol says")
    muted = (await chirp.ok(MUTE, {"id": bob_id}, alice))["muteUser"]
    assert muted == {"user": {"handle": "bob", "viewerMutes": True}, "errors": []}
    assert await home_texts(chirp, alice) == ["carol says"]
    await posted(chirp, bob, "still muted")
    assert await home_texts(chirp, alice) == ["carol says"]
    assert await kinds(chirp, alice) == []  # bob's follow: hidden with the mute
    # private: bob sees nothing of it, and still follows alice
    bob_view = await flags(chirp, "alice", bob)
    assert (bob_view["viewerMutes"], bob_view["blocksViewer"]) == (False, False)
    assert (await flags(chirp, "alice", bob))["followersCount"] == 1
    # a muted account's own profile still shows its tweets
    assert len((await flags(chirp, "bob", alice))["tweets"]["edges"]) == 2
    listed = "{ mutedUsers { edges { node { handle } } } }"
    assert (await chirp.ok(listed, token=alice))["mutedUsers"]["edges"] == [
        {"node": {"handle": "bob"}}
    ]
    await chirp.ok(UNMUTE, {"id": bob_id}, alice)
    assert await kinds(chirp, alice) == [("FOLLOW", "bob")]
    # what was hidden at read time shows again: carol's retweet of bob's tweet
    assert await home_texts(chirp, alice) == ["carol says", ""]


async def test_a_mute_without_hiding_notifications_keeps_them(chirp: GraphQLClient) -> None:
    alice, alice_id = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    await chirp.ok(MUTE, {"id": bob_id, "hide": False}, alice)
    await chirp.follow(bob, alice_id)
    assert await kinds(chirp, alice) == [("FOLLOW", "bob")]


async def test_a_mute_with_a_duration_ends_on_its_own(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    await chirp.follow(alice, bob_id)
    await posted(chirp, bob, "bob says")
    # Long enough for the reads below to come well before the end on a busy machine
    # (a 1-second mute had ended before the first read on the production stand-ins).
    muted_at = time.monotonic()
    await chirp.ok(MUTE, {"id": bob_id, "seconds": 5}, alice)
    assert await home_texts(chirp, alice) == []
    assert (await flags(chirp, "bob", alice))["viewerMutes"] is True
    assert time.monotonic() - muted_at < 5, "too slow to see the mute before it ended"
    await asyncio.sleep(max(0.0, 5.2 - (time.monotonic() - muted_at)))
    assert (await flags(chirp, "bob", alice))["viewerMutes"] is False
    assert await home_texts(chirp, alice) == ["bob says"]
