"""Realtime feeds end to end: GraphQL subscriptions over real WebSocket connections.

Each test serves the app on aiohttp's test server and talks to it the way a
browser would: a WebSocket on /graphql speaking graphql-transport-ws (or the
legacy graphql-ws), the bearer token in the connection_init payload, and
mutations over HTTP. Two app instances share the session's real Redis (and
Neo4j and MongoDB) to show that a feed crosses processes.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pymongo import AsyncMongoClient
from redis.asyncio import Redis

from app import SERVICES_KEY
from graph.neo4j import connect as neo4j_connect
from services.container import Services
from tests.backends import MongoTarget, Neo4jTarget, fresh_mongo_db
from tests.conftest import AppFactory, GraphQLClient
from timeline.realtime import BUFFER
from timeline.redis import CHANNEL

TRANSPORT_WS = "graphql-transport-ws"
LEGACY_WS = "graphql-ws"
HOME = "subscription { homeTimeline { id text author { handle } retweetOf { id } } }"
HASHTAG = "subscription($name: String!) { hashtag(name: $name) { id text hashtags } }"
RETWEET = "mutation($id: ID!) { retweet(tweetId: $id) { tweet { id } errors { code } } }"
HOME_QUERY = "{ homeTimeline(first: 50) { edges { node { id } } } }"
LIVE = 1.0  # seconds from a mutation's response to the event on a live feed


class Subscriber:
    """One WebSocket connection to /graphql, speaking one of the two GraphQL protocols."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, protocol: str) -> None:
        self.ws = ws
        self.protocol = protocol
        self.next_id = 0

    async def init(self, token: str | None) -> None:
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await self.ws.send_json({"type": "connection_init", "payload": payload})
        assert await self.message(5.0) == {"type": "connection_ack"}

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self.next_id += 1
        op_id = str(self.next_id)
        kind = "subscribe" if self.protocol == TRANSPORT_WS else "start"
        payload = {"query": query, "variables": variables or {}}
        await self.ws.send_json({"id": op_id, "type": kind, "payload": payload})
        return op_id

    async def stop(self, op_id: str) -> None:
        kind = "complete" if self.protocol == TRANSPORT_WS else "stop"
        await self.ws.send_json({"id": op_id, "type": kind})

    async def message(self, within: float) -> dict[str, Any]:
        """The next protocol message, keep-alives skipped and pings answered."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            left = deadline - asyncio.get_running_loop().time()
            frame = await asyncio.wait_for(self.ws.receive(), max(left, 0.001))
            assert frame.type == aiohttp.WSMsgType.TEXT, frame
            message: dict[str, Any] = frame.json()
            if message["type"] == "ka":
                continue
            if message["type"] == "ping":
                await self.ws.send_json({"type": "pong"})
                continue
            return message

    async def result(self, within: float) -> dict[str, Any]:
        """The payload ({"data", "errors"}) of the next result message."""
        message = await self.message(within)
        assert message["type"] == ("next" if self.protocol == TRANSPORT_WS else "data"), message
        payload: dict[str, Any] = message["payload"]
        return payload

    async def tweet(self, within: float = LIVE) -> dict[str, Any]:
        """The next tweet of the one subscription this connection carries."""
        payload = await self.result(within)
        assert "errors" not in payload, payload
        data: dict[str, Any] = payload["data"]
        (tweet,) = data.values()
        assert isinstance(tweet, dict)
        return tweet

    async def nothing_more(self, within: float = 0.3) -> None:
        try:
            extra = await self.message(within)
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message {extra}")

    async def close(self) -> None:
        await self.ws.close()


async def subscriber(
    gql: GraphQLClient, token: str | None, protocol: str = TRANSPORT_WS
) -> Subscriber:
    ws = await gql.http.ws_connect("/graphql", protocols=(protocol,))
    assert ws.protocol == protocol
    sub = Subscriber(ws, protocol)
    await sub.init(token)
    return sub


def services(gql: GraphQLClient) -> Services:
    found: Services = gql.http.app[SERVICES_KEY]
    return found


async def until(
    condition: Callable[[], bool], within: float = 5.0, what: str = "condition"
) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, f"{what}: not within {within} s"
        await asyncio.sleep(0.01)


async def subscribed(gql: GraphQLClient, count: int) -> None:
    """Wait until the app's hub holds ``count`` live subscribers (a subscribe has no ack)."""
    hub = services(gql).hub
    await until(lambda: hub.subscriber_count == count, what=f"{count} hub subscriber(s)")


