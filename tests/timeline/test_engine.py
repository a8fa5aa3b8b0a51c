"""The timeline engine, one behaviour at a time (DESIGN.md, "Home timelines").

Every test runs twice: on the in-process cache and queue, and on Redis (see
conftest.py). Tweets are fanned out only when a test calls ``settle()``, as a
worker would; timelines are capped at 6 ids and authors are celebrities from
3 followers, so a few tweets reach every path.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any

from core import metrics
from core.ids import id_timestamp_ms
from tests.timeline.world import SMALL, Clock, World, WorldMaker, counter_value, reads
from timeline.config import TimelineConfig
from timeline.port import Window

# --- where a page comes from ---------------------------------------------------------


async def read_counted(world: World, viewer: int, size: int, before: int | None) -> Counter[str]:
    """The page's change to chirp_timeline_reads_total, by source."""
    start = reads()
    await world.page(viewer, size, before)
    delta = reads()
    delta.subtract(start)
    return +delta


async def test_a_first_read_rebuilds_then_the_cache_answers_and_past_the_cap_the_stores(
    make_world: WorldMaker,
) -> None:
    world = await make_world()
    alice = await world.user("alice")
    tweets = [(await world.post(alice, f"tweet {n}")).id for n in range(10)][::-1]
    await world.settle()  # nobody has a cached timeline yet: the pushes go nowhere
    assert await world.cached(alice) is None

    assert await read_counted(world, alice, 3, None) == {"rebuild": 1}
    assert await world.cached(alice) == tweets[:6]  # rebuilt, capped at 6
    assert await read_counted(world, alice, 3, tweets[2]) == {"cache": 1}
    past_the_cap = await read_counted(world, alice, 3, tweets[5])
    assert past_the_cap["store"] == 1
    assert past_the_cap["rebuild"] == 0
    await world.check(alice)


async def test_pages_past_the_cap_reach_the_oldest_tweet_once_each(
    make_world: WorldMaker,
) -> None:
    world = await make_world()
    alice, bob, carol = await world.users("alice", "bob", "carol")
    await world.follow(alice, bob, carol)
    await world.page(alice)  # alice reads: her timeline is cached, tweets are pushed to it
    posted = [(await world.post((alice, bob, carol)[n % 3], f"n{n}")).id for n in range(25)]
    await world.settle()

    assert len(await world.cached(alice) or []) == SMALL.cap
    for size in (1, 2, 4, 5, 6, 7, 30):
        pages = await world.pages(alice, size)
        assert [t for page in pages for t in page] == posted[::-1], size
        assert all(len(page) == size for page in pages[:-1])
    # a cursor right at the cache's oldest id, and just below and above it
    oldest = (await world.cached(alice) or [])[-1]
    for before in (oldest - 1, oldest, oldest + 1):
        assert await world.page(alice, 3, before) == [t for t in posted[::-1] if t < before][:3]


async def test_a_page_behind_many_deleted_but_still_cached_tweets_is_not_cut_short(
    make_world: WorldMaker,
) -> None:
    world = await make_world(TimelineConfig(cap=100, max_windows=2))
    alice = await world.user("alice")
    await world.page(alice)
    posted = [await world.post(alice, f"n{n}") for n in range(60)]
    await world.settle()
    for tweet in posted[10:]:  # their delete jobs have not run: the cache still has them
        await world.delete(tweet)
    assert len(await world.cached(alice) or []) == 60

    # two windows of 21 cached ids, all deleted; the stores answer for the rest
    assert await world.page(alice, 1) == [posted[9].id]
    await world.check(alice, 1, 4)


# --- follow, unfollow, delete ---------------------------------------------------------


