"""Section (g): search, trends and who to follow through the API, on a large data set.

The data set is its own (``DiscoveryConfig``): the social graph of
``bench/discovery.py`` (``--g-users`` users, default 100,000, each following 5 to
2,000 accounts by popularity; a viewer following exactly 2,000, blocking 20 and
muting 20), made once and reused while the configuration and the generating code
are unchanged, and ``--g-tweets`` tweets (default 100,000) written afresh each run
so that their times end at the present: trends read the last hour.

Tweets: authors drawn by popularity (Zipf); 6 to 30 words each from a vocabulary
whose frequencies follow Zipf's law (a few hundred real words, some accented,
then made-up ones to 20,000); a fifth carry one or two hashtags from 1,000 tags,
again by Zipf; ``#always`` is on 3 % of all tweets over the whole span (big, and
steady); ``#jump`` is used by 40 accounts in the last 30 minutes only. The check:
``#jump`` trends above ``#always`` in the last hour.

Each measurement is one request at a time from the driver (core 1) to
``app.py`` (core 0) over a kept-alive HTTP connection, GraphQL included: p50 and
p99 over ``reps`` requests cycling through the measurement's queries. Caches are
off for trends and who to follow (``CHIRP_TRENDS_CACHE_SECONDS=0``,
``CHIRP_WHO_TO_FOLLOW_CACHE_SECONDS=0``), so every request asks the engine; with
the defaults a repeated read is served from memory. Trends are also measured on
Redis (``REDIS_URL``): the bench replays the same tweets into the Redis trend
store through the port (``TrendService.rebuild``), then the server reads them.
"""

from __future__ import annotations

import asyncio
import bisect
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import Any

import aiohttp

from bench import discovery, procs
from bench.scenarios import HOME_QUERY, Row
from bench.seed import _snowflake
from core.models import NotificationRecord
from core.security import Tokens
from docstore.notifications_sqlite import SqliteNotificationStore
from docstore.sqlite import SqliteTweetStore
from graph.sqlite import SqliteSocialGraph

GRAPH_FILES = ("graph.sqlite3",)
SECRET = "bench-discovery-secret-key-0123456789abcdef"

# The head of the vocabulary: real words, most frequent first (some accented: search
# folds accents, so "cafe" finds "café").
HEAD_WORDS = discovery._names(
    "the to and a of in is it you that for on with this my be was are just so at"
    " have not but we what all your like can out get now one new time day about"
    " people good today love know think see back more great really first last night"
    " going make work still game world week year city music news best team home"
    " coffee morning weekend photo video story friends family school summer winter"
    " rain sun beach train airport concert movie book release launch update deploy"
    " python graphql database server cache timeline search trend follow reply quote"
    " café naïve résumé über façade jalapeño crème brûlée piñata zürich são paulo"
    " münchen garçon déjà vu élan fiancée señor año"
)
VOCABULARY = 20_000
TAGS = 1_000
SYLLABLES = ("ka", "lo", "mi", "ra", "te", "su", "no", "vi", "de", "ba", "zo", "pe", "ul", "an")


@dataclass(frozen=True)
class DiscoveryConfig:
    users: int = 100_000
    tweets: int = 100_000
    seed: int = 1
    days: int = 7
    reps: int = 200  # requests per measurement


@dataclass
class Data:
    data_dir: Path
    viewer: int
    mixed: list[int]  # viewers of the mixed who-to-follow pool
    handles: dict[int, str]
    words: list[str]  # the vocabulary, most frequent first
    tags: list[str]  # the hashtags, most frequent first
    tweets: int
    samples: list[str]  # texts of some of the tweets (phrases are taken from them)
    seconds: dict[str, float]


def vocabulary(rng: random.Random) -> list[str]:
    words = list(dict.fromkeys(HEAD_WORDS))
    made: set[str] = set(words)
    while len(words) < VOCABULARY:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in made:
            made.add(word)
            words.append(word)
    return words


