"""Query cost: refused before it runs when too costly, reported on every answer.

Also the documents that used to freeze the server: fragment bombs validate in
one walk of their text.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from schema import build_schema
from schema.execution.cost import CostModel
from tests.conftest import AppFactory, GraphQLClient

Json = dict[str, Any]

# The attack that returned 201,840 nodes: eight aliases of three nested pages of 100.
AMPLIFIED = (
    "{ "
    + " ".join(
        f"""a{n}: user(handle: "alice") {{ followers(first: 100) {{ edges {{ node {{
              followers(first: 100) {{ edges {{ node {{
                tweets(first: 100) {{ edges {{ node {{ id text }} }} }} }} }} }} }} }} }} }}"""
        for n in range(8)
    )
    + " }"
)
HOME = """query($n: Int) { homeTimeline(first: $n) { edges { node { id text
            author { handle } media { url } } } pageInfo { hasNextPage } } }"""


def fragment_bomb(depth: int, leaf: str = "__typename") -> str:
    """``F0`` spreads ``F1`` twice, which spreads ``F2`` twice...: 2^depth paths."""
    fragments = " ".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(depth)
    )
    return f"query {{ ...F0 }} {fragments} fragment F{depth} on Query {{ {leaf} }}"


async def post(gql: GraphQLClient, query: str, variables: Json | None = None) -> tuple[int, Json]:
    response = await gql.http.post("/graphql", json={"query": query, "variables": variables})
    body: Json = await response.json()
    return response.status, body


class TestRefusedBeforeItRuns:
    async def test_an_amplified_query_is_too_costly(self, gql: GraphQLClient) -> None:
        await gql.sign_up("alice")
        status, body = await post(gql, AMPLIFIED)
        assert status == 400  # a request error: nothing ran
        assert body.get("data") is None
        [error] = body["errors"]
        assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
        cost = error["extensions"]["cost"]
        assert cost > 5000
        assert error["extensions"]["maximumCost"] == 5000
        assert f"costs {cost} points; the maximum is 5000" in error["message"]

    async def test_the_maximum_is_a_setting(self, make_client: AppFactory) -> None:
        gql = await make_client(max_query_cost=50)
        token, _ = await gql.sign_up("alice")
        small = await gql.raw(HOME, {"n": 5}, token)
        assert "errors" not in small
        big = await gql.raw(HOME, {"n": 100}, token)
        assert big["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert big["errors"][0]["extensions"]["maximumCost"] == 50

    async def test_the_node_cap_refuses_with_the_same_code(self, make_client: AppFactory) -> None:
        gql = await make_client(max_query_nodes=50)
        await gql.sign_up("alice")
        body = await gql.raw(
            '{ user(handle: "alice") { followers(first: 10) { edges { node { '
            "followers(first: 10) { edges { node { handle } } } } } } } }"
        )
        [error] = body["errors"]
        assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert error["extensions"]["nodes"] == 110
        assert error["extensions"]["maximumNodes"] == 50

    async def test_a_refused_mutation_changes_nothing(self, make_client: AppFactory) -> None:
        gql = await make_client(max_query_cost=6)  # signUp's payload costs 5
        token, _ = await gql.sign_up("alice")
        body = await gql.raw(
            """mutation { createTweet(input: {text: "hello"}) {
                 tweet { id author { handle followers { edges { node { handle } } } } }
                 errors { code } } }""",
            token=token,
        )
        assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
        data = await gql.ok('{ user(handle: "alice") { tweetsCount } }')
        assert data["user"]["tweetsCount"] == 0


class TestReported:
    async def test_every_answer_reports_its_cost(self, gql: GraphQLClient) -> None:
        token, _ = await gql.sign_up("alice")
        for n in range(3):
            await gql.tweet(token, f"tweet {n}")
        await gql.settle()
        body = await gql.raw(HOME, {"n": 10}, token)
        cost = body["extensions"]["cost"]
        assert set(cost) == {"requestedQueryCost", "actualQueryCost", "limit", "remaining"}
        # connection + pageInfo + 10 x (edge, tweet, author) + 10 x 4 media
        assert cost["requestedQueryCost"] == 2 + 10 * 3 + 10 * 4
        # what came back: connection, pageInfo, 3 x (edge, tweet, author), no media
        assert cost["actualQueryCost"] == 2 + 3 * 3

    async def test_a_bigger_page_costs_more(self, gql: GraphQLClient) -> None:
        token, _ = await gql.sign_up("alice")
        small = await gql.raw(HOME, {"n": 1}, token)
        large = await gql.raw(HOME, {"n": 50}, token)
        assert (
            small["extensions"]["cost"]["requestedQueryCost"]
            < large["extensions"]["cost"]["requestedQueryCost"]
        )

    async def test_a_page_over_the_cap_is_the_page_error_not_a_cost_error(
        self, gql: GraphQLClient
    ) -> None:
        token, _ = await gql.sign_up("alice")
        body = await gql.raw(HOME, {"n": 1_000_000}, token)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert "100" in body["errors"][0]["message"]

    async def test_the_cost_of_a_mutation_is_reported(self, gql: GraphQLClient) -> None:
        token, _ = await gql.sign_up("alice")
        body = await gql.raw(
            'mutation { createTweet(input: {text: "hi"}) { tweet { id } errors { code } } }',
            token=token,
        )
        # the payload, its tweet and up to 3 errors
        assert body["extensions"]["cost"]["requestedQueryCost"] == 5
        assert body["extensions"]["cost"]["actualQueryCost"] == 2


class TestFragmentBombs:
    async def test_a_40_fragment_bomb_is_answered_at_once(self, gql: GraphQLClient) -> None:
        started = time.perf_counter()
        status, body = await post(gql, fragment_bomb(40))
        # 2^40 walks would take days; one walk takes milliseconds
        assert time.perf_counter() - started < 2
        assert status == 200
        assert body["data"] == {"__typename": "Query"}

    async def test_an_alias_bomb_is_refused_at_once(self, gql: GraphQLClient) -> None:
        started = time.perf_counter()
        _, body = await post(gql, fragment_bomb(40, "a: __typename"))
        assert time.perf_counter() - started < 2
        [error] = body["errors"]
        assert error["extensions"]["code"] == "TOO_MANY_ALIASES"
        assert str(2**40) in error["message"]

    async def test_a_bomb_of_real_fields_is_refused_by_its_cost_at_once(
        self, gql: GraphQLClient
    ) -> None:
        started = time.perf_counter()
        _, body = await post(gql, fragment_bomb(40, 'user(handle: "a") { handle }'))
        assert time.perf_counter() - started < 2
        [error] = body["errors"]
        assert error["extensions"]["code"] == "QUERY_TOO_COSTLY"
        assert error["extensions"]["cost"] == 2**40

    def test_each_fragment_is_costed_once(self) -> None:
        from graphql import get_operation_ast, parse

        schema = build_schema()
        query = fragment_bomb(40, "me { handle }")
        document = parse(query)
        operation = get_operation_ast(document)
        assert operation is not None
        plan = CostModel(page_cap=100).plan(schema._schema, query, document, operation, None)
        assert plan is not None
        assert plan.evaluate(None).cost == 2**40  # one object per path, counted exactly


class TestIntrospectionSwitch:
    async def test_on_by_default(self, gql: GraphQLClient) -> None:
        data = await gql.ok("{ __schema { queryType { name } } }")
        assert data["__schema"]["queryType"]["name"] == "Query"
        body = await gql.raw("{ mee { id } }")
        assert "Did you mean" in body["errors"][0]["message"]

    @pytest.mark.parametrize(
        "query", ["{ __schema { types { name } } }", '{ __type(name: "User") { name } }']
    )
    async def test_off_refuses_introspection(self, make_client: AppFactory, query: str) -> None:
        gql = await make_client(introspection=False)
        body = await gql.raw(query)
        assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection" in body["errors"][0]["message"].lower()

    async def test_off_hides_field_suggestions(self, make_client: AppFactory) -> None:
        gql = await make_client(introspection=False)
        body = await gql.raw("{ mee { id } }")
        assert "Did you mean" not in body["errors"][0]["message"]
        assert (await gql.ok("{ __typename }")) == {"__typename": "Query"}
