"""Search, trends, who to follow and people search through the API, both ways of running."""

from __future__ import annotations

import asyncio

from tests.conftest import GraphQLClient
from tests.http.test_conversations import DELETE, posted

SEARCH = """query($q: String!, $first: Int, $after: String) { search(query: $q, first: $first, after: $after) {
  edges { node { text author { handle } } } pageInfo { hasNextPage endCursor } } }"""
TRENDS = "query($l: Int, $w: Int) { trends(limit: $l, windowMinutes: $w) { name tweetCount accountCount } }"
WHO = "query($l: Int) { whoToFollow(limit: $l) { handle } }"
PEOPLE = """query($q: String!, $first: Int, $after: String) { searchUsers(query: $q, first: $first, after: $after) {
  edges { node { handle } } pageInfo { hasNextPage endCursor } } }"""
BLOCK = "mutation($id: ID!) { blockUser(userId: $id) { errors { code } } }"
UPDATE = "mutation($n: String) { updateProfile(displayName: $n) { errors { code } } }"


async def texts(gql: GraphQLClient, query: str, token: str | None = None) -> list[str]:
    found: list[str] = []
    after = None
    while True:
        page = (await gql.ok(SEARCH, {"q": query, "first": 2, "after": after}, token))["search"]
        found += [e["node"]["text"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def test_search_matches_words_phrases_hashtags_authors_newest_first(
    chirp: GraphQLClient,
) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, _ = await chirp.sign_up("bob")
    await posted(chirp, alice, "Crème brûlée at the Café #Dessert")
    await posted(chirp, bob, "a cafe recipe for creme brulee")
    await posted(chirp, bob, "concatenate cats")
    gone = await posted(chirp, alice, "cafe soon deleted")
    await chirp.ok(DELETE, {"id": gone["id"]}, alice)
    assert await texts(chirp, "cafe") == [
        "a cafe recipe for creme brulee",
        "Crème brûlée at the Café #Dessert",
    ]
    assert await texts(chirp, "CAFÉ brulee") == await texts(chirp, "cafe brûlée")
    assert await texts(chirp, '"brulee at the cafe"') == ["Crème brûlée at the Café #Dessert"]
    assert await texts(chirp, '"recipe cafe"') == []  # a phrase keeps its order
    assert await texts(chirp, "cafe -recipe") == ["Crème brûlée at the Café #Dessert"]
    assert await texts(chirp, "#dessert") == ["Crème brûlée at the Café #Dessert"]
    assert await texts(chirp, "cafe from:bob") == ["a cafe recipe for creme brulee"]
    assert await texts(chirp, "cafe from:nobody") == []
    assert await texts(chirp, "cat") == []  # whole words only
    assert await texts(chirp, "cafe until:2000-01-01") == []
    assert len(await texts(chirp, "cafe since:2000-01-01")) == 2


async def test_a_malformed_search_is_bad_user_input(chirp: GraphQLClient) -> None:
    for query in ('"unclosed', "since:yesterday", "", "-alone"):
        body = await chirp.raw(SEARCH, {"q": query})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (query, body)
        assert body["errors"][0]["message"]


async def test_search_leaves_out_blocked_authors(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    await posted(chirp, bob, "hello world")
    await posted(chirp, alice, "hello there")
    assert len(await texts(chirp, "hello", alice)) == 2
    await chirp.ok(BLOCK, {"id": bob_id}, alice)
    assert await texts(chirp, "hello", alice) == ["hello there"]
    assert len(await texts(chirp, "hello")) == 2


async def test_a_tag_that_jumps_trends_and_one_account_counts_once(chirp: GraphQLClient) -> None:
    tokens = [(await chirp.sign_up(f"user{n}"))[0] for n in range(4)]
    for token in tokens:
        await posted(chirp, token, "it is happening #launch")
    for _ in range(5):
        await posted(chirp, tokens[0], "me again #solo")
    await chirp.settle()
    found = (await chirp.ok(TRENDS, {"l": 10, "w": 60}))["trends"]
    assert found[0] == {"name": "launch", "tweetCount": 4, "accountCount": 4}
    assert "solo" not in [t["name"] for t in found]  # one account is below the floor
    body = await chirp.raw(TRENDS, {"l": 10, "w": 1})
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_who_to_follow_suggests_friends_of_friends(chirp: GraphQLClient) -> None:
    alice, _ = await chirp.sign_up("alice")
    bob, bob_id = await chirp.sign_up("bob")
    carol, carol_id = await chirp.sign_up("carol")
    _, dave_id = await chirp.sign_up("dave")
    _, erin_id = await chirp.sign_up("erin")
    await chirp.follow(alice, bob_id)
    await chirp.follow(alice, carol_id)
    await chirp.follow(bob, dave_id)
    await chirp.follow(carol, dave_id)
    await chirp.follow(bob, erin_id)
    assert [u["handle"] for u in (await chirp.ok(WHO, {"l": 5}, alice))["whoToFollow"]] == [
        "dave",
        "erin",
    ]
    await chirp.follow(alice, dave_id)  # cached suggestions drop whom she follows since
    assert [u["handle"] for u in (await chirp.ok(WHO, {"l": 5}, alice))["whoToFollow"]] == ["erin"]
    newcomer, _ = await chirp.sign_up("newcomer")  # follows nobody: the most followed
    assert (await chirp.ok(WHO, {"l": 1}, newcomer))["whoToFollow"] == [{"handle": "dave"}]
    assert await chirp.error_code(WHO, {"l": 5}) == "UNAUTHENTICATED"


async def test_people_search_puts_handle_prefixes_before_names(chirp: GraphQLClient) -> None:
    for handle in ("alice", "alicia", "bob"):
        await chirp.sign_up(handle)
    bob, _ = await chirp.sign_up("bobby")
    await chirp.ok(UPDATE, {"n": "Ali Baba"}, bob)
    await asyncio.sleep(0)
    found = (await chirp.ok(PEOPLE, {"q": "ali"}))["searchUsers"]["edges"]
    assert [e["node"]["handle"] for e in found] == ["alice", "alicia", "bobby"]
    walked: list[str] = []
    after = None
    while True:
        page = (await chirp.ok(PEOPLE, {"q": "@ali", "first": 1, "after": after}))["searchUsers"]
        walked += [e["node"]["handle"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert walked == ["alice", "alicia", "bobby"]
    assert (await chirp.ok(PEOPLE, {"q": "!!!"}))["searchUsers"]["edges"] == []