def zipf_picker(n: int, rng: random.Random) -> Callable[[], int]:
    """Draws an index 0..n-1 with weight 1/(rank)."""
    cumulative = list(accumulate(1 / rank for rank in range(1, n + 1)))
    total = cumulative[-1]
    return lambda: min(n - 1, bisect.bisect(cumulative, rng.random() * total))


def graph_data(workdir: Path, config: DiscoveryConfig, log: Callable[[str], None]) -> Path:
    """The graph (users, follows, blocks, mutes), made once per configuration."""
    if config.users < 2_100:
        raise ValueError(
            f"section g needs 2,100 users or more (the viewer follows 2,000); got {config.users}"
        )
    code = Path(discovery.__file__).read_bytes() + Path(__file__).read_bytes()
    key = hashlib.sha256(json.dumps([config.users, config.seed]).encode() + code).hexdigest()[:12]
    target = workdir / f"discovery-{key}"
    if (target / "plan.json").exists():
        log(f"discovery graph: reusing {target}")
        return target
    building = workdir / f"discovery-{key}.tmp"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    started = time.perf_counter()
    plan = discovery.make_plan(config.users, config.seed)
    discovery.write_sqlite(plan, building / "graph.sqlite3")

    async def migrate() -> None:  # the adapter back-fills counts and the name index once
        graph = SqliteSocialGraph(building / "graph.sqlite3")
        await graph.open()
        await graph.close()

    asyncio.run(migrate())
    rng = random.Random(config.seed)
    others = [uid for uid, _, _ in plan.users if uid != plan.viewer]
    summary = {
        "viewer": plan.viewer,
        "mixed": rng.sample(others, 50),
        "handles": {str(uid): handle for uid, handle, _ in plan.users},
        "follows": len(plan.follows),
        "seconds": round(time.perf_counter() - started, 1),
    }
    (building / "plan.json").write_text(json.dumps(summary))
    building.rename(target)
    log(
        f"discovery graph: {len(plan.users):,} users, {len(plan.follows):,} follows"
        f" in {summary['seconds']} s -> {target}"
    )
    return target


def tweet_rows(
    config: DiscoveryConfig, handles: dict[int, str], now_ms: int
) -> tuple[list[tuple[int, int, str, int, str]], list[str], list[str]]:
    """(id, author, text, created ms, hashtags) for every tweet, oldest first."""
    rng = random.Random(config.seed + 1)
    words = vocabulary(rng)
    tags = ["always", "jump"] + [f"{words[i]}{i}" for i in range(TAGS - 2)]
    authors = sorted(handles)
    rng.shuffle(authors)
    author = zipf_picker(len(authors), rng)
    word = zipf_picker(len(words), rng)
    tag = zipf_picker(TAGS - 2, rng)
    span = config.days * 86_400_000
    jumpers = rng.sample(authors, min(40, len(authors)))
    base = max(0, config.tweets - 2 * len(jumpers))
    stamps = [(now_ms - 60_000 - rng.randrange(span), False) for _ in range(base)]
    stamps += [
        (now_ms - 60_000 - rng.randrange(29 * 60_000), True) for _ in range(2 * len(jumpers))
    ]
    stamps.sort()
    rows = []
    for seq, (ms, jump) in enumerate(stamps):
        body = [words[word()] for _ in range(rng.randint(6, 30))]
        mine: list[str] = []
        if rng.random() < 0.2:
            mine += [tags[2 + tag()] for _ in range(rng.randint(1, 2))]
        if rng.random() < 0.03:
            mine.append("always")
        who = authors[author()]
        if jump:
            who = jumpers[seq % len(jumpers)]
            mine.append("jump")
        mine = list(dict.fromkeys(mine))
        text = " ".join(body + [f"#{t}" for t in mine])
        rows.append((_snowflake(ms, seq), who, text, ms, " ".join(mine)))
    return rows, words, tags


