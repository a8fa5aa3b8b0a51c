"""Conversations through the API, on both ways of running: replies and threads, quotes,
mentions and hashtags, and which replies reach a home timeline."""

from __future__ import annotations

import asyncio
from typing import Any

from app import SERVICES_KEY
from tests.conftest import GraphQLClient

POST = """mutation($input: CreateTweetInput!) { createTweet(input: $input) {
  tweet { id text conversationId replyCount quoteCount hashtags
          mentions { handle } inReplyTo { id replyCount } quoteOf { id quoteCount } }
  errors { code message field } } }"""
TWEET = """query($id: ID!, $last: Int) { tweet(id: $id) {
  id text conversationId replyCount quoteCount
  inReplyTo { id } quoteOf { id }
  ancestors(last: $last) { id }
  replies(first: 10) { edges { node { id } } pageInfo { hasNextPage } }
  quotes(first: 10) { edges { node { id } } } } }"""
HOME = """query($first: Int, $after: String) { homeTimeline(first: $first, after: $after) {
  edges { node { id text } } pageInfo { hasNextPage endCursor } } }"""
DELETE = "mutation($id: ID!) { deleteTweet(id: $id) { deletedId errors { code } } }"
RETWEET = "mutation($id: ID!) { retweet(tweetId: $id) { tweet { id } errors { code } } }"


async def post(gql: GraphQLClient, token: str, text: str, **fields: Any) -> dict[str, Any]:
    data = await gql.ok(POST, {"input": {"text": text, **fields}}, token)
    payload: dict[str, Any] = data["createTweet"]
    return payload


async def posted(gql: GraphQLClient, token: str, text: str, **fields: Any) -> dict[str, Any]:
    payload = await post(gql, token, text, **fields)
    assert payload["errors"] == [], payload["errors"]
    tweet: dict[str, Any] = payload["tweet"]
    return tweet


async def tweet(gql: GraphQLClient, tweet_id: str, last: int | None = None) -> dict[str, Any]:
    found: dict[str, Any] = (await gql.ok(TWEET, {"id": tweet_id, "last": last}))["tweet"]
    return found


async def home_texts(gql: GraphQLClient, token: str) -> list[str]:
    await gql.settle()
    page = (await gql.ok(HOME, {"first": 50}, token))["homeTimeline"]
    return [e["node"]["text"] for e in page["edges"]]


# --- replies and threads -------------------------------------------------------------