async def posted(gql: GraphQLClient, token: str, text: str) -> tuple[str, float]:
    """createTweet; returns the id and the loop time its response arrived."""
    tweet_id = await gql.tweet(token, text)
    return tweet_id, asyncio.get_running_loop().time()


async def arrives(sub: Subscriber, tweet_id: str, since: float) -> dict[str, Any]:
    """The next tweet on the feed is ``tweet_id``, within LIVE seconds of ``since``."""
    left = since + LIVE - asyncio.get_running_loop().time()
    try:
        tweet = await sub.tweet(max(left, 0.001))
    except TimeoutError:
        raise AssertionError(f"tweet {tweet_id} not on the feed within {LIVE} s") from None
    assert tweet["id"] == tweet_id, tweet
    assert asyncio.get_running_loop().time() - since < LIVE
    return tweet


async def dropped_total(gql: GraphQLClient) -> float:
    """chirp_realtime_dropped_total as the app's /metrics reports it."""
    reply = await gql.http.get("/metrics")
    assert reply.status == 200
    for line in (await reply.text()).splitlines():
        if line.startswith("chirp_realtime_dropped_total "):
            return float(line.split()[1])
    raise AssertionError("chirp_realtime_dropped_total is not in /metrics")


# --------------------------------------------------------------- one instance


async def test_home_feed_carries_followees_own_tweets_and_retweets_but_not_strangers(
    make_client: AppFactory,
) -> None:
    gql = await make_client()
    alice, _ = await gql.sign_up("alice")
    bob, bob_id = await gql.sign_up("bob")
    dave, dave_id = await gql.sign_up("dave")
    carol, _ = await gql.sign_up("carol")  # nobody follows carol
    await gql.follow(alice, bob_id)
    await gql.follow(alice, dave_id)

    feed = await subscriber(gql, alice)
    await feed.subscribe(HOME)
    await subscribed(gql, 1)

    stranger, _ = await posted(gql, carol, "a stranger's tweet")
    first, at = await posted(gql, bob, "hello from bob")
    # carol's tweet came first on the bus: had it been delivered it would be next
    got = await arrives(feed, first, at)
    assert got == {
        "id": first,
        "text": "hello from bob",
        "author": {"handle": "bob"},
        "retweetOf": None,
    }
    own, at = await posted(gql, alice, "alice's own")
    assert (await arrives(feed, own, at))["author"] == {"handle": "alice"}

    data = await gql.ok(RETWEET, {"id": stranger}, dave)
    at = asyncio.get_running_loop().time()
    retweet = data["retweet"]["tweet"]["id"]
    got = await arrives(feed, retweet, at)
    assert got == {
        "id": retweet,
        "text": "",
        "author": {"handle": "dave"},
        "retweetOf": {"id": stranger},
    }

    await posted(gql, carol, "still a stranger")
    last, at = await posted(gql, bob, "bob again")
    await arrives(feed, last, at)
    await feed.nothing_more()

    # The feed showed exactly what the home timeline query shows.
    await gql.settle()
    home = await gql.ok(HOME_QUERY, token=alice)
    assert [e["node"]["id"] for e in home["homeTimeline"]["edges"]] == [last, retweet, own, first]

    await feed.close()
    await subscribed(gql, 0)