def prepare(workdir: Path, config: DiscoveryConfig, log: Callable[[str], None]) -> Data:
    """A run's data dir: a copy of the graph, and tweets ending now."""
    seconds: dict[str, float] = {}
    graph_dir = graph_data(workdir, config, log)
    summary = json.loads((graph_dir / "plan.json").read_text())
    handles = {int(uid): handle for uid, handle in summary["handles"].items()}
    data_dir = workdir / "runs" / "g-discovery"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    for name in GRAPH_FILES:
        shutil.copy(graph_dir / name, data_dir / name)
    started = time.perf_counter()
    now_ms = int(time.time() * 1000)
    rows, words, tags = tweet_rows(config, handles, now_ms)
    rows = with_own_tweets(rows, summary["viewer"], config.seed)
    seconds["plan_tweets"] = round(time.perf_counter() - started, 1)

    async def write() -> None:  # in bulk: the FTS5 and hashtag triggers index each row
        store = SqliteTweetStore(data_dir / "tweets.sqlite3")
        await store.open()
        try:
            for start in range(0, len(rows), 10_000):
                await store.db.write(partial(_insert, rows[start : start + 10_000]))
        finally:
            await store.close()

    started = time.perf_counter()
    asyncio.run(write())
    seconds["write_tweets"] = round(time.perf_counter() - started, 1)
    log(f"discovery tweets: {len(rows):,} in {seconds['write_tweets']} s")
    started = time.perf_counter()
    notes = notifications_for(rows, summary["viewer"], config, now_ms)
    asyncio.run(write_notifications(data_dir, notes))
    seconds["write_notifications"] = round(time.perf_counter() - started, 1)
    log(f"discovery notifications: {len(notes):,} in {seconds['write_notifications']} s")
    os.sync()
    return Data(
        data_dir,
        summary["viewer"],
        summary["mixed"],
        handles,
        words,
        tags,
        len(rows),
        [text for _, _, text, _, _ in random.Random(config.seed).sample(rows, min(50, len(rows)))],
        seconds,
    )


OWN_TWEETS = 50  # tweets of the viewer's, which the notifications are about
NOTIFICATIONS = 3_000  # the viewer's, over the data's days
# (kind, share): likes and retweets of the viewer's tweets, follows, and replies,
# mentions and quotes (tweets of the actor's)
KINDS = (("LIKE", 0.5), ("RETWEET", 0.15), ("FOLLOW", 0.1), ("REPLY", 0.1), ("MENTION", 0.1))
TweetRow = tuple[int, int, str, int, str]


def with_own_tweets(rows: list[TweetRow], viewer: int, seed: int) -> list[TweetRow]:
    """OWN_TWEETS of the rows (none of #jump's) made the viewer's."""
    rng = random.Random(seed + 2)
    candidates = [i for i, row in enumerate(rows) if "jump" not in row[4].split()]
    rows = list(rows)
    for i in rng.sample(candidates, min(OWN_TWEETS, len(candidates))):
        tweet_id, _, text, ms, tags = rows[i]
        rows[i] = (tweet_id, viewer, text, ms, tags)
    return rows


def notifications_for(
    rows: Sequence[TweetRow], viewer: int, config: DiscoveryConfig, now_ms: int
) -> list[NotificationRecord]:
    """The viewer's notifications, oldest first, each about a tweet older than itself."""
    rng = random.Random(config.seed + 3)
    own = [row for row in rows if row[1] == viewer]
    others = [row for row in rows if row[1] != viewer]
    span = config.days * 86_400_000
    kinds = [kind for kind, _ in KINDS] + ["QUOTE"]
    weights = [share for _, share in KINDS] + [1 - sum(share for _, share in KINDS)]
    notes: list[NotificationRecord] = []
    for seq, ms in enumerate(
        sorted(now_ms - 60_000 - rng.randrange(span) for _ in range(NOTIFICATIONS))
    ):
        kind = rng.choices(kinds, weights)[0]
        actor = rng.choice(others)[1]
        tweet_id: int | None = None
        if kind in ("LIKE", "RETWEET"):
            older = [row for row in own if row[3] < ms]
            if not older:
                kind = "FOLLOW"
            else:
                tweet_id = rng.choice(older)[0]
        elif kind != "FOLLOW":
            about = rng.choice(others)
            while about[3] >= ms:  # a reply, mention or quote posted before it notifies
                about = rng.choice(others)
            tweet_id, actor = about[0], about[1]
        notes.append(NotificationRecord(_snowflake(ms, seq), viewer, kind, actor, tweet_id, ms))
    return notes


