"""The home timeline against a naive model, for any sequence of operations.

Hypothesis draws 20-60 operations by four users: posts, retweets, undone
retweets, follows, unfollows, deletes, page walks (pages of 1-4), and the
machinery's own events: a worker applying a few jobs, a job applied again,
a job lost, the repair pass, the cache losing everything. The sequence runs
through the real services once per strategy (hybrid, push, pull), each in a
world of its own. The configuration is tiny (timelines capped at 5 ids,
celebrities from 2 followers, recent lists of 2, fan-out batches of 2, no
hydration margin), so every path runs: rebuilds, pages past the cache,
celebrity merges, authors crossing the threshold both ways, multi-batch
fan-out, pages hydrated over several chunks.

The model is plain Python: tweets as labels (their creation order), who
follows whom, what is deleted. Whenever no post's fan-out is outstanding, every
page walk must equal the model's pages exactly. While some are outstanding,
the walk may lack those tweets but nothing else: it shows only what the model
shows, and every other visible tweet (or the same original) somewhere. In the
end, after the repair pass and every job, the three strategies give the
model's pages, identical.
"""

from __future__ import annotations

import asyncio
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.errors import UserError
from tests.timeline.world import World, naive_pages, open_world, redis_db, redis_parts
from timeline.config import TimelineConfig
from timeline.port import EventBus, FanoutQueue, TimelineCache

USERS = 4
STRATEGIES = ("hybrid", "push", "pull")
# hydrate_margin 0: a page hydrates exactly what it still needs, so whatever filtering
# drops sends it to another chunk, and chunk boundaries fall everywhere
SMALL = {"cap": 5, "celebrity_threshold": 2, "recent_cap": 2, "batch": 2, "hydrate_margin": 0}

# duplicates weight the draw: more posts and follows than deletes
KINDS = [
    *["post"] * 6,
    *["reply"] * 2,
    "block",
    "unblock",
    "mute",
    "unmute",
    *["retweet"] * 3,
    "undo_retweet",
    *["follow"] * 4,
    *["unfollow"] * 2,
    "delete",
    *["read"] * 2,
    *["fanout"] * 3,
    "redeliver",
    "lose",
    "repair",
    "flush",
]
Op = tuple[str, int, int]
OPS = st.lists(
    st.tuples(st.sampled_from(KINDS), st.integers(0, USERS - 1), st.integers(0, 10_000)),
    min_size=20,
    max_size=60,
)


@dataclass
class Tweet:
    author: int
    original: int | None  # the label of the retweeted original
    alive: bool = True
    answers: int | None = None  # a reply: the author it answers


@dataclass
class Model:
    """What the timelines must show: tweets are labels, 0, 1, 2... in creation order."""

    tweets: list[Tweet] = field(default_factory=list)
    follows: set[tuple[int, int]] = field(default_factory=set)
    blocks: set[tuple[int, int]] = field(default_factory=set)
    mutes: set[tuple[int, int]] = field(default_factory=set)
    # once a block, mute or reply happened, a cached timeline may lack what fan-out
    # rightly left out then (a mute since ended, a reply whose rule changed): until
    # the caches are rebuilt, only pull reads must be complete
    filtered: bool = False

    def blocked(self, a: int, b: int) -> bool:
        return (a, b) in self.blocks or (b, a) in self.blocks

    def hidden(self, viewer: int) -> set[int]:
        """Whom the viewer must not see: blocks either way, mutes."""
        return (
            {b for a, b in self.blocks if a == viewer}
            | {a for a, b in self.blocks if b == viewer}
            | {b for a, b in self.mutes if a == viewer}
        )

    def original_of(self, label: int) -> int | None:
        """The original a retweet of ``label`` would point at; None when it cannot."""
        tweet = self.tweets[label]
        original = label if tweet.original is None else tweet.original
        if not tweet.alive or not self.tweets[original].alive:
            return None
        return original

    def retweet_by(self, user: int, original: int) -> int | None:
        for label, tweet in enumerate(self.tweets):
            if tweet.alive and tweet.author == user and tweet.original == original:
                return label
        return None

    def visible(self, viewer: int) -> list[tuple[int, int]]:
        """(label, original label) of the viewer's home timeline, newest first: the
        viewer's and followees' tweets and retweets, without blocked or muted accounts
        (as author or as retweeted author), replies by the rule Twitter uses."""
        follows = {b for a, b in self.follows if a == viewer}
        authors = {viewer} | follows
        hidden = self.hidden(viewer)

        def shown(t: Tweet) -> bool:
            if not t.alive or t.author not in authors or t.author in hidden:
                return False
            if t.original is not None:
                original = self.tweets[t.original]
                return original.alive and original.author not in hidden
            return (
                t.answers is None
                or t.author == viewer
                or t.answers in (t.author, viewer)
                or t.answers in follows
            )

        return [
            (label, label if t.original is None else t.original)
            for label, t in reversed(list(enumerate(self.tweets)))
            if shown(t)
        ]


