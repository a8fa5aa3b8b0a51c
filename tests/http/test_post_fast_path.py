"""A JSON POST takes the view's short path (web/view.py ``post_json``) and answers
exactly as strawberry's full ``run`` does, errors and media types included; a
query validated before skips strawberry's execute (schema/execution/schema.py)."""

from __future__ import annotations

from typing import Any

import pytest
import strawberry

from tests.conftest import GraphQLClient
from web.view import ChirpGraphQLView

HOME = "query Home { homeTimeline(first: 2) { edges { node { id text } } } }"
GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}
LEGACY_JSON = {"Accept": "application/json"}
CASES: list[tuple[str, bytes | str, dict[str, str]]] = [
    ("query", '{"query": "{ me { handle } }"}', {}),
    ("named operation", '{"query": "query A { me { id } } query B { me { handle } }", '
     '"operationName": "B"}', {}),
    ("unknown operation name", '{"query": "query A { me { id } }", "operationName": "Z"}', {}),
    ("home timeline", '{"query": "' + HOME + '"}', {}),
    ("variables", '{"query": "query($h: String!) { user(handle: $h) { handle } }", '
     '"variables": {"h": "alice"}}', {}),
    ("wrong variable type", '{"query": "query($h: String!) { user(handle: $h) { id } }", '
     '"variables": {"h": 5}}', {}),
    ("syntax error", '{"query": "{ me { "}', {}),
    ("validation error", '{"query": "{ nope }"}', {}),
    ("mutation", '{"query": "mutation { logIn(input: {handle: \\"alice\\", password: \\"x\\"})'
     ' { token errors { code } } }"}', {}),
    ("subscription over POST", '{"query": "subscription { homeTimeline { id } }"}', {}),
    ("subscription, graphql-response+json", '{"query": "subscription { homeTimeline { id } }"}',
     GRAPHQL_RESPONSE),
    ("two operations, no name", '{"query": "query A { me { id } } query B { me { handle } }"}', {}),
    ("two operations, no name, graphql-response+json",
     '{"query": "query A { me { id } } query B { me { handle } }"}', GRAPHQL_RESPONSE),
    ("operationName an object", '{"query": "{ me { id } }", "operationName": {"a": 1}}', {}),
    ("operationName a list", '{"query": "{ me { id } }", "operationName": ["A"]}', {}),
    ("operationName a number", '{"query": "{ me { id } }", "operationName": 0}', {}),
    ("operationName null", '{"query": "{ me { id } }", "operationName": null}', {}),
    ("graphql-response+json", '{"query": "{ me { handle } }"}', GRAPHQL_RESPONSE),
    ("syntax error, graphql-response+json", '{"query": "{ me { "}', GRAPHQL_RESPONSE),
    ("syntax error, json", '{"query": "{ me { "}', LEGACY_JSON),
    ("validation error, graphql-response+json", '{"query": "{ nope }"}', GRAPHQL_RESPONSE),
    ("validation error, json", '{"query": "{ nope }"}', LEGACY_JSON),
    ("wrong variable type, graphql-response+json",
     '{"query": "query($h: String!) { user(handle: $h) { id } }", "variables": {"h": 5}}',
     GRAPHQL_RESPONSE),
    ("field error, graphql-response+json", '{"query": "{ homeTimeline { edges { cursor } } }"}',
     {"Accept": "application/graphql-response+json", "Authorization": ""}),
    ("extensions", '{"query": "{ me { id } }", "extensions": {"persistedQuery": null}}', {}),
    ("charset parameter", '{"query": "{ me { id } }"}',
     {"Content-Type": "application/json; charset=utf-8"}),
    ("upper-case media type", '{"query": "{ me { id } }"}', {"Content-Type": "Application/JSON"}),
    ("null query", '{"query": null}', {}),
    ("query not a string", '{"query": 5}', {}),
    ("variables not an object", '{"query": "{ me { id } }", "variables": [1]}', {}),
    ("batch", '[{"query": "{ me { id } }"}]', {}),
    ("not JSON", "{query", {}),
    ("JSON not an object", '"text"', {}),
    ("form body", "query=%7B+me+%7B+id+%7D+%7D",
     {"Content-Type": "application/x-www-form-urlencoded"}),
]  # fmt: skip


async def answer(
    gql: GraphQLClient, body: bytes | str, headers: dict[str, str], token: str
) -> tuple[int, str, Any]:
    sent = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", **headers}
    response = await gql.http.post("/graphql", data=body, headers=sent)
    content_type = response.headers["Content-Type"]
    return response.status, content_type, await response.json(content_type=None)


@pytest.mark.parametrize(("name", "body", "headers"), CASES, ids=[c[0] for c in CASES])
async def test_a_post_answers_as_the_full_view_does(
    gql: GraphQLClient,
    monkeypatch: pytest.MonkeyPatch,
    name: str,
    body: bytes | str,
    headers: dict[str, str],
) -> None:
    token, _ = await gql.sign_up("alice")
    short_path = await answer(gql, body, headers, token)

    async def declined(self: ChirpGraphQLView, request: object) -> None:
        return None

    monkeypatch.setattr(ChirpGraphQLView, "post_json", declined)
    full_view = await answer(gql, body, headers, token)
    assert short_path == full_view


async def test_the_common_post_takes_the_short_path(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _ = await gql.sign_up("alice")
    taken: list[bool] = []
    original = ChirpGraphQLView.post_json

    async def spy(self: ChirpGraphQLView, request: Any) -> Any:
        result = await original(self, request)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(ChirpGraphQLView, "post_json", spy)
    assert await gql.ok(HOME, token=token) == {"homeTimeline": {"edges": []}}
    assert taken == [True]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({"query": HOME}, id="named, sent without its name"),
        pytest.param({"query": HOME, "operationName": "Home"}, id="named, sent with its name"),
        pytest.param({"query": "{ me { id } }"}, id="anonymous"),
    ],
)
async def test_a_query_sent_again_skips_strawberrys_execute(
    gql: GraphQLClient, monkeypatch: pytest.MonkeyPatch, payload: dict[str, Any]
) -> None:
    token, _ = await gql.sign_up("alice")
    full_runs: list[str] = []
    original = strawberry.Schema.execute

    async def spy(self: strawberry.Schema, query: str | None, *args: Any, **kwargs: Any) -> Any:
        full_runs.append(str(query))
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(strawberry.Schema, "execute", spy)
    for _ in range(3):
        response = await gql.http.post(
            "/graphql", json=payload, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status == 200, await response.text()
        assert "errors" not in await response.json()
    assert full_runs == [payload["query"]]  # validated once, then the short path
