"""The web client's pages (web/client.py): the shell at each of its addresses, link previews
(Open Graph and Twitter card tags) for profiles and tweets, 404s, the policy, and the
server's own routes left as they were.

The bundle is a stand-in (``client_bundle``): these tests check what the server sends,
not the client (tests/browser/test_web_client.py runs the real one).
"""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from aiohttp import ClientResponse

from app import SERVICES_KEY, create_app
from bootstrap.settings import Settings
from core.text import RESERVED_HANDLES
from tests.conftest import GRAPHIQL_CSS, GRAPHIQL_JS, AppFactory, GraphQLClient
from tests.media import MediaApp, image_bytes
from web import assets

CLIENT_JS = "client-TESTJS01.js"
CLIENT_CSS = "client-TESTCS01.css"
PUBLIC_URL = "https://chirp.test"  # the tests' settings fixture
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
NASTY = 'Tom & "Jerry" <script>alert(1)</script> it\'s </title><b>'
SIGN_UP = """mutation($input: SignUpInput!) {
  signUp(input: $input) { token user { id } errors { code message field } }
}"""


@pytest.fixture
def client_bundle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in for the bundle `make frontend` builds: GraphiQL's and the client's."""
    dist = tmp_path / "dist"
    dist.mkdir()
    for name in (CLIENT_JS, CLIENT_CSS, GRAPHIQL_JS, GRAPHIQL_CSS):
        (dist / name).write_text("/* stand-in */\n")
    manifest = {
        "graphiql": {"js": GRAPHIQL_JS, "css": GRAPHIQL_CSS, "workers": {}},
        "client": {"js": CLIENT_JS, "css": CLIENT_CSS, "workers": {}},
    }
    (dist / assets.MANIFEST).write_text(json.dumps(manifest))
    monkeypatch.setattr(assets, "DIST", dist)
    return dist


class Head(HTMLParser):
    """The page's <title> and <meta> tags, as a crawler reads them (entities decoded)."""

    def __init__(self) -> None:
        super().__init__()
        self.meta: dict[str, str] = {}
        self.title = ""
        self.scripts: list[str] = []
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "meta" and (key := found.get("property") or found.get("name")):
            self.meta[key] = found.get("content") or ""
        elif tag == "title":
            self._in_title = True
        elif tag == "script":
            self.scripts.append(found.get("src") or "<inline>")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def head(page: str) -> Head:
    parsed = Head()
    parsed.feed(page)
    return parsed


async def get(gql: GraphQLClient, path: str) -> tuple[int, str, ClientResponse]:
    response = await gql.http.get(path, headers=BROWSER, allow_redirects=False)
    return response.status, await response.text(), response


async def set_profile(gql: GraphQLClient, token: str, name: str, bio: str) -> None:
    data = await gql.ok(
        """mutation($n: String, $b: String) {
             updateProfile(displayName: $n, bio: $b) { errors { code } } }""",
        {"n": name, "b": bio},
        token,
    )
    assert data["updateProfile"]["errors"] == []


def assert_shell(page: str) -> None:
    assert '<div id="root">' in page
    assert f'<script type="module" src="/static/dist/{CLIENT_JS}"></script>' in page
    assert f'<link rel="stylesheet" href="/static/dist/{CLIENT_CSS}">' in page
    assert head(page).scripts == [f"/static/dist/{CLIENT_JS}"]  # nothing inline


@pytest.mark.parametrize(
    "path", ["/", "/login", "/signup", "/notifications", "/search", "/search?q=%23chirp"]
)
async def test_each_page_of_the_client_is_the_shell(
    client_bundle: Path, make_client: AppFactory, path: str
) -> None:
    gql = await make_client()
    status, page, response = await get(gql, path)
    assert status == 200
    assert response.content_type == "text/html"
    assert_shell(page)
    assert head(page).title == "Chirp"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "http" not in page.lower()  # every URL it names is this server's


