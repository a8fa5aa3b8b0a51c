"""Bad input over HTTP: every mistake a client can make gets a clear answer.

The rules these tests pin down:

- A request the server cannot even read as GraphQL (malformed JSON, wrong
  content type, a body over 1 MB, a mutation over GET) is a 4xx whose JSON body
  has GraphQL's error shape with ``extensions.code``.
- A readable request with a bad document, bad variables, bad ids, bad cursors
  or bad page sizes is a GraphQL error with ``extensions.code`` (sent without an
  Accept header: 400 without data when the document or its variables are
  refused, 200 once the operation ran; test_graphql_over_http.py has each Accept).
- A mutation given bad input answers in its payload's ``errors`` and writes
  nothing.
- Nothing is ever a 500, and no response ever carries a stack trace.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from graphql import get_introspection_query

from tests.conftest import AppFactory, GraphQLClient, answer

Json = dict[str, Any]
JSON_HEADERS = {"Content-Type": "application/json"}
ONE_MB = 1024 * 1024


# --- helpers ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    text: str

    @property
    def body(self) -> Json:
        parsed: Json = json.loads(self.text)
        return parsed


def assert_clean(status: int, text: str) -> None:
    """What every response must satisfy, however bad the request."""
    assert status < 500, text
    assert "Traceback" not in text, text
    assert 'File "' not in text, text


async def send(http: TestClient[Any, Any], method: str, **kwargs: Any) -> Reply:
    """Any HTTP request to /graphql, checked for a 5xx or a leaked stack trace."""
    response = await http.request(method, "/graphql", **kwargs)
    text = await response.text()
    assert_clean(response.status, text)
    return Reply(response.status, response.content_type, text)


def assert_refused(reply: Reply, status: int, code: str) -> str:
    """A refusal at the HTTP level: the status, and a JSON body in GraphQL's error shape."""
    assert reply.status == status, reply.text
    assert reply.content_type == "application/json", reply.text
    body = reply.body
    assert "data" not in body, body
    [error] = body["errors"]
    assert error["extensions"]["code"] == code, body
    message: str = error["message"]
    assert message.strip(), body
    return message


async def graphql(
    gql: GraphQLClient, query: str, variables: Json | None = None, token: str | None = None
) -> Json:
    """A GraphQL request that the server could read, and every error carries a code.

    Sent without an Accept header, it is answered with GraphQL over HTTP's status
    codes: 200 when the operation ran (data, perhaps with errors), 400 when the
    request was refused (a parse, validation or variable error: no data entry).
    """
    headers = dict(JSON_HEADERS)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    payload: Json = {"query": query}
    if variables is not None:
        payload["variables"] = variables
    reply = await send(gql.http, "POST", data=json.dumps(payload), headers=headers)
    body = reply.body
    assert reply.status == (200 if "data" in body else 400), reply.text
    assert reply.content_type == "application/json", reply.text
    for error in body.get("errors", []):
        assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", body
    return body


def error_codes(body: Json) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


def only_error(body: Json, code: str) -> Json:
    """The single top-level error of ``body``, which must have ``code``."""
    errors = body.get("errors")
    assert errors, body
    assert len(errors) == 1, body
    assert errors[0]["extensions"]["code"] == code, body
    error: Json = errors[0]
    return error


def nest(*fields: str) -> str:
    """``{ a { b { c } } }`` from a, b, c: the last field sits at depth ``len(fields) - 1``."""
    document = fields[-1]
    for field in reversed(fields[:-1]):
        document = f"{field} {{ {document} }}"
    return "{ " + document + " }"


def cursor_of(raw: str) -> str:
    """A hand-made cursor in the server's encoding (unpadded urlsafe base64)."""
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@dataclass(frozen=True)
class Account:
    token: str
    id: str


@dataclass(frozen=True)
class World:
    """alice follows bob and likes his tweet; both have tweeted."""

    alice: Account
    bob: Account
    alice_tweet: str
    bob_tweet: str


@pytest.fixture
async def world(gql: GraphQLClient) -> World:
    alice = Account(*await gql.sign_up("alice"))
    bob = Account(*await gql.sign_up("bob"))
    alice_tweet = await gql.tweet(alice.token, "alice was here")
    bob_tweet = await gql.tweet(bob.token, "bob was here")
    await gql.follow(alice.token, bob.id)
    liked = await gql.ok(
        "mutation($id: ID!) { likeTweet(tweetId: $id) { errors { code } } }",
        {"id": bob_tweet},
        alice.token,
    )
    assert liked["likeTweet"]["errors"] == []
    return World(alice, bob, alice_tweet, bob_tweet)