async def test_the_live_home_feed_applies_the_reply_rule_blocks_and_mutes(
    make_client: AppFactory,
) -> None:
    gql = await make_client()
    alice, _ = await gql.sign_up("alice")
    bob, bob_id = await gql.sign_up("bob")
    carol, carol_id = await gql.sign_up("carol")  # alice does not follow carol
    dave, dave_id = await gql.sign_up("dave")
    await gql.follow(alice, bob_id)
    await gql.follow(alice, dave_id)
    carol_says = await gql.tweet(carol, "carol says")
    bob_says = await gql.tweet(bob, "bob says")

    feed = await subscriber(gql, alice)
    await feed.subscribe(HOME)
    await subscribed(gql, 1)
    reply = (
        "mutation($t: String!, $to: ID!) { createTweet(input: {text: $t, inReplyToId: $to})"
        " { tweet { id } errors { code } } }"
    )

    async def reply_to(token: str, text: str, parent: str) -> tuple[str, float]:
        data = await gql.ok(reply, {"t": text, "to": parent}, token)
        return data["createTweet"]["tweet"]["id"], asyncio.get_running_loop().time()

    await reply_to(bob, "bob answers carol", carol_says)  # alice follows only one side
    thread, at = await reply_to(bob, "bob's thread", bob_says)  # a thread reaches everyone
    await arrives(feed, thread, at)
    mute = "mutation($id: ID!) { muteUser(userId: $id) { errors { code } } }"
    await gql.ok(mute, {"id": dave_id}, alice)
    await posted(gql, dave, "dave, muted")
    block = "mutation($id: ID!) { blockUser(userId: $id) { errors { code } } }"
    await gql.ok(block, {"id": carol_id}, alice)
    await gql.ok(RETWEET, {"id": carol_says}, bob)  # a followee's retweet of the blocked
    await gql.ok(RETWEET, {"id": bob_says}, dave)  # a muted account's retweet
    last, at = await posted(gql, bob, "bob again")
    got = await arrives(feed, last, at)
    assert got["text"] == "bob again"
    await feed.nothing_more()
    await feed.close()


async def test_celebrity_tweet_reaches_live_followers(make_client: AppFactory) -> None:
    gql = await make_client(celebrity_threshold=1)
    alice, alice_id = await gql.sign_up("alice")
    star, star_id = await gql.sign_up("star")
    await gql.follow(alice, star_id)
    feed = await subscriber(gql, alice)
    await feed.subscribe(HOME)
    await subscribed(gql, 1)

    first, at = await posted(gql, star, "first words of a star")
    await arrives(feed, first, at)
    await gql.settle()
    # the author is a celebrity now: later tweets are merged at read, never pushed
    graph = services(gql).stores.graph
    assert await graph.followed_celebrities(int(alice_id)) == [int(star_id)]
    second, at = await posted(gql, star, "a celebrity's tweet")
    await arrives(feed, second, at)
    await gql.settle()
    home = await gql.ok(HOME_QUERY, token=alice)
    assert [e["node"]["id"] for e in home["homeTimeline"]["edges"]] == [second, first]
    await feed.close()
    await subscribed(gql, 0)


async def test_legacy_graphql_ws_protocol(make_client: AppFactory) -> None:
    gql = await make_client()
    alice, _ = await gql.sign_up("alice")
    bob, bob_id = await gql.sign_up("bob")
    await gql.follow(alice, bob_id)

    feed = await subscriber(gql, alice, LEGACY_WS)
    op = await feed.subscribe(HOME)
    await subscribed(gql, 1)
    tweet_id, at = await posted(gql, bob, "over the old protocol")
    assert (await arrives(feed, tweet_id, at))["text"] == "over the old protocol"

    await feed.stop(op)
    assert await feed.message(2.0) == {"type": "complete", "id": op}
    await subscribed(gql, 0)
    await posted(gql, bob, "nobody listens")
    await feed.nothing_more()
    await feed.close()


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
@pytest.mark.parametrize("token", [None, "not-a-token"])
async def test_home_feed_needs_a_token_but_hashtag_feed_is_anonymous(
    make_client: AppFactory, protocol: str, token: str | None
) -> None:
    gql = await make_client()
    bob, _ = await gql.sign_up("bob")
    anonymous = await subscriber(gql, token, protocol)

    op = await anonymous.subscribe(HOME)
    refused = await anonymous.result(2.0)
    assert refused["data"] is None
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["UNAUTHENTICATED"]
    done = await anonymous.message(2.0)
    assert (done["type"], done["id"]) == ("complete", op)

    await anonymous.subscribe(HASHTAG, {"name": "Python"})
    await subscribed(gql, 1)
    wanted = []
    for text, match in [
        ("#python is fun", True),
        ("#PYTHON, loudly", True),
        ("#pythonic is another tag", False),
        ("#java only", False),
        ("python without the hash", False),
        ("both #Java and #PyThOn", True),
    ]:
        tweet_id, at = await posted(gql, bob, text)
        if match:
            wanted.append(tweet_id)
            got = await arrives(anonymous, tweet_id, at)
            assert "python" in got["hashtags"]
    await anonymous.nothing_more()
    assert len(wanted) == 3
    await anonymous.close()
    await subscribed(gql, 0)