async def test_the_policy_allows_this_server_only(
    client_bundle: Path, make_client: AppFactory
) -> None:
    gql = await make_client()
    _, _, response = await get(gql, "/")
    policy = dict(
        [*part.split(" ", 1), ""][:2]
        for part in response.headers["Content-Security-Policy"].split("; ")
    )
    host = response.url.host and f"{response.url.host}:{response.url.port}"
    assert policy["default-src"] == "'none'"
    assert policy["script-src"] == "'self'"  # no inline script, no eval
    assert policy["style-src"] == "'self'"
    assert policy["connect-src"] == f"'self' ws://{host} wss://{host}"
    assert policy["img-src"] == f"'self' data: {PUBLIC_URL}"  # media's origin (CDN_BASE_URL)
    assert policy["frame-ancestors"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_tweet_page_is_a_link_preview_with_every_tag_escaped(
    client_bundle: Path, make_client: AppFactory
) -> None:
    gql = await make_client()
    token, _ = await gql.sign_up("alice")
    await set_profile(gql, token, 'Alice "A" <Liddell>', "Down the rabbit hole.")
    tweet_id = await gql.tweet(token, NASTY)
    data = await gql.ok("query($id: ID!) { tweet(id: $id) { url } }", {"id": tweet_id})
    url = data["tweet"]["url"]
    assert url == f"{PUBLIC_URL}/alice/status/{tweet_id}"
    status, page, _ = await get(gql, url.removeprefix(PUBLIC_URL))  # Tweet.url opens it
    assert status == 200
    assert_shell(page)
    tags = head(page)
    assert tags.meta["og:title"] == 'Alice "A" <Liddell> (@alice)'
    assert tags.meta["og:description"] == NASTY
    assert tags.meta["og:url"] == url
    assert tags.meta["og:type"] == "article"
    assert tags.meta["twitter:card"] == "summary"
    assert "og:image" not in tags.meta
    assert tags.title == f'Alice "A" <Liddell> on Chirp: "{NASTY}"'
    # escaped, not merely parsed leniently: no tag the text or the name could open
    assert "<script>alert" not in page
    assert "<Liddell>" not in page
    assert "</title><b>" not in page
    assert html.escape(NASTY) in page
    assert tags.scripts == [f"/static/dist/{CLIENT_JS}"]


async def test_a_tweet_with_a_photo_previews_it_large(
    client_bundle: Path, make_client: AppFactory
) -> None:
    app = MediaApp(await make_client(), "embedded")
    token, _ = await app.gql.sign_up("painter")
    media = await app.upload(token, image_bytes("PNG", (120, 80)))
    posted = await app.tweet(token, "my first painting", [media["id"]])
    assert posted["errors"] == []
    _, page, _ = await get(app.gql, f"/painter/status/{posted['tweet']['id']}")
    tags = head(page)
    assert tags.meta["og:image"] == media["url"]
    assert tags.meta["og:image"].startswith(f"{PUBLIC_URL}/media/")
    assert tags.meta["twitter:card"] == "summary_large_image"


async def test_a_profile_page_previews_the_user(
    client_bundle: Path, make_client: AppFactory
) -> None:
    gql = await make_client()
    token, _ = await gql.sign_up("bob")
    await set_profile(gql, token, "Bob <b>", 'Builds "things" & <i>more</i>.')
    for path in ("/bob", "/BOB"):  # handles are case-insensitive
        status, page, _ = await get(gql, path)
        assert status == 200
        assert_shell(page)
        tags = head(page)
        assert tags.meta["og:title"] == "Bob <b> (@bob)"
        assert tags.meta["og:description"] == 'Builds "things" & <i>more</i>.'
        assert tags.meta["og:url"] == f"{PUBLIC_URL}/bob"
        assert tags.meta["og:type"] == "profile"
        assert tags.meta["twitter:card"] == "summary"
        assert "<i>more" not in page


async def test_unknown_deleted_or_misplaced_tweets(
    client_bundle: Path, make_client: AppFactory
) -> None:
    gql = await make_client()
    alice, _ = await gql.sign_up("alice")
    bob, _ = await gql.sign_up("bob")
    kept = await gql.tweet(alice, "kept")
    gone = await gql.tweet(alice, "gone")
    deleted = await gql.ok(
        "mutation($id: ID!) { deleteTweet(id: $id) { errors { code } } }", {"id": gone}, alice
    )
    assert deleted["deleteTweet"]["errors"] == []
    for path in (
        "/nobody",  # no such user
        "/nobody/status/1",
        f"/alice/status/{int(kept) + 1}",  # no such tweet
        f"/alice/status/{gone}",  # deleted
        "/alice/status/9999999999999999999",  # past int64
        "/graphql/status/1",  # a reserved name is never a handle
    ):
        status, page, response = await get(gql, path)
        assert status == 404, path
        assert response.content_type == "text/html", path
        assert_shell(page)  # the client says "not found"
        assert not [key for key in head(page).meta if key.startswith(("og:", "twitter:"))], path
        assert "Content-Security-Policy" in response.headers
    # a tweet under another handle, or another case of it, is sent to its canonical URL
    for handle in ("bob", "ALICE"):
        status, _, response = await get(gql, f"/{handle}/status/{kept}")
        if handle == "ALICE":
            assert status == 200  # the same user: served, og:url canonical
            continue
        assert status == 301
        assert response.headers["Location"] == f"/alice/status/{kept}"
    # a retweet's URL goes to the tweet it shares
    data = await gql.ok(
        "mutation($id: ID!) { retweet(tweetId: $id) { tweet { id url } errors { code } } }",
        {"id": kept},
        bob,
    )
    retweet = data["retweet"]["tweet"]
    status, _, response = await get(gql, retweet["url"].removeprefix(PUBLIC_URL))
    assert status == 302
    assert response.headers["Location"] == f"/alice/status/{kept}"


async def test_without_a_bundle_each_page_says_how_to_build_it(
    no_graphiql_bundle: Path, make_client: AppFactory
) -> None:
    gql = await make_client()
    token, _ = await gql.sign_up("carol")
    tweet_id = await gql.tweet(token, "no bundle here")
    for path, expected in (("/", 503), ("/carol", 503), (f"/carol/status/{tweet_id}", 503)):
        status, page, response = await get(gql, path)
        assert status == expected, path
        assert "The web client is not built" in page
        assert "make frontend" in page
        assert "<script" not in page
        assert "Content-Security-Policy" in response.headers
    _, page, _ = await get(gql, f"/carol/status/{tweet_id}")
    assert head(page).meta["og:description"] == "no bundle here"  # previews still work
    status, _, _ = await get(gql, "/nobody")
    assert status == 404


async def test_the_servers_own_routes_are_not_shadowed(
    client_bundle: Path, make_client: AppFactory
) -> None:
    gql = await make_client()
    status, page, response = await get(gql, "/graphql")
    assert status == 200
    assert f"/static/dist/{GRAPHIQL_JS}" in page  # GraphiQL, not a profile
    answer = await gql.http.post("/graphql", json={"query": "{ __typename }"})
    assert (await answer.json())["data"] == {"__typename": "Query"}
    answer = await gql.http.get("/graphql", params={"query": "{ __typename }"})
    assert (await answer.json())["data"] == {"__typename": "Query"}
    for path, content_type in (
        ("/healthz", "application/json"),
        ("/readyz", "application/json"),
        ("/metrics", "text/plain"),
        (f"/static/dist/{CLIENT_JS}", "text/javascript"),
    ):
        response = await gql.http.get(path)
        assert response.status == 200, path
        assert response.content_type == content_type, path
    for path in ("/l/nosuchcode", "/media/nosuch.png", "/static/dist/client-NOTTHERE.js"):
        response = await gql.http.get(path)
        assert response.status == 404, path
        assert response.content_type == "application/json", path  # the API's own 404s
    for method in ("HEAD", "PUT", "DELETE"):  # not the profile route's page for "graphql"
        response = await gql.http.request(method, "/graphql")
        assert response.status == 405, method
        assert set(response.headers["Allow"].split(",")) == {"GET", "POST", "OPTIONS"}, method


def test_every_first_path_segment_the_server_answers_is_a_reserved_handle(
    settings: Settings,
) -> None:
    """A new route at /<name> must reserve the name, or a user could take it."""
    app = create_app(settings)
    firsts = set()
    for resource in app.router.resources():
        path = resource.canonical
        segment = path.split("/")[1] if path != "/" else ""
        if segment and not segment.startswith("{"):
            firsts.add(segment.lower())
    assert firsts, "no route found"
    assert firsts <= RESERVED_HANDLES, firsts - RESERVED_HANDLES
    assert SERVICES_KEY not in app  # built, never started


@pytest.mark.parametrize("handle", ["graphql", "Static", "search", "notifications", "l"])
async def test_sign_up_refuses_a_handle_naming_a_page_of_the_server(
    gql: GraphQLClient, handle: str
) -> None:
    data = await gql.ok(SIGN_UP, {"input": {"handle": handle, "password": "correct horse"}})
    payload = data["signUp"]
    assert payload["token"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("HANDLE_RESERVED", "handle")
    assert re.search(f"@{handle}\\b", error["message"])