STATE_QUERY = """
query($aliceTweet: ID!, $bobTweet: ID!) {
  alice: user(handle: "alice") {
    followersCount followingCount tweetsCount
    following { edges { node { id } } }
    likes { edges { node { id } } }
  }
  bob: user(handle: "bob") { followersCount followingCount tweetsCount }
  aliceTweet: tweet(id: $aliceTweet) { id likeCount }
  bobTweet: tweet(id: $bobTweet) { id likeCount }
}
"""


async def state(gql: GraphQLClient, world: World) -> Json:
    """Everything a stray write could change, as the API shows it."""
    return await gql.ok(STATE_QUERY, {"aliceTweet": world.alice_tweet, "bobTweet": world.bob_tweet})


# --- the HTTP envelope -------------------------------------------------------------------------


class TestRequestBody:
    async def test_a_well_formed_request_is_answered(self, gql: GraphQLClient) -> None:
        reply = await send(
            gql.http, "POST", data=b'{"query": "{ __typename }"}', headers=JSON_HEADERS
        )
        assert reply.status == 200
        assert answer(reply.body) == {"data": {"__typename": "Query"}}

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(b'{"query": "{ __typename }"', id="truncated"),
            pytest.param(b"{query: '{ __typename }'}", id="not-json"),
            pytest.param(b"", id="empty"),
            pytest.param(b'{"query": "\xff\xfe"}', id="invalid-utf8"),
        ],
    )
    async def test_malformed_json_is_400_with_a_json_error(
        self, gql: GraphQLClient, body: bytes
    ) -> None:
        reply = await send(gql.http, "POST", data=body, headers=JSON_HEADERS)
        assert_refused(reply, 400, "BAD_REQUEST")

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(b"[]", id="empty-array"),
            pytest.param(b'[{"query": "{ __typename }"}]', id="batch-array"),
            pytest.param(b'"{ __typename }"', id="string"),
            pytest.param(b"42", id="number"),
            pytest.param(b"true", id="boolean"),
            pytest.param(b"null", id="null"),
        ],
    )
    async def test_a_json_body_that_is_not_an_object_is_400(
        self, gql: GraphQLClient, body: bytes
    ) -> None:
        reply = await send(gql.http, "POST", data=body, headers=JSON_HEADERS)
        assert_refused(reply, 400, "BAD_REQUEST")

    @pytest.mark.parametrize(
        "payload",
        [
            pytest.param({}, id="no-query"),
            pytest.param({"query": None}, id="null-query"),
            pytest.param({"query": ""}, id="empty-query"),
            pytest.param({"variables": {}}, id="only-variables"),
            pytest.param({"query": 5}, id="query-not-a-string"),
            pytest.param({"query": "{ __typename }", "variables": "x"}, id="variables-a-string"),
            pytest.param({"query": "{ __typename }", "variables": [1]}, id="variables-an-array"),
            pytest.param(
                {"query": "query A { __typename }", "operationName": "B"},
                id="unknown-operation-name",
            ),
        ],
    )
    async def test_an_object_without_a_usable_query_is_400(
        self, gql: GraphQLClient, payload: Json
    ) -> None:
        reply = await send(gql.http, "POST", data=json.dumps(payload), headers=JSON_HEADERS)
        assert_refused(reply, 400, "BAD_REQUEST")

    async def test_a_body_over_one_megabyte_is_413(self, gql: GraphQLClient) -> None:
        padding = " " * ONE_MB  # valid JSON and a valid query, just too big
        body = ('{"query": "{ __typename }"' + padding + "}").encode()
        reply = await send(gql.http, "POST", data=body, headers=JSON_HEADERS)
        message = assert_refused(reply, 413, "PAYLOAD_TOO_LARGE")
        assert str(ONE_MB) in message

    async def test_a_body_just_under_the_limit_is_read(self, gql: GraphQLClient) -> None:
        head = b'{"query": "{ __typename }"}'
        body = head[:-1] + b" " * (ONE_MB - len(head) - 1) + b"}"
        assert len(body) == ONE_MB - 1
        reply = await send(gql.http, "POST", data=body, headers=JSON_HEADERS)
        assert reply.status == 200, reply.text
        assert answer(reply.body) == {"data": {"__typename": "Query"}}


