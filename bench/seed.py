"""A deterministic, power-law social graph with a tweet history, written into a data dir.

The plan (who follows whom, who posted what and when) is computed first from a
seeded ``random.Random``, so the same ``--seed`` always gives the same data. It is
then written through the store adapters the settings select, in bulk: on the
embedded SQLite default one transaction per table through the adapter's own
database (a write per follow through the port costs an fsync each: about a
million of them would take minutes); on Neo4j and MongoDB in batches through
the adapter's own driver (``UNWIND`` of 5,000 rows, ``insert_many`` of 2,000
documents), with the nodes, relationships and documents the adapter writes
(measured on the stand-ins at 20,000 users: about 2.5 minutes, where the ports
would take about 2 hours: ``follow`` answers 170-650 times a second); on any
other store through the ports (``SocialGraph.create_user``, ``follow``,
``TweetStore.insert_tweet``, ``like``). ``write(..., port_sample=N)`` sends the
first N of each kind through the ports anyway, timed. The manifest keeps the
clock the plan was anchored at, so ``plan(config, manifest.now_ms)`` gives the
same data again (section d writes it into the stand-ins that way).

Shape of the data:

- ``users`` accounts; popularity ranks follow a Zipf law (weight 1/rank).
- ``celebrities`` accounts followed by 55-80% of everyone, above the
  celebrity threshold, flagged as celebrities in the graph (as the engine does
  after their first post).
- fan-out authors followed by exactly 100, 1,000 and 10,000 users (those
  that fit under ``users``), for the fan-out delivery measurement.
- everyone else follows between 10 and 2,000 accounts (capped by the number
  of users), drawn from a truncated power law (exponent 2, mean about 50),
  each followee drawn by popularity.
- reader pools: for each of 10, 100 and 1,000, ``readers_per_class`` users
  following exactly that many accounts; plus a mixed pool of random users.
- a history of tweets over the last 30 days (about ``tweets_per_user`` per
  user, more for celebrities) and likes.
"""

from __future__ import annotations

import bisect
import dataclasses
import hashlib
import json
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from argon2 import PasswordHasher
from bson.int64 import Int64

from core.ids import id_timestamp_ms, min_id_for_ms
from core.models import NewUser, TweetRecord
from docstore.mongo import MongoTweetStore, like_key
from docstore.mongo import _doc as mongo_document
from docstore.sqlite import SqliteTweetStore
from graph.neo4j import Neo4jSocialGraph
from graph.sqlite import SqliteSocialGraph
from services.container import Stores

T = TypeVar("T")
Follow = tuple[int, int, int]  # (follower, followee, since ms)
Like = tuple[int, int, int]  # (user, tweet, like id)

READER_CLASSES = (10, 100, 1000)
FANOUT_SIZES = (100, 1000, 10_000)
MANIFEST = "bench-manifest.json"
PASSWORD = "bench-password-1"
WORDS = [
    "timeline",
    "graph",
    "fan",
    "out",
    "push",
    "pull",
    "hybrid",
    "cache",
    "redis",
    "tweet",
    "follow",
    "like",
    "retweet",
    "latency",
    "throughput",
    "core",
    "python",
    "async",
    "loop",
    "batch",
    "index",
    "store",
    "query",
    "page",
    "cursor",
    "hello",
    "world",
    "coffee",
    "morning",
    "release",
    "deploy",
    "ship",
    "test",
    "bench",
    "zipf",
    "power",
    "law",
    "tail",
]
HASHTAGS = ("#chirp", "#python", "#graphql", "#bench", "#scale")


@dataclass(frozen=True)
class SeedConfig:
    users: int = 20_000
    seed: int = 1
    celebrities: int = 5
    celebrity_threshold: int = 10_000
    tweets_per_user: float = 10.0
    celebrity_tweets: int = 200
    likes_per_tweet: float = 1.0
    readers_per_class: int = 50
    mixed_readers: int = 200
    max_following: int = 2000
    min_following: int = 10
    history_days: int = 30