async def test_a_follow_backfills_the_followees_tweets_at_once(make_world: WorldMaker) -> None:
    world = await make_world()
    alice, bob = await world.users("alice", "bob")
    own = await world.post(alice, "mine")
    await world.settle()
    assert await world.page(alice) == [own.id]  # alice's timeline is now cached
    theirs = [(await world.post(bob, f"b{n}")).id for n in range(3)][::-1]
    await world.settle()

    await world.follow(alice, bob)  # no fan-out job: the follow itself backfills
    assert await world.cached(alice) == [*theirs, own.id]
    assert await read_counted(world, alice, 4, None) == {"cache": 1}
    await world.check(alice)


async def test_an_unfollow_takes_the_followees_tweets_out(make_world: WorldMaker) -> None:
    world = await make_world()
    alice, bob, carol = await world.users("alice", "bob", "carol")
    await world.follow(alice, bob, carol)
    await world.page(alice)
    for n in range(4):
        await world.post(bob, f"b{n}")
        await world.post(carol, f"c{n}")
    await world.settle()
    bobs = {t.id for t in await world.services.stores.tweets.tweets_by_authors([bob], 100)}

    await world.unfollow(alice, bob)
    assert not bobs & set(await world.cached(alice) or [])
    await world.check(alice)


async def test_a_timeline_emptied_by_an_unfollow_still_reaches_older_tweets(
    make_world: WorldMaker,
) -> None:
    """The cache held only bob's tweets; carol's are older than all of them."""
    world = await make_world()
    alice, bob, carol = await world.users("alice", "bob", "carol")
    await world.follow(alice, bob, carol)
    older = [(await world.post(carol, f"c{n}")).id for n in range(2)][::-1]
    for n in range(SMALL.cap):
        await world.post(bob, f"b{n}")
    await world.settle()
    await world.page(alice)  # rebuilt: bob's 6 tweets fill the cap

    await world.unfollow(alice, bob)
    assert await world.cached(alice) == []  # present and empty, yet not "nothing"
    assert await world.page(alice) == older
    await world.check(alice)


async def test_a_delete_leaves_every_followers_cached_timeline_after_its_job(
    make_world: WorldMaker,
) -> None:
    world = await make_world(TimelineConfig(cap=6, celebrity_threshold=100, batch=2))
    author = await world.user("author")
    followers = await world.users("f1", "f2", "f3", "f4", "f5")
    await world.page(author)
    for follower in followers:
        await world.follow(follower, author)
        await world.page(follower)
    kept = await world.post(author, "kept")
    gone = await world.post(author, "gone")
    await world.settle()
    for user in (author, *followers):
        assert await world.cached(user) == [gone.id, kept.id]

    await world.delete(gone)
    for user in (author, *followers):  # readers filter it out before the job runs
        assert await world.page(user) == [kept.id]
    assert await world.settle() == 1  # the delete job
    for user in (author, *followers):
        assert await world.cached(user) == [kept.id]


# --- celebrities ---------------------------------------------------------------------


async def test_a_celebritys_tweets_are_merged_at_read_and_never_pushed(
    make_world: WorldMaker,
) -> None:
    world = await make_world()
    star = await world.user("star")
    await world.page(star)
    fans = await world.users("fan1", "fan2", "fan3")  # 3 followers: the threshold
    for fan in fans:
        await world.follow(fan, star)
        await world.page(fan)
    deliveries = counter_value(metrics.FANOUT_DELIVERIES)
    tweet = await world.post(star, "to the fans")
    await world.settle()

    assert counter_value(metrics.FANOUT_DELIVERIES) - deliveries == 1  # the star's own only
    assert await world.cached(star) == [tweet.id]
    recent = await world.recent(star)
    assert recent == Window([tweet.id], tweet.id)
    for fan in fans:
        assert tweet.id not in (await world.cached(fan) or [])
    assert star in await world.services.stores.graph.followed_celebrities(fans[0])

    merges = counter_value(metrics.CELEBRITY_MERGES)
    for fan in fans:
        assert await world.page(fan) == [tweet.id]
        assert tweet.id not in (await world.cached(fan) or [])  # still not pushed
    assert counter_value(metrics.CELEBRITY_MERGES) - merges >= len(fans)


