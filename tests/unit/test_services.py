"""The services above the ports (services/, built by bootstrap/services.py).

They run against the real embedded adapters (SQLite files in a temporary
folder, the in-memory timeline cache), built the way the app builds them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bootstrap.services import build_services
from core.errors import UserError, UserErrors
from core.ids import SnowflakeGenerator
from core.models import TweetRecord, UserRecord
from core.security import Passwords, Tokens
from docstore.sqlite import SqliteTweetStore
from graph.sqlite import SqliteSocialGraph
from services.container import Services, Stores
from timeline.memory import MemoryTimelineCache

FAST_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
SECRET = "unit-test-signing-key-of-at-least-32-characters"
PASSWORD = "correct horse"


@asynccontextmanager
async def open_services(folder: Path) -> AsyncIterator[Services]:
    graph = SqliteSocialGraph(folder / "graph.sqlite3")
    tweets = SqliteTweetStore(folder / "tweets.sqlite3")
    await graph.open()
    await tweets.open()
    stores = Stores(graph=graph, tweets=tweets, timelines=MemoryTimelineCache())
    try:
        yield build_services(
            stores,
            SnowflakeGenerator(worker_id=1),
            Tokens(SECRET, 3600),
            "https://chirp.test/",
            passwords=FAST_PASSWORDS,
        )
    finally:
        await stores.close()


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    async with open_services(tmp_path) as built:
        yield built


async def sign_up(services: Services, handle: str) -> UserRecord:
    _token, user = await services.accounts.sign_up(handle, PASSWORD, None, None)
    return user


async def user_error(call: object) -> UserError:
    assert asyncio.iscoroutine(call)
    with pytest.raises(UserError) as caught:
        await call
    return caught.value


async def stored_count(services: Services, author: int) -> int:
    return (await services.stores.tweets.count_by_authors([author]))[author]


def test_the_public_url_loses_its_trailing_slash() -> None:
    async def run() -> str:
        with tempfile.TemporaryDirectory() as folder:
            async with open_services(Path(folder)) as built:
                return built.public_url

    assert asyncio.run(run()) == "https://chirp.test"


# --- accounts ---------------------------------------------------------------------


async def test_sign_up_creates_the_user_and_returns_a_token_for_them(services: Services) -> None:
    token, user = await services.accounts.sign_up("  Alice_1 ", PASSWORD, " Alice  A. ", "hi\r\n")
    assert (user.handle, user.display_name, user.bio) == ("Alice_1", "Alice  A.", "hi")
    assert services.tokens.verify(token).user_id == user.id
    assert await services.stores.graph.get_users([user.id]) == {user.id: user}


async def test_sign_up_without_a_display_name_uses_the_handle(services: Services) -> None:
    _token, user = await services.accounts.sign_up("bob", PASSWORD, None, None)
    assert (user.display_name, user.bio) == ("bob", "")
    _token, blank = await services.accounts.sign_up("carol", PASSWORD, "   ", "")
    assert blank.display_name == "carol"


async def test_sign_up_stores_a_hash_not_the_password(services: Services) -> None:
    user = await sign_up(services, "alice")
    credentials = await services.stores.graph.get_credentials("alice")
    assert credentials is not None
    assert credentials.user_id == user.id
    assert credentials.password_hash.startswith("$argon2id$")
    assert PASSWORD not in credentials.password_hash


async def test_sign_up_reports_every_invalid_field_at_once(services: Services) -> None:
    with pytest.raises(UserErrors) as caught:
        await services.accounts.sign_up("bad handle!", "short", "n" * 51, "b" * 161)
    reported = [(e.code, e.field) for e in caught.value.errors]
    assert reported == [
        ("INVALID_HANDLE", "handle"),
        ("WEAK_PASSWORD", "password"),
        ("TOO_LONG", "displayName"),
        ("TOO_LONG", "bio"),
    ]
    assert all(e.message for e in caught.value.errors)
    assert await services.stores.graph.get_credentials("bad handle!") is None


async def test_sign_up_with_one_bad_field_reports_just_that_one(services: Services) -> None:
    with pytest.raises(UserErrors) as caught:
        await services.accounts.sign_up("fine", "short", None, None)
    assert [(e.code, e.field) for e in caught.value.errors] == [("WEAK_PASSWORD", "password")]


async def test_a_taken_handle_is_refused_case_insensitively(services: Services) -> None:
    await sign_up(services, "Alice")
    for clash in ("Alice", "alice", "ALICE", " aLiCe "):
        error = await user_error(services.accounts.sign_up(clash, PASSWORD, None, None))
        assert (error.code, error.field) == ("HANDLE_TAKEN", "handle")


async def test_concurrent_sign_ups_for_one_handle_let_exactly_one_win(services: Services) -> None:
    results = await asyncio.gather(
        *(services.accounts.sign_up(h, PASSWORD, None, None) for h in ("race", "RACE", "Race")),
        return_exceptions=True,
    )
    winners = [r for r in results if isinstance(r, tuple)]
    losers = [r for r in results if isinstance(r, UserError)]
    assert len(winners) == 1
    assert [e.code for e in losers] == ["HANDLE_TAKEN", "HANDLE_TAKEN"]


async def test_log_in_accepts_the_handle_in_any_case(services: Services) -> None:
    user = await sign_up(services, "Alice")
    token, found = await services.accounts.log_in("  aLICE ", PASSWORD)
    assert found == user
    assert services.tokens.verify(token).user_id == user.id


async def test_log_in_fails_identically_for_unknown_handle_and_wrong_password(
    services: Services,
) -> None:
    await sign_up(services, "alice")
    wrong = await user_error(services.accounts.log_in("alice", "not the password"))
    unknown = await user_error(services.accounts.log_in("nobody", PASSWORD))
    empty = await user_error(services.accounts.log_in("", ""))
    for error in (wrong, unknown, empty):
        assert error.code == "INVALID_CREDENTIALS"
        assert error.field is None
    assert wrong.message == unknown.message == empty.message


async def test_update_profile_changes_only_what_is_given(services: Services) -> None:
    user = await sign_up(services, "alice")
    renamed = await services.accounts.update_profile(user.id, " Alice A. ", None)
    assert (renamed.display_name, renamed.bio) == ("Alice A.", "")
    rebio = await services.accounts.update_profile(user.id, None, "new bio")
    assert (rebio.display_name, rebio.bio) == ("Alice A.", "new bio")


async def test_update_profile_validates_every_field(services: Services) -> None:
    user = await sign_up(services, "alice")
    with pytest.raises(UserErrors) as caught:
        await services.accounts.update_profile(user.id, "  ", "b" * 161)
    assert sorted((e.code, e.field) for e in caught.value.errors) == [
        ("EMPTY", "displayName"),
        ("TOO_LONG", "bio"),
    ]
    missing = await user_error(services.accounts.update_profile(424242, "x", None))
    assert missing.code == "NOT_FOUND"


# --- follows -------------------------------------------------------------------


async def test_following_yourself_is_refused(services: Services) -> None:
    alice = await sign_up(services, "alice")
    error = await user_error(services.social.follow(alice.id, alice.id))
    assert (error.code, error.field) == ("SELF_FOLLOW", "userId")
    error = await user_error(services.social.unfollow(alice.id, alice.id))
    assert error.code == "SELF_FOLLOW"


async def test_following_a_missing_user_is_not_found(services: Services) -> None:
    alice = await sign_up(services, "alice")
    error = await user_error(services.social.follow(alice.id, 424242))
    assert (error.code, error.field) == ("NOT_FOUND", "userId")
    error = await user_error(services.social.unfollow(alice.id, 424242))
    assert error.code == "NOT_FOUND"


async def test_follow_and_unfollow_are_idempotent(services: Services) -> None:
    alice, bob = await sign_up(services, "alice"), await sign_up(services, "bob")
    assert await services.social.follow(alice.id, bob.id) == bob
    assert await services.social.follow(alice.id, bob.id) == bob
    graph = services.stores.graph
    assert await graph.count_followers([bob.id]) == {bob.id: 1}
    assert await services.social.unfollow(alice.id, bob.id) == bob
    assert await services.social.unfollow(alice.id, bob.id) == bob
    assert await graph.count_followers([bob.id]) == {bob.id: 0}


# --- tweets: create, idempotency, delete ------------------------------------------


async def test_create_stores_the_cleaned_text_and_its_hashtags(services: Services) -> None:
    alice = await sign_up(services, "alice")
    created = await services.tweets.create(alice.id, "  Hello #World #world\r\n#Chirp ")
    assert created.text == "Hello #World #world\n#Chirp"
    assert created.hashtags == ("world", "chirp")
    assert created.author_id == alice.id
    assert await services.stores.tweets.get_tweets([created.id]) == {created.id: created}


async def test_create_refuses_empty_and_too_long_text(services: Services) -> None:
    alice = await sign_up(services, "alice")
    assert (await user_error(services.tweets.create(alice.id, " \n "))).code == "EMPTY"
    assert (await user_error(services.tweets.create(alice.id, "x" * 281))).code == "TOO_LONG"
    assert await stored_count(services, alice.id) == 0


async def test_a_retried_create_with_the_same_key_returns_the_same_tweet(
    services: Services,
) -> None:
    alice = await sign_up(services, "alice")
    first = await services.tweets.create(alice.id, "hello", "key-1")
    again = await services.tweets.create(alice.id, "hello", "key-1")
    same_clean_text = await services.tweets.create(alice.id, "  hello\n", "key-1")
    assert again == first
    assert same_clean_text == first
    assert await stored_count(services, alice.id) == 1


async def test_a_key_reused_for_different_text_is_refused(services: Services) -> None:
    alice = await sign_up(services, "alice")
    await services.tweets.create(alice.id, "hello", "key-1")
    error = await user_error(services.tweets.create(alice.id, "goodbye", "key-1"))
    assert error.code == "IDEMPOTENCY_KEY_REUSED"
    assert await stored_count(services, alice.id) == 1


async def test_the_same_key_of_different_users_is_independent(services: Services) -> None:
    alice, bob = await sign_up(services, "alice"), await sign_up(services, "bob")
    mine = await services.tweets.create(alice.id, "hello", "shared-key")
    theirs = await services.tweets.create(bob.id, "different text", "shared-key")
    assert mine.id != theirs.id
    assert (mine.author_id, theirs.author_id) == (alice.id, bob.id)


async def test_creates_without_a_key_are_never_merged(services: Services) -> None:
    alice = await sign_up(services, "alice")
    a = await services.tweets.create(alice.id, "same")
    b = await services.tweets.create(alice.id, "same")
    assert a.id != b.id
    assert await stored_count(services, alice.id) == 2


async def test_20_concurrent_creates_with_one_key_store_exactly_one_tweet(
    services: Services,
) -> None:
    alice = await sign_up(services, "alice")
    results = await asyncio.gather(
        *(services.tweets.create(alice.id, "only once", "retry-key") for _ in range(20))
    )
    assert len({r.id for r in results}) == 1
    assert await stored_count(services, alice.id) == 1


@pytest.mark.parametrize("bad_key", ["", "k" * 256, "ключ", "tab\there", "new\nline"])
async def test_malformed_idempotency_keys_are_refused(services: Services, bad_key: str) -> None:
    alice = await sign_up(services, "alice")
    error = await user_error(services.tweets.create(alice.id, "hello", bad_key))
    assert error.code == "INVALID_IDEMPOTENCY_KEY"
    assert await stored_count(services, alice.id) == 0


async def test_a_retry_after_the_first_tweet_was_deleted_is_not_found(services: Services) -> None:
    alice = await sign_up(services, "alice")
    first = await services.tweets.create(alice.id, "hello", "key-1")
    await services.tweets.delete(alice.id, first.id)
    error = await user_error(services.tweets.create(alice.id, "hello", "key-1"))
    assert error.code == "NOT_FOUND"
    assert await stored_count(services, alice.id) == 0


async def test_only_the_author_can_delete_a_tweet(services: Services) -> None:
    alice, bob = await sign_up(services, "alice"), await sign_up(services, "bob")
    created = await services.tweets.create(alice.id, "mine")
    error = await user_error(services.tweets.delete(bob.id, created.id))
    assert (error.code, error.field) == ("FORBIDDEN", "id")
    assert await services.stores.tweets.get_tweets([created.id]) == {created.id: created}

    assert await services.tweets.delete(alice.id, created.id) == created
    assert await services.stores.tweets.get_tweets([created.id]) == {}


async def test_deleting_a_missing_tweet_is_not_found(services: Services) -> None:
    alice = await sign_up(services, "alice")
    error = await user_error(services.tweets.delete(alice.id, 424242))
    assert (error.code, error.field) == ("NOT_FOUND", "id")
    created = await services.tweets.create(alice.id, "short-lived")
    await services.tweets.delete(alice.id, created.id)
    assert (await user_error(services.tweets.delete(alice.id, created.id))).code == "NOT_FOUND"


# --- likes -------------------------------------------------------------------


async def like_count(services: Services, tweet_id: int) -> int:
    return (await services.stores.tweets.get_tweets([tweet_id]))[tweet_id].like_count


async def test_like_and_unlike_are_idempotent(services: Services) -> None:
    alice, bob = await sign_up(services, "alice"), await sign_up(services, "bob")
    created = await services.tweets.create(alice.id, "like me")
    await services.tweets.like(bob.id, created.id)
    await services.tweets.like(bob.id, created.id)
    assert await like_count(services, created.id) == 1
    await services.tweets.unlike(bob.id, created.id)
    await services.tweets.unlike(bob.id, created.id)
    assert await like_count(services, created.id) == 0


async def test_liking_a_missing_tweet_is_not_found(services: Services) -> None:
    bob = await sign_up(services, "bob")
    error = await user_error(services.tweets.like(bob.id, 424242))
    assert (error.code, error.field) == ("NOT_FOUND", "tweetId")
    error = await user_error(services.tweets.unlike(bob.id, 424242))
    assert (error.code, error.field) == ("NOT_FOUND", "tweetId")


async def test_20_concurrent_likes_by_different_users_count_20(services: Services) -> None:
    alice = await sign_up(services, "alice")
    fans = [await sign_up(services, f"fan{n}") for n in range(20)]
    created = await services.tweets.create(alice.id, "popular")
    await asyncio.gather(*(services.tweets.like(f.id, created.id) for f in fans))
    assert await like_count(services, created.id) == 20
    await asyncio.gather(*(services.tweets.unlike(f.id, created.id) for f in fans[:5]))
    assert await like_count(services, created.id) == 15


async def test_20_concurrent_likes_by_one_user_count_once(services: Services) -> None:
    alice, bob = await sign_up(services, "alice"), await sign_up(services, "bob")
    created = await services.tweets.create(alice.id, "tap tap tap")
    await asyncio.gather(*(services.tweets.like(bob.id, created.id) for _ in range(20)))
    assert await like_count(services, created.id) == 1
    await asyncio.gather(*(services.tweets.unlike(bob.id, created.id) for _ in range(20)))
    assert await like_count(services, created.id) == 0


# --- home timeline -------------------------------------------------------------------


async def read_all_pages(services: Services, viewer: int, size: int) -> list[list[TweetRecord]]:
    pages: list[list[TweetRecord]] = []
    before: int | None = None
    while page := await services.home.read(viewer, size, before):
        assert len(page) <= size
        pages.append(page)
        before = page[-1].id
    return pages


async def test_home_holds_the_viewer_and_followees_only_newest_first(services: Services) -> None:
    alice, bob, carol = [await sign_up(services, h) for h in ("alice", "bob", "carol")]
    await services.social.follow(alice.id, bob.id)
    posted = [
        await services.tweets.create(author.id, f"tweet {n}")
        for n, author in enumerate([alice, bob, carol, bob, alice, carol])
    ]
    home = await services.home.read(alice.id, 20, None)
    assert home == [t for t in reversed(posted) if t.author_id != carol.id]

    assert await services.home.read(carol.id, 20, None) == [
        t for t in reversed(posted) if t.author_id == carol.id
    ]


async def test_home_drops_an_unfollowed_users_tweets(services: Services) -> None:
    alice, bob = await sign_up(services, "alice"), await sign_up(services, "bob")
    await services.social.follow(alice.id, bob.id)
    theirs = await services.tweets.create(bob.id, "hi")
    assert await services.home.read(alice.id, 20, None) == [theirs]
    await services.social.unfollow(alice.id, bob.id)
    assert await services.home.read(alice.id, 20, None) == []


async def test_home_pages_by_before_id_yield_every_tweet_exactly_once(
    services: Services,
) -> None:
    users = [await sign_up(services, h) for h in ("alice", "bob", "carol")]
    for other in users[1:]:
        await services.social.follow(users[0].id, other.id)
    posted = [await services.tweets.create(users[n % 3].id, f"tweet {n}") for n in range(25)]

    pages = await read_all_pages(services, users[0].id, 4)
    assert [len(p) for p in pages] == [4, 4, 4, 4, 4, 4, 1]
    assert [t for page in pages for t in page] == posted[::-1]


async def test_user_timeline_can_leave_out_replies(services: Services) -> None:
    alice = await sign_up(services, "alice")
    own = await services.tweets.create(alice.id, "own")
    reply = await services.tweets.create(alice.id, "re", in_reply_to_id=own.id)
    counted = dataclasses.replace(own, reply_count=1)  # the reply counts on its parent
    assert await services.tweets.by_author(alice.id, 10, None, include_replies=True) == [
        reply,
        counted,
    ]
    assert await services.tweets.by_author(alice.id, 10, None, include_replies=False) == [counted]


# --- the home timeline against a naive model ----------------------------------------

USERS = 4
OPS = st.lists(
    st.tuples(
        st.sampled_from(["post", "post", "follow", "follow", "unfollow", "delete", "check"]),
        st.integers(0, USERS - 1),
        st.integers(0, 1000),
    ),
    max_size=30,
)


async def run_scenario(folder: Path, ops: list[tuple[str, int, int]]) -> None:
    async with open_services(folder) as services:
        users = [await sign_up(services, f"user{n}") for n in range(USERS)]
        follows: set[tuple[int, int]] = set()  # (follower index, followee index)
        alive: dict[int, int] = {}  # tweet id -> author index

        async def check(viewer: int, size: int) -> None:
            # timelines are eventually consistent: apply the queued fan-out first
            queue = services.stores.queue
            while deliveries := await queue.take("test", 100, 0):
                for delivery in deliveries:
                    await services.fanout.apply(delivery.job)
                await queue.ack([d.id for d in deliveries])
            authors = {viewer} | {b for a, b in follows if a == viewer}
            expected = sorted((t for t, a in alive.items() if a in authors), reverse=True)
            pages = await read_all_pages(services, users[viewer].id, size)
            got = [[t.id for t in page] for page in pages]
            assert got == [expected[i : i + size] for i in range(0, len(expected), size)]
            for page in pages:
                assert all(users[alive[t.id]].id == t.author_id for t in page)

        for kind, who, arg in ops:
            if kind == "post":
                created = await services.tweets.create(users[who].id, f"post {arg}")
                alive[created.id] = who
            elif kind in {"follow", "unfollow"}:
                target = arg % USERS
                call = services.social.follow if kind == "follow" else services.social.unfollow
                if target == who:
                    assert (await user_error(call(users[who].id, users[who].id))).code == (
                        "SELF_FOLLOW"
                    )
                    continue
                await call(users[who].id, users[target].id)
                if kind == "follow":
                    follows.add((who, target))
                else:
                    follows.discard((who, target))
            elif kind == "delete" and alive:
                victim = sorted(alive)[arg % len(alive)]
                author = alive.pop(victim)
                await services.tweets.delete(users[author].id, victim)
            elif kind == "check":
                await check(who, 1 + arg % 4)

        for viewer in range(USERS):
            for size in (1, 3, 100):
                await check(viewer, size)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(ops=OPS)
def test_home_pages_match_a_naive_recomputation(ops: list[tuple[str, int, int]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run_scenario(Path(folder), ops))
