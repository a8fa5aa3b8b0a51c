"""The README's two pictures, taken in the browser tests' chromium at 1280x800: the web
client's home timeline (docs/images/web-client.png) and GraphiQL with a query and its
answer (docs/images/graphiql.png).

Each run takes them into tests/browser/.screenshots/ like any other step, and checks what
they show; ``CHIRP_README_SCREENSHOTS=1`` also writes them into docs/images/.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Api, Browsing
from tests.browser.test_graphiql import QUERY_EDITOR, RESPONSE, open_graphiql, replace_text, run
from tests.browser.test_web_client import open_as

pytestmark = pytest.mark.slow

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
MAX_BYTES = 300_000
PROFILE = "mutation($n: String, $b: String) { updateProfile(displayName: $n, bio: $b) { errors { code } } }"
LIKE = "mutation($id: ID!) { likeTweet(tweetId: $id) { errors { code } } }"
PEOPLE = {
    "ada": ("Ada Lovelace", "Notes on the analytical engine."),
    "grace": ("Grace Hopper", "Compilers, nanoseconds and the occasional moth."),
    "alan": ("Alan Turing", "Can machines chirp?"),
}
GRAPHIQL_QUERY = (
    'query Profile { user(handle: "grace") { displayName followersCount '
    "tweets(first: 1) { edges { node { text likeCount } } } } }"
)


def keep(shot: Path, name: str) -> None:
    assert shot.stat().st_size < MAX_BYTES, f"{shot} is {shot.stat().st_size} bytes"
    if os.environ.get("CHIRP_README_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, IMAGES / name)
        print(f"wrote {IMAGES / name}")


@pytest.fixture(scope="module")
def world(chirp: Api) -> dict[str, str]:
    """Three people who follow each other, a tweet each and some likes."""
    tokens: dict[str, str] = {}
    ids: dict[str, str] = {}
    for handle, (name, bio) in PEOPLE.items():
        tokens[handle], ids[handle] = chirp.sign_up(handle)
        chirp.call(PROFILE, {"n": name, "b": bio}, tokens[handle])
    for reader in PEOPLE:
        for followee in PEOPLE:
            if reader != followee:
                chirp.follow(tokens[reader], ids[followee])
    first = chirp.tweet(tokens["alan"], "Can machines think? Today's question: can they chirp?")
    shipped = chirp.tweet(
        tokens["grace"],
        "Shipped the #chirp web client: a live timeline, and a counter that agrees "
        "with the server to the character. Built on the public API only.",
    )
    chirp.tweet(tokens["ada"], "@grace reading docs/api.md over coffee. Every example runs!")
    for reader, tweet in (("ada", shipped), ("alan", shipped), ("ada", first), ("grace", first)):
        chirp.call(LIKE, {"id": tweet}, tokens[reader])
    return tokens


def test_the_web_client_screenshot(browsing: Browsing, chirp: Api, world: dict[str, str]) -> None:
    page = open_as(browsing, chirp, world["ada"])
    timeline = page.get_by_role("region", name="Home timeline")
    expect(timeline.get_by_role("article")).to_have_count(3)
    expect(timeline.get_by_role("button", name=re.compile(r"^Liked? 2$")).first).to_be_visible()
    page.mouse.move(0, 0)
    keep(browsing.shot("web-client"), "web-client.png")
    browsing.assert_clean()


def test_the_graphiql_screenshot(browsing: Browsing, chirp: Api, world: dict[str, str]) -> None:
    page = open_graphiql(browsing, chirp)
    replace_text(page, QUERY_EDITOR, GRAPHIQL_QUERY, typed=False)
    page.get_by_role("button", name=re.compile("^Prettify")).click()
    expect(page.locator(QUERY_EDITOR)).to_contain_text("followersCount")
    run(page, "Profile")
    expect(page.locator(RESPONSE)).to_contain_text('"displayName": "Grace Hopper"')
    page.mouse.move(0, 0)
    keep(browsing.shot("graphiql"), "graphiql.png")
    browsing.assert_clean()
