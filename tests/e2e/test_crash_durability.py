"""An app process SIGKILLed while posting loses no acknowledged tweet, like or follow.

`python app.py` runs as a real process on each way of running Chirp: the
embedded default (SQLite files in a data folder, fan-out queue and timeline
cache in the process) and the production stores (the session's Neo4j, MongoDB
and Redis). Several clients post, like and follow at once; the process is
SIGKILLed mid-stream (no shutdown, no flush) and started again on the same
data. Every mutation that was answered successfully before the kill is there
after the restart, and the fan-out of every acknowledged tweet completes. Posts
are answered before their fan-out (CHIRP_FANOUT_WAIT=0), so the kill leaves
some of it undone: the in-process queue of the embedded default dies with the
process, and the tweets still marked for fan-out are queued again by the repair
pass (CHIRP_REPAIR_AFTER); on Redis, jobs the dead process had taken are claimed
again (CHIRP_CLAIM_IDLE). `pytest -s` prints how much was left to catch up.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from graph.neo4j import connect as neo4j_connect
from tests.backends import MongoTarget, Neo4jTarget, fresh_mongo_db
from tests.processes import Chirp, environment, running
from tests.servers import free_port

WRITERS = 6  # clients posting, liking and following at once
READERS = 2  # users following every writer, their home timelines cached before the crash
KILL_AFTER_TWEETS = 30  # acknowledged tweets before the SIGKILL
FAN_OUT_WITHIN = 30.0  # seconds after the restart for every acknowledged tweet's fan-out

SIGN_UP = """mutation($handle: String!) { signUp(input: {handle: $handle, password: "correct horse"}) {
  token user { id } errors { code } } }"""
POST = "mutation($text: String!) { createTweet(input: {text: $text}) { tweet { id } errors { code } } }"
LIKE = "mutation($id: ID!) { likeTweet(tweetId: $id) { tweet { id } errors { code } } }"
FOLLOW = "mutation($id: ID!) { followUser(userId: $id) { user { id } errors { code } } }"
TWEET = "query($id: ID!) { tweet(id: $id) { text author { id } likeCount viewerHasLiked } }"
FOLLOWS = "query($id: ID!) { node(id: $id) { ... on User { viewerFollows } } }"
USER = """query($handle: String!) { user(handle: $handle) {
  tweets(first: 100) { edges { node { id } } }
  following(first: 100) { edges { node { id } } } } }"""
HOME = "{ homeTimeline(first: 100) { edges { node { id } } } }"


# ------------------------------------------------------------------ the two ways


@dataclass
class WayOfRunning:
    """The settings of one way of running Chirp, and where it keeps fan-out's state."""

    name: str
    settings: dict[str, str]
    mongo: MongoTarget | None = None  # the production stores' MongoDB, if any
    mongo_db: str = ""

    async def pending_fanout(self, data_dir: Path, tweet_ids: Sequence[int]) -> set[int]:
        """Which of the tweets are still marked as waiting for their fan-out, in the store."""
        if self.mongo is None:
            with contextlib.closing(sqlite3.connect(data_dir / "tweets.sqlite3")) as db:
                rows = db.execute("SELECT id FROM tweets WHERE fanout_pending = 1").fetchall()
            return {tweet_id for (tweet_id,) in rows} & set(tweet_ids)
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self.mongo.uri)
        try:
            found = client[self.mongo_db].tweets.find(
                {"_id": {"$in": list(tweet_ids)}, "fanout_pending": True}, {"_id": 1}
            )
            return {int(doc["_id"]) async for doc in found}
        finally:
            await client.close()


@pytest.fixture(params=["embedded", "production"])
async def way(request: pytest.FixtureRequest) -> AsyncIterator[WayOfRunning]:
    if request.param == "embedded":
        yield WayOfRunning("embedded", {})
        return
    neo4j: Neo4jTarget = request.getfixturevalue("neo4j_target")
    mongo: MongoTarget = request.getfixturevalue("mongo_target")
    redis_url: str = request.getfixturevalue("redis_url")
    driver = neo4j_connect(neo4j.uri, neo4j.user, neo4j.password)
    await driver.execute_query("MATCH (n) DETACH DELETE n", database_=neo4j.database)
    await driver.close()
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    database = fresh_mongo_db()
    settings = {
        "NEO4J_URI": neo4j.uri,
        "NEO4J_USER": neo4j.user,
        "NEO4J_PASSWORD": neo4j.password,
        "NEO4J_DATABASE": neo4j.database,
        "MONGODB_URI": mongo.uri,
        "MONGODB_DB": database,
        "REDIS_URL": redis_url,
    }
    try:
        yield WayOfRunning("production", settings, mongo, database)
    finally:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo.uri)
        await client.drop_database(database)
        await client.close()
        await redis.flushdb()
        await redis.aclose()