# ----------------------------------------------------------- slow subscribers


def tiny_receive_buffer(addr_info: Any) -> socket.socket:
    """A client socket that takes little from the network: the server's sends back up."""
    family, kind, proto, _, _ = addr_info
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return sock


@pytest.fixture
async def slow_session() -> AsyncIterator[aiohttp.ClientSession]:
    connector = aiohttp.TCPConnector(socket_factory=tiny_receive_buffer, force_close=True)
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


# A big event: 29 aliases of a 280-character text of 4-byte characters (~32 KB).
BIG = "subscription { homeTimeline { id " + " ".join(f"t{n}: text" for n in range(29)) + " } }"


async def test_a_slow_subscriber_loses_old_events_not_memory_and_a_closed_one_leaves_the_hub(
    make_client: AppFactory, slow_session: aiohttp.ClientSession
) -> None:
    gql = await make_client()
    alice, _ = await gql.sign_up("alice")
    bob, bob_id = await gql.sign_up("bob")
    await gql.follow(alice, bob_id)
    hub = services(gql).hub
    url = str(gql.http.make_url("/graphql"))

    slow = Subscriber(await slow_session.ws_connect(url, protocols=(TRANSPORT_WS,)), TRANSPORT_WS)
    await slow.init(alice)
    await slow.subscribe(BIG)
    await subscribed(gql, 1)
    dropped_before = await dropped_total(gql)

    def buffered() -> list[int]:
        """Events waiting in each subscriber's buffer in the hub (its private state)."""
        return sorted(s.queue.qsize() for s in hub._subscribers)

    text = "\N{BIRD}" * 140  # an emoji weighs 2: a full tweet
    posted_ids: list[str] = []
    deadline = asyncio.get_running_loop().time() + 30
    # The slow client never reads: once the sockets are full the hub's buffer fills up.
    while await dropped_total(gql) == dropped_before:
        assert asyncio.get_running_loop().time() < deadline, (
            f"no event dropped after {len(posted_ids)} events; buffered {buffered()}"
        )
        posted_ids.append(await gql.tweet(bob, text))
        assert all(size <= BUFFER for size in buffered()), buffered()
    # From now on every further event drops one: the buffer stays full, never grows.
    more = 2 * BUFFER
    for _ in range(more):
        posted_ids.append(await gql.tweet(bob, text))
        assert all(size <= BUFFER for size in buffered()), buffered()
    deadline = asyncio.get_running_loop().time() + 5
    while await dropped_total(gql) - dropped_before < more:
        assert asyncio.get_running_loop().time() < deadline, "later events were not dropped"
        await asyncio.sleep(0.01)
    assert buffered() == [BUFFER]

    # When it reads at last, it gets fewer events than were posted, the newest last.
    received: list[str] = []
    while not received or received[-1] != posted_ids[-1]:
        received.append((await slow.tweet(10.0))["id"])
    assert len(received) < len(posted_ids)
    assert received == sorted(received, key=int)
    assert set(received) <= set(posted_ids)
    assert received[-BUFFER:] == posted_ids[-BUFFER:]
    await slow.nothing_more()

    # A connection that goes away is removed from the hub, even while its sends are stuck.
    stuck = Subscriber(await slow_session.ws_connect(url, protocols=(TRANSPORT_WS,)), TRANSPORT_WS)
    await stuck.init(alice)
    await stuck.subscribe(BIG)
    await subscribed(gql, 2)
    deadline = asyncio.get_running_loop().time() + 30
    while buffered() != [BUFFER, BUFFER]:  # neither reads: both buffers fill up
        assert asyncio.get_running_loop().time() < deadline, buffered()
        await gql.tweet(bob, text)
    await slow.close()
    await subscribed(gql, 1)
    await slow_session.close()  # drops the stuck connection without a closing handshake
    await subscribed(gql, 0)


# ------------------------------------------------------------- two instances


