"""``python app.py demo``: a living sample world written into the configured stores.

A fresh server is empty: GraphiQL, trends, search and a web client have nothing
to show. The demo signs up a few hundred users, follows them along a power-law
graph, and posts a few thousand tweets over the last days (replies, threads,
quotes, mentions, links, hashtags and a few photos), then likes, retweets,
bookmarks, two lists and a moment; in the last hour, a burst of tweets from many
distinct accounts around one or two hashtags, so ``trends`` shows them at once.

**Everything goes through the services**, as the API's mutations would: sign-up,
follow, createTweet (with media uploaded and completed through the media
service), like, retweet, bookmark, lists, moments. So counts, the search index,
notifications, trends, timelines, fan-out and short links are what the API would
have written. Two things differ from a live server, and neither shows in the data:

- **The clock.** The services take ids from ``StepIds``: each step (a sign-up, a
  follow, a post, a like...) runs with ids of its planned time in the past, so a
  tweet's id, ``createdAt``, its likes, its notifications and its follow times all
  say when it happened. The plan gives every step a millisecond of its own, so ids
  stay unique while up to ``CONCURRENCY`` steps run at once (each waits for what it
  needs: its users, the tweet it likes or answers).
- **Passwords.** One argon2 hash (~50 ms each) of the demo password is reused for
  every account (as bench/seed.py does): every demo account has that password.

Fan-out jobs go to a queue of the demo's own (``InlineFanoutQueue``), which applies
each one as it is queued with the engine's own ``FanOut.apply``, within the step:
the notifications of replies, mentions, quotes and retweets and trends' counts go
where the settings say (Redis too), at the step's time, and no worker of a running
server takes a demo job and stamps it with today's clock.

The plan (``plan``) is computed first from ``random.Random(seed)`` alone, with
times as offsets before "now": the same seed gives the same users, graph, texts
and relative times.
"""

from __future__ import annotations

import asyncio
import bisect
import contextvars
import dataclasses
import io
import logging
import random
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from argon2 import PasswordHasher
from PIL import Image, ImageDraw

from bootstrap.demo_words import (
    BIO_TAILS,
    BURST,
    FIRST_NAMES,
    HANDLE_SUFFIXES,
    LAST_NAMES,
    LIKES,
    LINKS,
    OPENERS,
    PLACES,
    QUOTES,
    REACTIONS,
    REPLIES,
    ROLES,
    THREADS,
    TOPIC_NAMES,
    TOPICS,
)
from bootstrap.services import make_services, secret_key
from bootstrap.settings import Settings
from bootstrap.stores import open_media, open_stores
from core.errors import UserError
from core.ids import EPOCH_MS, MAX_SEQUENCE, TIMESTAMP_SHIFT, WORKER_SHIFT, SnowflakeGenerator
from core.security import Passwords
from core.text import validate_tweet_text
from services.container import Services, Stores
from services.media import upload_key
from timeline.fanout import FanOut
from timeline.memory import MemoryEventBus, MemoryFanoutQueue
from timeline.port import Job

log = logging.getLogger("chirp.demo")

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
DEMO_HANDLE = "demo"
CONSUMER = "demo"  # the consumer name of the demo's own fan-out queue
# the data folder's files the embedded stores write (what --reset removes)
EMBEDDED_FILES = (
    "graph",
    "tweets",
    "apps",
    "notifications",
    "bookmarks",
    "moments",
    "lists",
    "attachments",
)
PRODUCTION_SETTINGS = {
    "neo4j_uri": "NEO4J_URI",
    "mongodb_uri": "MONGODB_URI",
    "redis_url": "REDIS_URL",
    "minio_endpoint": "MINIO_ENDPOINT",
}


class DemoRefused(Exception):
    """The demo will not run as asked (a folder with users in it, a reset of production)."""


@dataclass(frozen=True)
class DemoConfig:
    users: int = 300
    tweets: int = 3000
    days: int = 7
    seed: int = 1
    images: int = 8
    password: str | None = None  # None: a new random one, printed at the end