class TestContentType:
    @pytest.mark.parametrize(
        "content_type",
        [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
        ],
    )
    async def test_json_content_types_are_accepted(
        self, gql: GraphQLClient, content_type: str
    ) -> None:
        reply = await send(
            gql.http,
            "POST",
            data=b'{"query": "{ __typename }"}',
            headers={"Content-Type": content_type},
        )
        assert reply.status == 200, reply.text

    @pytest.mark.parametrize(
        "content_type",
        [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz",
            "application/graphql",
            "application/octet-stream",
            # A response media type (GraphQL over HTTP), not a request body type.
            "application/graphql-response+json",
        ],
    )
    async def test_other_content_types_are_415(self, gql: GraphQLClient, content_type: str) -> None:
        reply = await send(
            gql.http,
            "POST",
            data=b'{"query": "{ __typename }"}',
            headers={"Content-Type": content_type},
        )
        message = assert_refused(reply, 415, "UNSUPPORTED_MEDIA_TYPE")
        assert "application/json" in message

    async def test_no_content_type_is_415(self, gql: GraphQLClient) -> None:
        reply = await send(
            gql.http,
            "POST",
            data=b'{"query": "{ __typename }"}',
            skip_auto_headers=["Content-Type"],
        )
        assert_refused(reply, 415, "UNSUPPORTED_MEDIA_TYPE")

    async def test_a_form_post_of_a_mutation_writes_nothing(self, gql: GraphQLClient) -> None:
        """A cross-site HTML form cannot sign anyone up (or do anything else)."""
        mutation = (
            'mutation { signUp(input: {handle: "mallory", password: "hunter2hunter2"}) { token } }'
        )
        reply = await send(gql.http, "POST", data={"query": mutation})
        assert_refused(reply, 415, "UNSUPPORTED_MEDIA_TYPE")
        assert await gql.ok('{ user(handle: "mallory") { id } }') == {"user": None}


class TestMethods:
    async def test_get_runs_a_query(self, gql: GraphQLClient) -> None:
        await gql.sign_up("alice")
        reply = await send(
            gql.http,
            "GET",
            params={
                "query": "query($h: String!) { user(handle: $h) { handle } }",
                "variables": json.dumps({"h": "alice"}),
            },
        )
        assert reply.status == 200, reply.text
        assert answer(reply.body) == {"data": {"user": {"handle": "alice"}}}

    async def test_get_refuses_a_mutation_and_writes_nothing(self, gql: GraphQLClient) -> None:
        mutation = (
            'mutation { signUp(input: {handle: "mallory", password: "hunter2hunter2"}) { token } }'
        )
        reply = await send(gql.http, "GET", params={"query": mutation})
        assert 400 <= reply.status < 500, reply.text
        assert reply.body["errors"][0]["extensions"]["code"]
        assert "data" not in reply.body
        assert await gql.ok('{ user(handle: "mallory") { id } }') == {"user": None}

    @pytest.mark.parametrize(
        "variables",
        [
            pytest.param("{bad", id="not-json"),
            pytest.param("[1]", id="array"),
            pytest.param('"x"', id="string"),
        ],
    )
    async def test_get_with_malformed_variables_is_400(
        self, gql: GraphQLClient, variables: str
    ) -> None:
        reply = await send(
            gql.http,
            "GET",
            params={"query": "query($id: ID!) { tweet(id: $id) { id } }", "variables": variables},
        )
        assert_refused(reply, 400, "BAD_REQUEST")

    async def test_get_without_a_query_is_400(self, gql: GraphQLClient) -> None:
        reply = await send(gql.http, "GET", headers={"Accept": "application/json"})
        assert_refused(reply, 400, "BAD_REQUEST")

    async def test_a_browser_get_serves_graphiql(
        self, graphiql_bundle: Path, make_client: AppFactory
    ) -> None:
        gql = await make_client()
        reply = await send(gql.http, "GET", headers={"Accept": "text/html"})
        assert reply.status == 200
        assert reply.content_type == "text/html"
        assert "graphiql" in reply.text.lower()

    @pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
    async def test_other_methods_are_405(self, gql: GraphQLClient, method: str) -> None:
        reply = await send(gql.http, method, data=b"{}", headers=JSON_HEADERS)
        assert_refused(reply, 405, "METHOD_NOT_ALLOWED")


