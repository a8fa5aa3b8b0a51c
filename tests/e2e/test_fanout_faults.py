"""Fan-out under faults: a worker killed mid-job, Redis stopped under reads and writes.

The API is aiohttp's test server in this process; fan-out workers are real
`python app.py worker` processes on the same production stores (the session's
Neo4j, MongoDB and Redis), or the API's in-process worker. Redis outages use a
Redis of the test's own, restarted empty on the same port. Each test ends by
checking that every follower's home timeline is complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from core.ids import SnowflakeGenerator
from graph.neo4j import connect as neo4j_connect
from tests.backends import MongoTarget, Neo4jTarget, fresh_mongo_db
from tests.conftest import SECRET, AppFactory, GraphQLClient
from tests.e2e.test_realtime import HOME, arrives, posted, services, subscribed, subscriber
from tests.servers import RunningServer, free_port, start_redis
from timeline.redis import CHANNEL, GROUP, STREAM, member, timeline_key

ROOT = Path(__file__).resolve().parents[2]
HOME_IDS = "{ homeTimeline(first: 50) { edges { node { id } } } }"
FOLLOWERS = 2000
BATCH = 50


def loop_time() -> float:
    return asyncio.get_running_loop().time()


async def home_ids(gql: GraphQLClient, token: str) -> list[str]:
    data = await gql.ok(HOME_IDS, token=token)
    return [edge["node"]["id"] for edge in data["homeTimeline"]["edges"]]


async def homes(gql: GraphQLClient, user_ids: Sequence[int], parallel: int = 8) -> list[list[str]]:
    """Each user's home timeline read over GraphQL (with a token the API issued)."""
    tokens = services(gql).tokens
    limit = asyncio.Semaphore(parallel)

    async def one(user_id: int) -> list[str]:
        async with limit:
            return await home_ids(gql, tokens.issue(user_id))

    return await asyncio.gather(*(one(user_id) for user_id in user_ids))


async def engine_homes(
    gql: GraphQLClient, user_ids: Sequence[int], parallel: int = 16
) -> list[list[int]]:
    """Each user's home timeline read by the API's timeline engine: what the homeTimeline
    resolver reads, without the HTTP and GraphQL layers (which make 2,000 reads ~3x slower)."""
    home = services(gql).home
    limit = asyncio.Semaphore(parallel)

    async def one(user_id: int) -> list[int]:
        async with limit:
            return [tweet.id for tweet in await home.read(user_id, 20, None)]

    return await asyncio.gather(*(one(user_id) for user_id in user_ids))


async def holders(redis: Redis, user_ids: Sequence[int], tweet_id: int) -> int:
    """How many of the users' cached timelines hold the tweet."""
    async with redis.pipeline(transaction=False) as pipe:
        for user_id in user_ids:
            pipe.zscore(timeline_key(user_id), member(tweet_id))
        found = await pipe.execute()
    return sum(score is not None for score in found)


# ------------------------------------------------------------ shared stores


@pytest.fixture
async def production_stores(
    neo4j_target: Neo4jTarget, mongo_target: MongoTarget, redis_url: str
) -> AsyncIterator[dict[str, str]]:
    """Settings of the session's Neo4j, MongoDB and Redis, emptied for this test."""
    driver = neo4j_connect(neo4j_target.uri, neo4j_target.user, neo4j_target.password)
    await driver.execute_query("MATCH (n) DETACH DELETE n", database_=neo4j_target.database)
    await driver.close()
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    database = fresh_mongo_db()
    try:
        yield {
            "neo4j_uri": neo4j_target.uri,
            "neo4j_user": neo4j_target.user,
            "neo4j_password": neo4j_target.password,
            "neo4j_database": neo4j_target.database,
            "mongodb_uri": mongo_target.uri,
            "mongodb_db": database,
            "redis_url": redis_url,
        }
    finally:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_target.uri)
        await mongo.drop_database(database)
        await mongo.close()
        await redis.flushdb()
        await redis.aclose()