@dataclass
class Run:
    """One strategy's world and its view of the labels."""

    world: World
    users: list[int]
    ids: list[int] = field(default_factory=list)  # label -> tweet id
    labels: dict[int, int] = field(default_factory=dict)  # tweet id -> label

    def add(self, tweet_id: int) -> None:
        self.labels[tweet_id] = len(self.ids)
        self.ids.append(tweet_id)

    @property
    def pending(self) -> set[int]:
        """Labels of tweets whose post job has not been applied yet."""
        done = {self.labels[j.tweet_id] for j in self.world.applied if j.kind == "post"}
        return set(range(len(self.ids))) - done

    async def pages(self, viewer: int, size: int) -> list[list[int]]:
        pages = await self.world.pages(self.users[viewer], size)
        return [[self.labels[t] for t in page] for page in pages]


async def expect_error(call: object, code: str) -> None:
    assert asyncio.iscoroutine(call)
    with pytest.raises(UserError) as caught:
        await call
    assert caught.value.code == code


async def apply(model: Model, runs: list[Run], op: Op) -> None:
    kind, actor, arg = op
    if kind == "post":
        for run in runs:
            run.add((await run.world.post(run.users[actor], f"post {arg}")).id)
        model.tweets.append(Tweet(actor, None))
    elif kind == "reply" and model.tweets:
        target = arg % len(model.tweets)
        original = model.original_of(target)
        answered = None if original is None else model.tweets[original].author
        for run in runs:
            replying = run.world.services.tweets.create(
                run.users[actor], f"reply {arg}", in_reply_to_id=run.ids[target]
            )
            if answered is None:
                await expect_error(replying, "NOT_FOUND")
            elif model.blocked(actor, answered):
                await expect_error(replying, "FORBIDDEN")
            else:
                made = await replying
                assert made.in_reply_to_id == run.ids[original]  # type: ignore[index]
                run.add(made.id)
        if answered is not None and not model.blocked(actor, answered):
            model.tweets.append(Tweet(actor, None, answers=answered))
            model.filtered = True
    elif kind in {"block", "unblock", "mute", "unmute"}:
        target = arg % USERS
        if target == actor:
            return
        for run in runs:
            relations = run.world.services.relations
            assert relations is not None
            act = getattr(relations, kind)
            await act(run.users[actor], run.users[target])
        pair = (actor, target)
        if kind == "block":
            model.blocks.add(pair)
            model.follows -= {pair, (target, actor)}
        elif kind == "unblock":
            model.blocks.discard(pair)
        elif kind == "mute":
            model.mutes.add(pair)
        else:
            model.mutes.discard(pair)
        model.filtered = True
    elif kind in {"retweet", "undo_retweet"} and model.tweets:
        target = arg % len(model.tweets)
        original = model.original_of(target)
        existing = None if original is None else model.retweet_by(actor, original)
        for run in runs:
            tweets = run.world.services.tweets
            call = tweets.retweet if kind == "retweet" else tweets.undo_retweet
            if original is None:
                await expect_error(call(run.users[actor], run.ids[target]), "NOT_FOUND")
                continue
            if kind == "retweet" and model.blocked(actor, model.tweets[original].author):
                await expect_error(call(run.users[actor], run.ids[target]), "FORBIDDEN")
                continue
            got = await call(run.users[actor], run.ids[target])
            if kind == "undo_retweet":
                assert got.id == run.ids[original]
            elif existing is None:
                assert got.retweet_of_id == run.ids[original]
                run.add(got.id)
            else:
                assert got.id == run.ids[existing]
        if original is None:
            return
        if kind == "retweet" and model.blocked(actor, model.tweets[original].author):
            return
        if kind == "retweet" and existing is None:
            model.tweets.append(Tweet(actor, original))
        elif kind == "undo_retweet" and existing is not None:
            model.tweets[existing].alive = False
    elif kind in {"follow", "unfollow"}:
        target = arg % USERS
        if target == actor:
            return
        if kind == "follow" and model.blocked(actor, target):
            for run in runs:
                following = run.world.services.social.follow(run.users[actor], run.users[target])
                await expect_error(following, "FORBIDDEN")
            return
        for run in runs:
            if kind == "follow":
                await run.world.follow(run.users[actor], run.users[target])
            else:
                await run.world.unfollow(run.users[actor], run.users[target])
        if kind == "follow":
            model.follows.add((actor, target))
        else:
            model.follows.discard((actor, target))
    elif kind == "delete":
        alive = [label for label, t in enumerate(model.tweets) if t.alive]
        if alive:
            victim = alive[arg % len(alive)]
            for run in runs:
                author = run.users[model.tweets[victim].author]
                await run.world.services.tweets.delete(author, run.ids[victim])
            model.tweets[victim].alive = False
    elif kind == "fanout":  # a worker gets to a few jobs
        for run in runs:
            await run.world.settle(at_most=1 + arg % 3)
    elif kind == "redeliver":  # at-least-once: a job already applied runs again
        for run in runs:
            if run.world.applied:
                await run.world.fanout.apply(run.world.applied[arg % len(run.world.applied)])
    elif kind == "lose":  # a job taken and acknowledged, never applied (a bug, a crash)
        for run in runs:
            await run.world.queue.ack([d.id for d in await run.world.queue.take("lost", 1, 0)])
    elif kind == "repair":  # the repair pass, counting every pending tweet as stuck
        for run in runs:
            await run.world.fanout.repair(older_than_ms=-60_000)
    elif kind == "flush":  # the cache loses everything
        for run in runs:
            await run.world.flush_cache()
        model.filtered = False  # every timeline is rebuilt from the stores
    elif kind == "read":
        for run in runs:
            await check_reader(model, run, actor, 1 + arg % 4)