# --- ids ---------------------------------------------------------------------------------------

MALFORMED_IDS = [
    "abc",
    "-1",
    "0",
    "99999999999999999999",  # 20 digits: more than 64 bits
    "9223372036854775808",  # 2**63: one past the largest snowflake
    "",
    " 1",
    "1.0",
    "1e3",
    "0x1f",
    "١٢٣",  # Arabic-Indic digits: str.isdigit() is True for them
]


class TestIdsInQueries:
    @pytest.mark.parametrize("field", ["tweet", "node"])
    @pytest.mark.parametrize("absent", ["1", "1234567890123", "9223372036854775807"])
    async def test_a_well_formed_unknown_id_is_null_without_error(
        self, gql: GraphQLClient, field: str, absent: str
    ) -> None:
        body = await graphql(
            gql, f"query($id: ID!) {{ {field}(id: $id) {{ id }} }}", {"id": absent}
        )
        assert answer(body) == {"data": {field: None}}

    @pytest.mark.parametrize("field", ["tweet", "node"])
    @pytest.mark.parametrize("bad", MALFORMED_IDS)
    async def test_a_malformed_id_is_bad_user_input(
        self, gql: GraphQLClient, field: str, bad: str
    ) -> None:
        body = await graphql(gql, f"query($id: ID!) {{ {field}(id: $id) {{ id }} }}", {"id": bad})
        error = only_error(body, "BAD_USER_INPUT")
        assert error["path"] == [field]
        assert "id" in error["message"]
        assert body["data"] == {field: None}

    async def test_an_id_of_another_kind_is_not_found_not_an_error(
        self, gql: GraphQLClient
    ) -> None:
        _, user_id = await gql.sign_up("alice")
        body = await graphql(
            gql,
            "query($id: ID!) { tweet(id: $id) { id } node(id: $id) { __typename id } }",
            {"id": user_id},
        )
        assert answer(body) == {
            "data": {"tweet": None, "node": {"__typename": "User", "id": user_id}}
        }


MUTATIONS_TAKING_IDS = [
    pytest.param("followUser", "userId", "user { id }", id="followUser"),
    pytest.param("unfollowUser", "userId", "user { id }", id="unfollowUser"),
    pytest.param("likeTweet", "tweetId", "tweet { id }", id="likeTweet"),
    pytest.param("unlikeTweet", "tweetId", "tweet { id }", id="unlikeTweet"),
    pytest.param("deleteTweet", "id", "deletedId", id="deleteTweet"),
]


class TestIdsInMutations:
    @pytest.mark.parametrize(("mutation", "argument", "result"), MUTATIONS_TAKING_IDS)
    async def test_a_malformed_id_is_an_invalid_id_payload_error_and_nothing_changes(
        self, gql: GraphQLClient, world: World, mutation: str, argument: str, result: str
    ) -> None:
        before = await state(gql, world)
        document = (
            f"mutation($id: ID!) {{ {mutation}({argument}: $id) "
            f"{{ {result} errors {{ code message field }} }} }}"
        )
        for bad in MALFORMED_IDS:
            body = await graphql(gql, document, {"id": bad}, world.alice.token)
            assert "errors" not in body, (bad, body)
            payload = body["data"][mutation]
            [error] = payload["errors"]
            assert error["code"] == "INVALID_ID", (bad, payload)
            assert error["field"] == argument, (bad, payload)
            assert error["message"]
            assert all(value is None for key, value in payload.items() if key != "errors")
        assert await state(gql, world) == before

    @pytest.mark.parametrize(("mutation", "argument", "result"), MUTATIONS_TAKING_IDS)
    async def test_a_well_formed_unknown_id_is_not_found_and_nothing_changes(
        self, gql: GraphQLClient, world: World, mutation: str, argument: str, result: str
    ) -> None:
        before = await state(gql, world)
        body = await graphql(
            gql,
            f"mutation($id: ID!) {{ {mutation}({argument}: $id) {{ {result} errors {{ code field }} }} }}",
            {"id": "1234567890123"},
            world.alice.token,
        )
        assert "errors" not in body, body
        assert body["data"][mutation]["errors"] == [{"code": "NOT_FOUND", "field": argument}]
        assert await state(gql, world) == before


