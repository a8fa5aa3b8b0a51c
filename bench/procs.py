"""Processes under test: the Chirp app or the floor, pinned to the server core."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent


FANOUT_JOBS = 'chirp_fanout_jobs_total{kind="post"}'
FANOUT_DELIVERIES = "chirp_fanout_deliveries_total"


class FanoutTimeout(RuntimeError):
    """The fan-out jobs of the posts made did not all complete in time."""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path
    posts: int = 0  # posts the bench made through this server (each queues one fan-out job)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.log.parent

    def metrics(self) -> dict[str, float]:
        """Unlabelled and labelled samples of /metrics, by their full name."""
        with urllib.request.urlopen(f"{self.url}/metrics", timeout=10) as answer:
            text = answer.read().decode()
        samples: dict[str, float] = {}
        for line in text.splitlines():
            match = re.fullmatch(r"([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)", line)
            if match and not line.startswith("#"):
                samples[match.group(1)] = float(match.group(2))
        return samples

    def wait_for_fanout(self, timeout: float = 60.0) -> float:
        """Wait until a fan-out job has been applied for every post made so far.

        Each post queues one job, and ``chirp_fanout_jobs_total{kind="post"}`` counts
        the jobs applied (after their deliveries are counted), so once it reaches
        ``posts`` no delivery of an earlier post can land later. Returns the seconds
        waited.
        """
        started = time.monotonic()
        while self.metrics().get(FANOUT_JOBS, 0.0) < self.posts:
            if time.monotonic() - started > timeout:
                raise FanoutTimeout(
                    f"{self.name}: {self.metrics().get(FANOUT_JOBS, 0.0):.0f} fan-out jobs"
                    f" applied of {self.posts} posts after {timeout} s"
                )
            time.sleep(0.02)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by every thread of process ``pid`` (Linux)."""
    ticks = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def pin(pid: int, core: int, attempts: int = 5) -> None:
    """Every thread of process ``pid`` onto ``core`` (``taskset -a -p -c``).

    taskset fails when a thread it listed ends before it is moved (a JVM starting
    up makes and ends threads): tried again, the threads of the moment.
    """
    command = ["taskset", "-a", "-p", "-c", str(core), str(pid)]
    for attempt in range(attempts):
        done = subprocess.run(command, check=False, capture_output=True)
        if done.returncode == 0:
            return
        if attempt == attempts - 1:
            raise subprocess.CalledProcessError(done.returncode, command, done.stdout, done.stderr)
        time.sleep(0.1)


def start(
    name: str,
    data_dir: Path,
    settings: dict[str, str],
    *,
    floor: bool = False,
    physical: tuple[str, Path] | None = None,
    core: int | str = 0,
    timeout: float = 60.0,
    root: Path = ROOT,
) -> Server:
    """``taskset -c CORE python app.py`` (or ``-m bench.floor``) ready on a free port
    (``core`` a CPU list such as ``"0,1"``: spread over those cores).

    ``physical=(graphql_url, tokens_file)`` starts ``-m bench.physical_floor`` instead,
    serving the page it captures from that running server (``data_dir`` then only
    holds its log). ``root``: the source tree to run (another checkout, for a before
    and after side by side).
    """
    port = free_port()
    if physical is not None:
        url, tokens = physical
        args = ["-m", "bench.physical_floor", "--capture", url, "--tokens", str(tokens)]
    else:
        target = ["-m", "bench.floor"] if floor else ["app.py"]
        args = [*target, "--data-dir", str(data_dir), "--log-level", "WARNING"]
    command = ["taskset", "-c", str(core), sys.executable, *args, "--port", str(port)]
    env = {**os.environ, **settings, "PYTHONUNBUFFERED": "1"}
    log = data_dir / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=out, stderr=out)
    server = Server(name, process, port, log)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited: {log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/healthz", timeout=1) as answer:
                if answer.status == 200:
                    return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"{name} did not answer /healthz in {timeout} s: {log.read_text()[-3000:]}")
