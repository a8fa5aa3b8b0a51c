"""Shared fixtures: settings in a temporary data folder, the app, a GraphQL client."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from redis.asyncio import Redis

from app import SERVICES_KEY, create_app
from bootstrap.services import Overrides
from bootstrap.settings import Settings
from core.ids import MAX_ID
from core.security import Passwords
from docstore.mongo import MongoTweetStore
from docstore.notifications_mongo import MongoNotificationStore
from graph.neo4j import connect as neo4j_connect
from search.mongo import MongoSearchIndex
from tests.backends import fresh_mongo_db
from web import assets

pytest_plugins = ["tests.backends"]

# argon2 at its cheapest: the tests check behaviour, not hashing cost.
FAST_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
SECRET = "test-secret-key-of-at-least-32-characters!!"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Redis deadlines of 250 ms, not production's 50: a test session keeps two cores busy
    # with stand-in servers, and a missed deadline takes a degraded path that a test of
    # something else does not expect. tests/e2e/test_redis_frozen.py uses the default.
    return Settings(
        data_dir=tmp_path / "data",
        secret_key=SECRET,
        public_url="https://chirp.test",
        redis_timeout_ms=250,
    )


class GraphQLClient:
    """Posts GraphQL documents to /graphql the way an app would."""

    def __init__(self, client: TestClient[Any, Any]) -> None:
        self.http = client

    async def raw(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = f"Bearer {token}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
        )
        body: dict[str, Any] = await response.json()
        # 400: a request error (parse, validation, cost), answered without data
        assert response.status == 200 or (response.status == 400 and "data" not in body), body
        return body

    async def ok(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The data of a request that must have no top-level errors."""
        body = await self.raw(query, variables, token, headers)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def error_code(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> str:
        """The extensions.code of the first top-level error (the request must fail)."""
        body = await self.raw(query, variables, token)
        assert body.get("errors"), body
        code: str = body["errors"][0]["extensions"]["code"]
        return code

    async def settle(self, within: float = 10.0) -> None:
        """Wait until every queued fan-out job has been applied."""
        queue = self.http.app[SERVICES_KEY].stores.queue
        deadline = asyncio.get_running_loop().time() + within
        while await queue.depth():
            assert asyncio.get_running_loop().time() < deadline, "fan-out did not finish"
            await asyncio.sleep(0.01)

    async def sign_up(self, handle: str, password: str = "correct horse") -> tuple[str, str]:
        """Sign a user up; returns (token, user id)."""
        data = await self.ok(
            """mutation($input: SignUpInput!) {
                 signUp(input: $input) { token user { id } errors { code message field } }
               }""",
            {"input": {"handle": handle, "password": password}},
        )
        payload = data["signUp"]
        assert payload["errors"] == [], payload["errors"]
        return payload["token"], payload["user"]["id"]

    async def tweet(self, token: str, text: str) -> str:
        data = await self.ok(
            "mutation($t: String!) { createTweet(input: {text: $t}) { tweet { id } errors { code } } }",
            {"t": text},
            token,
        )
        assert data["createTweet"]["errors"] == []
        tweet_id: str = data["createTweet"]["tweet"]["id"]
        return tweet_id

    async def follow(self, token: str, user_id: str) -> None:
        data = await self.ok(
            "mutation($id: ID!) { followUser(userId: $id) { user { id } errors { code } } }",
            {"id": user_id},
            token,
        )
        assert data["followUser"]["errors"] == []


AppFactory = Callable[..., Awaitable[GraphQLClient]]
GRAPHIQL_JS = "graphiql-TESTJS01.js"
GRAPHIQL_CSS = "graphiql-TESTCS01.css"


@pytest.fixture
def graphiql_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the bundle `make frontend` builds into web/static/dist/ (apps made
    after this fixture serve it), so that tests of the GraphiQL page need no node."""
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / GRAPHIQL_JS).write_text("document.title = 'GraphiQL';\n")
    (dist / GRAPHIQL_CSS).write_text("body { margin: 0 }\n")
    manifest = {"graphiql": {"js": GRAPHIQL_JS, "css": GRAPHIQL_CSS, "workers": {}}}
    (dist / assets.MANIFEST).write_text(json.dumps(manifest))
    monkeypatch.setattr(assets, "DIST", dist)
    return dist


@pytest.fixture
def no_graphiql_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No bundle at all: what a server installed without node has."""
    dist = tmp_path / "no-dist"
    monkeypatch.setattr(assets, "DIST", dist)
    return dist


@pytest.fixture
async def make_client(
    aiohttp_client: Callable[..., Awaitable[TestClient[Any, Any]]], settings: Settings
) -> AppFactory:
    async def make(overrides: Overrides | None = None, **changes: Any) -> GraphQLClient:
        chosen = overrides or Overrides()
        chosen.passwords = chosen.passwords or FAST_PASSWORDS
        app = create_app(settings.replace(**changes), chosen)
        return GraphQLClient(await aiohttp_client(app))

    return make


@pytest.fixture
async def gql(make_client: AppFactory) -> GraphQLClient:
    """A client of a fresh app on the embedded default."""
    return await make_client()


def answer(body: dict[str, Any]) -> dict[str, Any]:
    """A GraphQL answer without its ``extensions`` (the cost report every answer carries)."""
    return {key: value for key, value in body.items() if key != "extensions"}


def serialize_standin_transactions(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the MongoDB stand-in, run the app's transactions one at a time.

    Test set-up for nx-27017 only (see StandinMongoTweetStore in tests/backends.py):
    it runs every session's transaction as a savepoint on one SQLite connection, so
    two open at once corrupt each other ("no such savepoint"), whichever stores they
    come from. Real MongoDB isolates them, and with CHIRP_TEST_MONGODB_URI nothing
    is serialized.
    """
    one_at_a_time = asyncio.Lock()
    for store in (MongoTweetStore, MongoNotificationStore):
        original = store._transaction

        async def serialized(self: Any, work: Any, _original: Any = original) -> Any:
            async with one_at_a_time:
                return await _original(self, work)

        monkeypatch.setattr(store, "_transaction", serialized)


def work_around_standin_search(monkeypatch: pytest.MonkeyPatch) -> None:
    """On the MongoDB stand-in, the app's search index with the stand-in's two ``$text``
    gaps worked around, as tests/contract/conftest.py's StandinMongoSearchIndex does:
    exclusions are left to the adapter's own check of each candidate, and ``_id``
    bounds (cursor, since:, until:) are applied to the stand-in's ``$text`` answers.
    Test set-up only; real MongoDB runs the production class unchanged."""
    search_string = MongoSearchIndex.search_string
    candidates = MongoSearchIndex.candidates

    def without_exclusions(self: MongoSearchIndex, wanted: list[str], unwanted: list[str]) -> str:
        return search_string(self, wanted, [])

    async def bounded_here(
        self: MongoSearchIndex, where: dict[str, Any], projection: dict[str, Any], limit: int
    ) -> list[dict[str, Any]]:
        if "$text" not in where or "_id" not in where:
            return await candidates(self, where, projection, limit)
        bounds = where["_id"]
        lowest, highest = bounds.get("$gte", 0), bounds.get("$lte", MAX_ID)
        unbounded = {key: value for key, value in where.items() if key != "_id"}
        docs = await candidates(self, unbounded, projection, 0)  # 0: no limit
        return [doc for doc in docs if lowest <= doc["_id"] <= highest][:limit]

    monkeypatch.setattr(MongoSearchIndex, "search_string", without_exclusions)
    monkeypatch.setattr(MongoSearchIndex, "candidates", bounded_here)


@pytest.fixture(params=["embedded", "production"])
async def chirp(
    request: pytest.FixtureRequest, make_client: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> GraphQLClient:
    """A client of a fresh app, once on the embedded default and once on the production
    stores (Neo4j, MongoDB and Redis: the servers the test session runs)."""
    if request.param == "embedded":
        return await make_client()
    neo4j = request.getfixturevalue("neo4j_target")
    mongo = request.getfixturevalue("mongo_target")
    if mongo.standin:
        serialize_standin_transactions(monkeypatch)
        work_around_standin_search(monkeypatch)
    redis_url: str = request.getfixturevalue("redis_url")
    driver = neo4j_connect(neo4j.uri, neo4j.user, neo4j.password)
    await driver.execute_query("MATCH (n) DETACH DELETE n", database_=neo4j.database)
    await driver.close()
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    return await make_client(
        neo4j_uri=neo4j.uri,
        neo4j_user=neo4j.user,
        neo4j_password=neo4j.password,
        neo4j_database=neo4j.database,
        mongodb_uri=mongo.uri,
        mongodb_db=fresh_mongo_db(),
        redis_url=redis_url,
    )