# --- pagination --------------------------------------------------------------------------------

CONNECTIONS = [
    pytest.param("homeTimeline({args}) {{ edges {{ cursor }} }}", id="homeTimeline"),
    pytest.param(
        'user(handle: "alice") {{ followers({args}) {{ edges {{ cursor }} }} }}', id="followers"
    ),
    pytest.param(
        'user(handle: "alice") {{ following({args}) {{ edges {{ cursor }} }} }}', id="following"
    ),
    pytest.param(
        'user(handle: "alice") {{ tweets({args}) {{ edges {{ cursor }} }} }}', id="tweets"
    ),
    pytest.param('user(handle: "alice") {{ likes({args}) {{ edges {{ cursor }} }} }}', id="likes"),
]


def connection_query(template: str, args: str) -> str:
    return "{ " + template.format(args=args) + " }"


def edges_of(data: Json) -> list[Json]:
    """The edges of the single connection in ``data``, wherever it sits."""
    node = data.get("homeTimeline") or next(iter(data["user"].values()))
    edges: list[Json] = node["edges"]
    return edges


class TestPageSize:
    @pytest.mark.parametrize("template", CONNECTIONS)
    async def test_first_over_100_is_refused_naming_the_cap(
        self, gql: GraphQLClient, world: World, template: str
    ) -> None:
        body = await graphql(gql, connection_query(template, "first: 101"), None, world.alice.token)
        error = only_error(body, "BAD_USER_INPUT")
        assert "100" in error["message"]

    @pytest.mark.parametrize("template", CONNECTIONS)
    async def test_a_negative_first_is_refused(
        self, gql: GraphQLClient, world: World, template: str
    ) -> None:
        body = await graphql(gql, connection_query(template, "first: -1"), None, world.alice.token)
        only_error(body, "BAD_USER_INPUT")

    @pytest.mark.parametrize("template", CONNECTIONS)
    async def test_first_100_is_allowed(
        self, gql: GraphQLClient, world: World, template: str
    ) -> None:
        body = await graphql(gql, connection_query(template, "first: 100"), None, world.alice.token)
        assert "errors" not in body, body

    @pytest.mark.parametrize("template", CONNECTIONS)
    async def test_first_0_gives_no_edges(
        self, gql: GraphQLClient, world: World, template: str
    ) -> None:
        body = await graphql(gql, connection_query(template, "first: 0"), None, world.alice.token)
        assert "errors" not in body, body
        assert edges_of(body["data"]) == []

    async def test_first_that_is_not_an_int_is_a_validation_error(
        self, gql: GraphQLClient, world: World
    ) -> None:
        body = await graphql(
            gql, '{ homeTimeline(first: "ten") { edges { cursor } } }', None, world.alice.token
        )
        only_error(body, "GRAPHQL_VALIDATION_FAILED")


