"""Bookmarks, moments and lists through the API, on both ways of running."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient
from tests.http.test_conversations import DELETE, posted

BOOKMARK = "mutation($id: ID!) { bookmarkTweet(tweetId: $id) { tweet { id viewerHasBookmarked } errors { code field } } }"
UNBOOKMARK = "mutation($id: ID!) { unbookmarkTweet(tweetId: $id) { tweet { id viewerHasBookmarked } errors { code } } }"
BOOKMARKS = """query($first: Int, $after: String) { bookmarks(first: $first, after: $after) {
  edges { cursor node { id text viewerHasBookmarked } } pageInfo { hasNextPage endCursor } } }"""
CREATE_MOMENT = """mutation($input: CreateMomentInput!) { createMoment(input: $input) {
  moment { id title description tweetCount owner { handle } tweets { edges { node { id } } } }
  errors { code field } } }"""
ADD = """mutation($m: ID!, $t: ID!) { addTweetToMoment(momentId: $m, tweetId: $t) {
  moment { tweetCount } errors { code field } } }"""
REMOVE = """mutation($m: ID!, $t: ID!) { removeTweetFromMoment(momentId: $m, tweetId: $t) {
  moment { tweetCount } errors { code field } } }"""
DELETE_MOMENT = "mutation($id: ID!) { deleteMoment(id: $id) { deletedId errors { code } } }"
MOMENT = """query($id: ID!, $first: Int, $after: String) { moment(id: $id) { title tweetCount
  tweets(first: $first, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } } }"""
CREATE_LIST = """mutation($input: CreateListInput!) { createList(input: $input) {
  list { id name private memberCount owner { handle } } errors { code field } } }"""
ADD_MEMBER = """mutation($l: ID!, $u: ID!) { addListMember(listId: $l, userId: $u) {
  list { memberCount } errors { code field } } }"""
REMOVE_MEMBER = """mutation($l: ID!, $u: ID!) { removeListMember(listId: $l, userId: $u) {
  list { memberCount } errors { code field } } }"""
DELETE_LIST = "mutation($id: ID!) { deleteList(id: $id) { deletedId errors { code } } }"
LIST = """query($id: ID!) { list(id: $id) { name private memberCount
  members { edges { node { handle } } }
  timeline(first: 10) { edges { node { text author { handle } } } } } }"""


async def walk(
    gql: GraphQLClient, query: str, path: str, token: str | None, **args: Any
) -> list[str]:
    """The ids of every node of a connection, page by page."""
    ids: list[str] = []
    after = None
    while True:
        data = await gql.ok(query, {**args, "first": 2, "after": after}, token)
        connection = data[path] if path in data else data["moment"]["tweets"]
        ids += [e["node"]["id"] for e in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            return ids
        after = connection["pageInfo"]["endCursor"]


# --- bookmarks ------------------------------------------------------------------------------


async def test_bookmarks_are_idempotent_private_and_newest_first(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    tweets = [(await posted(chirp, bob, f"tweet {n}"))["id"] for n in range(4)]
    for tweet_id in (tweets[1], tweets[3], tweets[0], tweets[1]):  # the second time: a no-op
        made = (await chirp.ok(BOOKMARK, {"id": tweet_id}, alice))["bookmarkTweet"]
        assert made == {"tweet": {"id": tweet_id, "viewerHasBookmarked": True}, "errors": []}
    assert await walk(chirp, BOOKMARKS, "bookmarks", alice) == [tweets[0], tweets[3], tweets[1]]
    assert await walk(chirp, BOOKMARKS, "bookmarks", bob) == []  # private
    seen_by_bob = "query($id: ID!) { tweet(id: $id) { viewerHasBookmarked } }"
    assert (await chirp.ok(seen_by_bob, {"id": tweets[3]}, bob))["tweet"] == {
        "viewerHasBookmarked": False
    }
    for _ in range(2):
        gone = (await chirp.ok(UNBOOKMARK, {"id": tweets[3]}, alice))["unbookmarkTweet"]
        assert gone["tweet"]["viewerHasBookmarked"] is False
    await chirp.ok(DELETE, {"id": tweets[0]}, bob)
    assert await walk(chirp, BOOKMARKS, "bookmarks", alice) == [tweets[1]]
    missing = (await chirp.ok(BOOKMARK, {"id": "123456789012345678"}, alice))["bookmarkTweet"]
    assert missing == {"tweet": None, "errors": [{"code": "NOT_FOUND", "field": "tweetId"}]}
    assert await chirp.error_code(BOOKMARKS, {}) == "UNAUTHENTICATED"


# --- moments --------------------------------------------------------------------------------


async def test_a_moment_keeps_tweets_in_the_order_added(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    tweets = [(await posted(chirp, alice, f"tweet {n}"))["id"] for n in range(5)]
    made = (
        await chirp.ok(
            CREATE_MOMENT,
            {
                "input": {
                    "title": "Best of",
                    "description": "mine",
                    "tweetIds": [tweets[2], tweets[0]],
                }
            },
            alice,
        )
    )["createMoment"]
    assert made["errors"] == []
    moment = made["moment"]
    assert (moment["title"], moment["tweetCount"], moment["owner"]) == (
        "Best of",
        2,
        {"handle": "alice"},
    )
    for tweet_id in (tweets[4], tweets[1], tweets[4]):  # adding twice keeps the first place
        assert (await chirp.ok(ADD, {"m": moment["id"], "t": tweet_id}, alice))["addTweetToMoment"][
            "errors"
        ] == []
    assert await walk(chirp, MOMENT, "", None, id=moment["id"]) == [
        tweets[2],
        tweets[0],
        tweets[4],
        tweets[1],
    ]
    removed = await chirp.ok(REMOVE, {"m": moment["id"], "t": tweets[0]}, alice)
    assert removed["removeTweetFromMoment"] == {"moment": {"tweetCount": 3}, "errors": []}
    await chirp.ok(DELETE, {"id": tweets[4]}, alice)  # a deleted tweet leaves every moment
    found = (await chirp.ok(MOMENT, {"id": moment["id"]}))["moment"]
    assert found["tweetCount"] == 2
    assert [e["node"]["id"] for e in found["tweets"]["edges"]] == [tweets[2], tweets[1]]
    mine = '{ user(handle: "alice") { moments { edges { node { title tweetCount } } } } }'
    assert (await chirp.ok(mine))["user"]["moments"]["edges"] == [
        {"node": {"title": "Best of", "tweetCount": 2}}
    ]


async def test_only_the_owner_changes_a_moment(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    tweet_id = (await posted(chirp, alice, "hello"))["id"]
    moment = (await chirp.ok(CREATE_MOMENT, {"input": {"title": "A"}}, alice))["createMoment"][
        "moment"
    ]
    for query, args in (
        (ADD, {"m": moment["id"], "t": tweet_id}),
        (REMOVE, {"m": moment["id"], "t": tweet_id}),
    ):
        payload = next(iter((await chirp.ok(query, args, bob)).values()))
        assert payload == {"moment": None, "errors": [{"code": "FORBIDDEN", "field": "momentId"}]}
    assert (await chirp.ok(DELETE_MOMENT, {"id": moment["id"]}, bob))["deleteMoment"]["errors"][0][
        "code"
    ] == "FORBIDDEN"
    assert (await chirp.ok(DELETE_MOMENT, {"id": moment["id"]}, alice))["deleteMoment"] == {
        "deletedId": moment["id"],
        "errors": [],
    }
    assert (await chirp.ok(MOMENT, {"id": moment["id"]}))["moment"] is None
    bad = (await chirp.ok(CREATE_MOMENT, {"input": {"title": "  "}}, alice))["createMoment"]
    assert bad["errors"] == [{"code": "EMPTY", "field": "title"}]
    missing = await chirp.ok(
        CREATE_MOMENT, {"input": {"title": "x", "tweetIds": ["123456789012345678"]}}, alice
    )
    assert missing["createMoment"]["errors"] == [{"code": "NOT_FOUND", "field": "tweetIds"}]


# --- lists ----------------------------------------------------------------------------------


async def test_a_list_timeline_shows_its_members_tweets(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    carol, carol_id = await chirp.sign_up("carol")
    dave, _ = await chirp.sign_up("dave")
    made = (await chirp.ok(CREATE_LIST, {"input": {"name": "Friends"}}, alice))["createList"]
    assert made["errors"] == []
    listed = made["list"]
    assert (listed["name"], listed["private"], listed["memberCount"]) == ("Friends", False, 0)
    for user_id in (bob_id, carol_id, bob_id):  # twice: idempotent
        added = await chirp.ok(ADD_MEMBER, {"l": listed["id"], "u": user_id}, alice)
        assert added["addListMember"]["errors"] == []
    await posted(chirp, bob, "bob 1")
    await posted(chirp, dave, "dave is not in the list")
    await posted(chirp, carol, "carol 1")
    found = (await chirp.ok(LIST, {"id": listed["id"]}))["list"]
    assert found["memberCount"] == 2
    assert [e["node"]["handle"] for e in found["members"]["edges"]] == ["carol", "bob"]
    assert [e["node"]["text"] for e in found["timeline"]["edges"]] == ["carol 1", "bob 1"]
    removed = await chirp.ok(REMOVE_MEMBER, {"l": listed["id"], "u": carol_id}, alice)
    assert removed["removeListMember"] == {"list": {"memberCount": 1}, "errors": []}
    found = (await chirp.ok(LIST, {"id": listed["id"]}))["list"]
    assert [e["node"]["text"] for e in found["timeline"]["edges"]] == ["bob 1"]


async def test_a_private_list_does_not_exist_for_anyone_else(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    secret = (await chirp.ok(CREATE_LIST, {"input": {"name": "Secret", "private": True}}, alice))[
        "createList"
    ]["list"]
    public = (await chirp.ok(CREATE_LIST, {"input": {"name": "Open"}}, alice))["createList"]["list"]
    assert (await chirp.ok(LIST, {"id": secret["id"]}, alice))["list"]["private"] is True
    assert (await chirp.ok(LIST, {"id": secret["id"]}, bob))["list"] is None
    assert (await chirp.ok(LIST, {"id": secret["id"]}))["list"] is None
    mine = '{ user(handle: "alice") { lists { edges { node { name } } } } }'
    assert [
        e["node"]["name"] for e in (await chirp.ok(mine, token=alice))["user"]["lists"]["edges"]
    ] == [
        "Open",
        "Secret",
    ]
    assert [
        e["node"]["name"] for e in (await chirp.ok(mine, token=bob))["user"]["lists"]["edges"]
    ] == ["Open"]
    refused = (await chirp.ok(ADD_MEMBER, {"l": secret["id"], "u": bob_id}, bob))["addListMember"]
    assert refused == {"list": None, "errors": [{"code": "NOT_FOUND", "field": "listId"}]}
    refused = (await chirp.ok(ADD_MEMBER, {"l": public["id"], "u": bob_id}, bob))["addListMember"]
    assert refused == {"list": None, "errors": [{"code": "FORBIDDEN", "field": "listId"}]}
    assert (await chirp.ok(DELETE_LIST, {"id": public["id"]}, bob))["deleteList"]["errors"][0][
        "code"
    ] == "FORBIDDEN"
    assert (await chirp.ok(DELETE_LIST, {"id": public["id"]}, alice))["deleteList"]["errors"] == []
    assert (await chirp.ok(LIST, {"id": public["id"]}))["list"] is None
    long_name = (await chirp.ok(CREATE_LIST, {"input": {"name": "x" * 26}}, alice))["createList"]
    assert long_name["errors"] == [{"code": "TOO_LONG", "field": "name"}]
