"""The real process: `python app.py` serves, stops cleanly on signals, keeps data across restarts.

Stopping (SIGINT, as Ctrl-C sends, or SIGTERM): the server stops accepting
connections, closes every open WebSocket with 1001 (going away), lets the
requests in flight finish, closes the stores and exits 0, well within
CHIRP_SHUTDOWN_TIMEOUT.
"""

from __future__ import annotations

import asyncio
import importlib.util
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import WSCloseCode, WSMsgType

from bootstrap.settings import OPTIONS
from tests.processes import Chirp, environment, run, running
from tests.servers import free_port

SHUTDOWN_TIMEOUT = 10.0
WELL_WITHIN = 3.0  # seconds from the signal to the exit, with nothing slow in flight
SIGN_UP = 'mutation($handle: String!) { signUp(input: {handle: $handle, password: "correct horse"}) { token } }'
CREATE_TWEET = (
    "mutation($text: String!) { createTweet(input: {text: $text}) { tweet { id text } } }"
)
HOME = "subscription { homeTimeline { id } }"


@asynccontextmanager
async def chirp(data_dir: Path, port: int, stop_signal: int = signal.SIGTERM) -> AsyncIterator[str]:
    """Run `python app.py` until the block ends, then stop it with ``stop_signal``."""
    async with serving(data_dir, port) as process:
        yield f"http://127.0.0.1:{port}"
        process.signal(stop_signal)
        assert await process.exited(within=15) == 0, process.output
        stopped_cleanly(process)


@asynccontextmanager
async def serving(data_dir: Path, port: int) -> AsyncIterator[Chirp]:
    """`python app.py`, ready (its stores open and its port listening) when the block starts."""
    env = environment(data_dir, CHIRP_PORT=str(port), CHIRP_SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT))
    with running([], env, data_dir.parent / f"chirp-{port}.log") as process:
        await process.ready(f"http://127.0.0.1:{port}/healthz")
        yield process


@asynccontextmanager
async def api(tmp_path: Path) -> AsyncIterator[tuple[Chirp, str]]:
    port = free_port()
    async with serving(tmp_path / "data", port) as process:
        yield process, f"http://127.0.0.1:{port}"


def stopped_cleanly(process: Chirp) -> None:
    output = process.output
    assert "Traceback" not in output, output
    assert "stores closed" in output, output
    assert "Chirp stopped" in output, output
    # uvloop's event loop wherever it is installed (Linux and macOS)
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    assert f"(event loop: {loop})" in output, output


async def post(
    base: str, query: str, variables: dict[str, Any] | None = None, token: str | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{base}/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        ) as response,
    ):
        # the server answers only once its stores are open: no retry needed
        assert response.status == 200, await response.text()
        body = await response.json()
        assert "errors" not in body, body
        return body["data"]


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_data_survives_a_restart(tmp_path: Path, stop_signal: int) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    async with chirp(data_dir, port, stop_signal) as base:
        signed = await post(
            base,
            'mutation { signUp(input: {handle: "alice", password: "correct horse"}) { token user { id } } }',
        )
        token = signed["signUp"]["token"]
        created = await post(
            base,
            'mutation { createTweet(input: {text: "still here"}) { tweet { id } } }',
            token=token,
        )
        tweet_id = created["createTweet"]["tweet"]["id"]

    async with chirp(data_dir, port) as base:
        # the signing key was kept in the data folder: the old token still works
        me = await post(
            base, "{ me { handle tweets { edges { node { id text } } } } }", token=token
        )
        assert me["me"]["handle"] == "alice"
        assert me["me"]["tweets"]["edges"] == [{"node": {"id": tweet_id, "text": "still here"}}]
        login = await post(
            base,
            'mutation { logIn(input: {handle: "ALICE", password: "correct horse"}) { token errors { code } } }',
        )
        assert login["logIn"]["errors"] == []
    assert (data_dir / "secret.key").stat().st_mode & 0o777 == 0o600


def test_help_documents_every_setting(tmp_path: Path) -> None:
    result = run(["--help"], environment(tmp_path))
    assert result.returncode == 0, result.stderr
    for option in OPTIONS:
        assert option.env in result.stdout
        if option.flag:
            assert option.flag in result.stdout


def test_a_bad_setting_is_refused_with_a_message(tmp_path: Path) -> None:
    result = run(["--port", "99999"], environment(tmp_path))
    assert result.returncode == 2
    assert "--port" in result.stderr
    assert "65535" in result.stderr


# ------------------------------------------------------------------ stopping


