"""Real `python app.py ...` processes for the tests: started, awaited, signalled, read."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import aiohttp

from bootstrap.settings import OPTIONS

ROOT = Path(__file__).resolve().parent.parent


class Chirp:
    """One `python app.py ...` process; what it prints goes to a log file."""

    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    @property
    def output(self) -> str:
        return self.log.read_text(errors="replace")

    @property
    def returncode(self) -> int | None:
        return self.process.poll()

    async def ready(self, url: str, within: float = 30.0) -> None:
        """Wait until ``url`` answers 200 (a server answers only once its stores are open)."""
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as session:
            while True:
                assert self.process.poll() is None, f"chirp exited:\n{self.output}"
                assert time.monotonic() < deadline, f"{url} did not answer:\n{self.output}"
                try:
                    async with session.get(url) as reply:
                        if reply.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)

    def signal(self, signum: int) -> float:
        """Send ``signum``; returns the time.monotonic() at which it was sent."""
        self.process.send_signal(signum)
        return time.monotonic()

    async def exited(self, within: float = 30.0) -> int:
        """The exit code, once the process has ended (within ``within`` seconds)."""
        try:
            return await asyncio.to_thread(self.process.wait, within)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"chirp still running after {within} s:\n{self.output}") from None

    def wait(self, within: float = 30.0) -> int:
        try:
            return self.process.wait(within)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"chirp still running after {within} s:\n{self.output}") from None


def environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any Chirp setting, then ``settings``."""
    declared = {option.env for option in OPTIONS}
    env = {name: value for name, value in os.environ.items() if name not in declared}
    return {**env, "CHIRP_DATA_DIR": str(data_dir), **settings}


@contextmanager
def running(
    args: list[str], env: Mapping[str, str], log: Path, stop: int = signal.SIGTERM
) -> Iterator[Chirp]:
    """`python app.py *args` until the block ends; then ``stop`` if still running (and
    SIGKILL if that does not end it)."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "app.py", *args],
            cwd=ROOT,
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield Chirp(process, log)
    finally:
        if process.poll() is None:
            process.send_signal(stop)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def run(
    args: list[str], env: Mapping[str, str], within: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """`python app.py *args` to its end: exit code, stdout and stderr."""
    return subprocess.run(
        [sys.executable, "app.py", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=within,
    )