async def check_reader(model: Model, run: Run, viewer: int, size: int) -> None:
    visible = model.visible(viewer)
    got = await run.pages(viewer, size)
    pending = run.pending
    if run.world.config.strategy == "pull" or (not pending and not model.filtered):
        assert got == naive_pages(visible, size), (run.world.config.strategy, viewer, size)
        return
    # Some posts are not fanned out yet: they may be missing, nothing else may be.
    allowed = dict(visible)
    shown = [label for page in got for label in page]
    assert set(shown) <= set(allowed), "shows a tweet it must not"
    for page in got:
        originals = [allowed[label] for label in page]
        assert len(set(originals)) == len(originals), "an original twice on one page"
    assert all(len(page) == size for page in got[:-1]), "a short page before the end"
    assert len({allowed[label] for label in shown}) == len(shown), "an original twice"
    if model.filtered:
        return  # a cached timeline may lack what fan-out rightly left out then
    shown_originals = {allowed[label] for label in shown}
    for label, original in visible:
        assert label in pending or original in shown_originals, f"lost tweet {label}"


async def run_scenario(ops: list[Op], folder: Path, redis_url: str | None = None) -> None:
    async with AsyncExitStack() as stack:
        runs: list[Run] = []
        for n, strategy in enumerate(STRATEGIES, start=1):
            config = TimelineConfig(strategy=strategy, **SMALL)
            cache: TimelineCache | None = None
            queue: FanoutQueue | None = None
            events: EventBus | None = None
            if redis_url:  # a database of its own per strategy
                cache, queue, events = await redis_parts(redis_db(redis_url, n))
            world = await stack.enter_async_context(
                open_world(folder / strategy, config, cache, queue, events, worker_id=n)
            )
            runs.append(Run(world, await world.users(*(f"user{u}" for u in range(USERS)))))
        model = Model()
        for op in ops:
            await apply(model, runs, op)

        for run in runs:  # eventually: the repair pass and every job have run
            await run.world.fanout.repair(older_than_ms=-60_000)
            await run.world.settle()
            if model.filtered:  # rebuilt from the stores, every timeline is complete again
                await run.world.flush_cache()
        for viewer in range(USERS):
            for size in (1, 2, 4):
                expected = naive_pages(model.visible(viewer), size)
                got = {run.world.config.strategy: await run.pages(viewer, size) for run in runs}
                assert got == dict.fromkeys(STRATEGIES, expected), (viewer, size)


# Sequences random draws rarely hit, each once a real bug (see the focused tests).
SCROLL_PAST_THE_CAP: list[Op] = [("post", 0, 0)] * 12 + [("read", 0, 2)]
CELEBRITY_UP_AND_DOWN: list[Op] = [
    ("post", 1, 0),
    ("follow", 1, 0),
    ("fanout", 0, 2),
    ("read", 1, 3),  # user1's timeline is cached, reaching back to their own old tweet
    ("follow", 2, 0),
    ("follow", 3, 0),  # user0 now has 3 followers: a celebrity from their next post
    *[("post", 0, 0), ("fanout", 0, 2)] * 3,  # more tweets than the recent list keeps
    ("unfollow", 2, 0),
    ("unfollow", 3, 0),  # back to 1 follower
    ("post", 0, 0),
    ("fanout", 0, 2),
    ("read", 1, 3),
]
UNFOLLOW_EMPTIES_THE_CACHE: list[Op] = [
    ("follow", 1, 0),
    ("follow", 1, 2),
    *[("post", 2, 0)] * 2,
    *[("post", 0, 0)] * 6,
    *[("fanout", 0, 2)] * 3,
    ("read", 1, 3),  # cached: user0's 5 newest, user2's older tweets below it
    ("unfollow", 1, 0),  # removes all 5
    ("read", 1, 3),
]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ops=OPS)
@example(ops=SCROLL_PAST_THE_CAP)
@example(ops=CELEBRITY_UP_AND_DOWN)
@example(ops=UNFOLLOW_EMPTIES_THE_CACHE)
def test_home_pages_match_the_naive_model_for_any_operations(ops: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run_scenario(ops, Path(folder)))


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=OPS)
def test_home_pages_match_the_naive_model_on_redis(redis_url: str, ops: list[Op]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run_scenario(ops, Path(folder), redis_url))