class Worker:
    """A `python app.py worker` process."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    async def ready(self, within: float = 30.0) -> None:
        """Wait until /healthz answers: the stores are open and the consumers started."""
        deadline = loop_time() + within
        async with aiohttp.ClientSession() as session:
            while True:
                assert self.process.poll() is None, f"worker exited:\n{self.output}"
                assert loop_time() < deadline, f"worker not ready:\n{self.output}"
                try:
                    async with session.get(f"http://127.0.0.1:{self.port}/healthz") as reply:
                        healthy = reply.status == 200
                except aiohttp.ClientError:
                    healthy = False
                if healthy:
                    return
                await asyncio.sleep(0.05)


@contextmanager
def worker_process(
    stores: dict[str, str], tmp_path: Path, worker_id: int, *args: str
) -> Iterator[Worker]:
    """Run `python app.py worker` on the stores until the block ends (SIGTERM, then SIGKILL)."""
    env = {
        **os.environ,
        "NEO4J_URI": stores["neo4j_uri"],
        "NEO4J_USER": stores["neo4j_user"],
        "NEO4J_PASSWORD": stores["neo4j_password"],
        "NEO4J_DATABASE": stores["neo4j_database"],
        "MONGODB_URI": stores["mongodb_uri"],
        "MONGODB_DB": stores["mongodb_db"],
        "REDIS_URL": stores["redis_url"],
        "CHIRP_SECRET_KEY": SECRET,
        "CHIRP_FANOUT_BATCH": str(BATCH),
    }
    port = free_port()
    log = tmp_path / f"worker-{worker_id}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "app.py",
                "worker",
                "--data-dir",
                str(tmp_path / f"worker-{worker_id}"),
                "--metrics-port",
                str(port),
                "--worker-id",
                str(worker_id),
                *args,
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield Worker(process, port, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


# ------------------------------------------------- a worker killed mid-job


async def add_followers(target: Neo4jTarget, author_id: int, count: int) -> list[int]:
    """``count`` users following the author, written in bulk in the app's graph model.

    (The API would take a minute for 2,000 sign-ups and follows on the stand-in.)
    """
    ids = SnowflakeGenerator(worker_id=900)
    user_ids = [ids.next_id() for _ in range(count)]
    start_ms = int(time.time() * 1000) - count
    # distinct follow times, the newest last
    rows = [
        {"id": user_id, "handle": f"fan{n}", "since": start_ms + n}
        for n, user_id in enumerate(user_ids)
    ]
    driver = neo4j_connect(target.uri, target.user, target.password)
    try:
        await driver.execute_query(
            "UNWIND $rows AS row CREATE (:User {id: row.id, handle: row.handle,"
            " handle_lower: row.handle, display_name: row.handle, bio: '',"
            " created_at: row.since, password_hash: 'not-a-hash'})",
            rows=rows,
            database_=target.database,
        )
        await driver.execute_query(
            "MATCH (a:User {id: $author}) UNWIND $rows AS row MATCH (f:User {id: row.id})"
            " CREATE (f)-[:FOLLOWS {since: row.since}]->(a)",
            rows=rows,
            author=author_id,
            database_=target.database,
        )
    finally:
        await driver.close()
    return user_ids


@pytest.mark.slow
async def test_a_worker_killed_mid_fan_out_is_taken_over_and_every_follower_gets_the_tweet_once(
    make_client: AppFactory,
    production_stores: dict[str, str],
    neo4j_target: Neo4jTarget,
    tmp_path: Path,
) -> None:
    gql = await make_client(inprocess_workers=0, fanout_batch=BATCH, **production_stores)
    redis = Redis.from_url(production_stores["redis_url"])
    try:
        author, author_id = await gql.sign_up("author")
        followers = await add_followers(neo4j_target, int(author_id), FOLLOWERS)
        profile = await gql.ok('{ user(handle: "author") { followersCount } }')
        assert profile["user"]["followersCount"] == FOLLOWERS
        # Each follower reads its home once (some over GraphQL, all through the engine
        # the resolver calls): its timeline is now cached, and empty.
        assert await homes(gql, followers[:20]) == [[]] * 20
        assert await engine_homes(gql, followers) == [[]] * FOLLOWERS
        # The fan-out reads followers newest first: these get the first batch.
        first_batch = followers[-BATCH:]

        with worker_process(production_stores, tmp_path, 11) as doomed:
            await doomed.ready()
            tweet_id = int(await gql.tweet(author, "to all 2,000 of you"))
            deadline = loop_time() + 20
            while not await holders(redis, first_batch, tweet_id):
                assert loop_time() < deadline, f"fan-out never started:\n{doomed.output}"
                assert doomed.process.poll() is None, doomed.output
            doomed.process.kill()  # SIGKILL: no clean-up, the job stays unacknowledged
            doomed.process.wait(timeout=5)
        reached = await holders(redis, followers, tweet_id)
        assert 0 < reached < FOLLOWERS, f"not killed mid-job: {reached} deliveries"
        pending = await redis.xpending(STREAM, GROUP)
        assert pending["pending"] == 1, pending
        (consumer,) = pending["consumers"]
        assert f"-{doomed.process.pid}-w11" in str(consumer["name"]), pending
        assert (await services(gql).stores.tweets.pending_fanout(2**63 - 1, 10))[0].id == tweet_id

        with worker_process(
            production_stores, tmp_path, 12, "--claim-idle", "1", "--repair-after", "3600"
        ) as rescuer:
            deadline = loop_time() + 30
            while await holders(redis, followers, tweet_id) < FOLLOWERS:
                assert rescuer.process.poll() is None, rescuer.output
                assert loop_time() < deadline, (
                    f"{await holders(redis, followers, tweet_id)} of {FOLLOWERS} after 30 s:\n"
                    f"{rescuer.output}"
                )
                await asyncio.sleep(0.2)
            await gql.settle()  # acknowledged
            assert "left by another worker" in rescuer.output
        assert rescuer.process.returncode == 0, rescuer.output
        assert "Traceback" not in rescuer.output, rescuer.output
        assert await services(gql).stores.tweets.pending_fanout(2**63 - 1, 10) == []

        # Every follower's home timeline holds the tweet, exactly once.
        assert await engine_homes(gql, followers) == [[tweet_id]] * FOLLOWERS
        sample = followers[::20] + first_batch[-5:]  # over GraphQL too, from every batch
        assert await homes(gql, sample) == [[str(tweet_id)]] * len(sample)
        assert await home_ids(gql, author) == [str(tweet_id)]
    finally:
        await redis.aclose()


# ------------------------------------------------ Redis down and back, empty


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[list[RunningServer]]:
    """A Redis of this test's own (stopping it harms no other test); restarts append."""
    servers = [start_redis(directory=tmp_path / "redis")]
    try:
        yield servers
    finally:
        for server in servers:
            server.stop(remove_dir=False)