async def write_notifications(data_dir: Path, notes: Sequence[NotificationRecord]) -> None:
    """Through the port, one by one, as the service adds them (groups form as they would)."""
    store = SqliteNotificationStore(data_dir / "notifications.sqlite3")
    await store.open()
    try:
        for note in notes:
            await store.add(note)
    finally:
        await store.close()


def _insert(rows: Sequence[TweetRow], conn: sqlite3.Connection) -> None:
    conn.executemany(
        "INSERT INTO tweets (id, author_id, text, created_at, hashtags, fanout_pending)"
        " VALUES (?, ?, ?, ?, ?, 0)",
        rows,
    )


# ------------------------------------------------------------------ the queries

SEARCH = (
    "query Search($q: String!) { search(query: $q, first: 20) {"
    " edges { node { id text createdAt author { handle displayName } } }"
    " pageInfo { hasNextPage endCursor } } }"
)
SEARCH_USERS = (
    "query People($q: String!) { searchUsers(query: $q, first: 10) {"
    " edges { node { id handle displayName } } } }"
)
TRENDS = (
    "query Trends($w: Int!) { trends(limit: 10, windowMinutes: $w) {"
    " name tweetCount accountCount } }"
)
WHO_TO_FOLLOW = "{ whoToFollow(limit: 10) { id handle displayName followersCount } }"
NOTIFICATIONS_PAGE = (
    "query Notes { notifications(first: 20) { unreadCount edges { cursor node { id kind"
    " createdAt read actor { id handle displayName } tweet { id text likeCount } } }"
    " pageInfo { hasNextPage endCursor } } }"
)
NOTIFICATION_GROUPS = (
    "query Groups { notificationGroups(first: 20) { unreadCount edges { cursor node { id kind"
    " count latestAt read actors(first: 3) { id handle displayName } tweet { id text } } }"
    " pageInfo { hasNextPage endCursor } } }"
)
SIGN_UP = "mutation($input: SignUpInput!) { signUp(input: $input) { token errors { message } } }"


