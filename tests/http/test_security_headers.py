"""Headers for browser clients: CORS for allowed origins only, hardening on every answer."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import AppFactory, GraphQLClient

APP = "https://app.example.com"


async def test_every_answer_is_hardened(gql: GraphQLClient) -> None:
    for response in (
        await gql.http.post("/graphql", json={"query": "{ __typename }"}),
        await gql.http.get("/healthz"),
        await gql.http.get("/no-such-page"),
    ):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_graphiql_has_a_strict_content_security_policy(
    graphiql_bundle: Path, make_client: AppFactory
) -> None:
    gql = await make_client()
    response = await gql.http.get("/graphql", headers={"Accept": "text/html"})
    policy = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # the bundle: no inline script, no eval
    assert directives["worker-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'"
    host = f"{gql.http.host}:{gql.http.port}"
    assert directives["connect-src"] == f"'self' ws://{host} wss://{host}"
    for sources in directives.values():  # this server's, or inline data only
        assert set(sources.split()) <= {
            "'self'",
            "'none'",
            "'unsafe-inline'",
            "data:",
            f"ws://{host}",
            f"wss://{host}",
        }, sources


async def test_no_cors_without_an_allow_list(gql: GraphQLClient) -> None:
    response = await gql.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP}
    )
    assert response.status == 200
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_an_allowed_origin_gets_cors(make_client: AppFactory) -> None:
    gql = await make_client(cors_origins=f"{APP}, https://other.example.com")
    preflight = await gql.http.options(
        "/graphql",
        headers={
            "Origin": APP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type, x-api-key",
        },
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == APP
    assert "X-Api-Key" in preflight.headers["Access-Control-Allow-Headers"]
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    response = await gql.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": APP}
    )
    assert response.headers["Access-Control-Allow-Origin"] == APP
    assert "X-RateLimit-Remaining" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.headers["Vary"]


async def test_another_origin_gets_none(make_client: AppFactory) -> None:
    gql = await make_client(cors_origins=APP)
    evil = "https://evil.example.net"
    preflight = await gql.http.options(
        "/graphql", headers={"Origin": evil, "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    response = await gql.http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"Origin": evil}
    )
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_a_cross_origin_websocket_needs_the_allow_list(make_client: AppFactory) -> None:
    gql = await make_client(cors_origins=APP)
    ok = await gql.http.ws_connect(
        "/graphql", protocols=("graphql-transport-ws",), headers={"Origin": APP}
    )
    await ok.close()
    refused = await gql.http.get(
        "/graphql",
        headers={
            "Origin": "https://evil.example.net",
            "Connection": "Upgrade",
            "Upgrade": "websocket",
            "Sec-WebSocket-Version": "13",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Protocol": "graphql-transport-ws",
        },
    )
    assert refused.status == 403