class TestCursors:
    @pytest.mark.parametrize(
        "cursor",
        [
            pytest.param("garbage!", id="not-base64"),
            pytest.param("", id="empty"),
            pytest.param("x" * 101, id="too-long"),
            pytest.param("\u00e9t\u00e9", id="non-ascii"),
            pytest.param(cursor_of("t"), id="kind-only"),
            pytest.param(cursor_of("t:abc"), id="not-a-number"),
            pytest.param(cursor_of("t:-5"), id="negative"),
            pytest.param(cursor_of("t:1:2"), id="too-many-parts"),
            pytest.param(cursor_of("t:" + "9" * 20), id="overflowing"),
            pytest.param(cursor_of("x:1"), id="unknown-kind"),
        ],
    )
    async def test_a_garbage_cursor_is_bad_user_input(
        self, gql: GraphQLClient, world: World, cursor: str
    ) -> None:
        body = await graphql(
            gql,
            "query($after: String) { homeTimeline(after: $after) { edges { cursor } } }",
            {"after": cursor},
            world.alice.token,
        )
        error = only_error(body, "BAD_USER_INPUT")
        assert "cursor" in error["message"].lower()

    async def test_a_cursor_from_another_kind_of_connection_is_bad_user_input(
        self, gql: GraphQLClient, world: World
    ) -> None:
        cursors = await gql.ok(
            """{
              home: homeTimeline(first: 1) { pageInfo { endCursor } }
              bob: user(handle: "bob") {
                followers(first: 1) { pageInfo { endCursor } }
              }
              alice: user(handle: "alice") {
                likes(first: 1) { pageInfo { endCursor } }
              }
            }""",
            token=world.alice.token,
        )
        home = cursors["home"]["pageInfo"]["endCursor"]
        followers = cursors["bob"]["followers"]["pageInfo"]["endCursor"]
        likes = cursors["alice"]["likes"]["pageInfo"]["endCursor"]
        assert home
        assert followers
        assert likes

        misuses = [
            ("homeTimeline(after: $c) { edges { cursor } }", followers),
            ("homeTimeline(after: $c) { edges { cursor } }", likes),
            ('user(handle: "bob") { followers(after: $c) { edges { cursor } } }', home),
            ('user(handle: "alice") { following(after: $c) { edges { cursor } } }', likes),
            ('user(handle: "alice") { tweets(after: $c) { edges { cursor } } }', followers),
            ('user(handle: "alice") { likes(after: $c) { edges { cursor } } }', home),
        ]
        for selection, cursor in misuses:
            body = await graphql(
                gql, f"query($c: String) {{ {selection} }}", {"c": cursor}, world.alice.token
            )
            only_error(body, "BAD_USER_INPUT")

    async def test_a_cursor_from_the_same_kind_of_connection_pages_on(
        self, gql: GraphQLClient, world: World
    ) -> None:
        first = await gql.ok(
            "{ homeTimeline(first: 1) { edges { node { id } } pageInfo { endCursor hasNextPage } } }",
            token=world.alice.token,
        )
        page = first["homeTimeline"]
        assert page["pageInfo"]["hasNextPage"] is True
        second = await gql.ok(
            "query($c: String) { homeTimeline(first: 1, after: $c) { edges { node { id } } } }",
            {"c": page["pageInfo"]["endCursor"]},
            token=world.alice.token,
        )
        ids = [e["node"]["id"] for e in page["edges"] + second["homeTimeline"]["edges"]]
        assert ids == [world.bob_tweet, world.alice_tweet]


# --- the document ------------------------------------------------------------------------------

FOLLOWERS_HOP = ("followers(first: 5)", "edges", "node")  # small pages: within the query cost
DEPTH_10 = nest('user(handle: "alice")', *FOLLOWERS_HOP * 3, "handle")
DEPTH_11 = nest(
    'user(handle: "alice")', *FOLLOWERS_HOP * 2, "tweets", "edges", "node", "author", "handle"
)


class TestQueryLimits:
    async def test_depth_10_is_allowed(self, gql: GraphQLClient, world: World) -> None:
        body = await graphql(gql, DEPTH_10)
        assert "errors" not in body, body
        assert body["data"]["user"] is not None

    @pytest.mark.parametrize(
        "query",
        [
            pytest.param(DEPTH_11, id="depth-11"),
            pytest.param(
                nest('user(handle: "alice")', *FOLLOWERS_HOP * 4, "handle"), id="depth-13"
            ),
            pytest.param(
                nest('user(handle: "alice")', *FOLLOWERS_HOP * 30, "handle"), id="depth-91"
            ),
        ],
    )
    async def test_deeper_than_10_is_query_too_deep(
        self, gql: GraphQLClient, world: World, query: str
    ) -> None:
        body = await graphql(gql, query)
        error = only_error(body, "QUERY_TOO_DEEP")
        assert "10" in error["message"]
        assert body.get("data") is None

    async def test_depth_counts_through_fragments(self, gql: GraphQLClient, world: World) -> None:
        query = (
            "fragment F on User { followers { edges { node { followers { edges { node {"
            " followers { edges { node { followers { edges { node { id } } } } } } } } } } } } }"
            ' { user(handle: "alice") { ...F } }'
        )
        only_error(await graphql(gql, query), "QUERY_TOO_DEEP")

    async def test_graphiql_introspection_is_not_limited_by_depth(self, gql: GraphQLClient) -> None:
        query = get_introspection_query(
            descriptions=True,
            specified_by_url=True,
            directive_is_repeatable=True,
            schema_description=True,
            input_value_deprecation=True,
        )
        body = await graphql(gql, query)
        assert "errors" not in body, body
        type_names = {t["name"] for t in body["data"]["__schema"]["types"]}
        assert {"Query", "Mutation", "User", "Tweet"} <= type_names

    async def test_30_aliases_are_allowed(self, gql: GraphQLClient, world: World) -> None:
        query = (
            "{ " + " ".join(f'u{i}: user(handle: "alice") {{ handle }}' for i in range(30)) + " }"
        )
        body = await graphql(gql, query)
        assert "errors" not in body, body
        assert len(body["data"]) == 30

    async def test_31_aliases_are_too_many(self, gql: GraphQLClient, world: World) -> None:
        query = (
            "{ " + " ".join(f'u{i}: user(handle: "alice") {{ handle }}' for i in range(31)) + " }"
        )
        body = await graphql(gql, query)
        error = only_error(body, "TOO_MANY_ALIASES")
        assert "30" in error["message"]
        assert body.get("data") is None

    async def test_a_huge_document_is_refused(self, gql: GraphQLClient) -> None:
        query = "{ " + "__typename " * 6000 + "}"
        body = await graphql(gql, query)
        assert error_codes(body) in (["QUERY_TOO_LARGE"], ["GRAPHQL_PARSE_FAILED"])
        assert body.get("data") is None


