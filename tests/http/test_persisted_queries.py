"""Persisted queries: Apollo's APQ over POST and GET, and registered operations only."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from persisted.memory import MemoryQueryStore
from tests.conftest import AppFactory, GraphQLClient

Json = dict[str, Any]
QUERY = '{ user(handle: "alice") { handle } }'
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def persisted(digest: str = HASH, version: int = 1) -> Json:
    return {"persistedQuery": {"version": version, "sha256Hash": digest}}


async def post(gql: GraphQLClient, body: Json, **headers: str) -> tuple[int, Json]:
    response = await gql.http.post("/graphql", json=body, headers=headers)
    return response.status, await response.json()


async def get(gql: GraphQLClient, params: dict[str, str]) -> tuple[int, dict[str, str], Json]:
    response = await gql.http.get("/graphql", params=params, headers={"Accept": "application/json"})
    return response.status, dict(response.headers), await response.json()


def code(body: Json) -> str:
    found: str = body["errors"][0]["extensions"]["code"]
    return found


class TestAutomaticPersistedQueries:
    async def test_an_unknown_hash_asks_for_the_document(self, gql: GraphQLClient) -> None:
        status, body = await post(gql, {"extensions": persisted()})
        # 200, as Apollo Server answers: its client then sends the document and keeps
        # persisted queries on (a 400 would switch them off for good)
        assert status == 200
        assert code(body) == "PERSISTED_QUERY_NOT_FOUND"
        assert body["errors"][0]["message"] == "PersistedQueryNotFound"

    async def test_the_document_with_its_hash_runs_and_is_kept(self, gql: GraphQLClient) -> None:
        await gql.sign_up("alice")
        status, body = await post(gql, {"query": QUERY, "extensions": persisted()})
        assert status == 200
        assert body["data"] == {"user": {"handle": "alice"}}
        status, body = await post(gql, {"extensions": persisted()})
        assert (status, body["data"]) == (200, {"user": {"handle": "alice"}})

    async def test_variables_and_operation_name_go_with_the_hash(self, gql: GraphQLClient) -> None:
        await gql.sign_up("alice")
        query = "query Who($h: String!) { user(handle: $h) { handle } }"
        digest = hashlib.sha256(query.encode()).hexdigest()
        await post(gql, {"query": query, "extensions": persisted(digest), "variables": {"h": "x"}})
        _, body = await post(
            gql,
            {"extensions": persisted(digest), "variables": {"h": "alice"}, "operationName": "Who"},
        )
        assert body["data"] == {"user": {"handle": "alice"}}

    async def test_a_wrong_hash_is_refused_and_kept_for_nothing(self, gql: GraphQLClient) -> None:
        wrong = hashlib.sha256(b"something else").hexdigest()
        status, body = await post(gql, {"query": QUERY, "extensions": persisted(wrong)})
        assert status == 400
        assert code(body) == "PERSISTED_QUERY_HASH_MISMATCH"
        _, body = await post(gql, {"extensions": persisted(wrong)})
        assert code(body) == "PERSISTED_QUERY_NOT_FOUND"

    @pytest.mark.parametrize(
        "extension",
        [
            {"persistedQuery": {"version": 2, "sha256Hash": HASH}},
            {"persistedQuery": {"sha256Hash": HASH}},
            {"persistedQuery": {"version": True, "sha256Hash": HASH}},
            {"persistedQuery": "yes"},
        ],
    )
    async def test_other_versions_are_not_supported(
        self, gql: GraphQLClient, extension: Json
    ) -> None:
        status, body = await post(gql, {"extensions": extension})
        assert status == 400
        assert code(body) == "PERSISTED_QUERY_NOT_SUPPORTED"

    @pytest.mark.parametrize("digest", ["abc", HASH.upper(), "z" * 64, 42])
    async def test_a_malformed_hash_is_a_bad_request(self, gql: GraphQLClient, digest: Any) -> None:
        status, body = await post(
            gql, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
        )
        assert status == 400
        assert code(body) == "BAD_REQUEST"

    async def test_over_get_and_cacheable_for_anonymous_readers(self, gql: GraphQLClient) -> None:
        await gql.sign_up("alice")
        params = {"extensions": json.dumps(persisted())}
        status, _, body = await get(gql, params)
        assert (status, code(body)) == (200, "PERSISTED_QUERY_NOT_FOUND")
        status, _, body = await get(gql, {**params, "query": QUERY})
        assert body["data"] == {"user": {"handle": "alice"}}
        status, headers, body = await get(gql, params)
        assert (status, body["data"]) == (200, {"user": {"handle": "alice"}})
        assert headers["Cache-Control"] == "public, max-age=10, stale-while-revalidate=30"
        assert "Authorization" in headers["Vary"]

    @pytest.mark.parametrize("accept", ["", "*/*", "text/html,application/xhtml+xml,*/*;q=0.8"])
    async def test_a_get_by_hash_runs_whatever_the_accept(
        self, gql: GraphQLClient, accept: str
    ) -> None:
        """Found by the fuzzer: a GET carrying only a hash, without a `query` parameter,
        was answered with the GraphiQL page when its Accept allowed HTML (curl's */*,
        a browser's)."""
        await gql.sign_up("alice")
        await post(gql, {"query": QUERY, "extensions": persisted()})
        params = {"extensions": json.dumps(persisted())}
        response = await gql.http.get("/graphql", params=params, headers={"Accept": accept})
        assert response.content_type == "application/json"
        assert (await response.json())["data"] == {"user": {"handle": "alice"}}

    async def test_a_signed_in_get_is_private(self, gql: GraphQLClient) -> None:
        token, _ = await gql.sign_up("alice")
        query = "{ me { handle } }"
        digest = hashlib.sha256(query.encode()).hexdigest()
        params = {"extensions": json.dumps(persisted(digest)), "query": query}
        response = await gql.http.get(
            "/graphql",
            params=params,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        assert (await response.json())["data"] == {"me": {"handle": "alice"}}
        assert response.headers["Cache-Control"] == "private, no-store"

    async def test_a_mutation_cannot_run_over_get_from_its_hash(self, gql: GraphQLClient) -> None:
        token, _ = await gql.sign_up("alice")
        mutation = 'mutation { createTweet(input: {text: "hi"}) { tweet { id } } }'
        digest = hashlib.sha256(mutation.encode()).hexdigest()
        await post(
            gql,
            {"query": mutation, "extensions": persisted(digest)},
            Authorization=f"Bearer {token}",
        )
        response = await gql.http.get(
            "/graphql",
            params={"extensions": json.dumps(persisted(digest))},
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        assert response.status == 405
        data = await gql.ok('{ user(handle: "alice") { tweetsCount } }')
        assert data["user"]["tweetsCount"] == 1

    async def test_the_store_is_bounded(self) -> None:
        store = MemoryQueryStore(max_entries=3, max_chars=100)
        for n in range(5):
            await store.put(f"h{n}", f"q{n}")
        assert [await store.get(f"h{n}") for n in range(5)] == [None, None, "q2", "q3", "q4"]
        await store.put("big", "x" * 90)
        assert store.chars <= 100
        assert await store.get("big") == "x" * 90


class TestRegisteredOperationsOnly:
    @pytest.fixture
    def manifest(self, tmp_path: Path) -> Path:
        path = tmp_path / "manifest.json"
        path.write_text(json.dumps({HASH: QUERY}))
        return path

    async def test_a_registered_hash_runs(self, make_client: AppFactory, manifest: Path) -> None:
        gql = await make_client(persisted_manifest=manifest)
        status, body = await post(gql, {"extensions": persisted()})
        assert (status, body["data"]) == (200, {"user": None})

    async def test_a_registered_document_runs_as_text_too(
        self, make_client: AppFactory, manifest: Path
    ) -> None:
        gql = await make_client(persisted_manifest=manifest)
        status, body = await post(gql, {"query": QUERY})
        assert (status, body["data"]) == (200, {"user": None})

    async def test_any_other_document_is_refused(
        self, make_client: AppFactory, manifest: Path
    ) -> None:
        gql = await make_client(persisted_manifest=manifest)
        other = "{ __typename }"
        status, body = await post(gql, {"query": other})
        assert (status, code(body)) == (400, "OPERATION_NOT_REGISTERED")
        digest = hashlib.sha256(other.encode()).hexdigest()
        status, body = await post(gql, {"query": other, "extensions": persisted(digest)})
        assert (status, code(body)) == (400, "OPERATION_NOT_REGISTERED")
        status, body = await post(gql, {"extensions": persisted(digest)})
        assert code(body) == "PERSISTED_QUERY_NOT_FOUND"  # and it was not stored

    def test_a_manifest_whose_hashes_are_wrong_is_refused_at_start(self, tmp_path: Path) -> None:
        from bootstrap.settings import SettingsError, load_settings

        path = tmp_path / "manifest.json"
        path.write_text(json.dumps({"0" * 64: QUERY}))
        with pytest.raises(SettingsError, match="not the SHA-256"):
            load_settings(env={"CHIRP_PERSISTED_MANIFEST": str(path)})
        path.write_text("[1, 2]")
        with pytest.raises(SettingsError, match="JSON object"):
            load_settings(env={"CHIRP_PERSISTED_MANIFEST": str(path)})