def restart(servers: list[RunningServer]) -> RunningServer:
    """Start Redis again on the port and folder of the stopped one: empty."""
    stopped = servers[-1]
    assert not stopped.is_running()
    servers.append(start_redis(port=stopped.port, directory=stopped.directory))
    return servers[-1]


async def until_ready(gql: GraphQLClient, within: float) -> None:
    deadline = loop_time() + within
    while (ready := await gql.http.get("/readyz")).status != 200:
        assert loop_time() < deadline, await ready.text()
        await asyncio.sleep(0.1)


async def hub_listening(redis: Redis, within: float) -> None:
    """Wait until a hub has subscribed to the realtime channel on this Redis."""
    deadline = loop_time() + within
    while dict(await redis.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0) < 1:
        assert loop_time() < deadline, "the hub did not subscribe to Redis"
        await asyncio.sleep(0.05)


async def delivered(
    redis: Redis, user_ids: Sequence[int], tweet_ids: Sequence[str], within: float
) -> None:
    """Wait until every user's cached timeline holds every tweet."""
    deadline = loop_time() + within
    while True:
        counts = [await holders(redis, user_ids, int(t)) for t in tweet_ids]
        if counts == [len(user_ids)] * len(tweet_ids):
            return
        assert loop_time() < deadline, f"timelines holding each tweet: {counts}"
        await asyncio.sleep(0.1)


async def author_and_fans(gql: GraphQLClient, fans: int) -> tuple[str, list[str], list[int]]:
    """An author followed by ``fans`` users whose timelines are cached; their tokens and ids."""
    author, author_id = await gql.sign_up("author")
    tokens, ids = [], []
    for n in range(fans):
        token, user_id = await gql.sign_up(f"fan{n}")
        await gql.follow(token, author_id)
        assert await home_ids(gql, token) == []  # read once: cached, empty
        tokens.append(token)
        ids.append(int(user_id))
    return author, tokens, ids