@contextlib.contextmanager
def chirp(data_dir: Path, way: WayOfRunning, log: Path) -> Iterator[tuple[Chirp, str]]:
    """`python app.py` on ``way``'s stores, its data in ``data_dir``: (process, base URL)."""
    port = free_port()
    env = environment(
        data_dir,
        CHIRP_PORT=str(port),
        CHIRP_REPAIR_AFTER="1",  # a stored tweet not fanned out 1 s later is queued again
        CHIRP_CLAIM_IDLE="1",  # a job a dead worker took is claimed after 1 s
        CHIRP_FANOUT_WAIT="0",  # a post is answered before its fan-out: a crash can cut it
        **way.settings,
    )
    with running([], env, log) as process:
        yield process, f"http://127.0.0.1:{port}"


# ------------------------------------------------------------------ the clients


class Api:
    """GraphQL over HTTP, as an app would send it."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session = session
        self.url = f"{base}/graphql"
        self.in_flight = 0  # requests sent and not answered yet

    async def send(self, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
        """The answer's data; raises aiohttp.ClientError when the process is gone."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        payload = {"query": query, "variables": variables}
        self.in_flight += 1
        try:
            async with self.session.post(self.url, json=payload, headers=headers) as answer:
                assert answer.status == 200, await answer.text()
                body = await answer.json()
        finally:
            self.in_flight -= 1
        assert "errors" not in body, body
        return body["data"]


@dataclass
class User:
    token: str
    id: int
    handle: str


@dataclass
class Acknowledged:
    """The mutations answered successfully, and those whose answer never came."""

    tweets: dict[int, tuple[int, str]] = field(default_factory=dict)  # id -> (author, text)
    likes: set[tuple[int, int]] = field(default_factory=set)  # (user, tweet)
    follows: set[tuple[int, int]] = field(default_factory=set)  # (follower, followee)
    maybe_liked: set[tuple[int, int]] = field(default_factory=set)  # sent, never answered
    writers_stopped: int = 0  # each at its first request that got no answer


async def sign_up(api: Api, handle: str) -> User:
    payload = (await api.send(SIGN_UP, {"handle": handle}))["signUp"]
    assert payload["errors"] == [], payload
    return User(payload["token"], int(payload["user"]["id"]), handle)


async def write_until_killed(
    api: Api,
    me: User,
    everyone: Sequence[User],
    acked: Acknowledged,
    mongo_writes: asyncio.Lock | None,
    seed: int,
) -> None:
    """Post, like a tweet of someone else, follow someone, and again, until the server dies.

    ``mongo_writes``: posts, likes and follows (a follow's notification is a MongoDB
    transaction) go one at a time through it, for the nx-27017
    stand-in of MongoDB (it runs transactions as savepoints on one SQLite
    connection: two open at once corrupt each other, and a write made while a like's
    transaction is open is rolled back with it if it aborts). Real MongoDB isolates
    them; the embedded default and a real MongoDB get None: all at once.
    """
    rng = random.Random(seed)
    lock = mongo_writes or contextlib.nullcontext()
    n = 0
    try:
        while True:
            n += 1
            text = f"tweet {n} by {me.handle}"
            async with lock:
                created = (await api.send(POST, {"text": text}, me.token))["createTweet"]
            assert created["errors"] == [], created
            acked.tweets[int(created["tweet"]["id"])] = (me.id, text)

            others = [t for t, (author, _) in acked.tweets.items() if author != me.id]
            if others:
                tweet = rng.choice(others)
                try:
                    async with lock:
                        liked = (await api.send(LIKE, {"id": str(tweet)}, me.token))["likeTweet"]
                except aiohttp.ClientError:
                    acked.maybe_liked.add((me.id, tweet))
                    raise
                assert liked["errors"] == [], liked
                acked.likes.add((me.id, tweet))

            followee = rng.choice([u for u in everyone if u.id != me.id])
            async with lock:  # a follow writes its notification to MongoDB
                followed = (await api.send(FOLLOW, {"id": str(followee.id)}, me.token))[
                    "followUser"
                ]
            assert followed["errors"] == [], followed
            acked.follows.add((me.id, followee.id))
    except aiohttp.ClientError:
        acked.writers_stopped += 1  # the process is gone: this request got no answer


@asynccontextmanager
async def client(base: str) -> AsyncIterator[Api]:
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield Api(session, base)


# ------------------------------------------------------------------ the test