class TestDocumentErrors:
    @pytest.mark.parametrize(
        "query",
        [
            pytest.param("{ me ", id="unclosed"),
            pytest.param("{ user(handle: ) { id } }", id="missing-value"),
            pytest.param("SELECT * FROM users", id="not-graphql"),
        ],
    )
    async def test_a_syntax_error_is_graphql_parse_failed(
        self, gql: GraphQLClient, query: str
    ) -> None:
        body = await graphql(gql, query)
        error = only_error(body, "GRAPHQL_PARSE_FAILED")
        assert error["message"].startswith("Syntax Error")
        assert body.get("data") is None

    @pytest.mark.parametrize(
        "query",
        [
            pytest.param("{ }", id="empty-query"),
            pytest.param("query { }", id="empty-operation"),
            pytest.param('{ user(handle: "a") { } }', id="empty-sub-selection"),
            pytest.param("fragment F on Query { } { ...F }", id="empty-fragment"),
        ],
    )
    async def test_an_empty_selection_set_is_a_client_error(
        self, gql: GraphQLClient, query: str
    ) -> None:
        """The GraphQL grammar wants at least one field between braces."""
        body = await graphql(gql, query)
        assert error_codes(body) in (["GRAPHQL_PARSE_FAILED"], ["GRAPHQL_VALIDATION_FAILED"])
        assert body.get("data") is None

    @pytest.mark.parametrize(
        "query",
        [
            pytest.param('{ user(handle: "a") { password } }', id="unknown-field"),
            pytest.param("{ nope }", id="unknown-root-field"),
            pytest.param('{ user(handle: "a", limit: 3) { id } }', id="unknown-argument"),
            pytest.param("{ user { id } }", id="missing-required-argument"),
            pytest.param('{ user(handle: "a") }', id="object-without-selection"),
            pytest.param(
                "{ homeTimeline { pageInfo { hasNextPage { x } } } }", id="scalar-with-selection"
            ),
            pytest.param("mutation { nope }", id="unknown-mutation"),
        ],
    )
    async def test_an_invalid_document_is_graphql_validation_failed(
        self, gql: GraphQLClient, query: str
    ) -> None:
        body = await graphql(gql, query)
        assert set(error_codes(body)) == {"GRAPHQL_VALIDATION_FAILED"}, body
        assert body.get("data") is None

    @pytest.mark.parametrize(
        ("query", "variables"),
        [
            pytest.param("query($id: ID!) { tweet(id: $id) { id } }", {}, id="missing"),
            pytest.param("query($id: ID!) { tweet(id: $id) { id } }", {"id": None}, id="null"),
            pytest.param(
                "query($id: ID!) { tweet(id: $id) { id } }", {"id": [1]}, id="list-for-id"
            ),
            pytest.param(
                "query($id: ID!) { tweet(id: $id) { id } }", {"id": {"a": 1}}, id="object"
            ),
            pytest.param(
                'query($f: Int) { user(handle: "a") { followers(first: $f) { edges { cursor } } } }',
                {"f": "ten"},
                id="string-for-int",
            ),
            pytest.param(
                'query($f: Int) { user(handle: "a") { followers(first: $f) { edges { cursor } } } }',
                {"f": 1.5},
                id="float-for-int",
            ),
            pytest.param(
                'query($f: Int) { user(handle: "a") { followers(first: $f) { edges { cursor } } } }',
                {"f": 2**31},
                id="int-over-32-bits",
            ),
            pytest.param(
                "mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
                {"i": {"handle": "zed"}},
                id="input-missing-field",
            ),
            pytest.param(
                "mutation($i: SignUpInput!) { signUp(input: $i) { token } }",
                {"i": {"handle": "zed", "password": "long enough", "admin": True}},
                id="input-unknown-field",
            ),
        ],
    )
    async def test_a_variable_of_the_wrong_type_is_bad_user_input(
        self, gql: GraphQLClient, query: str, variables: Json
    ) -> None:
        body = await graphql(gql, query, variables)
        only_error(body, "BAD_USER_INPUT")
        assert body.get("data") is None
        assert await gql.ok('{ user(handle: "zed") { id } }') == {"user": None}