async def test_a_reply_points_at_its_parent_and_the_thread_root(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    root = await posted(chirp, alice, "root")
    assert root["conversationId"] == root["id"]
    assert root["inReplyTo"] is None
    first = await posted(chirp, bob, "first reply", inReplyToId=root["id"])
    assert first["inReplyTo"] == {"id": root["id"], "replyCount": 1}
    assert first["conversationId"] == root["id"]
    second = await posted(chirp, alice, "reply to the reply", inReplyToId=first["id"])
    assert second["conversationId"] == root["id"]
    found = await tweet(chirp, second["id"])
    assert [t["id"] for t in found["ancestors"]] == [root["id"], first["id"]]  # root first
    assert [t["id"] for t in (await tweet(chirp, second["id"], last=1))["ancestors"]] == [
        first["id"]
    ]
    assert (await tweet(chirp, root["id"]))["ancestors"] == []


async def test_ancestors_of_a_long_thread_come_in_one_read(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    ids = [(await posted(chirp, alice, "0"))["id"]]
    for n in range(1, 13):
        ids.append((await posted(chirp, alice, str(n), inReplyToId=ids[-1]))["id"])
    found = await tweet(chirp, ids[-1], last=100)
    assert [t["id"] for t in found["ancestors"]] == ids[:-1]
    assert [t["id"] for t in (await tweet(chirp, ids[-1]))["ancestors"]] == ids[-11:-1]
    assert found["conversationId"] == ids[0]


async def test_replying_to_a_retweet_replies_to_its_original(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    original = await posted(chirp, alice, "original")
    retweet = (await chirp.ok(RETWEET, {"id": original["id"]}, bob))["retweet"]["tweet"]
    reply = await posted(chirp, bob, "reply", inReplyToId=retweet["id"])
    assert reply["inReplyTo"]["id"] == original["id"]
    assert reply["conversationId"] == original["id"]


async def test_a_reply_to_a_missing_or_deleted_tweet_is_not_found_and_stores_nothing(
    chirp: GraphQLClient,
) -> None:
    alice, _ = await chirp.sign_up("alice")
    gone = await posted(chirp, alice, "soon gone")
    await chirp.ok(DELETE, {"id": gone["id"]}, alice)
    for parent in ("123456789012345678", gone["id"]):
        payload = await post(chirp, alice, "hello?", inReplyToId=parent)
        assert payload["tweet"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [
            ("NOT_FOUND", "inReplyToId")
        ]
        payload = await post(chirp, alice, "quoting", quoteOfId=parent)
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "quoteOfId")]
    bad = await post(chirp, alice, "hello?", inReplyToId="not-an-id")
    assert [e["code"] for e in bad["errors"]] == ["INVALID_ID"]
    count = await chirp.ok('{ user(handle: "alice") { tweetsCount } }')
    assert count["user"]["tweetsCount"] == 0


async def test_reply_and_quote_counts_are_exact_under_concurrency_and_after_deletes(
    chirp: GraphQLClient,
) -> None:
    alice, _ = await chirp.sign_up("alice")
    tokens = [(await chirp.sign_up(f"user{n}"))[0] for n in range(6)]
    root = await posted(chirp, alice, "popular")
    replies = await asyncio.gather(
        *(posted(chirp, t, f"reply {n}", inReplyToId=root["id"]) for n, t in enumerate(tokens))
    )
    quotes = await asyncio.gather(
        *(posted(chirp, t, f"quote {n}", quoteOfId=root["id"]) for n, t in enumerate(tokens[:4]))
    )
    found = await tweet(chirp, root["id"])
    assert (found["replyCount"], found["quoteCount"]) == (6, 4)
    assert {e["node"]["id"] for e in found["replies"]["edges"]} == {r["id"] for r in replies}
    assert [e["node"]["id"] for e in found["quotes"]["edges"]] == sorted(
        (q["id"] for q in quotes), key=int, reverse=True
    )
    await chirp.ok(DELETE, {"id": replies[0]["id"]}, tokens[0])
    await chirp.ok(DELETE, {"id": replies[0]["id"]}, tokens[0])  # twice: counted once
    await chirp.ok(DELETE, {"id": quotes[1]["id"]}, tokens[1])
    found = await tweet(chirp, root["id"])
    assert (found["replyCount"], found["quoteCount"]) == (5, 3)
    assert replies[0]["id"] not in {e["node"]["id"] for e in found["replies"]["edges"]}


async def test_replies_paginate_newest_first(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    root = await posted(chirp, alice, "root")
    ids = [(await posted(chirp, alice, f"r{n}", inReplyToId=root["id"]))["id"] for n in range(5)]
    query = """query($id: ID!, $after: String) { tweet(id: $id) { replies(first: 2, after: $after) {
      edges { node { id } } pageInfo { hasNextPage endCursor } } } }"""
    seen: list[str] = []
    after = None
    while True:
        page = (await chirp.ok(query, {"id": root["id"], "after": after}))["tweet"]["replies"]
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ids[::-1]


async def test_a_quote_shows_its_original_until_the_original_is_deleted(
    chirp: GraphQLClient,
) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    original = await posted(chirp, alice, "quotable")
    quote = await posted(chirp, bob, "so true", quoteOfId=original["id"])
    assert quote["quoteOf"] == {"id": original["id"], "quoteCount": 1}
    await chirp.ok(DELETE, {"id": original["id"]}, alice)
    body = await chirp.raw(TWEET, {"id": quote["id"]})
    assert "errors" not in body
    assert body["data"]["tweet"]["quoteOf"] is None


# --- which replies reach a home timeline -------------------------------------------------


async def test_a_reply_reaches_home_only_when_the_reader_follows_both_sides(
    chirp: GraphQLClient,
) -> None:
    reader, _ = await chirp.sign_up("reader")
    bob, bob_id = await chirp.sign_up("bob")
    carol, carol_id = await chirp.sign_up("carol")
    dave, _ = await chirp.sign_up("dave")
    await chirp.follow(reader, bob_id)
    await chirp.follow(reader, carol_id)
    carol_says = await posted(chirp, carol, "carol says")
    dave_says = await posted(chirp, dave, "dave says")
    await posted(chirp, bob, "bob answers carol", inReplyToId=carol_says["id"])
    await posted(chirp, bob, "bob answers dave", inReplyToId=dave_says["id"])
    thread = await posted(chirp, bob, "bob's thread 1/2")
    await posted(chirp, bob, "bob's thread 2/2", inReplyToId=thread["id"])
    mine = await posted(chirp, reader, "reader says")
    await posted(chirp, bob, "bob answers the reader", inReplyToId=mine["id"])
    await posted(chirp, reader, "reader answers dave", inReplyToId=dave_says["id"])
    assert await home_texts(chirp, reader) == [
        "reader answers dave",  # the reader's own replies are always there
        "bob answers the reader",
        "reader says",
        "bob's thread 2/2",
        "bob's thread 1/2",
        "bob answers carol",  # follows both bob and carol
        "carol says",
    ]
    # a timeline rebuilt from the stores (the cache lost it) applies the same rule
    services = chirp.http.app[SERVICES_KEY]
    reader_id = int((await chirp.ok("{ me { id } }", token=reader))["me"]["id"])
    await services.stores.timelines.drop(reader_id)
    assert len(await home_texts(chirp, reader)) == 7


async def test_user_timelines_leave_replies_out_unless_asked(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    root = await posted(chirp, alice, "root")
    await posted(chirp, alice, "a reply", inReplyToId=root["id"])
    query = """query($r: Boolean) { user(handle: "alice") {
      tweets(includeReplies: $r) { edges { node { text } } } } }"""
    plain = (await chirp.ok(query, {"r": False}))["user"]["tweets"]["edges"]
    assert [e["node"]["text"] for e in plain] == ["root"]
    both = (await chirp.ok(query, {"r": True}))["user"]["tweets"]["edges"]
    assert [e["node"]["text"] for e in both] == ["a reply", "root"]


async def test_an_original_retweeted_shows_once_whatever_the_page_size(
    chirp: GraphQLClient,
) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    await chirp.follow(alice, bob_id)
    first = await posted(chirp, bob, "bob 1")
    await posted(chirp, bob, "bob 2")
    await chirp.ok(RETWEET, {"id": first["id"]}, alice)
    await chirp.settle()
    everything = (await chirp.ok(HOME, {"first": 50}, alice))["homeTimeline"]["edges"]
    whole = [e["node"]["id"] for e in everything]
    assert len(whole) == 2  # alice's retweet of "bob 1" (newest) and "bob 2"
    for size in (1, 2, 3):
        walked: list[str] = []
        after = None
        while True:
            page = (await chirp.ok(HOME, {"first": size, "after": after}, alice))["homeTimeline"]
            walked += [e["node"]["id"] for e in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        assert walked == whole, size


# --- mentions and hashtags -------------------------------------------------------------


async def test_mentions_name_existing_users_in_order_once_each(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    await chirp.sign_up("bob")
    await chirp.sign_up("Carol")
    made = await posted(
        chirp, alice, "hi @carol and @bob, @nobody and @BOB again, mail me at x@bob.example"
    )
    assert made["mentions"] == [{"handle": "Carol"}, {"handle": "bob"}]


async def test_hashtags_are_case_folded_without_the_hash(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    made = await posted(chirp, alice, "#Chirp loves #GraphQL and #chirp, #Straße #123 #日本")
    assert made["hashtags"] == ["chirp", "graphql", "strasse", "日本"]


async def test_the_mentions_timeline_shows_tweets_naming_the_viewer_newest_first(
    chirp: GraphQLClient,
) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    await posted(chirp, bob, "hello @alice")
    await posted(chirp, bob, "no mention here")
    root = await posted(chirp, alice, "root")
    await posted(chirp, bob, "@alice replying", inReplyToId=root["id"])
    query = "{ mentions(first: 10) { edges { node { text author { handle } } } } }"
    edges = (await chirp.ok(query, token=alice))["mentions"]["edges"]
    assert [e["node"]["text"] for e in edges] == ["@alice replying", "hello @alice"]
    assert await chirp.error_code(query) == "UNAUTHENTICATED"