async def test_a_first_page_refills_recent_lists_the_cache_lost(make_world: WorldMaker) -> None:
    recorder = Recorder()
    config = TimelineConfig(cap=20, celebrity_threshold=3)
    world = await make_world(config, wrap=recorder.wrap)
    star, fan1, fan2, fan3 = await world.users("star", "fan1", "fan2", "fan3")
    fill = ("tweets.tweets_by_authors", ([star], config.recent_cap))
    for fan in (fan1, fan2, fan3):
        await world.follow(fan, star)  # 3 followers: merged at read from the next post
    older = await world.post(star, "older")
    await world.settle()
    newest = await world.post(star, "newest")
    await world.settle()
    assert await world.recent(star) is not None
    await world.flush_cache()
    assert await world.recent(star) is None

    recorder.clear()
    assert await world.page(fan1) == [newest.id, older.id]
    assert recorder.args.count(fill) == 1
    assert await world.recent(star) == Window([newest.id, older.id], older.id)
    recorder.clear()
    assert await world.page(fan2) == [newest.id, older.id]
    assert fill not in recorder.args  # found in the cache this time
    await world.check(fan2)


async def test_a_celebrity_whose_recent_tweets_are_all_deleted_still_shows_older_ones(
    make_world: WorldMaker,
) -> None:
    world = await make_world()  # recent lists keep 3 ids
    star = await world.user("star")
    fans = await world.users("fan1", "fan2", "fan3")
    for fan in fans:
        await world.post(fan, "older than the star's tweets")
        await world.follow(fan, star)
        await world.page(fan)
    posted = [await world.post(star, f"s{n}") for n in range(5)]
    await world.settle()
    for tweet in posted[2:]:
        await world.delete(tweet)
    await world.settle()
    assert await world.recent(star) == Window([], 0)  # present, and empty

    assert [posted[1].id, posted[0].id] == (await world.page(fans[0]))[:2]
    await world.check(fans[0])


async def check_everyone(world: World, users: list[int]) -> None:
    for user in users:
        await world.check(user, 1, 2, 20)


async def test_crossing_the_threshold_up_and_down_loses_and_duplicates_nothing(
    make_world: WorldMaker,
) -> None:
    world = await make_world(TimelineConfig(cap=6, celebrity_threshold=3, recent_cap=2, batch=2))
    star, fan, other, third, fourth = await world.users("star", "fan", "other", "third", "fourth")
    everyone = [star, fan, other, third, fourth]
    await world.post(fan, "an old tweet of the fan's own")
    await world.follow(fan, star, other)
    await world.post(star, "before fame")
    await world.settle()
    await world.page(fan)  # cached, reaching back to the fan's old tweet
    await check_everyone(world, everyone)

    await world.follow(other, star)
    await world.follow(third, star)  # 3 followers: a celebrity from the next post
    for n in range(4):  # more than the recent list keeps (2)
        await world.post(star, f"famous {n}")
        await world.post(other, f"meanwhile {n}")
        await world.settle()
        await check_everyone(world, everyone)
    assert star in await world.services.stores.graph.followed_celebrities(fan)
    recent = await world.recent(star)
    assert recent is not None
    assert len(recent.ids) == 2

    await world.unfollow(third, star)  # back to 2 followers
    await world.follow(fourth, star)
    await world.unfollow(fourth, star)
    await world.post(star, "forgotten")
    await world.settle()
    assert star not in await world.services.stores.graph.followed_celebrities(fan)
    recent = await world.recent(star)
    assert recent is None or recent.ids == []  # readers stop merging it: emptied
    await check_everyone(world, everyone)

    await world.follow(third, star)  # and up again
    await world.post(star, "famous again")
    await world.settle()
    await check_everyone(world, everyone)


# --- retweets -----------------------------------------------------------------------