# --- the plan: who, what, when (from the seed alone) ------------------------------------


@dataclass(frozen=True)
class PlannedUser:
    handle: str
    display_name: str
    bio: str
    joined_ago_ms: int


@dataclass(frozen=True)
class PlannedPost:
    author: int  # user index
    text: str
    ago_ms: int
    reply_to: int | None = None  # post index
    quote_of: int | None = None  # post index
    image: int | None = None  # image index


@dataclass(frozen=True, order=True)
class Step:
    """One thing done at ``ago_ms`` before now; ``order`` breaks ties (the plan's order)."""

    neg_ago_ms: int  # sorts oldest first
    order: int
    kind: str = field(compare=False)
    args: tuple[int, ...] = field(compare=False)


@dataclass
class Plan:
    users: list[PlannedUser]
    follows: list[tuple[int, int]]
    posts: list[PlannedPost]
    steps: list[Step]
    burst_tags: tuple[str, ...]
    lists: list[tuple[str, str, bool, list[int]]]  # name, description, private, members
    moment: tuple[str, str, list[int]]  # title, description, post indexes

    def count(self, kind: str) -> int:
        return sum(1 for s in self.steps if s.kind == kind)


def _degree(rng: random.Random, low: int, high: int, exponent: float = 2.0) -> int:
    """An integer in [low, high] with density proportional to d**-exponent (inverse CDF)."""
    if high <= low:
        return max(0, high)
    a, b = low ** (1 - exponent), (high + 1) ** (1 - exponent)
    value = (a + rng.random() * (b - a)) ** (1 / (1 - exponent))
    return min(high, max(low, int(value)))


class Weighted:
    """Draws indexes with given weights (a cumulative table and bisect)."""

    def __init__(self, weights: Sequence[float]) -> None:
        self.cumulative: list[float] = []
        total = 0.0
        for w in weights:
            total += w
            self.cumulative.append(total)
        self.total = total

    def draw(self, rng: random.Random) -> int:
        return min(
            len(self.cumulative) - 1,
            bisect.bisect_right(self.cumulative, rng.random() * self.total),
        )

    def sample(self, rng: random.Random, k: int, exclude: set[int]) -> list[int]:
        """Up to ``k`` distinct indexes not in ``exclude``, by weight."""
        chosen: list[int] = []
        seen = set(exclude)
        for _ in range(k * 30):
            if len(chosen) >= k:
                break
            pick = self.draw(rng)
            if pick not in seen:
                seen.add(pick)
                chosen.append(pick)
        return chosen


def _users(rng: random.Random, count: int, window_ms: int) -> list[PlannedUser]:
    users = [
        PlannedUser(
            DEMO_HANDLE,
            "Demo User",
            "The demo account of this Chirp server: log in and look around. 👋",
            window_ms + 200 * DAY_MS,
        )
    ]
    taken = {DEMO_HANDLE}
    while len(users) < count:
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        style = rng.randrange(5)
        base = (
            f"{first}{last}",
            f"{first}_{last}",
            f"{first[0]}{last}",
            f"{first}{last[0]}",
            f"{last}{first[0]}",
        )[style]
        handle = (base + rng.choice(HANDLE_SUFFIXES))[:15]
        if rng.random() < 0.6:
            handle = handle.lower()
        if handle.lower() in taken:
            handle = f"{handle[:12]}{rng.randrange(100, 999)}"
            if handle.lower() in taken:
                continue
        taken.add(handle.lower())
        interests = rng.sample(LIKES, 2)
        bio = f"{rng.choice(ROLES)} {rng.choice(PLACES)}. Into {interests[0]} and {interests[1]}."
        tail = rng.choice(BIO_TAILS)
        users.append(
            PlannedUser(
                handle,
                f"{first} {last}",
                f"{bio} {tail}".strip(),
                window_ms + rng.randrange(DAY_MS, 400 * DAY_MS),
            )
        )
    return users


