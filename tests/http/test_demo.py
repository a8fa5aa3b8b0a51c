"""``python app.py demo``: a small demo world (60 users, 400 tweets), read through the API.

The world is written once for the module, into a data folder of its own, by the
demo's own ``run``; each test reads it through a fresh in-process app on that folder
(as ``python app.py`` would serve it after the demo), or runs the command line on it.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from app import build_parser, create_app
from bootstrap.demo import DEMO_HANDLE, DemoConfig, DemoRefused, plan, reset_embedded, run
from bootstrap.demo_words import BURST
from bootstrap.services import Overrides
from bootstrap.settings import Settings, load_settings
from core.security import Tokens
from tests.conftest import FAST_PASSWORDS, SECRET, GraphQLClient
from tests.processes import environment
from tests.processes import run as run_chirp

CONFIG = DemoConfig(users=60, tweets=400, seed=7, images=4, password="demo-test-password")
Client = Callable[..., Awaitable[TestClient[Any, Any]]]

LOG_IN = """mutation($h: String!, $p: String!) {
  logIn(input: {handle: $h, password: $p}) { token errors { code } } }"""
HOME = """query { homeTimeline(first: 50) { edges { node {
  text createdAt likeCount author { handle } } } } }"""
TRENDS = "{ trends(limit: 5) { name tweetCount accountCount } }"
SEARCH = """query($q: String!) { search(query: $q, first: 50) { edges { node {
  text author { handle } } } } }"""
NOTIFICATIONS = """{ notifications(first: 50) { unreadCount edges { node {
  kind actor { handle } } } } }"""
WHO = "{ whoToFollow(limit: 5) { handle } }"
TWEETS = """query($h: String!) { user(handle: $h) { tweetsCount followersCount
  tweets(first: 100, includeReplies: true) { edges { node { text media { url kind width } } } }
  lists(first: 5) { edges { node { name memberCount } } }
  moments(first: 5) { edges { node { title tweetCount } } } } }"""
BOOKMARKS = "{ bookmarks(first: 20) { edges { node { id } } } }"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The settings of a data folder the demo has filled."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("demo") / "data",
        secret_key=SECRET,
        public_url="https://chirp.test",
    )
    started = time.monotonic()
    summary = asyncio.run(run(settings, CONFIG))
    assert time.monotonic() - started < 60
    assert summary.users == CONFIG.users
    assert summary.tweets > CONFIG.tweets  # and the burst
    assert summary.images == CONFIG.images
    return settings


@pytest.fixture
async def gql(world: Settings, aiohttp_client: Client) -> GraphQLClient:
    app = create_app(world, Overrides(passwords=FAST_PASSWORDS))
    return GraphQLClient(await aiohttp_client(app))


async def demo_token(gql: GraphQLClient) -> str:
    """A token of the demo user, as logIn issues (without paying for argon2 again)."""
    found = await gql.ok('{ user(handle: "demo") { id } }')
    return Tokens(SECRET, 3600).issue(int(found["user"]["id"]))


async def test_the_demo_user_logs_in_and_has_a_home_timeline(gql: GraphQLClient) -> None:
    data = await gql.ok(LOG_IN, {"h": DEMO_HANDLE, "p": CONFIG.password})
    assert data["logIn"]["errors"] == []
    token = data["logIn"]["token"]
    edges = (await gql.ok(HOME, token=token))["homeTimeline"]["edges"]
    assert len(edges) == 50
    times = [datetime.fromisoformat(e["node"]["createdAt"]).timestamp() for e in edges]
    assert times == sorted(times, reverse=True)
    assert time.time() - times[0] < 3600  # the burst of the last hour is on top
    assert all(time.time() - t < CONFIG.days * 86_400 for t in times)
    assert len({e["node"]["author"]["handle"] for e in edges}) > 10


async def test_every_demo_account_logs_in_with_the_password(gql: GraphQLClient) -> None:
    other = plan(CONFIG).users[5].handle
    data = await gql.ok(LOG_IN, {"h": other, "p": CONFIG.password})
    assert data["logIn"]["errors"] == []
    wrong = await gql.ok(LOG_IN, {"h": DEMO_HANDLE, "p": "not the password"})
    assert wrong["logIn"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]


async def test_the_burst_tag_trends_first(gql: GraphQLClient) -> None:
    trends = (await gql.ok(TRENDS))["trends"]
    assert [t["name"] for t in trends[:2]] == [BURST[0][0].casefold(), BURST[1][0].casefold()]
    assert trends[0]["accountCount"] >= 0.3 * CONFIG.users * 0.9


async def test_search_finds_the_demo_words(gql: GraphQLClient) -> None:
    for query in ("coffee", "#chirplaunch"):
        edges = (await gql.ok(SEARCH, {"q": query}))["search"]["edges"]
        assert edges, query
        assert all(query.lstrip("#") in e["node"]["text"].lower() for e in edges)


async def test_the_demo_user_has_notifications_suggestions_bookmarks_lists_a_moment(
    gql: GraphQLClient,
) -> None:
    token = await demo_token(gql)
    notifications = (await gql.ok(NOTIFICATIONS, token=token))["notifications"]
    kinds = {e["node"]["kind"] for e in notifications["edges"]}
    assert notifications["unreadCount"] > 0
    assert {"LIKE", "FOLLOW"} <= kinds or {"LIKE", "REPLY"} <= kinds, kinds
    assert len((await gql.ok(WHO, token=token))["whoToFollow"]) == 5
    assert (await gql.ok(BOOKMARKS, token=token))["bookmarks"]["edges"]
    demo = (await gql.ok(TWEETS, {"h": DEMO_HANDLE}, token))["user"]
    assert demo["followersCount"] > 0
    assert [e["node"]["name"] for e in demo["lists"]["edges"]] == ["Close friends", "Good follows"]
    assert [e["node"]["title"] for e in demo["moments"]["edges"]] == ["Launch day"]
    assert demo["moments"]["edges"][0]["node"]["tweetCount"] > 0


async def test_the_photos_are_served(gql: GraphQLClient) -> None:
    the_plan = plan(CONFIG)
    authors = {the_plan.users[p.author].handle for p in the_plan.posts if p.image is not None}
    urls: list[str] = []
    for handle in sorted(authors):
        user = (await gql.ok(TWEETS, {"h": handle}))["user"]
        for edge in user["tweets"]["edges"]:
            urls += [m["url"] for m in edge["node"]["media"] if m["kind"] == "PHOTO"]
    assert len(urls) == CONFIG.images
    for url in urls:
        assert url.startswith("https://chirp.test/media/")
        response = await gql.http.get(url.removeprefix("https://chirp.test"))
        assert response.status == 200
        body = await response.read()
        assert body[:4] in (b"\x89PNG", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xdb")


async def test_the_same_seed_gives_the_same_world(gql: GraphQLClient) -> None:
    first, again, other = plan(CONFIG), plan(CONFIG), plan(DemoConfig(users=60, tweets=400))
    assert first == again
    assert [u.handle for u in first.users] != [u.handle for u in other.users]
    # what was written is the plan: every handle, and the demo user's own texts
    for user in first.users[:20]:
        found = (await gql.ok(TWEETS, {"h": user.handle}))["user"]
        assert found is not None, user.handle
    demo = (await gql.ok(TWEETS, {"h": DEMO_HANDLE}))["user"]
    written = [e["node"]["text"] for e in demo["tweets"]["edges"] if e["node"]["text"]]
    planned = [p.text for p in first.posts if p.author == 0]  # (retweets have no text)
    assert len(written) == len(planned)
    assert {t for t in written if "/l/" not in t} == {t for t in planned if "https://" not in t}


@pytest.mark.slow
def test_a_second_run_refuses_and_changes_nothing(world: Settings) -> None:
    files = sorted(world.data_dir.glob("*.sqlite3"))
    before = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    env = environment(world.data_dir, CHIRP_SECRET_KEY=SECRET)
    result = run_chirp(["demo", "--users", "60", "--tweets", "400"], env)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "demo refused" in lines[0]
    assert "already has users" in lines[0]
    assert result.stdout == ""
    after = {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in files}
    assert after == before


def test_reset_removes_only_the_embedded_stores(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "media" / "media").mkdir(parents=True)
    for name in ("graph.sqlite3", "tweets.sqlite3-wal", "secret.key", "notes.txt"):
        (data / name).write_text("x")
    removed = reset_embedded(Settings(data_dir=data))
    assert sorted(p.name for p in removed) == ["graph.sqlite3", "media", "tweets.sqlite3-wal"]
    assert sorted(p.name for p in data.iterdir()) == ["notes.txt", "secret.key"]
    with pytest.raises(DemoRefused, match="REDIS_URL"):
        reset_embedded(Settings(data_dir=data, redis_url="redis://127.0.0.1:6379/0"))


def test_the_demo_command_takes_its_options_and_every_settings_flag() -> None:
    parser = build_parser()
    args = parser.parse_args(["--worker-id", "3", "demo", "--data-dir", "/srv/d", "--users", "5"])
    settings = load_settings(env={}, args=args)
    assert (settings.worker_id, settings.data_dir) == (3, Path("/srv/d"))
    assert (args.users, args.tweets, args.days, args.seed, args.reset) == (5, 3000, 7, 1, False)
    with pytest.raises(SystemExit):
        parser.parse_args(["demo", "--users", "0"])
    usage = parser.format_help()
    assert "demo" in usage
