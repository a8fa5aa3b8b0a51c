"""Rate limits in points: budgets per user, per client address, and per throttled action.

The test client connects from 127.0.0.1, which the default safelist exempts;
these tests empty the safelist (as a server on the internet sees its clients)
unless they are about the safelist itself. A trusted proxy's X-Forwarded-For
gives each simulated client its own address.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from services.limits import client_key
from tests.conftest import AppFactory, GraphQLClient

Json = dict[str, Any]
UNLIMITED_HERE = {"rate_limit_safelist": "", "trusted_proxies": "127.0.0.1/32"}
LOG_IN = """mutation($h: String!, $p: String!) {
  logIn(input: {handle: $h, password: $p}) { token errors { code } } }"""
SIGN_UP = """mutation($h: String!) {
  signUp(input: {handle: $h, password: "correct horse"}) { token errors { code } } }"""


async def send(
    gql: GraphQLClient,
    query: str,
    variables: Json | None = None,
    *,
    ip: str | None = None,
    token: str | None = None,
) -> tuple[int, dict[str, str], Json]:
    headers = {"X-Forwarded-For": ip} if ip else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = await gql.http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    body: Json = await response.json()
    return response.status, dict(response.headers), body


def codes(body: Json) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors", [])]


class TestHeaders:
    async def test_every_answer_names_its_budget(self, make_client: AppFactory) -> None:
        gql = await make_client(**UNLIMITED_HERE)
        status, headers, body = await send(gql, "{ __typename }", ip="203.0.113.7")
        assert status == 200
        assert headers["X-RateLimit-Limit"] == "3000"
        assert headers["X-RateLimit-Remaining"] == "2999"  # every request spends a point
        assert int(headers["X-RateLimit-Reset"]) >= int(time.time())
        assert headers["RateLimit-Policy"] == '"ip";q=3000;w=300'
        assert headers["RateLimit"].startswith('"ip";r=2999;t=')
        assert body["extensions"]["cost"]["limit"] == 3000

    async def test_the_cost_is_what_a_request_spends(self, make_client: AppFactory) -> None:
        gql = await make_client(**UNLIMITED_HERE)
        query = '{ user(handle: "nobody") { followers(first: 50) { edges { node { id } } } } }'
        _, headers, body = await send(gql, query, ip="203.0.113.7")
        cost = body["extensions"]["cost"]["requestedQueryCost"]
        assert cost == 1 + 1 + 50 * 2
        assert int(headers["X-RateLimit-Remaining"]) == 3000 - cost
        _, headers, _ = await send(gql, "{ me { id } }", ip="203.0.113.7")
        assert int(headers["X-RateLimit-Remaining"]) == 3000 - cost - 1

    async def test_a_signed_in_user_spends_their_own_budget(self, make_client: AppFactory) -> None:
        gql = await make_client(**UNLIMITED_HERE)
        _, _, body = await send(gql, SIGN_UP, {"h": "alice"}, ip="203.0.113.7")
        token = body["data"]["signUp"]["token"]
        _, headers, _ = await send(gql, "{ me { id } }", ip="203.0.113.7", token=token)
        assert headers["RateLimit-Policy"] == '"user";q=15000;w=300'
        assert headers["X-RateLimit-Remaining"] == str(15000 - 1)


class TestOverALimit:
    async def test_429_with_retry_after_and_a_coded_error(self, make_client: AppFactory) -> None:
        gql = await make_client(rate_limit_anonymous="10/5m", **UNLIMITED_HERE)
        query = '{ user(handle: "nobody") { followers(first: 4) { edges { node { id } } } } }'
        assert (await send(gql, query, ip="203.0.113.7"))[0] == 200  # costs 10
        status, headers, body = await send(gql, query, ip="203.0.113.7")
        assert status == 429
        assert codes(body) == ["RATE_LIMITED"]
        retry = body["errors"][0]["extensions"]["retryAfter"]
        assert 1 <= retry <= 300
        assert headers["Retry-After"] == str(retry)
        assert body.get("data") is None
        # another address has its own budget
        assert (await send(gql, query, ip="203.0.113.8"))[0] == 200

    async def test_a_refused_mutation_changes_nothing(self, make_client: AppFactory) -> None:
        gql = await make_client(rate_limit_user="6/5m", **UNLIMITED_HERE)
        _, _, body = await send(gql, SIGN_UP, {"h": "alice"}, ip="203.0.113.7")
        token = body["data"]["signUp"]["token"]
        tweet = 'mutation { createTweet(input: {text: "hi"}) { tweet { id } errors { code } } }'
        assert (await send(gql, tweet, ip="203.0.113.7", token=token))[0] == 200  # 5 points
        status, _, body = await send(gql, tweet, ip="203.0.113.7", token=token)
        assert status == 429
        assert codes(body) == ["RATE_LIMITED"]
        data = await gql.ok('{ user(handle: "alice") { tweetsCount } }')
        assert data["user"]["tweetsCount"] == 1

    async def test_the_rate_limit_query_answers_the_budget(self, make_client: AppFactory) -> None:
        gql = await make_client(**UNLIMITED_HERE)
        _, _, body = await send(
            gql, "{ rateLimit { limit remaining cost resetAt } }", ip="203.0.113.7"
        )
        budget = body["data"]["rateLimit"]
        assert budget["limit"] == 3000
        assert budget["cost"] == 1
        assert budget["remaining"] == 2999
        assert budget["resetAt"].endswith("+00:00") or budget["resetAt"].endswith("Z")


class TestLogIn:
    async def test_a_password_guessing_loop_is_stopped(self, make_client: AppFactory) -> None:
        gql = await make_client(**UNLIMITED_HERE)
        await send(gql, SIGN_UP, {"h": "alice"}, ip="198.51.100.1")
        answers = [
            (await send(gql, LOG_IN, {"h": "alice", "p": f"guess {n}"}, ip="203.0.113.7"))[0]
            for n in range(26)
        ]
        assert answers[:25] == [200] * 25
        assert answers[25] == 429
        # the right password is refused too until the window passes
        status, _, body = await send(
            gql, LOG_IN, {"h": "alice", "p": "correct horse"}, ip="203.0.113.9"
        )
        assert status == 429
        assert codes(body) == ["RATE_LIMITED"]

    async def test_the_per_handle_limit_holds_whatever_the_address(
        self, make_client: AppFactory
    ) -> None:
        gql = await make_client(rate_limit_log_in="3/5m", **UNLIMITED_HERE)
        await send(gql, SIGN_UP, {"h": "alice"}, ip="198.51.100.1")
        for n in range(3):
            status, _, _ = await send(
                gql, LOG_IN, {"h": "Alice", "p": "wrong"}, ip=f"203.0.113.{n + 1}"
            )
            assert status == 200
        status, _, _ = await send(gql, LOG_IN, {"h": "ALICE", "p": "wrong"}, ip="203.0.113.99")
        assert status == 429
        # another account is not affected
        await send(gql, SIGN_UP, {"h": "bob"}, ip="198.51.100.2")
        status, _, body = await send(
            gql, LOG_IN, {"h": "bob", "p": "correct horse"}, ip="203.0.113.99"
        )
        assert status == 200
        assert body["data"]["logIn"]["token"]

    async def test_safelisted_addresses_are_still_limited_per_handle(
        self, make_client: AppFactory
    ) -> None:
        gql = await make_client(rate_limit_log_in="3/5m")  # loopback safelisted, the default
        await gql.sign_up("alice")
        statuses = [(await send(gql, LOG_IN, {"h": "alice", "p": "wrong"}))[0] for _ in range(4)]
        assert statuses == [200, 200, 200, 429]


class TestSignUp:
    async def test_five_sign_ups_per_address(self, make_client: AppFactory) -> None:
        gql = await make_client(**UNLIMITED_HERE)
        statuses = [
            (await send(gql, SIGN_UP, {"h": f"user{n}"}, ip="203.0.113.7"))[0] for n in range(6)
        ]
        assert statuses == [200] * 5 + [429]
        data = await gql.ok('{ user(handle: "user5") { id } }')
        assert data["user"] is None  # the refused sign-up created nothing
        assert (await send(gql, SIGN_UP, {"h": "user5"}, ip="203.0.113.8"))[0] == 200


class TestClientAddress:
    async def test_forwarded_for_is_ignored_from_an_untrusted_peer(
        self, make_client: AppFactory
    ) -> None:
        gql = await make_client(rate_limit_safelist="", rate_limit_sign_up="1/30m")
        assert (await send(gql, SIGN_UP, {"h": "a1"}, ip="203.0.113.1"))[0] == 200
        # a forged header does not buy a fresh budget: the peer (127.0.0.1) is charged
        assert (await send(gql, SIGN_UP, {"h": "a2"}, ip="203.0.113.2"))[0] == 429

    async def test_the_client_is_the_last_untrusted_hop(self, make_client: AppFactory) -> None:
        gql = await make_client(rate_limit_sign_up="1/30m", **UNLIMITED_HERE)
        forged = "6.6.6.6, 203.0.113.1"  # the client forged the first hop
        assert (await send(gql, SIGN_UP, {"h": "a1"}, ip=forged))[0] == 200
        assert (await send(gql, SIGN_UP, {"h": "a2"}, ip="7.7.7.7, 203.0.113.1"))[0] == 429

    @pytest.mark.parametrize(
        ("ip", "key"),
        [
            ("203.0.113.7", "203.0.113.7"),
            ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
            ("::ffff:203.0.113.7", "203.0.113.7"),
        ],
    )
    def test_ipv6_addresses_share_their_64(self, ip: str, key: str) -> None:
        assert client_key(ip) == key


class TestSafelist:
    async def test_loopback_is_never_charged_or_refused(self, make_client: AppFactory) -> None:
        gql = await make_client(rate_limit_anonymous="5/5m")
        query = '{ user(handle: "nobody") { followers(first: 4) { edges { node { id } } } } }'
        for _ in range(5):
            status, headers, _ = await send(gql, query)
            assert status == 200
            assert headers["X-RateLimit-Remaining"] == "5"  # reported whole: not charged


class TestRefusedDocuments:
    async def test_a_document_refused_before_it_runs_costs_a_point(
        self, make_client: AppFactory
    ) -> None:
        gql = await make_client(rate_limit_anonymous="3/5m", **UNLIMITED_HERE)
        statuses = [(await send(gql, "{ nosuchfield }", ip="203.0.113.7"))[0] for _ in range(4)]
        assert statuses[:3] == [400, 400, 400]
        status, _, body = await send(gql, "{ __typename }", ip="203.0.113.7")
        assert status == 429
        assert codes(body) == ["RATE_LIMITED"]
