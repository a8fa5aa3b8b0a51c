"""The soak's load: the read-heavy mix sent by an asyncio client, with every answer kept.

wrk (the bench's other load generator) is a closed loop that sends reads and
posts; the soak also needs likes and follows, a fixed rate (an open loop), and
the id of every tweet, like and follow the server acknowledged, to look for
them afterwards. So this client sends each request itself (aiohttp, one
connection pool), classifies each answer, and records what was acknowledged.

A request is *acknowledged* when it is answered 200 with no top-level
``errors`` and, for a mutation, a payload with its object and no ``errors``.
Anything else is an error of one kind, named by ``classify``: ``transport:X``
(no answer: the connection failed, or no answer within the timeout),
``http:N`` (a status other than 200), ``graphql:CODE`` (a top-level error's
``extensions.code``), ``payload:CODE`` (a mutation's ``errors``).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench.scenarios import HOME_QUERY, POST_MUTATION

LIKE_MUTATION = (
    "mutation Like($id: ID!) { likeTweet(tweetId: $id) {"
    " tweet { id likeCount } errors { code message } } }"
)
FOLLOW_MUTATION = (
    "mutation Follow($id: ID!) { followUser(userId: $id) { user { id } errors { code message } } }"
)
REQUEST_TIMEOUT = 10.0  # seconds, as wrk's --timeout in the bench
KINDS = ("read", "post", "like", "follow")


@dataclass(frozen=True)
class Mix:
    """Requests per hundred: home-timeline reads, posts, likes, follows."""

    read: int = 95
    post: int = 2
    like: int = 2
    follow: int = 1

    def weights(self) -> list[int]:
        return [self.read, self.post, self.like, self.follow]


@dataclass(frozen=True)
class Outcome:
    at: float  # seconds since the recorder's start, when the request was sent
    kind: str
    seconds: float  # until the answer (or the failure)
    result: str  # "ok" or the error's kind (see classify)


@dataclass
class Acknowledged:
    """What the server said it stored (by user id and tweet id)."""

    posts: list[tuple[int, int, str]] = field(default_factory=list)  # tweet, author, text
    likes: list[tuple[int, int]] = field(default_factory=list)  # user, tweet
    follows: list[tuple[int, int]] = field(default_factory=list)  # follower, followee


def classify(status: int, body: Any, payload_field: str | None) -> str:
    """ "ok", or the kind of error of a GraphQL answer (see the module's docstring)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if status != 200:
        code = _first_code(errors)
        return f"http:{status}" + (f":{code}" if code else "")
    if not isinstance(body, dict) or errors:
        return f"graphql:{_first_code(errors) or 'UNKNOWN'}"
    if payload_field is None:
        return "ok"
    payload = (body.get("data") or {}).get(payload_field) or {}
    if payload.get("errors"):
        return f"payload:{payload['errors'][0].get('code') or 'UNKNOWN'}"
    if not any(value for key, value in payload.items() if key != "errors"):
        return "payload:EMPTY"
    return "ok"


def _first_code(errors: Any) -> str | None:
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        code = (errors[0].get("extensions") or {}).get("code")
        return str(code) if code else None
    return None


class Recorder:
    """Every request's outcome, in order, with the time it was sent."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.outcomes: list[Outcome] = []

    def now(self) -> float:
        return time.monotonic() - self.started

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def between(self, start: float, end: float) -> list[Outcome]:
        return [o for o in self.outcomes if start <= o.at < end]


def summary(outcomes: Sequence[Outcome], seconds: float) -> dict[str, Any]:
    """Throughput, latency and answers of some outcomes (``seconds``: the span they cover)."""
    ok = [o for o in outcomes if o.result == "ok"]
    latencies = sorted(o.seconds for o in outcomes)
    by_kind = Counter(o.kind for o in ok)
    return {
        "requests": len(outcomes),
        "rps": round(len(outcomes) / seconds, 1) if seconds > 0 else 0.0,
        "ok_rps": round(len(ok) / seconds, 1) if seconds > 0 else 0.0,
        "p50_ms": round(_quantile(latencies, 0.50) * 1000, 1) if latencies else None,
        "p99_ms": round(_quantile(latencies, 0.99) * 1000, 1) if latencies else None,
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else None,
        "ok_by_kind": {kind: by_kind.get(kind, 0) for kind in KINDS},
        "p50_ms_by_kind": {
            kind: round(_quantile(times, 0.5) * 1000, 1)
            for kind in KINDS
            if (times := sorted(o.seconds for o in outcomes if o.kind == kind))
        },
        "errors": dict(Counter(o.result for o in outcomes if o.result != "ok")),
    }


def _quantile(ordered: Sequence[float], q: float) -> float:
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


class MixClient:
    """Sends the mix as the readers of a pool (bearer tokens), keeping what was acknowledged.

    Each request goes out as the next reader in turn. A post is the reader's own
    tweet; a like is of a tweet on the reader's last home page; a follow is of a
    user of ``users`` drawn at random (a follow of someone already followed is
    acknowledged too: the edge is there either way).

    Posts, likes and follows go one at a time (``mongo_writes``), for the nx-27017
    stand-in of MongoDB: it runs every open transaction (a like is one, and so is the
    notification of a like or a follow) as a savepoint on
    one SQLite connection, so two at once corrupt each other ("no such
    savepoint", an INTERNAL_SERVER_ERROR), and a write of anyone else made while
    one is open is rolled back with it when it aborts (a like of a tweet liked
    already aborts): an acknowledged post would be lost (bench/README.md,
    "Soak"). Real MongoDB isolates transactions. Whoever else opens one (a
    worker starting up probes with one) holds the same lock meanwhile.
    """

    def __init__(
        self,
        url: str,
        tokens: Mapping[int, str],
        users: Sequence[int],
        mix: Mix = Mix(),
        seed: int = 1,
        connections: int = 256,
        label: str = "soak",
    ) -> None:
        self.url = f"{url}/graphql"
        self.tokens = dict(tokens)
        self.readers = list(tokens)
        self.users = list(users)
        self.mix = mix
        self.rng = random.Random(seed)
        self.connections = connections
        self.label = label
        self.recorder = Recorder()
        self.acked = Acknowledged()
        self.seen: dict[int, list[int]] = {}  # reader -> tweet ids of their last home page
        self.posts_sent = 0
        self.mongo_writes = asyncio.Lock()
        self._turn = 0
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> MixClient:
        connector = aiohttp.TCPConnector(limit=self.connections)
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        self._session = aiohttp.ClientSession(connector=connector, timeout=timeout)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    def next_request(self) -> Callable[[], Coroutine[Any, Any, None]]:
        """The next request of the mix (its kind and reader chosen now, in order)."""
        kind = self.rng.choices(KINDS, self.mix.weights())[0]
        reader = self.readers[self._turn % len(self.readers)]
        self._turn += 1
        if kind == "like" and not self.seen.get(reader):
            kind = "read"  # nothing to like yet: read first
        if kind == "post":
            self.posts_sent += 1
            text = f"{self.label} {self.posts_sent} {reader} #soak"
            return lambda: self._post(reader, text)
        if kind == "like":
            tweet = self.rng.choice(self.seen[reader])
            return lambda: self._like(reader, tweet)
        if kind == "follow":
            followee = self.rng.choice(self.users)
            if followee != reader:
                return lambda: self._follow(reader, followee)
        return lambda: self._read(reader)

    async def _send(
        self, kind: str, reader: int, payload: dict[str, Any], payload_field: str | None
    ) -> Any:
        """POST one request; records its outcome; returns the body if acknowledged, else None."""
        assert self._session is not None, "use MixClient in `async with`"
        at = self.recorder.now()
        started = time.monotonic()
        headers = {"Authorization": f"Bearer {self.tokens[reader]}"}
        body: Any = None
        try:
            async with self._session.post(self.url, json=payload, headers=headers) as answer:
                status = answer.status
                body = await answer.json(content_type=None)
            result = classify(status, body, payload_field)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            result = f"transport:{type(exc).__name__}"
        self.recorder.add(Outcome(at, kind, time.monotonic() - started, result))
        return body if result == "ok" else None

    async def _read(self, reader: int) -> None:
        body = await self._send("read", reader, {"query": HOME_QUERY}, None)
        if body is not None:
            edges = body["data"]["homeTimeline"]["edges"]
            self.seen[reader] = [int(edge["node"]["id"]) for edge in edges]

    async def _post(self, reader: int, text: str) -> None:
        payload = {"query": POST_MUTATION, "variables": {"text": text}}
        async with self.mongo_writes:
            body = await self._send("post", reader, payload, "createTweet")
        if body is not None:
            tweet_id = int(body["data"]["createTweet"]["tweet"]["id"])
            self.acked.posts.append((tweet_id, reader, text))

    async def _like(self, reader: int, tweet: int) -> None:
        payload = {"query": LIKE_MUTATION, "variables": {"id": str(tweet)}}
        async with self.mongo_writes:
            answered = await self._send("like", reader, payload, "likeTweet")
        if answered is not None:
            self.acked.likes.append((reader, tweet))

    async def _follow(self, reader: int, followee: int) -> None:
        payload = {"query": FOLLOW_MUTATION, "variables": {"id": str(followee)}}
        async with self.mongo_writes:  # a new follow's notification is a MongoDB transaction
            answered = await self._send("follow", reader, payload, "followUser")
        if answered is not None:
            self.acked.follows.append((reader, followee))

    async def post_as(self, reader: int) -> None:
        """One post by ``reader``, outside the mix."""
        self.posts_sent += 1
        await self._post(reader, f"{self.label} {self.posts_sent} {reader} #soak")

    async def read_each(self) -> None:
        """One home page per reader, in turn (each reader's timeline is then cached)."""
        for reader in self.readers:
            await self._read(reader)

    async def closed_loop(self, concurrency: int, seconds: float) -> dict[str, Any]:
        """``concurrency`` senders, each sending its next request as soon as the last is
        answered, for ``seconds``: the throughput the server sustains at that concurrency."""
        start = self.recorder.now()
        deadline = time.monotonic() + seconds

        async def sender() -> None:
            while time.monotonic() < deadline:
                await self.next_request()()

        await asyncio.gather(*(sender() for _ in range(concurrency)))
        end = self.recorder.now()
        return {
            "concurrency": concurrency,
            **summary(self.recorder.between(start, end), end - start),
        }

    async def open_loop(
        self, rate: float, seconds: float, in_flight: int = 10_000
    ) -> dict[str, Any]:
        """One request every 1/``rate`` s for ``seconds``, whether or not the earlier ones
        were answered. Beyond ``connections`` outstanding, requests wait for a connection
        of the pool (their timeout running), as behind a proxy; beyond ``in_flight`` the
        schedule would slip (``late`` counts the requests sent over 100 ms after their
        time)."""
        loop = asyncio.get_running_loop()
        limit = asyncio.Semaphore(in_flight)
        start_at = self.recorder.now()
        started = loop.time()
        tasks: set[asyncio.Task[None]] = set()

        def finished(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            limit.release()

        late = 0
        count = int(rate * seconds)
        for n in range(count):
            due = started + n / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await limit.acquire()
            if loop.time() - due > 0.1:
                late += 1
            task = asyncio.create_task(self.next_request()())
            tasks.add(task)
            task.add_done_callback(finished)
        if tasks:
            await asyncio.gather(*tasks)
        end_at = self.recorder.now()
        outcomes = self.recorder.between(start_at, end_at)
        return {"rate": rate, "late": late, **summary(outcomes, end_at - start_at)}


def best_error_free(levels: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The closed-loop level with the highest throughput among those without errors."""
    clean = [level for level in levels if not level["errors"] and level["requests"]]
    return max(clean, key=lambda level: level["ok_rps"]) if clean else None