def search_sets(data: Data) -> dict[str, list[str]]:
    """The search measurements, each a list of queries cycled through."""
    w, t = data.words, data.tags
    rng = random.Random(7)
    common = w[5:40]
    rare = w[2_000:10_000]
    handles = [data.handles[u] for u in sorted(data.handles)[:: max(1, len(data.handles) // 50)]]
    return {
        "two words, both common": [f"{a} {b}" for a, b in zip(common, common[10:], strict=False)],
        "two words, common + rare": [f"{rng.choice(common)} {rng.choice(rare)}" for _ in range(20)],
        "two words, both rare": [f"{rng.choice(rare)} {rng.choice(rare)}" for _ in range(20)],
        "#hashtag (by popularity rank)": [f"#{tag}" for tag in t[:5] + t[50:55] + t[500:505]],
        "words + #hashtag": [f"{rng.choice(common)} #{rng.choice(t[2:60])}" for _ in range(20)],
        "phrase, -word, from:, since:": [
            f'"{phrase}" -{rng.choice(common)} since:2000-01-01' for phrase in phrases(data)[:10]
        ]
        + [f"{rng.choice(common)} from:{h}" for h in handles[:10]],
    }


def phrases(data: Data) -> list[str]:
    """Two adjacent words of the sample tweets (they exist: a phrase search finds them)."""
    found = []
    for text in data.samples:
        words = [w for w in text.split() if not w.startswith("#")]
        middle = len(words) // 2
        found.append(f"{words[middle - 1]} {words[middle]}")
    return found


@dataclass
class Timing:
    p50_ms: float
    p99_ms: float
    rps: float
    answers: list[Any]


async def timed(
    session: aiohttp.ClientSession,
    url: str,
    token: str | Callable[[int], str],
    query: str,
    variables: Sequence[dict[str, Any]],
    reps: int,
) -> Timing:
    """``reps`` requests one at a time cycling over ``variables`` (after one warm-up each)."""

    async def ask(n: int) -> Any:
        bearer = token(n) if callable(token) else token
        payload = {"query": query, "variables": variables[n % len(variables)]}
        async with session.post(
            url, json=payload, headers={"Authorization": f"Bearer {bearer}"}
        ) as answer:
            body = await answer.json(content_type=None)
        if answer.status != 200 or body.get("errors"):
            raise RuntimeError(f"{query[:40]}... {payload['variables']}: {answer.status} {body}")
        return body["data"]

    for n in range(len(variables)):
        await ask(n)
    samples, answers = [], []
    began = time.perf_counter()
    for n in range(reps):
        started = time.perf_counter()
        answers.append(await ask(n))
        samples.append((time.perf_counter() - started) * 1000)
    total = time.perf_counter() - began
    samples.sort()
    p99 = samples[min(len(samples) - 1, round(0.99 * (len(samples) - 1)))]
    return Timing(round(statistics.median(samples), 2), round(p99, 2), reps / total, answers)


def row(name: str, timing: Timing, **extra: Any) -> Row:
    return Row("g", name, round(timing.rps, 1), timing.p50_ms, timing.p99_ms, 0, extra)


async def measure_embedded(
    url: str, data: Data, tokens: Tokens, reps: int, add: Callable[[Row], Any]
) -> dict[str, Any]:
    viewer = tokens.issue(data.viewer)
    checks: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:
        for name, queries in search_sets(data).items():
            timing = await timed(session, url, viewer, SEARCH, [{"q": q} for q in queries], reps)
            found = [len(a["search"]["edges"]) for a in timing.answers[: len(queries)]]
            add(row(f"search: {name}", timing, queries=len(queries), mean_found=_mean(found)))
        prefixes = [{"q": p} for p in discovery.PREFIXES + discovery.NAME_QUERIES]
        timing = await timed(session, url, viewer, SEARCH_USERS, prefixes, reps)
        add(row("searchUsers: prefixes and names", timing, queries=len(prefixes)))
        for window in (60, 1440):
            timing = await timed(session, url, viewer, TRENDS, [{"w": window}], reps)
            top = [t["name"] for t in timing.answers[-1]["trends"]]
            checks[f"trends_{window}"] = top
            add(row(f"trends, {window}-minute window (uncached)", timing, top=top[:5]))
        timing = await timed(session, url, viewer, WHO_TO_FOLLOW, [{}], reps)
        checks["who_to_follow"] = len(timing.answers[-1]["whoToFollow"])
        add(row("whoToFollow: viewer following 2,000 (uncached)", timing))
        mixed = [tokens.issue(u) for u in data.mixed]
        timing = await timed(
            session, url, lambda n: mixed[n % len(mixed)], WHO_TO_FOLLOW, [{}], reps
        )
        add(row(f"whoToFollow: {len(mixed)} random viewers (uncached)", timing))
        home = await timed(session, url, viewer, HOME_QUERY, [{}], reps)
        add(row("homeTimeline: viewer following 2,000 (for comparison)", home))
        for name, query, field in (
            ("notifications: a page of 20", NOTIFICATIONS_PAGE, "notifications"),
            ("notificationGroups: a page of 20", NOTIFICATION_GROUPS, "notificationGroups"),
        ):
            timing = await timed(session, url, viewer, query, [{}], reps)
            checks[field] = len(timing.answers[-1][field]["edges"])
            add(row(name, timing, p50_vs_home=round(timing.p50_ms / home.p50_ms, 2)))
        newcomer = await _sign_up(session, url)
        timing = await timed(session, url, newcomer, WHO_TO_FOLLOW, [{}], reps)
        checks["who_to_follow_new_user"] = len(timing.answers[-1]["whoToFollow"])
        add(row("whoToFollow: new user, follows nobody (uncached)", timing))
    return checks


async def measure_trends(url: str, data: Data, tokens: Tokens, reps: int) -> list[Timing]:
    viewer = tokens.issue(data.viewer)
    async with aiohttp.ClientSession() as session:
        return [
            await timed(session, url, viewer, TRENDS, [{"w": window}], reps)
            for window in (60, 1440)
        ]


async def _sign_up(session: aiohttp.ClientSession, url: str) -> str:
    variables = {
        "input": {"handle": "newcomer", "displayName": "New Comer", "password": "a long password"}
    }
    async with session.post(url, json={"query": SIGN_UP, "variables": variables}) as answer:
        body = await answer.json(content_type=None)
    payload = body["data"]["signUp"]
    if payload["errors"] or not payload["token"]:
        raise RuntimeError(f"signUp failed: {body}")
    return str(payload["token"])


async def replay_trends(data_dir: Path, redis_url: str) -> int:
    """The run's tweets into the Redis trend store, through the port (as posts would)."""
    from bootstrap.settings import load_settings
    from bootstrap.stores import open_stores
    from services.trends import TrendService

    settings = load_settings(env={"CHIRP_DATA_DIR": str(data_dir), "REDIS_URL": redis_url})
    stores = await open_stores(settings)
    try:
        assert stores.trends is not None
        return await TrendService(stores.trends, stores.tweets).rebuild()
    finally:
        await stores.close()


def _mean(values: Sequence[int]) -> float:
    return round(sum(values) / len(values), 1) if values else 0.0


def run(
    workdir: Path,
    config: DiscoveryConfig,
    redis_url: str | None,
    add: Callable[[Row], Any],
    fail: Callable[[str], None],
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Section g: prepares the data, measures, checks the answers; returns the data summary."""
    data = prepare(workdir, config, log)
    tokens = Tokens(SECRET, 86_400)
    settings = {
        "CHIRP_SECRET_KEY": SECRET,
        "CHIRP_TRENDS_CACHE_SECONDS": "0",
        "CHIRP_WHO_TO_FOLLOW_CACHE_SECONDS": "0",
    }
    started = time.perf_counter()
    server = procs.start("g-embedded", data.data_dir, settings, timeout=300)
    data.seconds["server_start"] = round(time.perf_counter() - started, 1)
    try:
        checks = asyncio.run(
            measure_embedded(f"{server.url}/graphql", data, tokens, config.reps, add)
        )
    finally:
        server.stop()
    top = checks["trends_60"]
    if "jump" not in top or ("always" in top and top.index("always") < top.index("jump")):
        fail(f"g: #jump should trend above #always in the last hour; got {top}")
    if checks["notifications"] < 20 or checks["notificationGroups"] < 20:
        fail(f"g: a notifications page held fewer than 20: {checks}")
    if checks["who_to_follow"] < 10 or checks["who_to_follow_new_user"] < 10:
        fail(f"g: whoToFollow answered fewer than 10 suggestions: {checks}")
    if redis_url is not None:
        started = time.perf_counter()
        replayed = asyncio.run(replay_trends(data.data_dir, redis_url))
        data.seconds["replay_trends_redis"] = round(time.perf_counter() - started, 1)
        log(
            f"trends on Redis: {replayed:,} tweets replayed in {data.seconds['replay_trends_redis']} s"
        )
        server = procs.start("g-redis", data.data_dir, {**settings, "REDIS_URL": redis_url})
        try:
            timings = asyncio.run(
                measure_trends(f"{server.url}/graphql", data, tokens, config.reps)
            )
        finally:
            server.stop()
        for window, timing in zip((60, 1440), timings, strict=True):
            names = [t["name"] for t in timing.answers[-1]["trends"]]
            if window == 60 and (not names or names[0] != top[0]):
                fail(f"g: trends on Redis lead with another tag than in-process: {names} {top}")
            add(row(f"trends on Redis, {window}-minute window (uncached)", timing, top=names[:5]))
    return {"config": asdict(config), "tweets": data.tweets, "seconds": data.seconds}