@pytest.mark.slow
async def test_redis_down_reads_and_writes_go_on_and_fan_out_catches_up_after_restart(
    make_client: AppFactory, own_redis: list[RunningServer]
) -> None:
    gql = await make_client(redis_url=own_redis[0].url, repair_after_seconds=1)
    author, fans, fan_ids = await author_and_fans(gql, 4)
    before = await gql.tweet(author, "before the outage")
    await gql.settle()
    redis = Redis.from_url(own_redis[0].url)
    assert await holders(redis, fan_ids, int(before)) == len(fans)
    await redis.aclose()

    own_redis[0].stop(remove_dir=False)
    ready = await gql.http.get("/readyz")
    assert ready.status == 503
    assert (await ready.json())["backends"]["timelines"]["status"] == "down"
    for token in fans:
        assert await home_ids(gql, token) == [before]  # the pull path answers
    during = []
    for n in range(3):
        started = loop_time()
        during.append(await gql.tweet(author, f"during the outage {n}"))
        assert loop_time() - started < 2.0, "createTweet stalls while Redis is down"
    expected = [*reversed(during), before]
    for token in fans:
        assert await home_ids(gql, token) == expected
    tweets = services(gql).stores.tweets
    assert [t.id for t in await tweets.pending_fanout(2**63 - 1, 10)] == [int(t) for t in during]

    redis = Redis.from_url(restart(own_redis).url)
    try:
        deadline = loop_time() + 20
        await until_ready(gql, 20)
        # The repair pass finds the tweets whose fan-out never ran and fans them out.
        while await tweets.pending_fanout(2**63 - 1, 10):
            assert loop_time() < deadline, "the outage's tweets were never fanned out"
            await asyncio.sleep(0.1)
        await gql.settle()
        for token in fans:  # rebuilt: the cache came back empty
            assert await home_ids(gql, token) == expected
        assert await holders(redis, fan_ids, int(during[0])) == len(fans)

        # Fan-out works again on the new Redis (a tweet whose job could not be queued
        # waits for the repair pass: hence a deadline, not settle()).
        after = await gql.tweet(author, "after the outage")
        await delivered(redis, fan_ids, [after], within=15)
        for token in fans:
            assert await home_ids(gql, token) == [after, *expected]
        assert await home_ids(gql, author) == [after, *expected]
    finally:
        await redis.aclose()


@pytest.mark.slow
async def test_live_feed_resumes_after_a_redis_restart(
    make_client: AppFactory, own_redis: list[RunningServer]
) -> None:
    gql = await make_client(redis_url=own_redis[0].url, repair_after_seconds=1)
    author, fans, fan_ids = await author_and_fans(gql, 1)
    feed = await subscriber(gql, fans[0])
    await feed.subscribe(HOME)
    await subscribed(gql, 1)
    redis = Redis.from_url(own_redis[0].url)
    await hub_listening(redis, 5)
    await redis.aclose()
    before, at = await posted(gql, author, "before the outage")
    await arrives(feed, before, at)

    own_redis[0].stop(remove_dir=False)
    redis = Redis.from_url(restart(own_redis).url)
    try:
        await until_ready(gql, 20)
        await hub_listening(redis, 10)  # the hub is back on the new Redis
        assert await home_ids(gql, fans[0]) == [before]  # cached again (the cache came back empty)
        # Two tweets after the restart: a live follower sees both, each within LIVE s.
        sent, seen = [], []
        for text in ("back again", "and once more"):
            tweet_id, at = await posted(gql, author, text)
            sent.append(tweet_id)
            with contextlib.suppress(AssertionError):
                seen.append((await arrives(feed, tweet_id, at))["id"])
        await delivered(redis, fan_ids, sent, within=15)
        assert await home_ids(gql, fans[0]) == [*reversed(sent), before]
        # Known bug: the first event after the restart is lost (see the report).
        assert seen == sent, f"live events lost after the Redis restart: got {seen} of {sent}"
    finally:
        await feed.close()
        await redis.aclose()