@pytest.mark.slow
async def test_an_app_killed_while_posting_loses_no_acknowledged_tweet_like_or_follow(
    way: WayOfRunning, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    acked = Acknowledged()
    standin = way.mongo is not None and way.mongo.standin
    mongo_writes = asyncio.Lock() if standin else None

    with chirp(data_dir, way, tmp_path / "before.log") as (process, base):
        await process.ready(f"{base}/healthz")
        async with client(base) as api:
            writers = [await sign_up(api, f"writer{n}") for n in range(WRITERS)]
            readers = [await sign_up(api, f"reader{n}") for n in range(READERS)]
            for reader in readers:
                for writer in writers:
                    await api.send(FOLLOW, {"id": str(writer.id)}, reader.token)
                assert (await api.send(HOME, {}, reader.token))["homeTimeline"]["edges"] == []

            everyone = writers + readers
            streams = [
                asyncio.create_task(
                    write_until_killed(api, w, everyone, acked, mongo_writes, seed=n)
                )
                for n, w in enumerate(writers)
            ]
            deadline = time.monotonic() + 60
            # kill with a request on the wire, not at a moment between two
            while len(acked.tweets) < KILL_AFTER_TWEETS or api.in_flight == 0:
                assert time.monotonic() < deadline, f"{len(acked.tweets)} tweets in 60 s"
                assert not any(s.done() for s in streams), [s for s in streams if s.done()]
                await asyncio.sleep(0.001)
            in_flight = api.in_flight
            process.process.kill()  # SIGKILL, mid-stream: no shutdown, nothing flushed
            process.process.wait(timeout=10)
            await asyncio.gather(*streams)  # each writer stops at its first unanswered request
    assert in_flight > 0, "no request was in flight when the process died"
    assert acked.writers_stopped == WRITERS
    assert "stores closed" not in process.output  # it did not stop cleanly

    with chirp(data_dir, way, tmp_path / "after.log") as (restarted, base):
        await restarted.ready(f"{base}/healthz")
        left = await way.pending_fanout(data_dir, list(acked.tweets))
        print(  # shown with pytest -s: what the crash left to catch up with
            f"{way.name}: {len(acked.tweets)} tweets, {len(acked.likes)} likes,"
            f" {len(acked.follows)} follows acknowledged; {in_flight} requests in flight at"
            f" the kill; {len(left)} acknowledged tweets waiting for their fan-out at restart"
        )
        async with client(base) as api:
            # Every acknowledged tweet is there, by id and in its author's tweets.
            for tweet_id, (author, text) in acked.tweets.items():
                found = (await api.send(TWEET, {"id": str(tweet_id)}))["tweet"]
                assert found is not None, f"acknowledged tweet {tweet_id} lost"
                assert (found["text"], int(found["author"]["id"])) == (text, author)
            for writer in writers:
                profile = (await api.send(USER, {"handle": writer.handle}))["user"]
                listed = {int(e["node"]["id"]) for e in profile["tweets"]["edges"]}
                mine = {t for t, (author, _) in acked.tweets.items() if author == writer.id}
                assert mine <= listed, f"{writer.handle}'s tweets lost: {mine - listed}"

            # Every acknowledged like, as its user sees it, and in the tweet's count.
            tokens = {u.id: u.token for u in everyone}
            for liker, tweet_id in acked.likes:
                seen = (await api.send(TWEET, {"id": str(tweet_id)}, tokens[liker]))["tweet"]
                assert seen["viewerHasLiked"], f"like of {tweet_id} by {liker} lost"
            for tweet_id in {t for _, t in acked.likes}:
                count = (await api.send(TWEET, {"id": str(tweet_id)}))["tweet"]["likeCount"]
                likers = {u for u, t in acked.likes if t == tweet_id}
                maybe = {u for u, t in acked.maybe_liked if t == tweet_id} - likers
                assert len(likers) <= count <= len(likers) + len(maybe), (tweet_id, count)

            # Every acknowledged follow, as the follower sees it and in their following.
            for follower, followee in acked.follows:
                seen = (await api.send(FOLLOWS, {"id": str(followee)}, tokens[follower]))["node"]
                assert seen["viewerFollows"], f"follow of {followee} by {follower} lost"
            for user in everyone:
                profile = (await api.send(USER, {"handle": user.handle}))["user"]
                following = {int(e["node"]["id"]) for e in profile["following"]["edges"]}
                mine = {b for a, b in acked.follows if a == user.id}
                assert mine <= following, f"{user.handle}'s follows lost: {mine - following}"

            # The fan-out of every acknowledged tweet completes after the restart.
            deadline = time.monotonic() + FAN_OUT_WITHIN
            while pending := await way.pending_fanout(data_dir, list(acked.tweets)):
                assert time.monotonic() < deadline, (
                    f"{len(pending)} tweets never fanned out:\n{restarted.output[-3000:]}"
                )
                await asyncio.sleep(0.2)
            for reader in readers:
                home = (await api.send(HOME, {}, reader.token))["homeTimeline"]["edges"]
                shown = {int(edge["node"]["id"]) for edge in home}
                assert set(acked.tweets) <= shown, f"missing: {set(acked.tweets) - shown}"
    assert "Traceback" not in restarted.output, restarted.output
