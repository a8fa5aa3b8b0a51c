"""`python app.py --workers N`: N API processes on one port, supervised.

With Redis (REDIS_URL), two workers answer on one port from two processes, each
with its own snowflake worker id (CHIRP_WORKER_ID + k), so tweets posted through
either get distinct ids; a subscription held by one receives tweets posted
through the other (the event bus is Redis). SIGTERM and SIGINT stop every worker
cleanly and the supervisor exits 0; a killed worker is started again. Without
Redis, or with worker ids beyond 1023, the supervisor refuses at once (exit 1);
workers that cannot start (a store unreachable) stop it with exit 1.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from core.ids import MAX_WORKER_ID, WORKER_SHIFT
from tests.processes import Chirp, environment, run, running
from tests.servers import free_port
from tests.test_process import CREATE_TWEET, post, sign_up, subscription

SHUTDOWN_TIMEOUT = 10.0


def worker_of(tweet_id: str) -> int:
    """The snowflake worker id inside a tweet id."""
    return (int(tweet_id) >> WORKER_SHIFT) & MAX_WORKER_ID


def children(process: Chirp) -> list[int]:
    """The pids of the supervisor's child processes (Linux)."""
    pid = process.process.pid
    return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return status != "Z"


async def workers_answering(base: str, expected: set[int], within: float = 30.0) -> set[int]:
    """The worker ids /healthz names over fresh connections, until all of ``expected``
    (a worker listens only once its stores are open: the others answer meanwhile)."""
    seen: set[int] = set()
    deadline = time.monotonic() + within
    connector = aiohttp.TCPConnector(force_close=True)  # a new connection each time
    async with aiohttp.ClientSession(connector=connector) as session:
        while time.monotonic() < deadline:
            async with session.get(f"{base}/healthz") as reply:
                assert reply.status == 200
                body = await reply.json()
            assert body["status"] == "ok"
            seen.add(body["worker"])
            if expected <= seen:
                break
    return seen


@asynccontextmanager
async def workers(
    tmp_path: Path, redis_url: str, n: int = 2, **settings: str
) -> AsyncIterator[tuple[Chirp, str]]:
    redis = Redis.from_url(redis_url)
    await redis.flushdb()
    await redis.aclose()
    port = free_port()
    env = environment(
        tmp_path / "data",
        REDIS_URL=redis_url,
        CHIRP_PORT=str(port),
        CHIRP_WORKERS=str(n),
        CHIRP_SHUTDOWN_TIMEOUT=str(SHUTDOWN_TIMEOUT),
        CHIRP_REDIS_TIMEOUT_MS="250",  # a shared test machine: see tests/conftest.py
        **settings,
    )
    with running([], env, tmp_path / "chirp.log") as process:
        base = f"http://127.0.0.1:{port}"
        await process.ready(f"{base}/healthz")
        yield process, base


def stopped_cleanly(process: Chirp, n: int) -> None:
    output = process.output
    assert "Traceback" not in output, output
    for worker in range(n):
        assert f"[worker {worker}]: stores closed" in output, output
        assert f"[worker {worker}]: Chirp stopped" in output, output