async def test_a_retweet_reaches_the_retweeters_followers_and_an_original_shows_once(
    make_world: WorldMaker,
) -> None:
    world = await make_world()
    author, retweeter, both, only_retweeter = await world.users("a", "rt", "both", "only")
    await world.follow(both, author, retweeter)
    await world.follow(only_retweeter, retweeter)
    for user in (both, only_retweeter):
        await world.page(user)
    original = await world.post(author, "worth sharing")
    await world.settle()
    tweets = world.services.tweets
    retweet = await tweets.retweet(retweeter, original.id)
    assert await tweets.retweet(retweeter, retweet.id) == retweet  # of a retweet: the same
    await world.settle()

    assert retweet.id in (await world.cached(only_retweeter) or [])
    assert await world.page(only_retweeter) == [retweet.id]
    # both tweets are cached, but a page shows the original once: the newest occurrence
    assert {original.id, retweet.id} <= set(await world.cached(both) or [])
    assert await world.page(both) == [retweet.id]
    await world.check(both)

    await tweets.undo_retweet(retweeter, original.id)
    assert await world.page(only_retweeter) == []
    assert await world.page(both) == [original.id]
    again = await tweets.retweet(retweeter, original.id)
    await world.settle()
    await world.delete(original)  # a retweet of a deleted tweet shows nowhere
    assert await world.page(only_retweeter) == []
    assert await world.page(both) == []
    await world.settle()
    assert await world.page(retweeter) == []
    assert again.id in (await world.cached(retweeter) or [])  # filtered at read, by design


# --- inactive users --------------------------------------------------------------------


async def test_inactive_followers_get_nothing_pushed_and_are_rebuilt_on_return(
    make_world: WorldMaker,
) -> None:
    clock = Clock()
    world = await make_world(TimelineConfig(cap=6, celebrity_threshold=100), 1, clock)
    author, active, away = await world.users("author", "active", "away")
    await world.follow(active, author)
    await world.follow(away, author)
    await world.page(away)
    await clock.advance(0.6)
    await world.page(active)
    await world.page(author)
    await clock.advance(0.6)  # away has not read for 1.2 s, past the 1 s time-to-live

    deliveries = counter_value(metrics.FANOUT_DELIVERIES)
    tweet = await world.post(author, "while you were away")
    await world.settle()
    assert counter_value(metrics.FANOUT_DELIVERIES) - deliveries == 2  # author and active
    assert await world.cached(active) == [tweet.id]

    assert await read_counted(world, away, 1, None) == {"rebuild": 1}
    assert await world.page(away) == [tweet.id]


# --- at-least-once delivery ---------------------------------------------------------


async def test_the_repair_pass_requeues_a_tweet_whose_job_was_lost(
    make_world: WorldMaker,
) -> None:
    world = await make_world()
    author, reader = await world.users("author", "reader")
    await world.follow(reader, author)
    await world.page(reader)
    done = await world.post(author, "fanned out")
    await world.settle()
    lost = await world.post(author, "its job is lost")
    taken = await world.queue.take("doomed-worker", 10, 0)
    assert [d.job.tweet_id for d in taken] == [lost.id]
    await world.queue.ack([d.id for d in taken])  # acknowledged, never applied
    assert await world.page(reader) == [done.id]  # the cache does not have it

    tweets = world.services.stores.tweets
    await asyncio.sleep(0.005)
    assert await world.fanout.repair(older_than_ms=60_000) == 0  # too recent to be stuck
    repaired = counter_value(metrics.FANOUT_REPAIRED)
    assert await world.fanout.repair(older_than_ms=1) == 1
    assert counter_value(metrics.FANOUT_REPAIRED) - repaired == 1
    assert await world.settle() == 1
    assert await world.page(reader) == [lost.id, done.id]
    assert await tweets.pending_fanout(lost.id + 1, 10) == []
    assert await world.fanout.repair(older_than_ms=1) == 0
    assert id_timestamp_ms(lost.id) >= id_timestamp_ms(done.id)


