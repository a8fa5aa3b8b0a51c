"""Follow graph through the API: follow/unfollow, lists, counts and viewer flags."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient

USER = """query($h: String!, $first: Int, $after: String) {
  user(handle: $h) {
    id handle followersCount followingCount viewerFollows followsViewer
    followers(first: $first, after: $after) { edges { cursor node { handle } } pageInfo { hasNextPage endCursor } }
    following(first: $first, after: $after) { edges { cursor node { handle } } pageInfo { hasNextPage endCursor } }
  }
}"""
FOLLOW = "mutation($id: ID!) { followUser(userId: $id) { user { handle followersCount viewerFollows } errors { code message field } } }"
UNFOLLOW = "mutation($id: ID!) { unfollowUser(userId: $id) { user { handle followersCount viewerFollows } errors { code field } } }"


async def user(
    gql: GraphQLClient, handle: str, token: str | None = None, **args: Any
) -> dict[str, Any]:
    data = await gql.ok(USER, {"h": handle, **args}, token)
    found: dict[str, Any] = data["user"]
    return found


async def test_follow_returns_the_followed_user_and_updates_counts_both_ways(
    gql: GraphQLClient,
) -> None:
    alice, _ = await gql.sign_up("alice")
    _, bob_id = await gql.sign_up("bob")
    data = await gql.ok(FOLLOW, {"id": bob_id}, alice)
    assert data["followUser"] == {
        "user": {"handle": "bob", "followersCount": 1, "viewerFollows": True},
        "errors": [],
    }
    bob = await user(gql, "bob", alice)
    assert (bob["followersCount"], bob["followingCount"]) == (1, 0)
    assert bob["followers"]["edges"][0]["node"]["handle"] == "alice"
    alice_view = await user(gql, "alice")
    assert (alice_view["followersCount"], alice_view["followingCount"]) == (0, 1)
    assert [e["node"]["handle"] for e in alice_view["following"]["edges"]] == ["bob"]


async def test_following_twice_and_unfollowing_twice_are_not_errors(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    _, bob_id = await gql.sign_up("bob")
    for _ in range(2):
        data = await gql.ok(FOLLOW, {"id": bob_id}, alice)
        assert data["followUser"]["errors"] == []
        assert data["followUser"]["user"]["followersCount"] == 1
    for _ in range(2):
        data = await gql.ok(UNFOLLOW, {"id": bob_id}, alice)
        assert data["unfollowUser"] == {
            "user": {"handle": "bob", "followersCount": 0, "viewerFollows": False},
            "errors": [],
        }


async def test_following_yourself_is_a_self_follow_error(gql: GraphQLClient) -> None:
    alice, alice_id = await gql.sign_up("alice")
    data = await gql.ok(FOLLOW, {"id": alice_id}, alice)
    assert data["followUser"]["user"] is None
    assert data["followUser"]["errors"][0]["code"] == "SELF_FOLLOW"
    assert (await user(gql, "alice"))["followingCount"] == 0


async def test_following_an_unknown_user_is_not_found(gql: GraphQLClient) -> None:
    alice, _ = await gql.sign_up("alice")
    data = await gql.ok(FOLLOW, {"id": "123456789012345678"}, alice)
    assert data["followUser"]["errors"] == [
        {"code": "NOT_FOUND", "message": "No such user.", "field": "userId"}
    ]


async def test_viewer_flags_depend_on_who_asks(gql: GraphQLClient) -> None:
    alice, alice_id = await gql.sign_up("alice")
    bob, bob_id = await gql.sign_up("bob")
    await gql.follow(alice, bob_id)
    as_alice = await user(gql, "bob", alice)
    assert (as_alice["viewerFollows"], as_alice["followsViewer"]) == (True, False)
    as_bob = await user(gql, "alice", bob)
    assert (as_bob["viewerFollows"], as_bob["followsViewer"]) == (False, True)
    anonymous = await user(gql, "bob")
    assert (anonymous["viewerFollows"], anonymous["followsViewer"]) == (False, False)
    await gql.follow(bob, alice_id)
    assert (await user(gql, "bob", alice))["followsViewer"] is True


async def test_follower_lists_page_newest_first_without_gaps_or_repeats(gql: GraphQLClient) -> None:
    _, star_id = await gql.sign_up("star")
    fans = [f"fan{i}" for i in range(12)]
    for fan in fans:
        token, _ = await gql.sign_up(fan)
        await gql.follow(token, star_id)
    seen: list[str] = []
    after = None
    while True:
        page = (await user(gql, "star", first=5, after=after))["followers"]
        seen += [e["node"]["handle"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == list(reversed(fans))


async def test_user_lookup_by_handle_is_case_insensitive_and_accepts_an_at(
    gql: GraphQLClient,
) -> None:
    await gql.sign_up("CamelCase")
    for asked in ("camelcase", "CAMELCASE", "@CamelCase"):
        assert (await user(gql, asked))["handle"] == "CamelCase"
    assert (await gql.ok('{ user(handle: "nobody") { id } }'))["user"] is None
    assert (await gql.ok('{ user(handle: "not a handle!") { id } }'))["user"] is None
