"""Fan-out of conversations: the reply rule asked once per batch of followers, blocks and
mutes left out at push, a post's notifications made by its job (so never lost), and pages
that do not depend on their size."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.timeline.world import WorldMaker
from timeline.config import TimelineConfig


class CountingAudience:
    """Wraps a graph; counts its ``audience`` questions and the readers each named."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.batches: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def audience(self, reader_ids: Any, *args: Any, **kwargs: Any) -> set[int]:
        self.batches.append(len(reader_ids))
        found: set[int] = await self._inner.audience(reader_ids, *args, **kwargs)
        return found


async def test_a_reply_asks_the_graph_once_per_batch_and_reaches_who_follows_both(
    make_world: WorldMaker,
) -> None:
    counting: list[CountingAudience] = []

    def wrap(store: Any, kind: str) -> Any:
        if kind != "graph":
            return store
        counting.append(CountingAudience(store))
        return counting[0]

    world = await make_world(TimelineConfig(batch=4), wrap=wrap)
    author, answered = await world.users("author", "answered")
    readers = await world.users(*(f"reader{n}" for n in range(10)))
    for n, reader in enumerate(readers):
        await world.follow(reader, author)
        if n % 2 == 0:
            await world.follow(reader, answered)
        await world.page(reader)  # a cached timeline, so the push is what fills it
    parent = await world.post(answered, "a question")
    await world.settle()
    counting[0].batches.clear()
    reply = await world.services.tweets.create(author, "an answer", in_reply_to_id=parent.id)
    await world.settle()
    assert counting[0].batches == [4, 4, 2]  # 10 followers, batches of 4: three questions
    for n, reader in enumerate(readers):
        cached = await world.cached(reader) or []
        assert (reply.id in cached) == (n % 2 == 0), n
        shown = await world.page(reader)
        assert (reply.id in shown) == (n % 2 == 0), n


async def test_fan_out_skips_who_blocks_or_mutes_the_author(make_world: WorldMaker) -> None:
    world = await make_world(TimelineConfig())
    author, blocker, muter, plain = await world.users("author", "blocker", "muter", "plain")
    for reader in (blocker, muter, plain):
        await world.follow(reader, author)
        await world.page(reader)
    relations = world.services.relations
    assert relations is not None
    await relations.mute(muter, author)
    await world.follow(blocker, author)
    tweet = await world.post(author, "hello")
    await world.settle()
    assert tweet.id in (await world.cached(plain) or [])
    assert tweet.id not in (await world.cached(muter) or [])
    await relations.block(blocker, author)
    later = await world.post(author, "again")
    await world.settle()
    assert later.id not in (await world.cached(blocker) or [])


async def test_a_replys_notification_survives_a_lost_job_through_the_repair_pass(
    make_world: WorldMaker,
) -> None:
    world = await make_world(TimelineConfig())
    alice, bob = await world.users("alice", "bob")
    notifications = world.services.notifications
    assert notifications is not None
    question = await world.post(alice, "a question")
    await world.settle()
    await world.services.tweets.create(bob, "@alice an answer", in_reply_to_id=question.id)
    # the process dies after storing the reply: its job is taken and never applied
    lost = await world.queue.take("crashed", 10, 0)
    await world.queue.ack([d.id for d in lost])
    assert await notifications.page(alice, 10, None, ()) == []
    await world.fanout.repair(older_than_ms=-60_000)  # counting every pending tweet as stuck
    await world.settle()
    found = await notifications.page(alice, 10, None, ())
    assert [(n.kind, n.actor_id) for n in found] == [("REPLY", bob)]  # once: not also MENTION
    await world.fanout.repair(older_than_ms=-60_000)  # nothing pending any more
    await world.settle()
    assert len(await notifications.page(alice, 10, None, ())) == 1


async def test_home_pages_walked_at_every_size_give_the_same_timeline(
    make_world: WorldMaker,
) -> None:
    world = await make_world(TimelineConfig(cap=6))
    reader, bob, carol = await world.users("reader", "bob", "carol")
    await world.follow(reader, bob, carol)
    await world.page(reader)
    tweets = [await world.post((bob, carol)[n % 2], f"{n}") for n in range(8)]
    for n, tweet in enumerate(tweets[:6]):  # retweets of older tweets, some by the reader
        retweeter = (reader, carol, bob)[n % 3]
        if retweeter != tweet.author_id:
            await world.services.tweets.retweet(retweeter, tweet.id)
    await world.settle()
    walks = {}
    for size in range(1, 16):
        walks[size] = [t for page in await world.pages(reader, size) for t in page]
    whole = walks[15]
    assert all(walk == whole for walk in walks.values()), walks
    rows = await world.services.tweets.get(whole)
    shown = Counter(rows[t].retweet_of_id or t for t in whole)
    assert len(shown) == len(whole)  # each original once
    assert len(whole) == 8  # every original, shown at its newest appearance
    for size in (1, 2, 3, 7):
        assert await world.pages(reader, size) == await world.expected(reader, size), size