async def test_applying_the_same_job_twice_is_harmless(make_world: WorldMaker) -> None:
    world = await make_world()
    author, star = await world.users("author", "star")
    readers = await world.users("r1", "r2", "r3")
    for reader in readers:
        await world.follow(reader, author, star)
        await world.page(reader)
    tweet = await world.post(author, "once")
    starred = await world.post(star, "celebrity")
    deliveries = await world.queue.take("twice", 10, 0)
    for delivery in deliveries:
        await world.fanout.apply(delivery.job)
    before = {u: await world.cached(u) for u in (author, *readers)}
    recent = await world.recent(star)
    pushed = counter_value(metrics.FANOUT_DELIVERIES)
    for delivery in deliveries:  # the worker died before acknowledging: it runs again
        await world.fanout.apply(delivery.job)
    await world.queue.ack([d.id for d in deliveries])
    assert counter_value(metrics.FANOUT_DELIVERIES) == pushed
    assert {u: await world.cached(u) for u in (author, *readers)} == before
    assert await world.recent(star) == recent
    for reader in readers:
        assert await world.page(reader) == [starred.id, tweet.id]

    await world.delete(tweet)
    (delete,) = await world.queue.take("twice", 10, 0)
    await world.fanout.apply(delete.job)
    await world.fanout.apply(delete.job)
    for reader in readers:
        assert tweet.id not in (await world.cached(reader) or [])
        await world.check(reader)


# --- cost of a page ------------------------------------------------------------------


class Counting:
    """Wraps a store; counts every call of its methods by name and keeps their arguments."""

    def __init__(
        self, inner: Any, prefix: str, calls: Counter[str], args: list[tuple[str, tuple[Any, ...]]]
    ) -> None:
        self._inner = inner
        self._prefix = prefix
        self._calls = calls
        self._args = args

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._inner, name)
        if not callable(target):
            return target

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._calls[f"{self._prefix}.{name}"] += 1
            self._args.append((f"{self._prefix}.{name}", args))
            return await target(*args, **kwargs)

        return call