@dataclass
class Manifest:
    """What the measurements need to know about the seeded data (saved as JSON)."""

    config: dict[str, object]
    secret: str
    user_ids: list[int]
    handles: dict[str, str]  # user id (as text) -> handle
    celebrities: list[int]
    fanout_authors: dict[str, int]  # follower count (as text) -> author id
    readers: dict[str, list[int]]  # "10"/"100"/"1000"/"mixed" -> user ids
    normal_posters: list[int]  # non-celebrity authors with a few hundred followers
    follows: int = 0
    tweets: int = 0
    likes: int = 0
    seconds: float = 0.0
    follower_counts: dict[str, int] = field(default_factory=dict)  # special users only
    now_ms: int = 0  # the clock the plan was anchored at: plan(config, now_ms) gives it again

    def save(self, data_dir: Path) -> None:
        (data_dir / MANIFEST).write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, data_dir: Path) -> Manifest:
        return cls(**json.loads((data_dir / MANIFEST).read_text()))


@dataclass
class Plan:
    users: list[NewUser]
    follows: list[tuple[int, int, int]]  # (follower, followee, since ms)
    tweets: list[TweetRecord]
    likes: list[tuple[int, int, int]]  # (user, tweet, like id)
    manifest: Manifest


def _power_law_degree(rng: random.Random, low: int, high: int, exponent: float = 2.0) -> int:
    """An integer in [low, high] with density proportional to d**-exponent (inverse CDF)."""
    if high <= low:
        return high
    a, b = low ** (1 - exponent), (high + 1) ** (1 - exponent)
    value = (a + rng.random() * (b - a)) ** (1 / (1 - exponent))
    return min(high, max(low, int(value)))


def _snowflake(ms: int, sequence: int) -> int:
    return min_id_for_ms(ms) | (1023 << 12) | (sequence & 0xFFF)


