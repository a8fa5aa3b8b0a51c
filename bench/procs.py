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


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    name: str,
    data_dir: Path,
    settings: dict[str, str],
    *,
    floor: bool = False,
    core: int = 0,
    timeout: float = 60.0,
) -> Server:
    """``taskset -c CORE python app.py`` (or ``-m bench.floor``) ready on a free port."""
    port = free_port()
    target = ["-m", "bench.floor"] if floor else ["app.py"]
    command = [
        "taskset", "-c", str(core), sys.executable, *target,
        "--data-dir", str(data_dir), "--port", str(port), "--log-level", "WARNING",
    ]  # fmt: skip
    env = {**os.environ, **settings, "PYTHONUNBUFFERED": "1"}
    log = data_dir / f"{name}.log"
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
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
