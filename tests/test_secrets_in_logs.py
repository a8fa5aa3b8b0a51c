"""Secrets never reach the log: a full run at DEBUG, then the log is searched for each one."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import aiohttp

from tests.processes import environment, running
from tests.servers import free_port

PASSWORD = "hunter2-correct-horse-battery"
SECRET_KEY = "signing-key-that-must-stay-secret-0123456789"


async def graphql(
    session: aiohttp.ClientSession, base: str, query: str, variables: dict[str, Any], **headers: str
) -> dict[str, Any]:
    async with session.post(
        f"{base}/graphql", json={"query": query, "variables": variables}, headers=headers
    ) as reply:
        body: dict[str, Any] = await reply.json()
        return body


async def test_no_token_key_or_password_is_logged(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = environment(
        tmp_path / "data",
        CHIRP_PORT=str(port),
        CHIRP_LOG_LEVEL="DEBUG",
        CHIRP_SECRET_KEY=SECRET_KEY,
        CHIRP_RATE_LIMIT_SAFELIST="",
        CHIRP_RATE_LIMIT_LOG_IN="3/5m",
    )
    with running([], env, tmp_path / "chirp.log", stop=signal.SIGTERM) as chirp:
        await chirp.ready(f"{base}/healthz")
        async with aiohttp.ClientSession() as session:
            signed = await graphql(
                session,
                base,
                'mutation($p: String!) { signUp(input: {handle: "alice", password: $p}) { token } }',
                {"p": PASSWORD},
            )
            token = signed["data"]["signUp"]["token"]
            bearer = {"Authorization": f"Bearer {token}"}
            app = await graphql(
                session, base, 'mutation { registerApp(name: "cli") { key } }', {}, **bearer
            )
            key = app["data"]["registerApp"]["key"]
            await graphql(session, base, "{ me { handle } }", {}, **bearer, **{"X-Api-Key": key})
            # the failures: a wrong password until throttled, a tampered token, a bad key,
            # a mutation that fails in a resolver, a malformed document
            for guess in (PASSWORD + "x", PASSWORD, PASSWORD, PASSWORD):
                await graphql(
                    session,
                    base,
                    'mutation($p: String!) { logIn(input: {handle: "alice", password: $p}) { token } }',
                    {"p": guess},
                )
            await graphql(session, base, "{ me { id } }", {}, Authorization=f"Bearer {token}x")
            await graphql(session, base, "{ me { id } }", {}, **{"X-Api-Key": key + "x"})
            await graphql(session, base, "{ me { id } ", {}, **bearer)
        chirp.signal(signal.SIGTERM)
        assert await chirp.exited(within=15) == 0
    log = chirp.output
    assert "Chirp stopped" in log  # the log is the whole run's
    for secret in (PASSWORD, token, token.split(".")[-1], key, key[6:], SECRET_KEY):
        assert secret not in log, f"a secret appears in the log: {secret[:8]}..."