def plan(config: SeedConfig, now_ms: int | None = None) -> Plan:
    """Everything to write, computed from the seed alone (``now_ms`` anchors the clock)."""
    rng = random.Random(config.seed)
    n = config.users
    now = now_ms if now_ms is not None else int(time.time() * 1000)
    start = now - config.history_days * 86_400_000
    hasher = PasswordHasher()
    password_hash = hasher.hash(PASSWORD)  # one hash for all: argon2 costs ~50 ms each

    created = sorted(rng.randrange(start - 86_400_000 * 300, start) for _ in range(n))
    ids = [_snowflake(ms, i) for i, ms in enumerate(created)]
    users = [
        NewUser(
            id=uid,
            handle=f"u{i}",
            display_name=f"Bench User {i}",
            bio="",
            created_at_ms=created[i],
            password_hash=password_hash,
        )
        for i, uid in enumerate(ids)
    ]

    # popularity: a random permutation of the users, Zipf weights by rank
    order = list(range(n))
    rng.shuffle(order)
    celebrities = order[: config.celebrities]
    fanout = {
        size: order[config.celebrities + k] for k, size in enumerate(FANOUT_SIZES) if size < n
    }
    special = set(celebrities) | set(fanout.values())
    pool = [u for u in order if u not in special]  # drawn by rank, Zipf
    cumulative: list[float] = []
    total = 0.0
    for rank in range(len(pool)):
        total += 1.0 / (rank + 1)
        cumulative.append(total)

    followees: list[set[int]] = [set() for _ in range(n)]
    for k, celeb in enumerate(celebrities):
        share = 0.55 + 0.25 * k / max(1, len(celebrities) - 1)
        count = max(config.celebrity_threshold, int(share * n))
        for follower in rng.sample(range(n), min(n, count + 1)):
            if follower != celeb:
                followees[follower].add(celeb)
    for size, author in fanout.items():
        candidates = [u for u in range(n) if u != author]
        for follower in rng.sample(candidates, size):
            followees[follower].add(author)

    # reader pools: ordinary users with an exact number of followees
    ordinary = [u for u in range(n) if u not in special]
    rng.shuffle(ordinary)
    max_following = min(config.max_following, n - 1)
    readers: dict[str, list[int]] = {}
    exact: dict[int, int] = {}
    taken = 0
    for size in READER_CLASSES:
        capped = min(size, max_following)
        chosen = ordinary[taken : taken + config.readers_per_class]
        taken += len(chosen)
        readers[str(size)] = [ids[u] for u in chosen]
        for u in chosen:
            exact[u] = capped
    mixed = ordinary[taken : taken + config.mixed_readers]
    readers["mixed"] = [ids[u] for u in mixed]

    for u in range(n):
        want = exact.get(u) or _power_law_degree(rng, config.min_following, max_following)
        mine = followees[u]
        if len(mine) > want:  # forced memberships overshoot an exact reader: trim them
            for extra in sorted(mine)[: len(mine) - want]:
                mine.discard(extra)
        attempts = 0
        while len(mine) < want and attempts < want * 50:
            attempts += 1
            pick = pool[bisect.bisect_left(cumulative, rng.random() * total)]
            if pick != u:
                mine.add(pick)

    follows: list[tuple[int, int, int]] = []
    follower_counts = [0] * n
    for u, mine in enumerate(followees):
        for v in sorted(mine):
            since = rng.randrange(max(created[u], created[v]), start)
            follows.append((ids[u], ids[v], since))
            follower_counts[v] += 1

    # tweets: per user a geometric count with the configured mean, more for celebrities
    stamps: list[tuple[int, int]] = []  # (created ms, author index)
    p = 1.0 / (1.0 + config.tweets_per_user)
    for u in range(n):
        if u in celebrities:
            count = config.celebrity_tweets
        else:
            count = 0
            while rng.random() > p:
                count += 1
        stamps += [(rng.randrange(start, now - 60_000), u) for _ in range(count)]
    stamps.sort()
    tweets: list[TweetRecord] = []
    for seq, (ms, u) in enumerate(stamps):
        words = rng.choices(WORDS, k=rng.randint(3, 18))
        if rng.random() < 0.2:
            words.append(rng.choice(HASHTAGS))
        text = " ".join(words)
        hashtags = tuple(w[1:] for w in words if w.startswith("#"))
        tweets.append(
            TweetRecord(
                id=_snowflake(ms, seq),
                author_id=ids[u],
                text=text,
                created_at_ms=ms,
                hashtags=hashtags,
            )
        )

    likes: list[tuple[int, int, int]] = []
    if tweets:
        seen: set[tuple[int, int]] = set()
        likers = [*readers["mixed"], *(i for c in READER_CLASSES for i in readers[str(c)])]
        for k in range(int(config.likes_per_tweet * len(tweets))):
            skew = int(len(tweets) * rng.random() ** 2)  # recent tweets more liked
            tweet = tweets[len(tweets) - 1 - skew]
            user = rng.choice(likers) if likers and k % 3 == 0 else ids[rng.randrange(n)]
            if (user, tweet.id) not in seen:
                seen.add((user, tweet.id))
                like_ms = min(now - 1000, tweet.created_at_ms + rng.randrange(1, 86_400_000))
                likes.append((user, tweet.id, _snowflake(like_ms, k)))
    like_counts: dict[int, int] = {}
    for _, tweet_id, _ in likes:
        like_counts[tweet_id] = like_counts.get(tweet_id, 0) + 1
    tweets = [
        TweetRecord(
            id=t.id,
            author_id=t.author_id,
            text=t.text,
            created_at_ms=t.created_at_ms,
            like_count=like_counts.get(t.id, 0),
            hashtags=t.hashtags,
        )
        for t in tweets
    ]

    # normal posters: well under the celebrity threshold (100-1,000 followers at full size)
    low, high = (
        min(100, config.celebrity_threshold // 5),
        min(1000, config.celebrity_threshold // 2),
    )
    rest = ordinary[taken + config.mixed_readers :]
    normal = (
        sorted(
            (u for u in rest if low <= follower_counts[u] <= high),
            key=lambda u: -follower_counts[u],
        )[:5]
        or sorted(
            (u for u in rest if follower_counts[u] < config.celebrity_threshold),
            key=lambda u: -follower_counts[u],
        )[:5]
    )
    specials = [*celebrities, *fanout.values(), *normal]
    manifest = Manifest(
        config=asdict(config),
        secret=hashlib.sha256(f"chirp-bench-{config.seed}".encode()).hexdigest(),
        user_ids=ids,
        handles={str(uid): f"u{i}" for i, uid in enumerate(ids)},
        celebrities=[ids[u] for u in celebrities],
        fanout_authors={str(size): ids[u] for size, u in fanout.items()},
        readers=readers,
        normal_posters=[ids[u] for u in normal],
        follows=len(follows),
        tweets=len(tweets),
        likes=len(likes),
        follower_counts={str(ids[u]): follower_counts[u] for u in specials},
        now_ms=now,
    )
    return Plan(users, follows, tweets, likes, manifest)


async def write(plan: Plan, stores: Stores, port_sample: int = 0) -> dict[str, float]:
    """Write the plan into the stores, in bulk; returns seconds per step and port rates.

    SQLite: through the adapter's own database, one transaction per table. Neo4j and
    MongoDB: through the adapter's own driver, in batches (``UNWIND`` and
    ``insert_many``) with the documents and nodes the adapter itself writes. Any
    other store: through the ports. With ``port_sample`` N > 0 the first N users,
    follows, tweets and likes go through the ports (``create_user``, ``follow``,
    ``insert_tweet``, ``like``) one at a time and are timed: ``port_*_per_s`` in
    the answer tell how long seeding everything that way would take.
    """
    graph, tweets = stores.graph, stores.tweets
    timings: dict[str, float] = {}
    bulk_graph = isinstance(graph, SqliteSocialGraph | Neo4jSocialGraph)
    bulk_tweets = isinstance(tweets, SqliteTweetStore | MongoTweetStore)
    n_users = port_sample if bulk_graph else len(plan.users)
    n_follows = port_sample if bulk_graph else len(plan.follows)
    n_tweets = port_sample if bulk_tweets else len(plan.tweets)
    n_likes = port_sample if bulk_tweets else len(plan.likes)

    started = time.perf_counter()
    await _timed(timings, "users", plan.users[:n_users], graph.create_user)
    if n_users < len(plan.users):
        if isinstance(graph, SqliteSocialGraph):
            await _bulk_users_sqlite(graph, plan.users[n_users:])
        elif isinstance(graph, Neo4jSocialGraph):
            await _bulk_users_neo4j(graph, plan.users[n_users:])
    await _timed(
        timings, "follows", plan.follows[:n_follows], lambda f: graph.follow(f[0], f[1], f[2])
    )
    if n_follows < len(plan.follows):
        if isinstance(graph, SqliteSocialGraph):
            await _bulk_follows_sqlite(graph, plan.follows[n_follows:])
        elif isinstance(graph, Neo4jSocialGraph):
            await _bulk_follows_neo4j(graph, plan.follows[n_follows:])
    for celebrity in plan.manifest.celebrities:
        await graph.set_celebrity(celebrity, True)
    timings["graph_s"] = round(time.perf_counter() - started, 2)

    started = time.perf_counter()
    # likes written through the port count themselves (``like`` increments like_count)
    by_port: dict[int, int] = {}
    for _, tweet_id, _ in plan.likes[:n_likes]:
        by_port[tweet_id] = by_port.get(tweet_id, 0) + 1
    records = [
        dataclasses.replace(t, like_count=t.like_count - by_port[t.id]) if t.id in by_port else t
        for t in plan.tweets
    ]
    await _timed(timings, "tweets", records[:n_tweets], lambda t: tweets.insert_tweet(t, None))
    if n_tweets < len(records):
        if isinstance(tweets, SqliteTweetStore):
            await _bulk_tweets_sqlite(tweets, records[n_tweets:])
        elif isinstance(tweets, MongoTweetStore):
            await _bulk_tweets_mongo(tweets, records[n_tweets:])
    # the likes of tweets not yet written must wait for them: all tweets go first
    await _timed(
        timings, "likes", plan.likes[:n_likes], lambda like: tweets.like(like[0], like[1], like[2])
    )
    if n_likes < len(plan.likes):
        if isinstance(tweets, SqliteTweetStore):
            await _bulk_likes_sqlite(tweets, plan.likes[n_likes:])
        elif isinstance(tweets, MongoTweetStore):
            await _bulk_likes_mongo(tweets, plan.likes[n_likes:])
    for start in range(0, n_tweets, 1000):  # written by the port: pending fan-out until now
        await tweets.mark_fanned_out([t.id for t in records[start : min(n_tweets, start + 1000)]])
    timings["tweets_s"] = round(time.perf_counter() - started, 2)
    return timings


async def _timed(
    timings: dict[str, float],
    name: str,
    items: Sequence[T],
    write_one: Callable[[T], Awaitable[object]],
) -> None:
    """Write ``items`` one at a time through a port; record the rate if there were any."""
    if not items:
        return
    started = time.perf_counter()
    for item in items:
        await write_one(item)
    timings[f"port_{name}_per_s"] = round(len(items) / (time.perf_counter() - started), 1)


async def _bulk_users_sqlite(graph: SqliteSocialGraph, users: Sequence[NewUser]) -> None:
    rows = [
        (u.id, u.handle, u.handle.lower(), u.display_name, u.bio, u.created_at_ms, u.password_hash)
        for u in users
    ]
    await graph.db.write(
        lambda conn: conn.executemany(
            "INSERT INTO users (id, handle, handle_lower, display_name, bio, created_at,"
            " password_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
    )


async def _bulk_follows_sqlite(graph: SqliteSocialGraph, follows: Sequence[Follow]) -> None:
    await graph.db.write(
        lambda conn: conn.executemany(
            "INSERT INTO follows (follower_id, followee_id, since) VALUES (?, ?, ?)", follows
        )
    )


async def _bulk_tweets_sqlite(store: SqliteTweetStore, tweets: Sequence[TweetRecord]) -> None:
    rows = [
        (t.id, t.author_id, t.text, t.created_at_ms, t.like_count, " ".join(t.hashtags))
        for t in tweets
    ]
    await store.db.write(
        lambda conn: conn.executemany(
            "INSERT INTO tweets (id, author_id, text, created_at, like_count, hashtags,"
            " fanout_pending) VALUES (?, ?, ?, ?, ?, ?, 0)",
            rows,
        )
    )


async def _bulk_likes_sqlite(store: SqliteTweetStore, likes: Sequence[Like]) -> None:
    await store.db.write(
        lambda conn: conn.executemany(
            "INSERT INTO likes (user_id, tweet_id, like_id) VALUES (?, ?, ?)", likes
        )
    )


# Neo4j: the nodes and relationships of graph/neo4j.py (create_user, follow), in batches.
NEO4J_BATCH = 5000


async def _bulk_users_neo4j(graph: Neo4jSocialGraph, users: Sequence[NewUser]) -> None:
    for start in range(0, len(users), NEO4J_BATCH):
        rows = [
            {
                "id": u.id,
                "handle": u.handle,
                "handle_lower": u.handle.lower(),
                "display_name": u.display_name,
                "bio": u.bio,
                "created_at": u.created_at_ms,
                "password_hash": u.password_hash,
            }
            for u in users[start : start + NEO4J_BATCH]
        ]
        await graph.driver.execute_query(
            "UNWIND $rows AS r CREATE (u:User {id: r.id, handle: r.handle,"
            " handle_lower: r.handle_lower, display_name: r.display_name, bio: r.bio,"
            " created_at: r.created_at, password_hash: r.password_hash})",
            rows=rows,
            database_=graph.database,
        )


async def _bulk_follows_neo4j(graph: Neo4jSocialGraph, follows: Sequence[Follow]) -> None:
    for start in range(0, len(follows), NEO4J_BATCH):
        rows = [
            {"a": a, "b": b, "since": since} for a, b, since in follows[start : start + NEO4J_BATCH]
        ]
        await graph.driver.execute_query(
            "UNWIND $rows AS r MATCH (a:User {id: r.a}), (b:User {id: r.b})"
            " CREATE (a)-[:FOLLOWS {since: r.since}]->(b)",
            rows=rows,
            database_=graph.database,
        )


# MongoDB: the documents of docstore/mongo.py (insert_tweet, like), in batches.
MONGO_BATCH = 2000


async def _bulk_tweets_mongo(store: MongoTweetStore, tweets: Sequence[TweetRecord]) -> None:
    for start in range(0, len(tweets), MONGO_BATCH):
        docs = [mongo_document(t) for t in tweets[start : start + MONGO_BATCH]]
        for doc in docs:
            del doc["fanout_pending"]  # history: fanned out long ago
        await store.tweets.insert_many(docs)


async def _bulk_likes_mongo(store: MongoTweetStore, likes: Sequence[Like]) -> None:
    for start in range(0, len(likes), MONGO_BATCH):
        docs = [
            {
                "_id": like_key(user, tweet),
                "user_id": Int64(user),
                "tweet_id": Int64(tweet),
                "like_id": Int64(like_id),
                "created_at": datetime.fromtimestamp(id_timestamp_ms(like_id) / 1000, UTC),
            }
            for user, tweet, like_id in likes[start : start + MONGO_BATCH]
        ]
        await store.likes.insert_many(docs)
