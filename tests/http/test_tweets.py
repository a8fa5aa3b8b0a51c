"""Tweets through the API: create, read, delete, like, idempotent retries."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import GraphQLClient

CREATE = """mutation($t: String!) {
  createTweet(input: {text: $t}) {
    tweet { id text createdAt url likeCount viewerHasLiked hashtags conversationId author { handle } mentions { handle } }
    errors { code message field }
  }
}"""
TWEET = "query($id: ID!) { tweet(id: $id) { id text likeCount viewerHasLiked author { handle tweetsCount } } }"
LIKE = "mutation($id: ID!) { likeTweet(tweetId: $id) { tweet { id likeCount viewerHasLiked } errors { code field } } }"
UNLIKE = "mutation($id: ID!) { unlikeTweet(tweetId: $id) { tweet { id likeCount viewerHasLiked } errors { code field } } }"
DELETE = "mutation($id: ID!) { deleteTweet(id: $id) { deletedId errors { code message field } } }"


async def create(
    gql: GraphQLClient, token: str, text: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    data = await gql.ok(CREATE, {"t": text}, token, headers)
    payload: dict[str, Any] = data["createTweet"]
    return payload


async def test_a_new_tweet_carries_its_author_time_url_tags_and_mentions(
    gql: GraphQLClient,
) -> None:
    alice, _ = await gql.sign_up("alice")
    await gql.sign_up("Bob")
    payload = await create(gql, alice, "  Hi @bob and @ghost, see #Chirp #chirp #GraphQL\n")
    assert payload["errors"] == []
    tweet = payload["tweet"]
    assert tweet["text"] == "Hi @bob and @ghost, see #Chirp #chirp #GraphQL"
    assert tweet["hashtags"] == ["chirp", "graphql"]
    assert tweet["mentions"] == [{"handle": "Bob"}]
    assert tweet["author"] == {"handle": "alice"}
    assert tweet["url"] == f"https://chirp.test/alice/status/{tweet['id']}"
    assert tweet["conversationId"] == tweet["id"]
    assert tweet["createdAt"].endswith("+00:00")
    assert (tweet["likeCount"], tweet["viewerHasLiked"]) == (0, False)


async def test_text_is_checked_and_a_refused_tweet_is_not_stored(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    cases = {
        " \n\t ": "EMPTY",
        "x" * 281: "TOO_LONG",
        "https://example.com/" + "a" * 300 + " " + "y" * 257: "TOO_LONG",
    }
    for text, code in cases.items():
        payload = await create(gql, alice, text)
        assert payload["tweet"] is None
        assert payload["errors"][0]["code"] == code
        assert payload["errors"][0]["field"] == "text"
    ok = await create(gql, alice, "https://example.com/" + "a" * 300 + " " + "y" * 256)
    assert ok["errors"] == []
    data = await gql.ok('{ user(handle: "alice") { tweetsCount } }')
    assert data["user"]["tweetsCount"] == 1


async def test_control_characters_are_stripped_and_text_is_nfc(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    payload = await create(gql, alice, "cafe\u0301\x00\x07 line\r\nnext")
    assert payload["tweet"]["text"] == "caf\u00e9 line\nnext"


async def test_a_retry_with_the_same_idempotency_key_returns_the_first_tweet(
    gql: GraphQLClient,
) -> None:
    alice, _ = await gql.sign_up("alice")
    headers = {"Idempotency-Key": "retry-1"}
    first, second = [await create(gql, alice, "only once", headers) for _ in range(2)]
    assert first["tweet"]["id"] == second["tweet"]["id"]
    concurrent = await asyncio.gather(
        *(create(gql, alice, "only once", headers) for _ in range(10))
    )
    assert {p["tweet"]["id"] for p in concurrent} == {first["tweet"]["id"]}
    data = await gql.ok('{ user(handle: "alice") { tweetsCount } }')
    assert data["user"]["tweetsCount"] == 1


async def test_an_idempotency_key_reused_for_other_text_is_refused(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    await create(gql, alice, "first", {"Idempotency-Key": "k"})
    other = await create(gql, alice, "second", {"Idempotency-Key": "k"})
    assert other["tweet"] is None
    assert other["errors"][0]["code"] == "IDEMPOTENCY_KEY_REUSED"
    bob, _ = await gql.sign_up("bob")
    assert (await create(gql, bob, "second", {"Idempotency-Key": "k"}))["errors"] == []


async def test_without_a_key_every_request_posts(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    ids = {(await create(gql, alice, "same text"))["tweet"]["id"] for _ in range(3)}
    assert len(ids) == 3


async def test_tweet_and_node_find_a_tweet_by_id(gql: GraphQLClient) -> None:
    alice, alice_id = await gql.sign_up("alice")
    tweet_id = await gql.tweet(alice, "findable")
    data = await gql.ok(TWEET, {"id": tweet_id})
    assert data["tweet"]["text"] == "findable"
    node = await gql.ok(
        "query($a: ID!, $b: ID!) { a: node(id: $a) { __typename id ... on Tweet { text } }"
        " b: node(id: $b) { __typename id ... on User { handle } } }",
        {"a": tweet_id, "b": alice_id},
    )
    assert node["a"] == {"__typename": "Tweet", "id": tweet_id, "text": "findable"}
    assert node["b"] == {"__typename": "User", "id": alice_id, "handle": "alice"}
    assert (await gql.ok(TWEET, {"id": "123456789"}))["tweet"] is None


async def test_only_the_author_can_delete_and_a_deleted_tweet_is_gone(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    bob, _ = await gql.sign_up("bob")
    tweet_id = await gql.tweet(alice, "mine")
    refused = await gql.ok(DELETE, {"id": tweet_id}, bob)
    assert refused["deleteTweet"]["deletedId"] is None
    assert refused["deleteTweet"]["errors"][0]["code"] == "FORBIDDEN"
    assert (await gql.ok(TWEET, {"id": tweet_id}))["tweet"] is not None
    done = await gql.ok(DELETE, {"id": tweet_id}, alice)
    assert done["deleteTweet"] == {"deletedId": tweet_id, "errors": []}
    assert (await gql.ok(TWEET, {"id": tweet_id}))["tweet"] is None
    again = await gql.ok(DELETE, {"id": tweet_id}, alice)
    assert again["deleteTweet"]["errors"][0]["code"] == "NOT_FOUND"


async def test_likes_are_idempotent_and_counted_exactly(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    tweet_id = await gql.tweet(alice, "like me")
    fans = [(await gql.sign_up(f"fan{i}"))[0] for i in range(5)]
    await asyncio.gather(*(gql.ok(LIKE, {"id": tweet_id}, fan) for fan in fans for _ in range(3)))
    data = await gql.ok(TWEET, {"id": tweet_id}, fans[0])
    assert (data["tweet"]["likeCount"], data["tweet"]["viewerHasLiked"]) == (5, True)
    assert (await gql.ok(TWEET, {"id": tweet_id}, alice))["tweet"]["viewerHasLiked"] is False
    for _ in range(2):
        undone = await gql.ok(UNLIKE, {"id": tweet_id}, fans[0])
        assert undone["unlikeTweet"] == {
            "tweet": {"id": tweet_id, "likeCount": 4, "viewerHasLiked": False},
            "errors": [],
        }
    liked = await gql.ok(LIKE, {"id": tweet_id}, fans[0])
    assert liked["likeTweet"]["tweet"] == {"id": tweet_id, "likeCount": 5, "viewerHasLiked": True}


async def test_liking_a_missing_tweet_is_not_found(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    data = await gql.ok(LIKE, {"id": "123456789012"}, alice)
    assert data["likeTweet"] == {
        "tweet": None,
        "errors": [{"code": "NOT_FOUND", "field": "tweetId"}],
    }


async def test_user_likes_lists_liked_tweets_most_recent_like_first(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    bob, _ = await gql.sign_up("bob")
    ids = [await gql.tweet(alice, f"t{i}") for i in range(5)]
    for tweet_id in (ids[1], ids[4], ids[0], ids[3]):
        await gql.ok(LIKE, {"id": tweet_id}, bob)
    await gql.ok(DELETE, {"id": ids[3]}, alice)
    query = """query($after: String) { user(handle: "bob") {
      likes(first: 2, after: $after) { edges { node { text } } pageInfo { hasNextPage endCursor } } } }"""
    texts: list[str] = []
    after = None
    while True:
        page = (await gql.ok(query, {"after": after}))["user"]["likes"]
        texts += [e["node"]["text"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert texts == ["t0", "t4", "t1"]