def _text(rng: random.Random, body: str, *extras: str) -> str:
    """``body`` with the extras that fit in a tweet (checked by the API's own rule)."""
    text = body
    for extra in extras:
        if not extra:
            continue
        longer = f"{text} {extra}"
        try:
            validate_tweet_text(longer)
        except UserError:
            continue
        text = longer
    return text


def _reaction(rng: random.Random, post_ago_ms: int, mean_ms: int) -> int:
    """When a like or retweet of a post made ``post_ago_ms`` ago happens (ms ago): mostly
    soon after the post, never before it, never in the future."""
    mean = min(mean_ms, post_ago_ms / 3)
    delay = int(rng.expovariate(1 / mean))
    if delay >= post_ago_ms - 1000:
        delay = rng.randrange(0, max(1, post_ago_ms - 1000))
    return post_ago_ms - 500 - delay


def plan(config: DemoConfig) -> Plan:
    """Everything the demo does, from the seed alone; times are offsets before now."""
    rng = random.Random(config.seed)
    n = max(2, config.users)
    window = config.days * DAY_MS
    users = _users(rng, n, window)
    steps: list[Step] = []

    def add(ago_ms: int, kind: str, *args: int) -> None:
        steps.append(Step(-ago_ms, len(steps), kind, args))

    for i, user in enumerate(users):
        add(user.joined_ago_ms, "user", i)

    # popularity: a random order, Zipf weights by rank; the demo user fairly popular
    order = list(range(1, n))
    rng.shuffle(order)
    order.insert(min(len(order), 4), 0)
    rank = {u: r for r, u in enumerate(order)}
    popularity = [1.0 / (rank[u] + 1) ** 1.1 for u in range(n)]
    by_popularity = Weighted(popularity)
    stars = order[: max(1, min(3, n // 20))]

    followees: list[set[int]] = [set() for _ in range(n)]
    for k, star in enumerate(stars):
        share = 0.6 - 0.15 * k
        for follower in rng.sample(range(n), int(share * n)):
            if follower != star:
                followees[follower].add(star)
    for u in range(n):
        want = _degree(rng, min(10, n - 1), min(60, n - 1), exponent=1.6)
        if u == 0:
            want = min(n - 1, 45)
        mine = followees[u]
        mine.update(by_popularity.sample(rng, max(0, want - len(mine)), mine | {u}))
    # the demo user is followed by a good share of everyone (notifications, followers)
    for follower in rng.sample(range(1, n), max(1, int(0.3 * (n - 1)))):
        followees[follower].add(0)
    follows: list[tuple[int, int]] = []
    for u in range(n):
        for v in sorted(followees[u]):
            follows.append((u, v))
            earliest = min(users[u].joined_ago_ms, users[v].joined_ago_ms)
            if rng.random() < 0.08:  # a few follows during the week shown
                ago = rng.randrange(HOUR_MS, window)
            else:
                ago = rng.randrange(window + HOUR_MS, max(window + 2 * HOUR_MS, earliest))
            add(ago, "follow", u, v)

    # who posts: some accounts much more than others
    activity = [rng.paretovariate(1.3) * (1.5 if u in stars else 1.0) for u in range(n)]
    activity[0] = max(activity[0], 3.0)
    by_activity = Weighted(activity)
    posts: list[PlannedPost] = []

    def pick_parent(before_ago: int) -> int | None:
        """An earlier post (the last ~300), likelier from popular authors."""
        start = max(0, len(posts) - 300)
        candidates = [p for p in range(start, len(posts)) if posts[p].ago_ms > before_ago]
        if not candidates:
            return None
        weights = Weighted([popularity[posts[p].author] for p in candidates])
        return candidates[weights.draw(rng)]

    def mention(author: int) -> str:
        pool = sorted(followees[author]) or [v for v in range(n) if v != author]
        return "@" + users[rng.choice(pool)].handle

    times = sorted((rng.randrange(2 * HOUR_MS, window) for _ in range(config.tweets)), reverse=True)
    threads = list(THREADS)
    rng.shuffle(threads)
    thread_at = set(rng.sample(range(len(times)), min(len(threads), len(times) // 100)))
    for k, ago in enumerate(times):
        author = by_activity.draw(rng)
        if k in thread_at and threads:
            parts = threads.pop()
            previous: int | None = None
            for j, part in enumerate(parts):
                posts.append(PlannedPost(author, part, ago - j * 90_000, reply_to=previous))
                previous = len(posts) - 1
            continue
        roll = rng.random()
        parent = pick_parent(ago) if roll < 0.2 else None
        if parent is not None and roll < 0.15:  # a reply
            text = _text(rng, rng.choice(REPLIES), mention(author) if rng.random() < 0.1 else "")
            posts.append(PlannedPost(author, text, ago, reply_to=parent))
            continue
        if parent is not None:  # a quote
            posts.append(PlannedPost(author, rng.choice(QUOTES), ago, quote_of=parent))
            continue
        topic = rng.choice(TOPIC_NAMES)
        tags, sentences = TOPICS[topic]
        body = rng.choice(OPENERS) + rng.choice(sentences) + rng.choice(REACTIONS)
        extras = []
        if rng.random() < 0.3:
            extras.append(" ".join("#" + t for t in rng.sample(tags, rng.choice((1, 1, 2)))))
        if rng.random() < 0.12 or (author != 0 and rng.random() < 0.02):
            extras.append("cc @" + DEMO_HANDLE if rng.random() < 0.25 else mention(author))
        if rng.random() < 0.08:
            extras.append(rng.choice(LINKS))
        posts.append(PlannedPost(author, _text(rng, body, *extras), ago))

    # the photos: on tweets of their own (neither replies nor quotes)
    originals = [p for p, post in enumerate(posts) if post.reply_to is None and not post.quote_of]
    for image, p in enumerate(sorted(rng.sample(originals, min(config.images, len(originals))))):
        posts[p] = dataclasses.replace(posts[p], text=_text(rng, posts[p].text, "📷"), image=image)

    # the burst: within the last 45 minutes, from many distinct accounts
    burst_tags: list[str] = []
    for b, (tag, texts) in enumerate(BURST):
        share = 0.3 if b == 0 else 0.12
        count = max(4 - b, int(share * n))
        burst_tags.append(tag)
        for author in rng.sample(range(n), min(n, count)):
            ago = rng.randrange(2 * MINUTE_MS, 45 * MINUTE_MS)
            posts.append(PlannedPost(author, rng.choice(texts), ago))
    # the demo user's own few tweets, well liked and answered
    for _ in range(8):
        ago = rng.randrange(3 * HOUR_MS, window)
        tags, sentences = TOPICS[rng.choice(TOPIC_NAMES)]
        posts.append(PlannedPost(0, _text(rng, rng.choice(sentences), "#" + rng.choice(tags)), ago))
        demo_post = len(posts) - 1
        for _ in range(rng.randrange(1, 4)):
            replier = rng.randrange(1, n)
            posts.append(
                PlannedPost(
                    replier, rng.choice(REPLIES), ago - rng.randrange(60_000, HOUR_MS), demo_post
                )
            )

    for p, post in enumerate(posts):
        add(post.ago_ms, "post", p)

    # likes and retweets: Zipf-ish, by the author's reach and the tweet's luck
    followers: list[list[int]] = [[] for _ in range(n)]
    for u, v in follows:
        followers[v].append(u)
    liked_counts: list[int] = []
    bookmarkable: list[int] = []
    for p, post in enumerate(posts):
        reach = len(followers[post.author]) + 1
        luck = rng.paretovariate(1.6)
        boost = 3.0 if post.author == 0 else 1.0
        likes = min(n - 1, int(reach * 0.03 * luck * boost))
        liked_counts.append(likes)
        audience = followers[post.author] or list(range(n))
        chosen: set[int] = set()
        for _ in range(likes * 3):
            if len(chosen) >= likes:
                break
            liker = rng.choice(audience) if rng.random() < 0.75 else rng.randrange(n)
            if liker != post.author:
                chosen.add(liker)
        for liker in sorted(chosen):
            add(_reaction(rng, post.ago_ms, 3 * HOUR_MS), "like", liker, p)
        retweets = int(likes * 0.15 + rng.random())
        if post.reply_to is None and retweets:
            for rt in rng.sample(sorted(chosen), min(len(chosen), retweets)):
                add(_reaction(rng, post.ago_ms, 2 * HOUR_MS), "retweet", rt, p)
        if likes >= 3:
            bookmarkable.append(p)

    # a few bookmarks (the demo user's own among them), two lists and a moment
    for p in rng.sample(bookmarkable, min(6, len(bookmarkable))):
        add(max(500, posts[p].ago_ms // 2), "bookmark", 0, p)
    for p in rng.sample(bookmarkable, min(20, len(bookmarkable))):
        reader = rng.randrange(1, n)
        add(max(500, posts[p].ago_ms // 3), "bookmark", reader, p)
    demo_follows = sorted(followees[0])
    lists = [
        (
            "Good follows",
            "Accounts worth reading, picked for this demo.",
            False,
            demo_follows[:8],
        ),
        ("Close friends", "Private: only I can see it.", True, demo_follows[8:13]),
    ]
    for k in range(len(lists)):
        add(20 * MINUTE_MS - k * MINUTE_MS, "list", k)
    burst_posts = [p for p, post in enumerate(posts) if post.ago_ms < 45 * MINUTE_MS]
    moment_posts = burst_posts[:6]
    moment = ("Launch day", "How the launch went, as it happened.", moment_posts)
    add(60_000, "moment")
    steps.sort()
    # a millisecond of its own for every step (its ids are made in it): ties move later
    for k in range(1, len(steps)):
        if steps[k].neg_ago_ms <= steps[k - 1].neg_ago_ms:
            steps[k] = dataclasses.replace(steps[k], neg_ago_ms=steps[k - 1].neg_ago_ms + 1)
    return Plan(users, follows, posts, steps, tuple(burst_tags), lists, moment)


# --- images: a few photos drawn locally ---------------------------------------------------


def draw_image(seed: int, index: int) -> tuple[bytes, str]:
    """A small picture (sky, hills, a sun or a moon) as PNG or JPEG bytes, from the seed."""
    rng = random.Random(seed * 1000 + index)
    width, height = 640, 400
    top = (rng.randrange(20, 120), rng.randrange(60, 160), rng.randrange(140, 255))
    bottom = (rng.randrange(180, 255), rng.randrange(120, 220), rng.randrange(60, 160))
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    for y in range(height):
        f = y / height
        draw.line(
            [(0, y), (width, y)],
            fill=tuple(int(a + (b - a) * f) for a, b in zip(top, bottom, strict=True)),
        )
    x, y, r = rng.randrange(80, width - 80), rng.randrange(40, 180), rng.randrange(25, 60)
    draw.ellipse([x - r, y - r, x + r, y + r], fill=(255, 240, 200))
    for layer in range(3):
        shade = 40 + layer * 35
        base = height - 60 - layer * 50 + rng.randrange(-20, 20)
        points = [(0, height)]
        for px in range(0, width + 80, 80):
            points.append((px, base + rng.randrange(-40, 40)))
        points.append((width, height))
        draw.polygon(points, fill=(shade // 2, shade, shade // 2 + 20))
    out = io.BytesIO()
    if index % 2:
        image.save(out, "JPEG", quality=85)
        return out.getvalue(), "image/jpeg"
    image.save(out, "PNG", optimize=False)
    return out.getvalue(), "image/png"


# --- running it ------------------------------------------------------------------------


class StepIds(SnowflakeGenerator):
    """Ids at the time of the step running: its own millisecond, this worker id, and a
    sequence of its own. The plan gives every step a millisecond no other step has, so
    steps may run concurrently and still never issue the same id."""

    def next_id(self) -> int:
        tick = _TICK.get(None)
        if tick is None:
            raise RuntimeError("a demo id asked for outside a step")
        if tick.sequence > MAX_SEQUENCE:
            raise RuntimeError(f"more than {MAX_SEQUENCE + 1} ids in one demo step")
        sequence, tick.sequence = tick.sequence, tick.sequence + 1
        return (
            ((tick.ms - EPOCH_MS) << TIMESTAMP_SHIFT) | (self.worker_id << WORKER_SHIFT) | sequence
        )


@dataclass
class _Tick:
    ms: int
    sequence: int = 0


_TICK: contextvars.ContextVar[_Tick] = contextvars.ContextVar("demo_tick")


class InlineFanoutQueue(MemoryFanoutQueue):
    """The demo's fan-out queue: each job is applied as it is queued, by the engine's own
    ``FanOut.apply``, within the step (so at its time), as a worker would a moment later."""

    fanout: FanOut | None = None

    async def enqueue(self, job: Job) -> None:
        if self.fanout is None:
            raise RuntimeError("the demo's fan-out queue has no fan-out to apply jobs with")
        await self.fanout.apply(job)


class ReusedHash(Passwords):
    """Passwords whose ``hash`` of the demo password is computed once and reused."""

    def __init__(self, password: str) -> None:
        super().__init__()
        self.password = password
        self._hash = PasswordHasher().hash(password)

    async def hash(self, password: str) -> str:
        if password != self.password:
            return await super().hash(password)
        return self._hash


@dataclass
class Summary:
    handle: str
    password: str
    users: int = 0
    follows: int = 0
    tweets: int = 0
    replies: int = 0
    quotes: int = 0
    retweets: int = 0
    likes: int = 0
    images: int = 0
    bookmarks: int = 0
    lists: int = 0
    moments: int = 0
    burst_tags: tuple[str, ...] = ()
    trending: tuple[str, ...] = ()  # what trends answered once written
    seconds: float = 0.0
    where: dict[str, str] = field(default_factory=dict)

    def lines(self, base_url: str) -> list[str]:
        trending = ", ".join(f"#{t}" for t in self.trending) or "(none)"
        return [
            f"Demo world written in {self.seconds:.1f} s:",
            f"  {self.users} users, {self.follows} follows",
            f"  {self.tweets} tweets ({self.replies} replies, {self.quotes} quotes, "
            f"{self.images} with a photo), {self.retweets} retweets, {self.likes} likes",
            f"  {self.bookmarks} bookmarks, {self.lists} lists, {self.moments} moment(s)",
            f"  trending now: {trending}",
            "",
            f"Log in as @{self.handle} with the password {self.password}",
            "(every demo account has this password).",
            "",
            f"Next: start the server (python app.py), open {base_url}/graphql and try:",
            f'  mutation {{ logIn(input: {{handle: "{self.handle}", password: "{self.password}"}})'
            " { token } }",
            "  { trends(limit: 5) { name tweetCount accountCount } }",
            '  { search(query: "coffee", first: 5) { edges { node { text author { handle } } } } }',
            "and, with the header Authorization: Bearer <token>:",
            "  { homeTimeline(first: 10) { edges { node { text likeCount author { handle } } } } }",
            "  { notifications(first: 10) { unreadCount edges { node { kind actor { handle } } } } }",
            "  { whoToFollow(limit: 5) { handle displayName followersCount } }",
        ]


async def any_user(services: Services) -> bool:
    """Whether the graph holds any account."""
    return await services.stores.graph.has_users()


def production_stores(settings: Settings) -> list[str]:
    return [env for name, env in PRODUCTION_SETTINGS.items() if getattr(settings, name)]


def reset_embedded(settings: Settings) -> list[Path]:
    """Remove the embedded stores' files from the data folder (never production stores)."""
    configured = production_stores(settings)
    if configured:
        raise DemoRefused(
            f"--reset wipes only the embedded data folder, and {', '.join(configured)} "
            "is set: empty those stores yourself, or run the demo without them"
        )
    folder = settings.data_dir
    removed: list[Path] = []
    for name in EMBEDDED_FILES:
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = folder / f"{name}.sqlite3{suffix}"
            if path.exists():
                path.unlink()
                removed.append(path)
    media = folder / "media"
    if media.is_dir():
        shutil.rmtree(media)
        removed.append(media)
    return removed


async def _stream(data: bytes) -> AsyncIterator[bytes]:
    yield data


CONCURRENCY = 16  # steps in flight at once: their store calls overlap


async def run(
    settings: Settings,
    config: DemoConfig,
    reset: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Summary:
    """Write the demo world into the stores the settings select; what was written.

    Refuses (``DemoRefused``) when the stores already hold a user; ``reset`` first
    removes the embedded data folder's stores (refused when a production store is set).
    """
    started = time.perf_counter()
    if reset:
        for path in reset_embedded(settings):
            log.info("removed %s", path)
    the_plan = plan(config)
    password = config.password or f"demo-{secrets.token_urlsafe(9)}"
    opened = await open_stores(settings)
    # the demo's own fan-out queue and event bus: its jobs run here, at their own time
    queue = InlineFanoutQueue()
    stores: Stores = dataclasses.replace(opened, queue=queue, events=MemoryEventBus())
    secret = secret_key(settings)
    try:
        media = await open_media(settings, secret)
    except BaseException:
        await opened.close()
        raise
    try:
        services = make_services(
            settings.replace(inprocess_workers=0),
            stores,
            ReusedHash(password),
            media,
            secret,
            ids=StepIds(settings.worker_id),
        )
        queue.fanout = services.fanout
        if await any_user(services):
            where = (
                "the configured stores already have users"
                if production_stores(settings)
                else f"the data folder {settings.data_dir} already has users"
            )
            raise DemoRefused(where)
        summary = Summary(DEMO_HANDLE, password, burst_tags=the_plan.burst_tags)
        summary.where = dict(opened.descriptions)
        writer = _Writer(services, the_plan, config, summary)
        await writer.write(time.time_ns() // 1_000_000, progress or (lambda line: None))
        if services.trends is not None:
            summary.trending = tuple(t.name for t in await services.trends.trends(limit=5))
    finally:
        await media.close()
        await stores.events.close()
        await opened.close()
    summary.seconds = time.perf_counter() - started
    return summary


class _Writer:
    """Runs the plan's steps, oldest first, up to ``CONCURRENCY`` at once: a step starts
    once what it needs exists (its users, the tweet it likes or answers)."""

    def __init__(
        self, services: Services, the_plan: Plan, config: DemoConfig, summary: Summary
    ) -> None:
        self.services = services
        self.plan = the_plan
        self.config = config
        self.summary = summary
        self.user_ids: list[int] = [0] * len(the_plan.users)
        self.post_ids: list[int] = [0] * len(the_plan.posts)
        self.users_made = [asyncio.Event() for _ in the_plan.users]
        self.posts_made = [asyncio.Event() for _ in the_plan.posts]
        self.images: list[tuple[bytes, str]] = []

    async def write(self, now_ms: int, say: Callable[[str], None]) -> None:
        self.images = await asyncio.to_thread(
            lambda: [draw_image(self.config.seed, k) for k in range(self.config.images)]
        )
        slots = asyncio.Semaphore(CONCURRENCY)
        total = len(self.plan.steps)

        async def one(step: Step) -> None:
            try:
                await self._needs(step)
                _TICK.set(_Tick(now_ms + step.neg_ago_ms))
                await self._run(step)
            finally:
                slots.release()

        async with asyncio.TaskGroup() as group:
            for done, step in enumerate(self.plan.steps):
                if done and done % 5000 == 0:
                    say(f"  {done} of {total} steps")
                await slots.acquire()
                group.create_task(one(step))

    async def _user(self, index: int) -> int:
        await self.users_made[index].wait()
        return self.user_ids[index]

    async def _post(self, index: int) -> int:
        await self.posts_made[index].wait()
        return self.post_ids[index]

    async def _needs(self, step: Step) -> None:
        """Wait for what the step uses: always made by an earlier step."""
        kind, args = step.kind, step.args
        if kind == "follow":
            await self._user(args[0])
            await self._user(args[1])
        elif kind in ("like", "retweet", "bookmark"):
            await self._user(args[0])
            await self._post(args[1])
        elif kind == "post":
            post = self.plan.posts[args[0]]
            await self._user(post.author)
            for pointed in (post.reply_to, post.quote_of):
                if pointed is not None:
                    await self._post(pointed)
        elif kind == "list":
            for member in self.plan.lists[args[0]][3]:
                await self._user(member)
            await self._user(0)
        elif kind == "moment":
            await self._user(0)
            for pointed in self.plan.moment[2]:
                await self._post(pointed)

    async def _run(self, step: Step) -> None:
        services, summary = self.services, self.summary
        assert services.media is not None
        assert services.bookmarks is not None
        assert services.lists is not None
        assert services.moments is not None
        kind, args = step.kind, step.args
        if kind == "user":
            user = self.plan.users[args[0]]
            _, record = await services.accounts.sign_up(
                user.handle, summary.password, user.display_name, user.bio
            )
            self.user_ids[args[0]] = record.id
            self.users_made[args[0]].set()
            summary.users += 1
        elif kind == "follow":
            await services.social.follow(self.user_ids[args[0]], self.user_ids[args[1]])
            summary.follows += 1
        elif kind == "post":
            post = self.plan.posts[args[0]]
            author = self.user_ids[post.author]
            media_ids: list[int] = []
            if post.image is not None:
                data, content_type = self.images[post.image]
                upload, _ = await services.media.create_upload(author, content_type, len(data))
                # the bytes a client would PUT to the upload URL
                await services.media.objects.put(
                    upload_key(upload.id), _stream(data), len(data), content_type
                )
                await services.media.complete(author, upload.id)
                media_ids.append(upload.id)
                summary.images += 1
            tweet = await services.tweets.create(
                author,
                post.text,
                media_ids=media_ids,
                in_reply_to_id=None if post.reply_to is None else self.post_ids[post.reply_to],
                quote_of_id=None if post.quote_of is None else self.post_ids[post.quote_of],
            )
            self.post_ids[args[0]] = tweet.id
            self.posts_made[args[0]].set()
            summary.tweets += 1
            summary.replies += post.reply_to is not None
            summary.quotes += post.quote_of is not None
        elif kind == "like":
            await services.tweets.like(self.user_ids[args[0]], self.post_ids[args[1]])
            summary.likes += 1
        elif kind == "retweet":
            await services.tweets.retweet(self.user_ids[args[0]], self.post_ids[args[1]])
            summary.retweets += 1
        elif kind == "bookmark":
            await services.bookmarks.bookmark(self.user_ids[args[0]], self.post_ids[args[1]])
            summary.bookmarks += 1
        elif kind == "list":
            name, description, private, members = self.plan.lists[args[0]]
            owner = self.user_ids[0]
            made = await services.lists.create(owner, name, description, private)
            for member in members:
                await services.lists.add(owner, made.id, self.user_ids[member])
            summary.lists += 1
        elif kind == "moment":
            title, description, chosen = self.plan.moment
            await services.moments.create(
                self.user_ids[0], title, description, [self.post_ids[p] for p in chosen]
            )
            summary.moments += 1
