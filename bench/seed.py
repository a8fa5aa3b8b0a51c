"""A deterministic, power-law social graph with a tweet history, written into a data dir.

The plan (who follows whom, who posted what and when) is computed first from a
seeded ``random.Random``, so the same ``--seed`` always gives the same data. It is
then written through the store adapters the settings select: on the embedded
SQLite default in bulk, one transaction per table, through the adapter's own
database (a write per follow through the port costs an fsync each: about a
million of them would take minutes); on any other store through the ports
(``SocialGraph.create_user``, ``follow``, ``TweetStore.insert_tweet``...).

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
import hashlib
import json
import random
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from argon2 import PasswordHasher

from core.ids import min_id_for_ms
from core.models import NewUser, TweetRecord
from core.services import Stores
from docstore.sqlite import SqliteTweetStore
from graph.sqlite import SqliteSocialGraph

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
    )
    return Plan(users, follows, tweets, likes, manifest)


async def write(plan: Plan, stores: Stores) -> None:
    """Write the plan into the stores: in bulk on SQLite, through the ports elsewhere."""
    graph, tweets = stores.graph, stores.tweets
    if isinstance(graph, SqliteSocialGraph):
        await _bulk_graph(graph, plan)
    else:
        for user in plan.users:
            await graph.create_user(user)
        for follower, followee, since in plan.follows:
            await graph.follow(follower, followee, since)
    for celebrity in plan.manifest.celebrities:
        await graph.set_celebrity(celebrity, True)
    if isinstance(tweets, SqliteTweetStore):
        await _bulk_tweets(tweets, plan)
    else:
        for record in plan.tweets:
            await tweets.insert_tweet(record, None)
        for liker, tweet_id, like_id in plan.likes:
            await tweets.like(liker, tweet_id, like_id)
        for start in range(0, len(plan.tweets), 1000):
            await tweets.mark_fanned_out([t.id for t in plan.tweets[start : start + 1000]])


async def _bulk_graph(graph: SqliteSocialGraph, plan: Plan) -> None:
    users = [
        (u.id, u.handle, u.handle.lower(), u.display_name, u.bio, u.created_at_ms, u.password_hash)
        for u in plan.users
    ]
    await graph.db.write(
        lambda conn: conn.executemany(
            "INSERT INTO users (id, handle, handle_lower, display_name, bio, created_at,"
            " password_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            users,
        )
    )
    follows = plan.follows
    await graph.db.write(
        lambda conn: conn.executemany(
            "INSERT INTO follows (follower_id, followee_id, since) VALUES (?, ?, ?)", follows
        )
    )


async def _bulk_tweets(store: SqliteTweetStore, plan: Plan) -> None:
    rows = [
        (t.id, t.author_id, t.text, t.created_at_ms, t.like_count, " ".join(t.hashtags))
        for t in plan.tweets
    ]
    await store.db.write(
        lambda conn: conn.executemany(
            "INSERT INTO tweets (id, author_id, text, created_at, like_count, hashtags,"
            " fanout_pending) VALUES (?, ?, ?, ?, ?, ?, 0)",
            rows,
        )
    )
    likes = plan.likes
    await store.db.write(
        lambda conn: conn.executemany(
            "INSERT INTO likes (user_id, tweet_id, like_id) VALUES (?, ?, ?)", likes
        )
    )
