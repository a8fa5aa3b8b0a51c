"""Section (d)'s production stores: the stand-ins the test suite starts, seeded with the plan.

Neo4j is ArcadeDB speaking Bolt and MongoDB is nx-27017 (``tests/servers.py``;
/work/shared/BACKENDS.md): real servers over the official drivers, but neither
is the real product, so their figures say what Chirp costs on *these* servers.
Both are pinned to the load core (the server under test keeps its own core).

Set-up is what ``python app.py admin init`` does, less what the MongoDB
stand-in cannot hold: opening the graph adapter creates the Neo4j constraints;
the MongoDB indexes are ``docstore.mongo.INDEXES`` except those whose key
includes ``_id`` (nx-27017 accepts them and then fails every insert into the
collection, "JSON path error near '_id'"): ``author_newest`` is replaced by a
single-field index on ``author_id``, and ``fanout_pending`` has none, so the
repair pass (every 5 s in each fan-out worker) scans every tweet on the
stand-in: about 0.6-0.8 s per 100,000 tweets measured, during which nx-27017
answers nothing else. Then the plan is written in bulk through the adapters'
drivers (``bench/seed.py``), a timed sample through the ports first.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from pymongo import ASCENDING, IndexModel

from bench import procs, seed
from bootstrap.settings import load_settings
from bootstrap.stores import open_stores
from docstore.mongo import INDEXES, MongoTweetStore
from docstore.mongo import connect as mongo_connect
from tests.servers import RunningServer, start_mongo_standin, start_neo4j_standin

DATABASE = "chirp_bench"
NEO4J_HEAP = "2g"  # 1.1 M relationships: the tests' 512m is too little
PORT_SAMPLE = 1000  # users, follows, tweets and likes written through the ports, timed


@dataclass
class ProductionStores:
    neo4j: RunningServer
    mongo: RunningServer
    database: str = DATABASE
    timings: dict[str, float | None] = field(default_factory=dict)

    def graph_settings(self) -> dict[str, str]:
        return {
            "NEO4J_URI": self.neo4j.url,
            "NEO4J_USER": self.neo4j.extra["user"],
            "NEO4J_PASSWORD": self.neo4j.extra["password"],
            "NEO4J_DATABASE": self.neo4j.extra["database"],
        }

    def tweet_settings(self) -> dict[str, str]:
        return {"MONGODB_URI": self.mongo.url, "MONGODB_DB": self.database}

    def delete_tweets(self, ids: Sequence[int]) -> None:
        """Take tweets a run posted out of MongoDB, so the next run starts from the plan."""

        async def delete() -> None:
            store = MongoTweetStore(mongo_connect(self.mongo.url), self.database)
            try:
                for tweet_id in ids:
                    await store.delete_tweet(tweet_id)
            finally:
                await store.close()

        if ids:
            asyncio.run(delete())


def standin_indexes() -> dict[str, list[IndexModel]]:
    """The indexes of ``docstore.mongo.INDEXES`` that nx-27017 can hold, and stand-ins."""
    kept = {
        collection: [m for m in models if "_id" not in m.document["key"]]
        for collection, models in INDEXES.items()
    }
    kept["tweets"].append(IndexModel([("author_id", ASCENDING)], name="author"))
    return kept


async def _prepare_and_seed(
    stores_settings: dict[str, str], plan: seed.Plan, port_sample: int
) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="chirp-bench-seed-") as scratch:
        settings = load_settings(env={"CHIRP_DATA_DIR": scratch, **stores_settings})
        stores = await open_stores(settings)  # the graph adapter creates its constraints
        try:
            assert isinstance(stores.tweets, MongoTweetStore)
            db = stores.tweets.client[settings.mongodb_db]
            for collection, models in standin_indexes().items():
                await db[collection].create_indexes(models)
            return await seed.write(plan, stores, port_sample=port_sample)
        finally:
            await stores.close()


@contextmanager
def production_stores(
    plan: seed.Plan, log: Callable[[str], None], core: int = 1, port_sample: int = PORT_SAMPLE
) -> Iterator[ProductionStores]:
    """ArcadeDB (Bolt) and nx-27017 on ``core``, seeded with ``plan``; stopped on exit."""
    neo4j = start_neo4j_standin(max_heap=NEO4J_HEAP)
    try:
        procs.pin(neo4j.pid, core)
        mongo = start_mongo_standin()
        try:
            procs.pin(mongo.pid, core)
            stores = ProductionStores(neo4j, mongo)
            log(f"ArcadeDB (Bolt) on {neo4j.url}, nx-27017 on {mongo.url} (core {core}); seeding")
            timings = asyncio.run(
                _prepare_and_seed(
                    {**stores.graph_settings(), **stores.tweet_settings()}, plan, port_sample
                )
            )
            stores.timings = {
                **timings,
                "port_all_minutes_estimate": port_estimate_minutes(timings, plan),
            }
            log(f"production stores seeded: {_describe(timings, plan)}")
            yield stores
        finally:
            mongo.stop()
    finally:
        neo4j.stop()


def _describe(timings: dict[str, float], plan: seed.Plan) -> str:
    sizes = {
        "users": len(plan.users),
        "follows": len(plan.follows),
        "tweets": len(plan.tweets),
        "likes": len(plan.likes),
    }
    parts = [f"graph {timings.get('graph_s')} s, tweets {timings.get('tweets_s')} s in bulk"]
    for name, size in sizes.items():
        rate = timings.get(f"port_{name}_per_s")
        if rate:
            parts.append(
                f"{name} {rate:.0f}/s through the port ({size / rate / 60:.1f} min for all)"
            )
    return "; ".join(parts)


def port_estimate_minutes(timings: dict[str, float], plan: seed.Plan) -> float | None:
    """How long writing the whole plan through the ports would take, at the sampled rates."""
    sizes = {
        "users": len(plan.users),
        "follows": len(plan.follows),
        "tweets": len(plan.tweets),
        "likes": len(plan.likes),
    }
    rates = {name: timings.get(f"port_{name}_per_s") for name in sizes}
    if not all(rates.values()):
        return None
    return round(sum(size / (rates[name] or 1.0) for name, size in sizes.items()) / 60, 1)