class Subscription:
    """A graphql-transport-ws client on /graphql, as a browser's would be."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    async def message(self, within: float = 5.0) -> Any:
        """The next protocol message; the server's pings answered."""
        while True:
            frame = await self.ws.receive(within)
            assert frame.type == WSMsgType.TEXT, frame
            message = frame.json()
            if message["type"] != "ping":
                return message
            await self.ws.send_json({"type": "pong"})

    async def live(self, base: str, token: str) -> None:
        """Wait until a tweet of the subscriber's own arrives (a subscribe has no ack)."""
        posted = set()
        for attempt in range(50):
            created = await post(base, CREATE_TWEET, {"text": f"live {attempt}"}, token)
            posted.add(created["createTweet"]["tweet"]["id"])
            try:
                message = await self.message(within=0.2)
            except TimeoutError:
                continue
            assert message["type"] == "next", message
            assert message["payload"]["data"]["homeTimeline"]["id"] in posted, message
            return
        raise AssertionError("no tweet arrived on the subscription")

    async def closed(self, within: float) -> aiohttp.WSMessage:
        """The close frame, whatever tweets were still on their way before it."""
        deadline = time.monotonic() + within
        while True:
            frame = await self.ws.receive(max(deadline - time.monotonic(), 0.001))
            if frame.type != WSMsgType.TEXT:
                return frame


async def sign_up(base: str, handle: str) -> str:
    token: str = (await post(base, SIGN_UP, {"handle": handle}))["signUp"]["token"]
    return token


@asynccontextmanager
async def subscription(
    session: aiohttp.ClientSession, base: str, token: str
) -> AsyncIterator[Subscription]:
    async with session.ws_connect(f"{base}/graphql", protocols=["graphql-transport-ws"]) as ws:
        sub = Subscription(ws)
        await ws.send_json(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        )
        assert await sub.message() == {"type": "connection_ack"}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": {"query": HOME}})
        yield sub


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
async def test_stopping_closes_an_open_subscription_with_1001_and_exits_at_once(
    tmp_path: Path, stop_signal: int
) -> None:
    async with api(tmp_path) as (process, base):
        token = await sign_up(base, "alice")
        async with (
            aiohttp.ClientSession() as session,
            subscription(session, base, token) as sub,
        ):
            await sub.live(base, token)

            signalled = process.signal(stop_signal)
            close = await sub.closed(within=WELL_WITHIN)
            assert close.type == WSMsgType.CLOSE, close
            assert close.data == WSCloseCode.GOING_AWAY  # 1001, not a dropped 1006
            assert await process.exited(within=SHUTDOWN_TIMEOUT) == 0, process.output
            assert time.monotonic() - signalled < WELL_WITHIN, process.output
    assert "closing 1 WebSocket(s) with 1001" in process.output
    stopped_cleanly(process)


@pytest.mark.slow
async def test_a_request_in_flight_when_the_signal_comes_still_gets_its_answer(
    tmp_path: Path,
) -> None:
    async with api(tmp_path) as (process, base):
        token = await sign_up(base, "alice")
        # the test holds the tweets database's write lock, so a post waits in its handler
        tweets = sqlite3.connect(tmp_path / "data" / "tweets.sqlite3", isolation_level=None)
        tweets.execute("BEGIN EXCLUSIVE")
        try:
            request = asyncio.create_task(post(base, CREATE_TWEET, {"text": "last one"}, token))
            await asyncio.sleep(0.5)
            assert not request.done()  # in flight

            signalled = process.signal(signal.SIGTERM)
            # stopping: a new connection is refused, the request in flight is not
            await refused(f"{base}/healthz", within=WELL_WITHIN)
        finally:
            tweets.execute("ROLLBACK")
            tweets.close()
        answer = await asyncio.wait_for(request, SHUTDOWN_TIMEOUT)
        assert answer["createTweet"]["tweet"]["text"] == "last one", answer
        assert await process.exited(within=SHUTDOWN_TIMEOUT) == 0, process.output
        assert time.monotonic() - signalled < SHUTDOWN_TIMEOUT
    stopped_cleanly(process)


@pytest.mark.slow
async def test_a_second_signal_exits_at_once_without_waiting_for_requests_in_flight(
    tmp_path: Path,
) -> None:
    async with api(tmp_path) as (process, base):
        token = await sign_up(base, "alice")
        tweets = sqlite3.connect(tmp_path / "data" / "tweets.sqlite3", isolation_level=None)
        tweets.execute("BEGIN EXCLUSIVE")  # a post now waits in its handler
        try:
            request = asyncio.create_task(post(base, CREATE_TWEET, {"text": "cut off"}, token))
            await asyncio.sleep(0.5)
            process.signal(signal.SIGINT)
            await refused(f"{base}/healthz", within=WELL_WITHIN)  # stopping, request waits
            signalled = process.signal(signal.SIGINT)  # Ctrl-C again
            assert await process.exited(within=WELL_WITHIN) == 1, process.output
            assert time.monotonic() - signalled < WELL_WITHIN
        finally:
            tweets.execute("ROLLBACK")
            tweets.close()
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await request
    assert "SIGINT again: exiting now" in process.output, process.output
    assert "Traceback" not in process.output, process.output


async def refused(url: str, within: float) -> None:
    """Wait until a new connection to ``url``'s server is refused."""
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
        while True:
            try:
                async with session.get(url):
                    pass
            except aiohttp.ClientConnectorError:
                return
            assert time.monotonic() < deadline, f"{url} still accepts connections"
            await asyncio.sleep(0.02)
