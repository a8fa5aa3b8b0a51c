"""A JSON POST takes the view's short path (web/view.py ``post_json``) and answers
exactly as strawberry's full ``run`` does, errors included."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import GraphQLClient
from web.view import ChirpGraphQLView

HOME = "query Home { homeTimeline(first: 2) { edges { node { id text } } } }"
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
) -> tuple[int, Any]:
    sent = {"Content-Type": "application/json", "Authorization": f"Bearer {token}", **headers}
    response = await gql.http.post("/graphql", data=body, headers=sent)
    return response.status, await response.json(content_type=None)


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
