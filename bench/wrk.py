"""Debian's wrk: installed on demand, run pinned to the load core, output parsed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

LUA = Path(__file__).with_name("home.lua")
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


class WrkError(RuntimeError):
    """wrk is missing and cannot be installed, or its output made no sense."""


def ensure_wrk() -> str:
    """The path of wrk, installing the Debian package (with sudo unless root) if missing."""
    found = shutil.which("wrk")
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = [*sudo, "apt-get", "install", "-y", "wrk"]
    for attempt in ([install], [[*sudo, "apt-get", "update"], install]):  # stale lists: update
        for command in attempt:
            subprocess.run(command, check=False, env=env, capture_output=True)
        found = shutil.which("wrk")
        if found:
            return found
    raise WrkError("wrk is not installed and `apt-get install -y wrk` failed")


@dataclass
class WrkResult:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    errors: int  # socket errors + non-2xx/3xx + responses carrying GraphQL errors
    non_2xx: int
    socket_errors: int
    failed_responses: int
    command: str
    # home.lua's own counts ("BENCH name N" lines): reads_ok, posts_sent, posts_ok,
    # graphql_errors, payload_errors, http_errors
    counts: dict[str, int] = field(default_factory=dict)
    max_ms: float = 0.0  # the slowest request of the run (wrk's "Latency ... Max")

    @property
    def ok(self) -> bool:
        return self.errors == 0 and self.requests > 0


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise WrkError(f"cannot read a latency from {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse(output: str, command: str) -> WrkResult:
    """The figures of ``wrk --latency`` output (with home.lua's failure line)."""
    percentiles: dict[str, float] = {}
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)\s*$", output, re.MULTILINE):
        percentiles[pct] = _ms(value)
    done = re.search(r"(\d+) requests in ([\d.]+)(ms|s|m)", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if not done or not rps or len(percentiles) < 4:
        raise WrkError(f"unexpected wrk output:\n{output}")
    seconds = float(done.group(2)) * _UNITS[done.group(3)] / 1000
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = sum(int(g) for g in sockets.groups()) if sockets else 0
    non2xx_match = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    non_2xx = int(non2xx_match.group(1)) if non2xx_match else 0
    counts = {name: int(n) for name, n in re.findall(r"^BENCH (\w+) (\d+)$", output, re.MULTILINE)}
    latency = re.search(r"^\s+Latency\s+\S+\s+\S+\s+(\S+)", output, re.MULTILINE)
    failed = counts.pop("failed_responses", 0)
    return WrkResult(
        requests=int(done.group(1)),
        seconds=seconds,
        rps=float(rps.group(1)),
        p50_ms=percentiles["50"],
        p75_ms=percentiles["75"],
        p90_ms=percentiles["90"],
        p99_ms=percentiles["99"],
        errors=socket_errors + max(non_2xx, failed),
        non_2xx=non_2xx,
        socket_errors=socket_errors,
        failed_responses=failed,
        command=command,
        counts=counts,
        max_ms=_ms(latency.group(1)) if latency else 0.0,
    )


def run(
    url: str,
    tokens_file: Path,
    body_file: Path,
    seconds: float,
    connections: int = 20,
    core: int = 1,
    path: str = "/graphql",
    post_every: int = 0,
    post_body_file: Path | None = None,
) -> WrkResult:
    """``taskset -c CORE wrk -t1 -cN -dS -s home.lua --latency URL`` and its figures.

    With ``post_every`` N > 1, every Nth request POSTs ``post_body_file`` instead (the
    read-heavy mix: see home.lua).
    """
    wrk = ensure_wrk()
    command = [
        "taskset", "-c", str(core), wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
        "--timeout", "10s", "-s", str(LUA), "--latency", url,
    ]  # fmt: skip
    env = {
        **os.environ,
        "CHIRP_BENCH_TOKENS": str(tokens_file),
        "CHIRP_BENCH_BODY": str(body_file),
        "CHIRP_BENCH_PATH": path,
        "CHIRP_BENCH_POST_EVERY": str(post_every if post_body_file is not None else 0),
        "CHIRP_BENCH_POST_BODY": str(post_body_file or ""),
    }
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise WrkError(f"wrk failed ({done.returncode}): {done.stderr}{done.stdout}")
    shown = " ".join(["taskset", "-c", str(core), "wrk", *command[4:-1], url])
    return parse(done.stdout, shown)
