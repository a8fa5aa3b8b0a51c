"""Home and user timelines: who is in them, order, and deep pagination."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient

HOME = """query($first: Int, $after: String) {
  homeTimeline(first: $first, after: $after) {
    edges { cursor node { id text author { handle } } }
    pageInfo { hasNextPage endCursor }
  }
}"""
USER_TWEETS = """query($h: String!, $first: Int, $after: String) {
  user(handle: $h) { tweets(first: $first, after: $after) {
    edges { node { text } } pageInfo { hasNextPage endCursor } } }
}"""


async def all_pages(
    gql: GraphQLClient, query: str, path: list[str], token: str | None = None, **args: Any
) -> list[str]:
    texts: list[str] = []
    after = None
    while True:
        data: Any = await gql.ok(query, {**args, "after": after}, token)
        for key in path:
            data = data[key]
        texts += [e["node"]["text"] for e in data["edges"]]
        if not data["pageInfo"]["hasNextPage"]:
            return texts
        after = data["pageInfo"]["endCursor"]


async def test_home_holds_own_and_followees_tweets_newest_first(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    bob, bob_id = await gql.sign_up("bob")
    carol, _ = await gql.sign_up("carol")
    await gql.follow(alice, bob_id)
    await gql.tweet(bob, "bob 1")
    await gql.tweet(carol, "carol, not followed")
    await gql.tweet(alice, "alice 1")
    await gql.tweet(bob, "bob 2")
    assert await all_pages(gql, HOME, ["homeTimeline"], alice) == ["bob 2", "alice 1", "bob 1"]
    assert await all_pages(gql, HOME, ["homeTimeline"], carol) == ["carol, not followed"]


async def test_home_pages_reach_the_oldest_tweet_without_repeats(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    bob, bob_id = await gql.sign_up("bob")
    await gql.follow(alice, bob_id)
    posted = [await gql.tweet(bob if i % 2 else alice, f"t{i}") for i in range(23)]
    texts = await all_pages(gql, HOME, ["homeTimeline"], alice, first=4)
    assert texts == [f"t{i}" for i in reversed(range(23))]
    assert len(posted) == 23


async def test_first_defaults_to_20_and_100_is_allowed(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    for i in range(25):
        await gql.tweet(alice, f"t{i}")
    page = (await gql.ok(HOME, {}, alice))["homeTimeline"]
    assert len(page["edges"]) == 20
    assert page["pageInfo"]["hasNextPage"] is True
    page = (await gql.ok(HOME, {"first": 100}, alice))["homeTimeline"]
    assert (len(page["edges"]), page["pageInfo"]["hasNextPage"]) == (25, False)


async def test_unfollow_and_delete_take_tweets_out_of_home(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    bob, bob_id = await gql.sign_up("bob")
    await gql.follow(alice, bob_id)
    keep = await gql.tweet(bob, "kept")
    gone = await gql.tweet(bob, "deleted")
    await gql.ok("mutation($id: ID!) { deleteTweet(id: $id) { deletedId } }", {"id": gone}, bob)
    assert await all_pages(gql, HOME, ["homeTimeline"], alice) == ["kept"]
    await gql.ok(
        "mutation($id: ID!) { unfollowUser(userId: $id) { errors { code } } }",
        {"id": bob_id},
        alice,
    )
    assert await all_pages(gql, HOME, ["homeTimeline"], alice) == []
    assert keep


async def test_an_empty_home_has_no_edges_and_no_next_page(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    page = (await gql.ok(HOME, {}, alice))["homeTimeline"]
    assert page == {"edges": [], "pageInfo": {"hasNextPage": False, "endCursor": None}}


async def test_user_timeline_lists_only_that_users_tweets(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    bob, _ = await gql.sign_up("bob")
    for i in range(7):
        await gql.tweet(alice, f"a{i}")
        await gql.tweet(bob, f"b{i}")
    texts = await all_pages(gql, USER_TWEETS, ["user", "tweets"], h="alice", first=3)
    assert texts == [f"a{i}" for i in reversed(range(7))]


async def test_a_new_tweet_is_in_home_timelines_already_cached_as_soon_as_it_is_posted(
    gql: GraphQLClient,
) -> None:
    """Eventually consistent by design, but on one process a reader never waits for it."""
    alice, _ = await gql.sign_up("alice")
    bob, bob_id = await gql.sign_up("bob")
    await gql.follow(alice, bob_id)
    assert await all_pages(gql, HOME, ["homeTimeline"], alice) == []  # now cached
    assert await all_pages(gql, HOME, ["homeTimeline"], bob) == []
    for n in range(3):
        await gql.tweet(bob, f"fresh {n}")
        expected = [f"fresh {i}" for i in reversed(range(n + 1))]
        assert await all_pages(gql, HOME, ["homeTimeline"], bob) == expected
        assert await all_pages(gql, HOME, ["homeTimeline"], alice) == expected