# --- never a partial write ---------------------------------------------------------------------


class TestNoPartialWrites:
    async def test_a_too_long_tweet_is_refused_and_not_stored(
        self, gql: GraphQLClient, world: World
    ) -> None:
        before = await state(gql, world)
        body = await graphql(
            gql,
            "mutation($t: String!) { createTweet(input: {text: $t}) { tweet { id } errors { code field message } } }",
            {"t": "x" * 281},
            world.alice.token,
        )
        assert "errors" not in body, body
        payload = body["data"]["createTweet"]
        assert payload["tweet"] is None
        [error] = payload["errors"]
        assert (error["code"], error["field"]) == ("TOO_LONG", "text")
        assert "280" in error["message"]
        assert await state(gql, world) == before

    @pytest.mark.parametrize("text", ["", "   ", "\n\t\n"])
    async def test_an_empty_tweet_is_refused_and_not_stored(
        self, gql: GraphQLClient, world: World, text: str
    ) -> None:
        before = await state(gql, world)
        data = await gql.ok(
            "mutation($t: String!) { createTweet(input: {text: $t}) { tweet { id } errors { code field } } }",
            {"t": text},
            world.alice.token,
        )
        assert data["createTweet"] == {
            "tweet": None,
            "errors": [{"code": "EMPTY", "field": "text"}],
        }
        assert await state(gql, world) == before

    async def test_a_tweet_of_exactly_280_characters_is_stored(
        self, gql: GraphQLClient, world: World
    ) -> None:
        data = await gql.ok(
            "mutation($t: String!) { createTweet(input: {text: $t}) { tweet { id } errors { code } } }",
            {"t": "x" * 280},
            world.alice.token,
        )
        assert data["createTweet"]["errors"] == []
        after = await gql.ok('{ user(handle: "alice") { tweetsCount } }')
        assert after["user"]["tweetsCount"] == 2

    async def test_sign_up_reports_every_invalid_field_and_creates_no_user(
        self, gql: GraphQLClient
    ) -> None:
        data = await gql.ok(
            """mutation($input: SignUpInput!) {
                 signUp(input: $input) { token user { id } errors { code field message } }
               }""",
            {"input": {"handle": "not a handle!", "password": "short"}},
        )
        payload = data["signUp"]
        assert payload["token"] is None
        assert payload["user"] is None
        assert {e["field"] for e in payload["errors"]} == {"handle", "password"}
        assert all(e["code"] and e["message"] for e in payload["errors"])

    async def test_a_refused_sign_up_leaves_its_handle_free(self, gql: GraphQLClient) -> None:
        data = await gql.ok(
            """mutation($input: SignUpInput!) {
                 signUp(input: $input) { token user { id } errors { code field } }
               }""",
            {"input": {"handle": "carol", "password": "short", "bio": "b" * 161}},
        )
        payload = data["signUp"]
        assert (payload["token"], payload["user"]) == (None, None)
        assert {e["field"] for e in payload["errors"]} == {"password", "bio"}
        assert await gql.ok('{ user(handle: "carol") { id } }') == {"user": None}
        await gql.sign_up("carol")  # the handle was never taken
