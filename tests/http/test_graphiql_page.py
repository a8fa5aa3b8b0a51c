"""GET /graphql from a browser: Chirp's GraphiQL page, its bundle, and the page without one.

The bundle is a stand-in here (tests/conftest.py's ``graphiql_bundle``): these tests
check the page and the static route, not GraphiQL (tests/browser/ runs the real one).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import GRAPHIQL_CSS, GRAPHIQL_JS, AppFactory
from web.assets import IMMUTABLE

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


async def test_the_page_loads_the_bundle_named_by_the_manifest(
    graphiql_bundle: Path, make_client: AppFactory
) -> None:
    gql = await make_client()
    response = await gql.http.get("/graphql", headers=BROWSER)
    assert response.status == 200
    assert response.content_type == "text/html"
    page = await response.text()
    assert f'<script type="module" src="/static/dist/{GRAPHIQL_JS}"></script>' in page
    assert f'<link rel="stylesheet" href="/static/dist/{GRAPHIQL_CSS}">' in page
    assert "<script>" not in page  # nothing inline: the policy allows 'self' only
    # every URL it names is this server's
    assert re.findall(r'(?:src|href)="([^"]+)"', page) == [
        f"/static/dist/{GRAPHIQL_CSS}",
        f"/static/dist/{GRAPHIQL_JS}",
    ]
    assert "http" not in page.lower().replace("http-equiv", "")
    assert response.headers["Cache-Control"] == "no-cache"


async def test_the_bundle_is_served_immutable_with_its_type(
    graphiql_bundle: Path, make_client: AppFactory
) -> None:
    gql = await make_client()
    for name, content_type in ((GRAPHIQL_JS, "text/javascript"), (GRAPHIQL_CSS, "text/css")):
        response = await gql.http.get(f"/static/dist/{name}")
        assert response.status == 200
        assert response.content_type == content_type
        assert response.charset == "utf-8"
        assert response.headers["Cache-Control"] == IMMUTABLE
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert await response.read() == (graphiql_bundle / name).read_bytes()


async def test_a_compressed_twin_is_sent_to_browsers_that_accept_it(
    graphiql_bundle: Path, make_client: AppFactory
) -> None:
    (graphiql_bundle / f"{GRAPHIQL_JS}.br").write_bytes(b"brotli bytes")
    gql = await make_client()
    response = await gql.http.get(
        f"/static/dist/{GRAPHIQL_JS}", headers={"Accept-Encoding": "br"}, auto_decompress=False
    )
    assert response.headers["Content-Encoding"] == "br"
    assert response.content_type == "text/javascript"
    assert await response.read() == b"brotli bytes"


@pytest.mark.parametrize(
    "path",
    [
        "/static/dist/manifest.json",  # the server's, not the browser's
        f"/static/dist/{GRAPHIQL_JS}.br",  # twins only through Accept-Encoding
        "/static/dist/graphiql-NOTTHERE.js",
        "/static/dist/notes.txt",
        "/static/dist/..%2Fstatic.py",
        "/static/dist/%2E%2E%2F%2E%2E%2Fweb%2Fstatic.py",
        "/static/dist/../../app.py",
        "/static/dist/",
        "/static/static.py",
    ],
)
async def test_nothing_else_is_served(
    graphiql_bundle: Path, make_client: AppFactory, path: str
) -> None:
    (graphiql_bundle / "notes.txt").write_text("not a bundle file")
    (graphiql_bundle / f"{GRAPHIQL_JS}.br").write_bytes(b"brotli bytes")
    gql = await make_client()
    response = await gql.http.get(path)
    assert response.status == 404, path
    assert response.content_type == "application/json"


async def test_without_a_bundle_the_page_says_how_to_build_it(
    no_graphiql_bundle: Path, make_client: AppFactory
) -> None:
    gql = await make_client()
    response = await gql.http.get("/graphql", headers=BROWSER)
    assert response.status == 503
    assert response.content_type == "text/html"
    page = await response.text()
    assert "GraphiQL is not built" in page
    assert "make frontend" in page
    assert "Traceback" not in page
    assert "<script" not in page
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    # the API itself works
    answer = await gql.http.post("/graphql", json={"query": "{ __typename }"})
    assert (await answer.json())["data"] == {"__typename": "Query"}


def build_into(dist: Path) -> None:
    dist.mkdir()
    (dist / GRAPHIQL_JS).write_text("")
    (dist / "manifest.json").write_text(f'{{"graphiql": {{"js": "{GRAPHIQL_JS}"}}}}')


async def test_a_bundle_built_while_the_server_runs_is_picked_up(
    no_graphiql_bundle: Path, make_client: AppFactory
) -> None:
    gql = await make_client()
    assert (await gql.http.get("/graphql", headers=BROWSER)).status == 503
    build_into(no_graphiql_bundle)
    response = await gql.http.get("/graphql", headers=BROWSER)
    assert response.status == 200
    assert GRAPHIQL_JS in await response.text()
