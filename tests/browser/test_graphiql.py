"""GraphiQL at GET /graphql, in headless chromium, with nothing reachable but this server.

The page loads Chirp's own bundle (web/assets.py), shows the schema's docs, runs
a query typed into its editor, runs a subscription over graphql-transport-ws
with the token set in its headers editor, and keeps those headers across a
reload.
"""

from __future__ import annotations

import json
import re
import time
from itertools import count

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import Api, Browsing

pytestmark = pytest.mark.slow

QUERY_EDITOR = ".graphiql-query-editor .monaco-editor"
TOOL_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor"
RESPONSE = ".graphiql-response .monaco-editor .view-lines"
TABS = '[aria-label="Select active operation"]'
HANDLES = count(1)
TIMEOUT_S = 15.0


def handle(stem: str) -> str:
    return f"{stem}{next(HANDLES)}_{int(time.time() * 1000) % 100_000}"


def text_of(editor: Locator) -> str:
    """What a Monaco editor shows (it draws spaces as no-break spaces)."""
    return editor.inner_text().replace("\u00a0", " ")


def open_graphiql(browsing: Browsing, chirp: Api) -> Page:
    page = browsing.page
    reply = page.goto(chirp.url)
    assert reply is not None
    assert reply.status == 200
    assert "Content-Security-Policy" in {name.title() for name in reply.headers}
    page.locator(QUERY_EDITOR).wait_for()
    return page


def replace_text(page: Page, editor: str, text: str, typed: bool = True) -> None:
    """Select everything in an editor and type ``text`` over it (or paste it: Monaco
    closes brackets and quotes as they are typed, which JSON typed key by key trips on)."""
    page.locator(editor).locator(".view-lines").click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.press("Delete")
    if typed:
        page.keyboard.type(text)
    else:
        page.keyboard.insert_text(text)


def open_headers(page: Page) -> Locator:
    page.get_by_role("button", name="Headers", exact=True).click()
    editor = page.locator(TOOL_EDITOR)
    editor.wait_for()
    return editor


def set_headers(page: Page, headers: dict[str, str]) -> None:
    open_headers(page)
    replace_text(page, TOOL_EDITOR, json.dumps(headers), typed=False)


def run(page: Page, operation: str) -> None:
    """Run the operation named ``operation``, once GraphiQL has read it from the editor
    (it reads the operation's name a moment after the text changes: its tab says so)."""
    expect(page.locator(TABS)).to_contain_text(operation)
    page.locator(".graphiql-execute-button").click()


def response_text(page: Page) -> str:
    return text_of(page.locator(RESPONSE))


def test_graphiql_loads_from_this_server_and_shows_the_schema(
    browsing: Browsing, chirp: Api
) -> None:
    page = open_graphiql(browsing, chirp)
    browsing.shot("loaded")
    page.get_by_role("button", name="Show Documentation Explorer").click()
    docs = page.locator(".graphiql-doc-explorer")
    expect(docs).to_contain_text("Root Types")  # the schema came by introspection
    docs.get_by_role("link", name="Query", exact=True).click()
    for field in ("homeTimeline", "me", "search", "whoToFollow"):
        expect(docs).to_contain_text(field)
    browsing.shot("query-type-docs")
    page.get_by_role("button", name="Show GraphiQL Explorer").click()
    explorer = page.locator(".graphiql-plugin")
    expect(explorer).to_contain_text("Explorer")
    expect(explorer).to_contain_text("whoToFollow")  # the fields to tick
    browsing.shot("explorer")
    browsing.assert_clean()


def test_a_typed_query_runs_and_its_answer_is_shown(browsing: Browsing, chirp: Api) -> None:
    name = handle("reader")
    chirp.sign_up(name)
    page = open_graphiql(browsing, chirp)
    replace_text(
        page, QUERY_EDITOR, f'query Reader {{ user(handle: "{name}") {{ handle followersCount }} }}'
    )
    browsing.shot("typed")
    run(page, "Reader")
    expect(page.locator(RESPONSE)).to_contain_text(f'"handle": "{name}"')
    answer = json.loads(response_text(page))
    assert answer["data"] == {"user": {"handle": name, "followersCount": 0}}
    browsing.shot("answered")
    browsing.assert_clean()


def test_a_subscription_with_the_token_from_the_headers_editor_gets_a_followees_tweet(
    browsing: Browsing, chirp: Api
) -> None:
    reader_token, _ = chirp.sign_up(handle("alice"))
    author = handle("bob")
    author_token, author_id = chirp.sign_up(author)
    chirp.follow(reader_token, author_id)
    page = open_graphiql(browsing, chirp)
    set_headers(page, {"Authorization": f"Bearer {reader_token}"})
    browsing.shot("headers-set")
    replace_text(
        page,
        QUERY_EDITOR,
        "subscription Home { homeTimeline { text author { handle } } }",
        typed=False,
    )
    run(page, "Home")
    # the subscription is on once the server has acknowledged the connection and the
    # subscribe message has gone out; a tweet posted before the server registered it
    # would not be delivered, so post again (a new text) until one arrives
    deadline = time.monotonic() + TIMEOUT_S
    while not (
        any('"connection_ack"' in frame for frame in browsing.frames_received)
        and any('"subscribe"' in frame for frame in browsing.frames_sent)
    ):
        assert time.monotonic() < deadline, (browsing.frames_sent, browsing.frames_received)
        page.wait_for_timeout(50)  # Playwright delivers frame events between its calls
    init = json.loads(next(f for f in browsing.frames_sent if "connection_init" in f))
    assert init["payload"]["Authorization"] == f"Bearer {reader_token}"
    response = page.locator(RESPONSE)
    texts = []
    for attempt in range(5):
        texts.append(f"live from graphiql {attempt}")
        chirp.tweet(author_token, texts[-1])
        try:
            expect(response).to_contain_text("live from graphiql", timeout=2_000)
            break
        except AssertionError:
            continue
    else:
        pytest.fail(f"no tweet reached the subscription: {browsing.frames_received}")
    answer = json.loads(response_text(page))
    assert answer["data"]["homeTimeline"]["author"]["handle"] == author
    assert answer["data"]["homeTimeline"]["text"] in texts
    browsing.shot("tweet-received")
    browsing.assert_clean()


def test_headers_survive_a_reload(browsing: Browsing, chirp: Api) -> None:
    token, _ = chirp.sign_up(handle("carol"))
    page = open_graphiql(browsing, chirp)
    set_headers(page, {"Authorization": f"Bearer {token}"})
    expect(page.locator(TOOL_EDITOR)).to_contain_text(token[:16])
    browsing.shot("headers-set")
    # GraphiQL stores the headers half a second after the last keystroke
    page.wait_for_function(
        "token => Object.values(localStorage).some(value => value.includes(token))", arg=token
    )
    page.reload()
    page.locator(QUERY_EDITOR).wait_for()
    editor = open_headers(page)
    expect(editor).to_contain_text("Authorization")
    assert re.sub(r"\s", "", text_of(editor.locator(".view-lines"))).startswith(
        '{"Authorization":"Bearer'
    )
    browsing.shot("after-reload")
    # and they are used: `me` answers as carol
    replace_text(page, QUERY_EDITOR, "query Me { me { handle } }")
    run(page, "Me")
    expect(page.locator(RESPONSE)).to_contain_text('"handle": "carol')
    browsing.shot("me-after-reload")
    browsing.assert_clean()