class Recorder:
    """The graph's and the tweet store's calls, for ``make_world(wrap=...)``."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.args: list[tuple[str, tuple[Any, ...]]] = []

    def wrap(self, inner: Any, name: str) -> Counting:
        return Counting(inner, name, self.calls, self.args)

    def clear(self) -> None:
        self.calls.clear()
        self.args.clear()

    def first_args(self, name: str) -> list[Any]:
        """The first argument of each call of ``name``, in call order."""
        return [args[0] for called, args in self.args if called == name]


FULL_LIST = ("graph.following_ids",)


async def test_a_page_costs_the_same_store_calls_whatever_the_followees_and_page_size(
    make_world: WorldMaker,
) -> None:
    recorder = Recorder()
    calls = recorder.calls
    config = TimelineConfig(cap=8, celebrity_threshold=3, batch=4)
    world = await make_world(config, wrap=recorder.wrap)
    few, many, star_fan = await world.users("few", "many", "fan")
    authors = await world.users(*(f"author{n}" for n in range(12)))
    star = authors[0]
    await world.follow(star_fan, star)
    await world.follow(few, *authors[:3])
    await world.follow(many, *authors)  # the star has 3 followers: merged at read
    for reader in (few, many):
        await world.page(reader)
    for n in range(5):
        for author in authors:
            await world.post(author, f"{n}")
    await world.settle()

    async def cost(viewer: int, size: int, before: int | None = None) -> Counter[str]:
        recorder.clear()
        page = await world.page(viewer, size, before)
        assert len(page) == size
        return Counter(calls)

    cached = await cost(few, 3)
    assert cached == await cost(many, 3) == await cost(many, 8)
    # the celebrities followed, one batch of tweets by id, one check of their authors' edges,
    # whom the viewer blocks, is blocked by or mutes (asked once per read)
    assert cached == {
        "graph.followed_celebrities": 1,
        "tweets.get_tweets": 1,
        "graph.existing_follows": 1,
        "graph.hidden_ids": 1,
    }
    # past the cached timeline the store is asked by author instead, once: that needs
    # every followee
    deep = await cost(many, 3, (await world.cached(many) or [])[-1])
    assert deep == await cost(many, 20, (await world.cached(many) or [])[-1])
    assert deep == await cost(few, 3, (await world.cached(few) or [])[-1])
    assert deep == {
        "graph.followed_celebrities": 1,
        "graph.following_ids": 1,
        "graph.hidden_ids": 1,
        "tweets.tweets_by_authors": 1,
    }
    await world.check(many)


async def test_a_warm_read_asks_the_graph_only_about_the_authors_on_the_page(
    make_world: WorldMaker,
) -> None:
    recorder = Recorder()
    config = TimelineConfig(cap=200, celebrity_threshold=3, recent_cap=20)
    world = await make_world(config, wrap=recorder.wrap)
    viewer, star, fan1, fan2 = await world.users("viewer", "star", "fan1", "fan2")
    authors = await world.users(*(f"author{n}" for n in range(40)))
    await world.follow(viewer, star, *authors)
    await world.follow(fan1, star)
    await world.follow(fan2, star)  # 3 followers: the star is merged at read
    await world.page(viewer)
    for author in [viewer, star, *authors, viewer, star]:
        await world.post(author, "hello")
    await world.settle()
    assert (await world.recent(star) or Window([], 0)).ids  # the star is a celebrity now

    size = 5
    before: int | None = None
    for _ in range(3):  # three pages deep, all inside the cached timeline
        recorder.clear()
        page = await world.page(viewer, size, before)
        assert len(page) == size
        assert not any(recorder.calls[name] for name in FULL_LIST), recorder.calls
        assert recorder.calls["graph.followed_celebrities"] == 1
        hydrated = {i for ids in recorder.first_args("tweets.get_tweets") for i in ids}
        shown = await world.services.stores.tweets.get_tweets(sorted(hydrated))
        (pairs,) = recorder.first_args("graph.existing_follows")
        # only the hydrated chunk's authors, each once, never the viewer or a known celebrity
        assert len(pairs) == len(set(pairs)) <= size + config.hydrate_margin
        assert {followee for _, followee in pairs} <= {t.author_id for t in shown.values()}
        assert {follower for follower, _ in pairs} == {viewer}
        assert not {viewer, star} & {followee for _, followee in pairs}
        before = page[-1]
    await world.check(viewer, 1, 5, 20)


async def test_a_page_hydrates_what_it_needs_plus_a_margin_not_every_candidate(
    make_world: WorldMaker,
) -> None:
    recorder = Recorder()
    config = TimelineConfig(cap=200, celebrity_threshold=3, recent_cap=50)
    world = await make_world(config, wrap=recorder.wrap)
    viewer, star, fan1, fan2 = await world.users("viewer", "star", "fan1", "fan2")
    authors = await world.users(*(f"author{n}" for n in range(5)))
    await world.follow(viewer, star, *authors)
    await world.follow(fan1, star)
    await world.follow(fan2, star)
    await world.page(viewer)
    posted = [await world.post((star, *authors)[n % 6], f"{n}") for n in range(60)]
    await world.settle()
    newest = posted[::-1]
    size, margin = 5, config.hydrate_margin

    async def hydrated() -> list[list[int]]:
        """The id batches the page asked the tweet store for, checking the page itself."""
        expected = (await world.expected(viewer, size))[0]
        recorder.clear()
        assert await world.page(viewer, size) == expected
        return recorder.first_args("tweets.get_tweets")

    # a window of 25 cached ids and the star's recent ones were candidates; 10 were hydrated
    assert [len(chunk) for chunk in await hydrated()] == [size + margin]
    # deleted (their jobs not run yet): still candidates, dropped after hydration
    for tweet in newest[:4]:
        await world.delete(tweet)
    assert [len(chunk) for chunk in await hydrated()] == [size + margin]
    for tweet in newest[4:8]:
        await world.delete(tweet)
    # the first 10 kept 2: the second chunk is the 3 still needed plus the margin
    assert [len(chunk) for chunk in await hydrated()] == [size + margin, 3 + margin]
    await world.check(viewer, 1, 5, 20)
    assert await world.settle() == 8
    await world.check(viewer, 1, 5, 20)


async def test_an_unfollowed_authors_tweets_left_in_the_cache_are_filtered_at_read(
    make_world: WorldMaker,
) -> None:
    recorder = Recorder()
    world = await make_world(TimelineConfig(cap=20, celebrity_threshold=100), wrap=recorder.wrap)
    viewer, bob, carol = await world.users("viewer", "bob", "carol")
    await world.follow(viewer, bob, carol)
    await world.page(viewer)
    for n in range(4):
        for author in (viewer, bob, carol):
            await world.post(author, f"{n}")
    await world.settle()
    # straight in the graph, as if the engine's purge had failed or raced a fan-out
    await world.services.stores.graph.unfollow(viewer, bob)
    bobs = {t.id for t in await world.services.stores.tweets.tweets_by_authors([bob], 100)}
    assert bobs <= set(await world.cached(viewer) or [])

    recorder.clear()
    page = await world.page(viewer, 6)
    assert not bobs & set(page)
    assert len(page) == 6
    assert not any(recorder.calls[name] for name in FULL_LIST), recorder.calls
    assert recorder.calls["graph.existing_follows"] == 1
    (pairs,) = recorder.first_args("graph.existing_follows")
    assert sorted(pairs) == sorted({(viewer, bob), (viewer, carol)})  # the viewer is not asked
    await world.check(viewer, 1, 4, 20)


async def test_the_followee_list_is_loaded_once_and_only_by_the_paths_needing_every_followee(
    make_world: WorldMaker,
) -> None:
    recorder = Recorder()
    world = await make_world(wrap=recorder.wrap)  # cap 6
    alice, bob, carol = await world.users("alice", "bob", "carol")
    await world.follow(alice, bob, carol)
    older = [(await world.post(carol, f"c{n}")).id for n in range(2)][::-1]
    bobs = [(await world.post(bob, f"b{n}")).id for n in range(SMALL.cap)][::-1]
    await world.settle()

    async def full_lists(size: int, before: int | None = None) -> int:
        recorder.clear()
        await world.page(alice, size, before)
        return recorder.calls["graph.following_ids"]

    assert await full_lists(3) == 1  # a rebuild of the absent timeline
    assert await full_lists(3) == 0  # then the cache answers
    assert await full_lists(3, bobs[2]) == 0
    assert await full_lists(3, bobs[-1]) == 1  # past the cache: the pull continuation
    assert await full_lists(10) == 1  # the cache, then the same continuation
    await world.unfollow(alice, bob)
    assert await world.cached(alice) == []
    assert await full_lists(3) == 1  # an emptied timeline: the store answers
    assert await world.page(alice) == older


async def test_the_pull_strategy_reads_every_followee_on_each_page(
    make_world: WorldMaker,
) -> None:
    recorder = Recorder()
    world = await make_world(TimelineConfig(strategy="pull"), wrap=recorder.wrap)
    alice, bob = await world.users("alice", "bob")
    await world.follow(alice, bob)
    for n in range(4):
        await world.post((alice, bob)[n % 2], f"{n}")
    await world.settle()
    recorder.clear()
    assert len(await world.page(alice, 3)) == 3
    assert recorder.calls == {
        "graph.following_ids": 1,
        "graph.hidden_ids": 1,  # whom the viewer blocks, is blocked by or mutes
        "tweets.tweets_by_authors": 1,
    }
    await world.check(alice)