@pytest.mark.slow
async def test_two_workers_share_a_port_mint_distinct_ids_and_share_live_events(
    tmp_path: Path, redis_url: str
) -> None:
    async with workers(tmp_path, redis_url) as (process, base):
        assert await workers_answering(base, {0, 1}) == {0, 1}
        pids = children(process)
        assert len(set(pids)) == 2, pids
        assert process.process.pid not in pids

        token = await sign_up(base, "alice")
        posted: dict[str, int] = {}  # tweet id -> the worker that minted it
        arrived: set[str] = set()
        async with aiohttp.ClientSession() as session, subscription(session, base, token) as sub:
            # each post() is a new connection: the kernel picks the worker
            for attempt in range(60):
                created = await post(base, CREATE_TWEET, {"text": f"hello {attempt}"}, token)
                tweet_id = created["createTweet"]["tweet"]["id"]
                posted[tweet_id] = worker_of(tweet_id)
                try:
                    while True:
                        message = await sub.message(within=0.3)
                        assert message["type"] == "next", message
                        arrived.add(message["payload"]["data"]["homeTimeline"]["id"])
                except TimeoutError:
                    pass
                if {posted[t] for t in arrived if t in posted} == {0, 1}:
                    break
        # one subscription (on one worker) got tweets minted by both: across processes
        assert {posted[t] for t in arrived if t in posted} == {0, 1}, (posted, arrived)
        assert len(posted) == len(set(posted))  # no id twice

        # both workers read what either wrote (the SQLite files, Redis timelines)
        me = await post(
            base, "{ me { tweets(first: 100) { edges { node { id } } } } }", token=token
        )
        assert {e["node"]["id"] for e in me["me"]["tweets"]["edges"]} == set(posted)

        signalled = process.signal(signal.SIGTERM)
        assert await process.exited(within=SHUTDOWN_TIMEOUT) == 0, process.output
        assert time.monotonic() - signalled < SHUTDOWN_TIMEOUT
    assert not any(alive(pid) for pid in pids)
    stopped_cleanly(process, 2)
    assert "SIGTERM: stopping 2 worker(s)" in process.output


@pytest.mark.slow
async def test_a_killed_worker_is_started_again_and_sigint_stops_them_all(
    tmp_path: Path, redis_url: str
) -> None:
    async with workers(tmp_path, redis_url) as (process, base):
        assert await workers_answering(base, {0, 1}) == {0, 1}
        first = children(process)
        victim = first[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        killed = "was killed by SIGKILL"
        while killed not in process.output or "started (pid" not in process.output.split(killed)[1]:
            assert time.monotonic() < deadline, process.output
            await asyncio.sleep(0.1)
        assert "was killed by SIGKILL; starting it again in 0.5 s" in process.output
        # the new process takes the dead one's worker id, and serves beside the other
        assert await workers_answering(base, {0, 1}) == {0, 1}, process.output
        now = children(process)
        assert victim not in now, now
        assert len(now) == 2, now

        process.signal(signal.SIGINT)  # as Ctrl-C sends it to the supervisor
        assert await process.exited(within=SHUTDOWN_TIMEOUT) == 0, process.output
    assert "Traceback" not in process.output.split("was killed by SIGKILL")[-1]
    assert "SIGINT: stopping 2 worker(s)" in process.output


def test_workers_without_redis_are_refused_with_the_reason(tmp_path: Path) -> None:
    result = run(["--workers", "2"], environment(tmp_path / "data"))
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "CHIRP_WORKERS=2 needs REDIS_URL" in line, line
    assert "subscription would miss tweets posted through another process" in line
    assert not (tmp_path / "data").exists()  # refused before anything opened


def test_workers_beyond_the_worker_id_range_are_refused(tmp_path: Path) -> None:
    env = environment(tmp_path / "data", REDIS_URL="redis://127.0.0.1:1/0")
    result = run(["--workers", "3", "--worker-id", "1022"], env)
    assert result.returncode == 1
    assert "worker ids 1022-1024, beyond 1023" in result.stderr, result.stderr
    assert not (tmp_path / "data").exists()


def test_workers_on_a_busy_port_are_refused_as_one_process_is(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = environment(tmp_path / "data", REDIS_URL="redis://127.0.0.1:1/0")
        result = run(["--workers", "2", "--port", str(port)], env)
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert line.endswith(f"port {port} is already in use; set CHIRP_PORT or --port"), line


@pytest.mark.slow
def test_workers_that_cannot_start_stop_the_supervisor_with_1(tmp_path: Path) -> None:
    # nothing listens on port 1: Redis is unreachable, every worker fails to start
    env = environment(
        tmp_path / "data", REDIS_URL="redis://127.0.0.1:1/0", CHIRP_STARTUP_TIMEOUT="1"
    )
    result = run(["--workers", "2", "--port", str(free_port())], env, within=60)
    assert result.returncode == 1, result.stderr
    assert "before it was ready: stopping" in result.stderr, result.stderr
    assert "starting it again" not in result.stderr, result.stderr
