"""The whole app on the production stores, over HTTP, then the stores read directly.

Neo4j, MongoDB and Redis are the real servers the test session starts (or the
ones CHIRP_TEST_* point at, see tests/backends.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import AsyncMongoClient

from graph.neo4j import connect as neo4j_connect
from tests.backends import MongoTarget, Neo4jTarget, fresh_mongo_db
from tests.conftest import AppFactory, GraphQLClient

LIKE = "mutation($id: ID!) { likeTweet(tweetId: $id) { tweet { likeCount } errors { code } } }"
DELETE = "mutation($id: ID!) { deleteTweet(id: $id) { deletedId errors { code } } }"
HOME = """query($after: String) { homeTimeline(first: 2, after: $after) {
  edges { node { id text likeCount viewerHasLiked author { handle } } }
  pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
async def production(
    make_client: AppFactory, neo4j_target: Neo4jTarget, mongo_target: MongoTarget, redis_url: str
) -> tuple[GraphQLClient, str]:
    driver = neo4j_connect(neo4j_target.uri, neo4j_target.user, neo4j_target.password)
    await driver.execute_query("MATCH (n) DETACH DELETE n", database_=neo4j_target.database)
    await driver.close()
    database = fresh_mongo_db()
    client = await make_client(
        neo4j_uri=neo4j_target.uri,
        neo4j_user=neo4j_target.user,
        neo4j_password=neo4j_target.password,
        neo4j_database=neo4j_target.database,
        mongodb_uri=mongo_target.uri,
        mongodb_db=database,
        redis_url=redis_url,
    )
    return client, database


async def home(gql: GraphQLClient, token: str) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await gql.ok(HOME, {"after": after}, token))["homeTimeline"]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def test_core_scenario_on_neo4j_mongodb_and_redis(
    production: tuple[GraphQLClient, str], neo4j_target: Neo4jTarget, mongo_target: MongoTarget
) -> None:
    gql, database = production
    ready = await gql.http.get("/readyz")
    body = await ready.json()
    assert ready.status == 200, body
    assert body["backends"]["graph"]["backend"].startswith("Neo4j at ")
    assert body["backends"]["tweets"]["backend"].startswith("MongoDB at ")
    assert body["backends"]["timelines"]["backend"].startswith("Redis at ")

    alice, alice_id = await gql.sign_up("Alice")
    bob, _ = await gql.sign_up("bob")
    await gql.follow(bob, alice_id)
    posted = [await gql.tweet(alice, f"tweet {i} #prod") for i in range(5)]
    own = await gql.tweet(bob, "bob's own")
    liked = await gql.ok(LIKE, {"id": posted[1]}, bob)
    assert liked["likeTweet"] == {"tweet": {"likeCount": 1}, "errors": []}
    assert (await gql.ok(LIKE, {"id": posted[1]}, bob))["likeTweet"]["tweet"]["likeCount"] == 1
    assert (await gql.ok(DELETE, {"id": posted[3]}, alice))["deleteTweet"]["errors"] == []

    timeline = await home(gql, bob)
    assert [n["id"] for n in timeline] == [own, posted[4], posted[2], posted[1], posted[0]]
    assert [n["viewerHasLiked"] for n in timeline] == [False, False, False, True, False]
    profile = await gql.ok(
        '{ user(handle: "alice") { followersCount tweetsCount followers { edges { node { handle } } }'
        " tweets(first: 10) { edges { node { id } } } } }"
    )
    assert profile["user"]["followersCount"] == 1
    assert profile["user"]["tweetsCount"] == 4
    assert profile["user"]["followers"]["edges"] == [{"node": {"handle": "bob"}}]
    assert [e["node"]["id"] for e in profile["user"]["tweets"]["edges"]] == [
        posted[4],
        posted[2],
        posted[1],
        posted[0],
    ]

    # The social graph is in Neo4j as the data model says.
    driver = neo4j_connect(neo4j_target.uri, neo4j_target.user, neo4j_target.password)
    try:
        records, _, _ = await driver.execute_query(
            "MATCH (b:User {handle_lower: 'bob'})-[r:FOLLOWS]->(a:User {handle_lower: 'alice'})"
            " RETURN a, r.since AS since",
            database_=neo4j_target.database,
        )
        assert len(records) == 1
        alice_node = dict(records[0]["a"])
        assert alice_node["id"] == int(alice_id)
        assert alice_node["handle"] == "Alice"
        assert alice_node["password_hash"].startswith("$argon2id$")
        assert isinstance(alice_node["created_at"], int)
        assert isinstance(records[0]["since"], int)
        constraints, _, _ = await driver.execute_query(
            "SHOW CONSTRAINTS", database_=neo4j_target.database
        )
        assert {tuple(c["properties"]) for c in constraints} >= {("id",), ("handle_lower",)}
    finally:
        await driver.close()

    # Tweets and likes are in MongoDB, ids as int64, the counter exact.
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_target.uri)
    try:
        db = mongo[database]
        doc = await db.tweets.find_one({"_id": int(posted[1])})
        assert doc is not None
        assert (doc["author_id"], doc["text"], doc["like_count"]) == (
            int(alice_id),
            "tweet 1 #prod",
            1,
        )
        assert doc["hashtags"] == ["prod"]
        assert await db.tweets.find_one({"_id": int(posted[3])}) is None
        assert (
            await db.tweets.count_documents({"_id": int(posted[1]), "author_id": {"$type": "long"}})
            == 1
        )
        like = await db.likes.find_one({"tweet_id": int(posted[1])})
        assert like is not None
        assert like["_id"] == f"{like['user_id']}:{posted[1]}"
        assert await db.likes.count_documents({}) == 1
    finally:
        await mongo.drop_database(database)
        await mongo.close()
