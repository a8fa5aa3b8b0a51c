"""Apps and API keys: register, list, revoke; X-Api-Key on requests; keys required."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from tests.conftest import AppFactory, GraphQLClient

Json = dict[str, Any]
REGISTER = """mutation($name: String!) { registerApp(name: $name) {
  app { id name quotaPerHour createdAt owner { handle } } key errors { code field } } }"""
REVOKE = "mutation($id: ID!) { revokeApp(id: $id) { deletedId errors { code } } }"
APPS = "{ apps { id name } }"


async def register(gql: GraphQLClient, token: str, name: str = "My client") -> tuple[str, str]:
    data = await gql.ok(REGISTER, {"name": name}, token)
    payload = data["registerApp"]
    assert payload["errors"] == []
    return payload["app"]["id"], payload["key"]


async def status_with_key(gql: GraphQLClient, key: str | None) -> tuple[int, Json]:
    headers = {"X-Api-Key": key} if key is not None else {}
    response = await gql.http.post("/graphql", json={"query": "{ __typename }"}, headers=headers)
    return response.status, await response.json()


class TestRegister:
    async def test_the_key_is_shown_once_and_recognisable(self, gql: GraphQLClient) -> None:
        token, _ = await gql.sign_up("alice")
        data = await gql.ok(REGISTER, {"name": "  My client  "}, token)
        payload = data["registerApp"]
        assert payload["errors"] == []
        assert payload["app"]["name"] == "My client"
        assert payload["app"]["owner"] == {"handle": "alice"}
        assert payload["app"]["quotaPerHour"] == 500_000
        key = payload["key"]
        assert key.startswith("chirp_")
        assert len(key) >= len("chirp_") + 43  # 256 random bits, base64url
        listed = await gql.ok("{ apps { id name quotaPerHour } }", token=token)
        assert listed["apps"] == [
            {"id": payload["app"]["id"], "name": "My client", "quotaPerHour": 500_000}
        ]
        assert key not in str(listed)

    async def test_only_a_hash_is_stored(self, gql: GraphQLClient, tmp_path: Any) -> None:
        token, _ = await gql.sign_up("alice")
        _, key = await register(gql, token)
        for path in (tmp_path / "data").glob("*.sqlite3*"):
            assert key.encode() not in path.read_bytes(), path

    async def test_keys_are_unique(self, gql: GraphQLClient) -> None:
        token, _ = await gql.sign_up("alice")
        keys = {(await register(gql, token, f"app {n}"))[1] for n in range(5)}
        assert len(keys) == 5

    async def test_a_blank_or_long_name_is_a_user_error(self, gql: GraphQLClient) -> None:
        token, _ = await gql.sign_up("alice")
        for name, code in (
            ("   ", "EMPTY"),
            ("x" * 51, "TOO_LONG"),
            ("a\u202eb", "INVALID_CHARACTERS"),
        ):
            data = await gql.ok(REGISTER, {"name": name}, token)
            assert data["registerApp"]["errors"] == [{"code": code, "field": "name"}]
            assert data["registerApp"]["key"] is None
        assert (await gql.ok(APPS, token=token))["apps"] == []

    async def test_signed_in_only(self, gql: GraphQLClient) -> None:
        assert await gql.error_code(REGISTER, {"name": "x"}) == "UNAUTHENTICATED"
        assert await gql.error_code(APPS) == "UNAUTHENTICATED"

    async def test_apps_are_private_to_their_owner(self, gql: GraphQLClient) -> None:
        alice, _ = await gql.sign_up("alice")
        bob, _ = await gql.sign_up("bob")
        await register(gql, alice)
        assert (await gql.ok(APPS, token=bob))["apps"] == []


class TestKeysOnRequests:
    async def test_a_live_key_is_accepted(self, gql: GraphQLClient) -> None:
        token, _ = await gql.sign_up("alice")
        _, key = await register(gql, token)
        status, body = await status_with_key(gql, key)
        assert status == 200
        assert body["data"] == {"__typename": "Query"}

    async def test_an_unknown_key_is_refused(self, gql: GraphQLClient) -> None:
        for key in ("chirp_" + "A" * 43, "not-a-key", ""):
            status, body = await status_with_key(gql, key)
            if key == "":
                assert status == 200  # an empty header is no key
                continue
            assert status == 401
            assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
            assert key not in body["errors"][0]["message"]

    async def test_revoking_takes_effect_on_the_next_request(self, gql: GraphQLClient) -> None:
        token, _ = await gql.sign_up("alice")
        app_id, key = await register(gql, token)
        assert (await status_with_key(gql, key))[0] == 200
        data = await gql.ok(REVOKE, {"id": app_id}, token)
        assert data["revokeApp"] == {"deletedId": app_id, "errors": []}
        status, body = await status_with_key(gql, key)
        assert status == 401
        assert body["errors"][0]["message"] == "Unknown or revoked API key."
        assert (await gql.ok(APPS, token=token))["apps"] == []
        again = await gql.ok(REVOKE, {"id": app_id}, token)
        assert again["revokeApp"]["errors"] == [{"code": "NOT_FOUND"}]

    async def test_only_the_owner_may_revoke(self, gql: GraphQLClient) -> None:
        alice, _ = await gql.sign_up("alice")
        bob, _ = await gql.sign_up("bob")
        app_id, key = await register(gql, alice)
        data = await gql.ok(REVOKE, {"id": app_id}, bob)
        assert data["revokeApp"] == {"deletedId": None, "errors": [{"code": "FORBIDDEN"}]}
        assert (await status_with_key(gql, key))[0] == 200

    async def test_an_apps_requests_spend_its_quota(self, make_client: AppFactory) -> None:
        gql = await make_client(
            rate_limit_safelist="", app_quota_per_hour=3, rate_limit_anonymous="100/5m"
        )
        token, _ = await gql.sign_up("alice")
        _, key = await register(gql, token)
        query = "{ me { handle } }"  # costs 1
        statuses = []
        for _ in range(4):
            response = await gql.http.post(
                "/graphql",
                json={"query": query},
                headers={"X-Api-Key": key, "Authorization": f"Bearer {token}"},
            )
            statuses.append(response.status)
        assert statuses == [200, 200, 200, 429]
        # without the key, the user's own budget still pays
        assert (await gql.raw(query, token=token))["data"] == {"me": {"handle": "alice"}}


class TestRequired:
    async def test_keyless_requests_are_refused(self, make_client: AppFactory) -> None:
        gql = await make_client(require_api_key=True)
        status, body = await status_with_key(gql, None)
        assert status == 401
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "X-Api-Key" in body["errors"][0]["message"]

    async def test_graphiql_still_loads(
        self, graphiql_bundle: Path, make_client: AppFactory
    ) -> None:
        gql = await make_client(require_api_key=True)
        response = await gql.http.get("/graphql", headers={"Accept": "text/html"})
        assert response.status == 200
        assert "graphiql" in (await response.text()).lower()

    async def test_health_checks_need_no_key(self, make_client: AppFactory) -> None:
        gql = await make_client(require_api_key=True)
        assert (await gql.http.get("/healthz")).status == 200


class TestAdminCreateApp:
    async def test_the_first_key_of_a_server_that_requires_one(
        self, make_client: AppFactory, settings: Any
    ) -> None:
        from tests.processes import environment, run

        gql = await make_client(require_api_key=False)
        await gql.sign_up("alice")
        env = environment(settings.data_dir, CHIRP_SECRET_KEY=settings.secret_key)
        done = await asyncio.to_thread(
            run, ["admin", "create-app", "--owner", "@alice", "--name", "Web client"], env
        )
        assert done.returncode == 0, done.stderr
        key = done.stdout.split("key: ")[1].strip()
        assert key.startswith("chirp_")
        strict = await make_client(require_api_key=True)
        status, body = await status_with_key(strict, key)
        assert (status, body["data"]) == (200, {"__typename": "Query"})
        missing = await asyncio.to_thread(
            run, ["admin", "create-app", "--owner", "nobody", "--name", "x"], env
        )
        assert missing.returncode == 1
        assert "no user @nobody" in missing.stderr
