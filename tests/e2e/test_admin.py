"""`python app.py admin init`: indexes, constraints and sharding, safe to run twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from docstore.mongo import INDEXES, SHARD_KEYS, init_database
from tests.backends import MongoTarget, Neo4jTarget, fresh_mongo_db

ROOT = Path(__file__).resolve().parents[2]


def test_the_index_plan_serves_the_queries_the_adapter_makes() -> None:
    specs = {
        collection: [(model.document["name"], model.document) for model in models]
        for collection, models in INDEXES.items()
    }
    tweets = dict(specs["tweets"])
    assert list(tweets["author_newest"]["key"].items()) == [("author_id", 1), ("_id", -1)]
    likes = dict(specs["likes"])
    assert list(likes["user_newest"]["key"].items()) == [("user_id", 1), ("like_id", -1)]
    assert list(likes["tweet"]["key"].items()) == [("tweet_id", 1)]
    keys = dict(specs["idempotency_keys"])
    assert keys["expire_after_a_day"]["expireAfterSeconds"] == 24 * 3600
    assert SHARD_KEYS["tweets"] == {"_id": "hashed"}


def run_admin_init(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "app.py", "--data-dir", str(tmp_path), "admin", "init"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_admin_init_sets_up_every_store_and_can_run_again(
    tmp_path: Path, neo4j_target: Neo4jTarget, mongo_target: MongoTarget
) -> None:
    # On a database of its own: nx-27017 (the stand-in) accepts the
    # {author_id, _id} index but then refuses inserts into that collection,
    # so no other test may share it. Real MongoDB has no such gap.
    database = fresh_mongo_db()
    env = {
        "NEO4J_URI": neo4j_target.uri,
        "NEO4J_USER": neo4j_target.user,
        "NEO4J_PASSWORD": neo4j_target.password,
        "MONGODB_URI": mongo_target.uri,
        "MONGODB_DB": database,
    }
    try:
        for _ in range(2):
            result = run_admin_init(tmp_path, env)
            assert result.returncode == 0, result.stderr
            out = result.stdout
            assert f"{database}.tweets: indexes author_newest" in out
            assert f"{database}.likes: indexes user_newest, tweet" in out
            assert "REQUIRE u.handle_lower IS UNIQUE" in out
            assert "not a sharded cluster" in out
            assert "Traceback" not in result.stderr
    finally:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_target.uri)
        await client.drop_database(database)
        await client.close()


class FakeCollection:
    def __init__(self, name: str) -> None:
        self.name = name

    async def create_indexes(self, models: list[Any]) -> list[str]:
        return [m.document["name"] for m in models]


class FakeShardedClient:
    """Answers like a mongos: a sharded cluster cannot run here, so its branch is checked
    against this recording fake (what it records is what a mongos would be sent)."""

    def __init__(self, already_sharded: bool) -> None:
        self.commands: list[tuple[Any, ...]] = []
        self.already_sharded = already_sharded
        self.admin = self

    def __getitem__(self, name: str) -> Any:
        return {collection: FakeCollection(collection) for collection in INDEXES}

    async def command(self, name: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if name == "hello":
            return {"msg": "isdbgrid", "ok": 1}
        self.commands.append((name, *args, kwargs))
        if self.already_sharded:
            from pymongo.errors import OperationFailure

            raise OperationFailure("already sharded", code=23)
        return {"ok": 1}


async def test_on_a_sharded_cluster_tweets_and_likes_are_sharded_on_hashed_ids() -> None:
    client = FakeShardedClient(already_sharded=False)
    done = await init_database(client, "chirp")  # type: ignore[arg-type]
    assert ("shardCollection", "chirp.tweets", {"key": {"_id": "hashed"}}) in client.commands
    assert ("shardCollection", "chirp.likes", {"key": {"_id": "hashed"}}) in client.commands
    assert "chirp.tweets: sharded on {'_id': 'hashed'}" in done
    again = await init_database(FakeShardedClient(already_sharded=True), "chirp")  # type: ignore[arg-type]
    assert "chirp.tweets: already sharded" in again
