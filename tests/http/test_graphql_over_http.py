"""GraphQL over HTTP: what a client gets for each Accept header, and which operation runs.

The rules these tests pin down:

- ``Accept: application/graphql-response+json`` (the specification's media type):
  every GraphQL response is labelled so. A request error (the document does not
  parse or validate, a variable cannot be coerced) is 400 and has no ``data``
  entry; once the operation ran, the answer is 200, errors of fields included.
- ``Accept: application/json`` (the legacy media type): answers as before the
  specification, 200 with ``"data": null`` for a request error.
- No Accept, ``*/*``, or a header naming neither type: the specification's status
  codes, under the ``application/json`` label.
- The operation to run must be clear: a document of several operations needs an
  ``operationName`` (a string), which must name one of them; else 400, nothing runs.
- A subscription is served over the WebSocket only: over POST or GET it is
  refused with 400 ``SUBSCRIPTION_OVER_HTTP``, and nothing is logged as an error.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import GraphQLClient, answer

Json = dict[str, Any]
GRAPHQL_RESPONSE = "application/graphql-response+json"
JSON = "application/json"
SIGN_UP_ALICE = (
    'mutation A { signUp(input: {handle: "alice", password: "correct horse"}) { token } }'
)
SIGN_UP_BOB = 'mutation B { signUp(input: {handle: "bob", password: "correct horse"}) { token } }'


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    charset: str | None
    headers: dict[str, str]
    body: Json


async def post(gql: GraphQLClient, payload: Json, accept: str | None = None) -> Reply:
    headers = {"Content-Type": JSON}
    if accept is not None:
        headers["Accept"] = accept
    response = await gql.http.post("/graphql", data=json.dumps(payload), headers=headers)
    text = await response.text()
    assert "Traceback" not in text, text
    return Reply(
        response.status,
        response.content_type,
        response.charset,
        dict(response.headers),
        json.loads(text),
    )


async def get(gql: GraphQLClient, params: dict[str, str], accept: str | None = None) -> Reply:
    headers = {"Accept": accept} if accept is not None else {}
    response = await gql.http.get("/graphql", params=params, headers=headers)
    text = await response.text()
    assert "Traceback" not in text, text
    return Reply(
        response.status,
        response.content_type,
        response.charset,
        dict(response.headers),
        json.loads(text),
    )


def only_code(reply: Reply) -> str:
    [error] = reply.body["errors"]
    assert error["message"].strip(), reply
    code: str = error["extensions"]["code"]
    return code


async def handles(gql: GraphQLClient) -> set[str]:
    data = await gql.ok('{ a: user(handle: "alice") { handle } b: user(handle: "bob") { handle } }')
    return {user["handle"] for user in data.values() if user}


# --- media types -------------------------------------------------------------------------------

# Accept header -> (the label of every GraphQL response, the status of a request error)
ACCEPTS = [
    pytest.param(GRAPHQL_RESPONSE, GRAPHQL_RESPONSE, 400, id="graphql-response+json"),
    pytest.param(
        "application/graphql-response+json, application/json;q=0.9",
        GRAPHQL_RESPONSE,
        400,
        id="the-spec-recommended-header",
    ),
    pytest.param(
        "application/graphql-response+json; charset=utf-8", GRAPHQL_RESPONSE, 400, id="charset"
    ),
    pytest.param("Application/GraphQL-Response+JSON", GRAPHQL_RESPONSE, 400, id="upper-case"),
    pytest.param(JSON, JSON, 200, id="json"),
    pytest.param("application/json, text/plain, */*", JSON, 200, id="json-before-anything"),
    pytest.param(
        "application/json, application/graphql-response+json;q=0.5", JSON, 200, id="json-first"
    ),
    pytest.param(None, JSON, 400, id="no-accept"),
    pytest.param("*/*", JSON, 400, id="anything"),
    pytest.param("application/*", JSON, 400, id="any-application-type"),
    pytest.param("text/html", JSON, 400, id="no-type-offered"),
    pytest.param(
        "application/graphql-response+json;q=0, */*", JSON, 400, id="graphql-response-refused"
    ),
]

REQUEST_ERRORS = [
    pytest.param({"query": "{"}, "GRAPHQL_PARSE_FAILED", id="parse"),
    pytest.param({"query": "{ nope }"}, "GRAPHQL_VALIDATION_FAILED", id="validation"),
    pytest.param(
        {"query": "query($id: ID!) { tweet(id: $id) { id } }", "variables": {"id": None}},
        "BAD_USER_INPUT",
        id="variable-coercion",
    ),
]


class TestMediaTypes:
    @pytest.mark.parametrize(("accept", "content_type", "refused"), ACCEPTS)
    async def test_an_answer_is_200_with_the_accepted_label(
        self, gql: GraphQLClient, accept: str | None, content_type: str, refused: int
    ) -> None:
        reply = await post(gql, {"query": "{ __typename }"}, accept)
        assert (reply.status, reply.content_type) == (200, content_type), reply
        assert answer(reply.body) == {"data": {"__typename": "Query"}}

    async def test_graphql_response_json_says_its_encoding(self, gql: GraphQLClient) -> None:
        reply = await post(gql, {"query": "{ __typename }"}, GRAPHQL_RESPONSE)
        assert reply.charset == "utf-8"

    @pytest.mark.parametrize(("accept", "content_type", "refused"), ACCEPTS)
    @pytest.mark.parametrize(("payload", "code"), REQUEST_ERRORS)
    async def test_a_request_error_is_400_without_data_except_for_json(
        self,
        gql: GraphQLClient,
        accept: str | None,
        content_type: str,
        refused: int,
        payload: Json,
        code: str,
    ) -> None:
        reply = await post(gql, payload, accept)
        assert (reply.status, reply.content_type) == (refused, content_type), reply
        assert only_code(reply) == code
        if refused == 200:  # application/json, as before the specification
            assert reply.body["data"] is None, reply
        else:
            assert "data" not in reply.body, reply

    @pytest.mark.parametrize(("accept", "content_type", "refused"), ACCEPTS)
    async def test_a_request_error_over_get_follows_the_same_rules(
        self, gql: GraphQLClient, accept: str | None, content_type: str, refused: int
    ) -> None:
        reply = await get(gql, {"query": "{ nope }"}, accept or "*/*")
        assert (reply.status, reply.content_type) == (refused, content_type), reply
        assert only_code(reply) == "GRAPHQL_VALIDATION_FAILED"

    @pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON, None])
    async def test_a_field_error_is_200_with_its_data(
        self, gql: GraphQLClient, accept: str | None
    ) -> None:
        """The operation ran: its errors are part of the result, whatever the media type."""
        reply = await post(gql, {"query": "{ me { handle } __typename }"}, accept)
        assert reply.status == 200, reply
        assert reply.body["data"] == {"me": None, "__typename": "Query"}
        assert only_code(reply) == "UNAUTHENTICATED"

    @pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON, None])
    async def test_a_field_error_that_nulls_all_data_is_still_200(
        self, gql: GraphQLClient, accept: str | None
    ) -> None:
        """homeTimeline is non-null: its error empties the data, which stays, as null."""
        reply = await post(gql, {"query": "{ homeTimeline { edges { cursor } } }"}, accept)
        assert reply.status == 200, reply
        assert reply.body["data"] is None
        assert reply.body["errors"][0]["path"] == ["homeTimeline"]
        assert only_code(reply) == "UNAUTHENTICATED"

    @pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON, None])
    async def test_a_request_that_cannot_be_read_is_a_json_error(
        self, gql: GraphQLClient, accept: str | None
    ) -> None:
        """No GraphQL response can be made of it: the spec keeps its media type out."""
        headers = {"Content-Type": JSON, **({"Accept": accept} if accept else {})}
        response = await gql.http.post("/graphql", data=b'{"query": ', headers=headers)
        assert (response.status, response.content_type) == (400, JSON)
        body = await response.json()
        assert body["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


# --- request parameters ------------------------------------------------------------------------


class TestOperationName:
    @pytest.mark.parametrize(
        "name",
        [
            pytest.param({"obj": "ect"}, id="object"),
            pytest.param(["array"], id="array"),
            pytest.param(0, id="number"),
            pytest.param(False, id="boolean"),
        ],
    )
    @pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON, None])
    async def test_an_operation_name_that_is_not_a_string_is_400(
        self, gql: GraphQLClient, name: object, accept: str | None
    ) -> None:
        reply = await post(gql, {"query": "{ __typename }", "operationName": name}, accept)
        assert (reply.status, reply.content_type) == (400, JSON), reply
        assert only_code(reply) == "BAD_REQUEST"
        assert "operationName" in reply.body["errors"][0]["message"]
        assert "data" not in reply.body

    async def test_a_null_operation_name_is_no_operation_name(self, gql: GraphQLClient) -> None:
        reply = await post(gql, {"query": "{ __typename }", "operationName": None})
        assert (reply.status, answer(reply.body)) == (200, {"data": {"__typename": "Query"}})

    async def test_the_named_operation_runs(self, gql: GraphQLClient) -> None:
        reply = await post(gql, {"query": SIGN_UP_ALICE + SIGN_UP_BOB, "operationName": "B"})
        assert reply.status == 200, reply
        assert reply.body["data"]["signUp"]["token"]
        assert await handles(gql) == {"bob"}

    async def test_a_single_named_operation_needs_no_name(self, gql: GraphQLClient) -> None:
        reply = await post(gql, {"query": "query Only { __typename }"})
        assert (reply.status, answer(reply.body)) == (200, {"data": {"__typename": "Query"}})

    @pytest.mark.parametrize(
        ("accept", "content_type"),
        [(GRAPHQL_RESPONSE, GRAPHQL_RESPONSE), (JSON, JSON), (None, JSON)],
    )
    async def test_several_operations_and_no_name_is_400_and_nothing_runs(
        self, gql: GraphQLClient, accept: str | None, content_type: str
    ) -> None:
        reply = await post(gql, {"query": SIGN_UP_ALICE + SIGN_UP_BOB}, accept)
        assert (reply.status, reply.content_type) == (400, content_type), reply
        assert only_code(reply) == "BAD_REQUEST"
        message = reply.body["errors"][0]["message"]
        assert message == "Must provide operation name if query contains multiple operations."
        assert "data" not in reply.body
        assert await handles(gql) == set()

    async def test_several_queries_and_no_name_is_400_even_once_each_ran(
        self, gql: GraphQLClient
    ) -> None:
        """The short path for known queries is keyed by the name sent: it does not guess."""
        query = "query A { __typename } query B { me { id } }"
        for name in ("A", "B", "A", "B"):
            assert (await post(gql, {"query": query, "operationName": name})).status == 200
        reply = await post(gql, {"query": query})
        assert reply.status == 400, reply
        assert "Must provide operation name" in reply.body["errors"][0]["message"]

    async def test_several_operations_and_no_name_over_get_is_400(self, gql: GraphQLClient) -> None:
        reply = await get(gql, {"query": "query A { __typename } query B { __typename }"})
        assert reply.status == 400, reply
        assert only_code(reply) == "BAD_REQUEST"
        assert "Must provide operation name" in reply.body["errors"][0]["message"]

    @pytest.mark.parametrize("accept", [GRAPHQL_RESPONSE, JSON, None])
    async def test_a_name_of_no_operation_is_400_naming_it(
        self, gql: GraphQLClient, accept: str | None
    ) -> None:
        reply = await post(
            gql, {"query": SIGN_UP_ALICE + SIGN_UP_BOB, "operationName": "C"}, accept
        )
        assert reply.status == 400, reply
        assert only_code(reply) == "BAD_REQUEST"
        assert '"C"' in reply.body["errors"][0]["message"]
        assert await handles(gql) == set()


class TestGet:
    async def test_empty_optional_parameters_are_as_good_as_none(self, gql: GraphQLClient) -> None:
        params = {"query": "{ __typename }", "operationName": "", "variables": "", "extensions": ""}
        reply = await get(gql, params)
        assert (reply.status, answer(reply.body)) == (200, {"data": {"__typename": "Query"}})

    @pytest.mark.parametrize(
        ("accept", "content_type"), [(GRAPHQL_RESPONSE, GRAPHQL_RESPONSE), ("*/*", JSON)]
    )
    async def test_a_mutation_is_405_allowing_post(
        self, gql: GraphQLClient, accept: str, content_type: str
    ) -> None:
        reply = await get(gql, {"query": SIGN_UP_ALICE}, accept)
        assert (reply.status, reply.content_type) == (405, content_type), reply
        assert reply.headers["Allow"] == "POST"
        assert only_code(reply) == "METHOD_NOT_ALLOWED"
        assert await handles(gql) == set()


# --- subscriptions -----------------------------------------------------------------------------

SUBSCRIPTION = "subscription { homeTimeline { id } }"


class TestSubscriptionsOverHttp:
    @pytest.mark.parametrize(
        ("accept", "content_type"),
        [(GRAPHQL_RESPONSE, GRAPHQL_RESPONSE), (JSON, JSON), (None, JSON)],
    )
    async def test_a_subscription_over_post_is_refused_pointing_to_the_websocket(
        self,
        gql: GraphQLClient,
        caplog: pytest.LogCaptureFixture,
        accept: str | None,
        content_type: str,
    ) -> None:
        with caplog.at_level(logging.WARNING):
            reply = await post(gql, {"query": SUBSCRIPTION}, accept)
        assert (reply.status, reply.content_type) == (400, content_type), reply
        assert only_code(reply) == "SUBSCRIPTION_OVER_HTTP"
        message = reply.body["errors"][0]["message"]
        assert "WebSocket" in message
        assert "/graphql" in message
        assert "graphql-transport-ws" in message
        assert "data" not in reply.body
        assert caplog.records == []

    async def test_a_subscription_over_get_is_refused_alike(
        self, gql: GraphQLClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        with caplog.at_level(logging.WARNING):
            reply = await get(gql, {"query": SUBSCRIPTION}, "*/*")
        assert reply.status == 400, reply
        assert only_code(reply) == "SUBSCRIPTION_OVER_HTTP"
        assert "WebSocket" in reply.body["errors"][0]["message"]
        assert caplog.records == []

    async def test_a_named_subscription_among_queries_is_refused(self, gql: GraphQLClient) -> None:
        query = "query Q { __typename } subscription S { homeTimeline { id } }"
        assert (await post(gql, {"query": query, "operationName": "Q"})).status == 200
        reply = await post(gql, {"query": query, "operationName": "S"})
        assert reply.status == 400, reply
        assert only_code(reply) == "SUBSCRIPTION_OVER_HTTP"


async def test_a_websocket_subscription_of_several_operations_needs_a_name_too(
    gql: GraphQLClient,
) -> None:
    """graphql-transport-ws refuses the subscribe: the connection closes, saying why."""
    token, _ = await gql.sign_up("alice")
    ws = await gql.http.ws_connect("/graphql", protocols=("graphql-transport-ws",))
    init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
    await ws.send_str(json.dumps(init))
    assert json.loads((await ws.receive(timeout=5)).data) == {"type": "connection_ack"}
    query = 'subscription A { homeTimeline { id } } subscription B { hashtag(name: "x") { id } }'
    await ws.send_str(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
    closed = await ws.receive(timeout=5)
    assert (closed.data, closed.extra) == (
        4400,
        "Must provide operation name if query contains multiple operations.",
    )
