"""The real process: `python app.py` serves, stops cleanly on signals, keeps data across restarts."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bootstrap.settings import OPTIONS
from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def chirp(data_dir: Path, port: int, stop_signal: int = signal.SIGTERM) -> Iterator[str]:
    """Run `python app.py` until the block ends, then stop it with ``stop_signal``."""
    env = {**os.environ, "CHIRP_DATA_DIR": str(data_dir), "CHIRP_PORT": str(port)}
    env.pop("CHIRP_SECRET_KEY", None)
    proc = subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    raise RuntimeError(f"chirp did not start:\n{out}") from None
                time.sleep(0.05)
        yield base
    finally:
        proc.send_signal(stop_signal)
        try:
            code = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        output = proc.stdout.read().decode() if proc.stdout else ""
        assert code == 0, output
        assert "Traceback" not in output, output
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
        # the server listens only once its stores are open: no retry needed
        assert response.status == 200, await response.text()
        body = await response.json()
        assert "errors" not in body, body
        return body["data"]


@pytest.mark.slow
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
async def test_data_survives_a_restart(tmp_path: Path, stop_signal: int) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    with chirp(data_dir, port, stop_signal) as base:
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

    with chirp(data_dir, port) as base:
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


def test_help_documents_every_setting() -> None:
    result = subprocess.run(
        [sys.executable, "app.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    for option in OPTIONS:
        assert option.env in result.stdout
        if option.flag:
            assert option.flag in result.stdout


def test_a_bad_setting_is_refused_with_a_message() -> None:
    result = subprocess.run(
        [sys.executable, "app.py", "--port", "99999"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "--port" in result.stderr
    assert "65535" in result.stderr