@pytest.fixture
async def two_instances(
    make_client: AppFactory,
    neo4j_target: Neo4jTarget,
    mongo_target: MongoTarget,
    redis_url: str,
    tmp_path: Path,
) -> AsyncIterator[tuple[GraphQLClient, GraphQLClient]]:
    """Two app instances on the same Neo4j, MongoDB and Redis, signing with one secret."""
    driver = neo4j_connect(neo4j_target.uri, neo4j_target.user, neo4j_target.password)
    await driver.execute_query("MATCH (n) DETACH DELETE n", database_=neo4j_target.database)
    await driver.close()
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    database = fresh_mongo_db()
    stores = {
        "neo4j_uri": neo4j_target.uri,
        "neo4j_user": neo4j_target.user,
        "neo4j_password": neo4j_target.password,
        "neo4j_database": neo4j_target.database,
        "mongodb_uri": mongo_target.uri,
        "mongodb_db": database,
        "redis_url": redis_url,
    }
    first = await make_client(data_dir=tmp_path / "a", **stores)
    second = await make_client(data_dir=tmp_path / "b", **stores)
    # each instance's hub listens on Redis pub/sub once it has subscribed
    deadline = asyncio.get_running_loop().time() + 10
    while dict(await redis.pubsub_numsub(CHANNEL)).get(CHANNEL.encode(), 0) < 2:
        assert asyncio.get_running_loop().time() < deadline, "hubs did not subscribe"
        await asyncio.sleep(0.02)
    try:
        yield first, second
    finally:
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_target.uri)
        await mongo.drop_database(database)
        await mongo.close()
        await redis.flushdb()
        await redis.aclose()


@pytest.mark.slow
async def test_a_tweet_posted_on_one_instance_reaches_subscribers_of_the_other(
    two_instances: tuple[GraphQLClient, GraphQLClient],
) -> None:
    a, b = two_instances
    alice, _ = await a.sign_up("alice")
    bob, bob_id = await b.sign_up("bob")
    await a.follow(alice, bob_id)

    home_on_a = await subscriber(a, alice)
    await home_on_a.subscribe(HOME)
    tags_on_b = await subscriber(b, None)
    await tags_on_b.subscribe(HASHTAG, {"name": "shared"})
    await subscribed(a, 1)
    await subscribed(b, 1)

    through_b, at = await posted(b, bob, "posted through B #shared")
    await arrives(home_on_a, through_b, at)
    await arrives(tags_on_b, through_b, at)
    through_a, at = await posted(a, alice, "posted through A #shared")
    await arrives(home_on_a, through_a, at)
    await arrives(tags_on_b, through_a, at)
    await home_on_a.nothing_more()
    await tags_on_b.nothing_more()

    await home_on_a.close()
    await tags_on_b.close()
    await subscribed(a, 0)
    await subscribed(b, 0)


@pytest.mark.slow
async def test_a_notification_made_on_one_instance_reaches_its_subscriber_on_the_other(
    two_instances: tuple[GraphQLClient, GraphQLClient],
) -> None:
    a, b = two_instances
    alice, alice_id = await a.sign_up("alice")
    bob, _ = await b.sign_up("bob")
    carol, _ = await b.sign_up("carol")
    hello = await a.tweet(alice, "hello")

    live_on_a = await subscriber(a, alice)
    await live_on_a.subscribe(
        "subscription { notifications { kind actor { handle } tweet { id } } }"
    )
    carol_on_a = await subscriber(a, carol)
    await carol_on_a.subscribe("subscription { notifications { kind } }")
    await subscribed(a, 2)

    await b.follow(bob, alice_id)  # through the other instance
    assert await live_on_a.tweet() == {"kind": "FOLLOW", "actor": {"handle": "bob"}, "tweet": None}
    await b.tweet(bob, "@alice look")
    mention = await live_on_a.tweet()
    assert (mention["kind"], mention["actor"]) == ("MENTION", {"handle": "bob"})
    await b.ok(
        "mutation($id: ID!) { likeTweet(tweetId: $id) { errors { code } } }", {"id": hello}, bob
    )
    assert await live_on_a.tweet() == {
        "kind": "LIKE",
        "actor": {"handle": "bob"},
        "tweet": {"id": hello},
    }
    await live_on_a.nothing_more()
    await carol_on_a.nothing_more()  # each subscriber gets their own notifications only
    await live_on_a.close()
    await carol_on_a.close()
