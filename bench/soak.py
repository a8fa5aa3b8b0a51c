"""``python -m bench.soak``: the read-heavy mix for a long while at 70 % of the maximum
throughput, on the production stores, through fan-out worker kills and a Redis restart.

Then three verdicts: no client errors (beyond the degraded answers listed in
``DEGRADED``), no acknowledged post, like or follow missing when read back
through the API, and the API process's memory flat. See bench/README.md
("Soak") for what runs where and how each verdict is judged.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench import procs, seed, traffic
from bench.__main__ import configure, machine, open_bench
from bench.production import ProductionStores, production_stores
from bench.scenarios import Bench
from bench.verify import Verifier
from docstore.mongo import MongoTweetStore
from docstore.mongo import connect as mongo_connect
from tests.servers import RunningServer, free_port, start_redis

ROOT = Path(__file__).resolve().parent.parent

# What each fault may cost the clients, and for how many seconds after it ends: errors
# of these kinds, on requests sent while it lasts or in that time, are degraded
# answers; every other error fails the soak. Redis down: the API answers reads by
# pull, and posts leave their fan-out to the repair pass, all with status 200; but
# Redis comes back empty, and the first read of each reader rebuilds its timeline
# from the MongoDB stand-in (about 0.1-0.2 s of nx-27017 each, unloaded, several
# at once per reader): the stand-ins fall behind, and requests sent until the API
# has caught up wait past the client's 10 s (measured: the last one sent 19.5 s after
# Redis was back at 56 req/s, some over 30 s after at 94 req/s; bench/README.md,
# "Soak"). Errors later than 60 s after Redis is back fail the soak.
DEGRADED: dict[str, tuple[frozenset[str], float]] = {
    "redis down": (frozenset({"transport:TimeoutError"}), 60.0),
}
REPORT_GRACE_SECONDS = 5.0  # errors this soon after a fault ends are shown under it


@dataclass(frozen=True)
class SoakConfig:
    minutes: float = 10.0
    load: float = 0.7  # of the highest error-free throughput the ramp measured
    ramp: tuple[int, ...] = (5, 10, 20, 40)  # closed-loop concurrencies
    ramp_seconds: float = 8.0  # per concurrency
    sample_every: float = 2.0  # seconds between RSS samples
    warm_fraction: float = 0.5  # of the soak (with every fault), left out of the memory verdict
    rss_growth_limit: float = 0.10  # last third's median over the first third's, at most +10 %
    worker_down_seconds: float = 5.0  # between a worker's SIGKILL and its replacement
    redis_down_seconds: float = 5.0  # between Redis stopping and starting again (empty)
    claim_idle: float = 5.0  # CHIRP_CLAIM_IDLE of the workers
    repair_after: float = 10.0  # CHIRP_REPAIR_AFTER of the workers
    settle_timeout: float = 90.0  # for the fan-out of every acknowledged post, after the load

    @property
    def seconds(self) -> float:
        return self.minutes * 60


QUICK = SoakConfig(minutes=2.0, ramp=(10, 20), ramp_seconds=5.0)


@dataclass(frozen=True)
class Fault:
    at: float  # seconds into the soak
    action: str  # "kill worker", "start worker", "stop redis", "start redis"


def schedule(config: SoakConfig) -> list[Fault]:
    """The faults, at set fractions of the soak, all in its first half: the worker
    SIGKILLed at 10 % and 40 % (a new one started some seconds later), Redis stopped
    at 25 % and started again, empty, some seconds later. The second half runs
    without faults: the memory verdict is judged on it."""
    d = config.seconds
    faults = []
    for at in (0.10 * d, 0.40 * d):
        faults += [Fault(at, "kill worker"), Fault(at + config.worker_down_seconds, "start worker")]
    at = 0.25 * d
    faults += [Fault(at, "stop redis"), Fault(at + config.redis_down_seconds, "start redis")]
    return sorted(faults, key=lambda f: f.at)


def outage_windows(happened: Sequence[dict[str, Any]]) -> list[tuple[str, float, float]]:
    """(fault, start, end) of each outage that happened: "worker down" from a kill to
    the next worker's start, "redis down" from the stop to the start."""
    windows: list[tuple[str, float, float]] = []
    opened: dict[str, float] = {}
    pairs = {
        "kill worker": ("worker down", True),
        "start worker": ("worker down", False),
        "stop redis": ("redis down", True),
        "start redis": ("redis down", False),
    }
    for event in happened:
        name, opens = pairs[event["action"]]
        if opens:
            opened[name] = event["at"]
        elif name in opened:
            windows.append((name, opened.pop(name), event["done_at"]))
    return windows


def judge_errors(
    outcomes: Sequence[traffic.Outcome],
    windows: Sequence[tuple[str, float, float]],
    degraded: dict[str, tuple[frozenset[str], float]] = DEGRADED,
) -> dict[str, Any]:
    """Errors by kind and by the outage they came in (or "no fault"), and how many of
    them are not a degraded answer of a fault (``DEGRADED``): ``unexpected``."""
    by_window: dict[str, Counter[str]] = {}
    unexpected = 0
    for outcome in outcomes:
        if outcome.result == "ok":
            continue
        during = [
            name for name, start, end in windows
            if start <= outcome.at <= end + REPORT_GRACE_SECONDS
        ]  # fmt: skip
        by_window.setdefault("/".join(during) or "no fault", Counter())[outcome.result] += 1
        allowed = any(
            outcome.result in degraded[name][0] and start <= outcome.at <= end + degraded[name][1]
            for name, start, end in windows
            if name in degraded
        )
        if not allowed:
            unexpected += 1
    errors = sum(sum(counts.values()) for counts in by_window.values())
    return {
        "errors": errors,
        "degraded": errors - unexpected,
        "unexpected": unexpected,
        "by_window": {name: dict(counts) for name, counts in by_window.items()},
        "last_error_after_each_fault_s": last_errors(outcomes, windows),
    }


def last_errors(
    outcomes: Sequence[traffic.Outcome], windows: Sequence[tuple[str, float, float]]
) -> list[dict[str, Any]]:
    """For each outage: when the last error before the next outage (or the end) was sent,
    in seconds after the outage ended (None: no error): how long the clients felt it."""
    found = []
    ends = [start for _, start, _ in windows[1:]] + [float("inf")]
    for (name, start, end), until in zip(windows, ends, strict=True):
        times = [o.at for o in outcomes if o.result != "ok" and start <= o.at < until]
        found.append(
            {
                "outage": name,
                "from_s": start,
                "to_s": end,
                "errors": len(times),
                "last_error_after_end_s": round(max(times) - end, 1) if times else None,
            }
        )
    return found


def judge_memory(
    samples: Sequence[tuple[float, int]], duration: float, warm_fraction: float, limit: float
) -> dict[str, Any]:
    """The API's RSS after the warm-up, in thirds: flat when the last third's median is at
    most ``limit`` above the first third's. ``samples``: (seconds into the soak, kB)."""
    after = [kb for t, kb in samples if warm_fraction * duration <= t <= duration]
    if len(after) < 3:
        return {"flat": None, "reason": f"{len(after)} samples after the warm-up"}
    third = len(after) // 3
    first, last = statistics.median(after[:third]), statistics.median(after[-third:])
    growth = last / first - 1
    times = [t for t, _ in samples if warm_fraction * duration <= t <= duration]
    slope = _slope(times, after) * 60 / 1024  # MB per minute
    return {
        "flat": growth <= limit,
        "first_third_median_mb": round(first / 1024, 1),
        "last_third_median_mb": round(last / 1024, 1),
        "growth": round(growth, 4),
        "limit": limit,
        "min_mb": round(min(after) / 1024, 1),
        "max_mb": round(max(after) / 1024, 1),
        "slope_mb_per_min": round(slope, 3),
        "samples": len(after),
    }


def _slope(xs: Sequence[float], ys: Sequence[float]) -> float:
    """Least-squares slope of ys over xs."""
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0


def open_files(pid: int) -> int | None:
    """How many file descriptors process ``pid`` holds open (sockets included), or None."""
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def connections(pid: int, peers: dict[str, int], own_port: int) -> dict[str, int]:
    """Process ``pid``'s TCP connections on 127.0.0.1, by whom they go to: ``peers``
    (name -> port), "clients" (accepted on ``own_port``), "other" (Linux /proc)."""
    sockets = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    sockets.add(target[8:-1])
        table = Path(f"/proc/{pid}/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return {}
    names = {port: name for name, port in peers.items()}
    counts: Counter[str] = Counter()
    for row in table:
        fields = row.split()
        if fields[9] not in sockets or fields[3] == "0A":  # not this process's, or listening
            continue
        local, remote = (int(address.split(":")[1], 16) for address in fields[1:3])
        counts["clients" if local == own_port else names.get(remote, "other")] += 1
    return dict(counts)


def rss_kb(pid: int) -> int | None:
    """VmRSS of process ``pid`` in kB (Linux), or None once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


# ------------------------------------------------------------- the processes


@dataclass
class Worker:
    """A ``python app.py worker`` process pinned to the load core."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    worker_id: int

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after 15 s; the exit status (None if it was killed here)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                return None
        return self.process.returncode


def start_worker(
    settings: dict[str, str], run_dir: Path, worker_id: int, core: int = 1, timeout: float = 60.0
) -> Worker:
    """``taskset -c CORE python app.py worker``, ready (its /healthz answering)."""
    port = free_port()
    log = run_dir / f"worker-{worker_id}.log"
    command = [
        "taskset", "-c", str(core), sys.executable, "app.py", "worker",
        "--data-dir", str(run_dir / f"worker-{worker_id}"), "--metrics-port", str(port),
        "--worker-id", str(worker_id), "--log-level", "INFO",
    ]  # fmt: skip
    env = {**os.environ, **settings, "PYTHONUNBUFFERED": "1"}
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    worker = Worker(process, port, log, worker_id)
    deadline = time.monotonic() + timeout
    while not worker.healthy():
        if process.poll() is not None or time.monotonic() > deadline:
            worker.stop()
            raise RuntimeError(f"worker {worker_id} did not start: {log.read_text()[-3000:]}")
        time.sleep(0.05)
    return worker


def restart_redis(stopped: RunningServer, core: int = 1) -> RunningServer:
    """Redis again on the port and folder of the stopped one: empty (no persistence)."""
    redis = start_redis(port=stopped.port, directory=stopped.directory)
    procs.pin(redis.pid, core)
    return redis


def store_settings(bench: Bench, stores: ProductionStores, redis_url: str) -> dict[str, str]:
    """The API's settings: hybrid on Neo4j, MongoDB and Redis, no fan-out in process."""
    return bench.settings(
        "hybrid",
        **stores.graph_settings(),
        **stores.tweet_settings(),
        REDIS_URL=redis_url,
        CHIRP_INPROCESS_WORKERS="0",
    )


@dataclass
class Rig:
    """What the soak runs against: the API, a fan-out worker, Redis, the stand-ins."""

    bench: Bench
    stores: ProductionStores
    redis: RunningServer
    api: procs.Server
    run_dir: Path
    config: SoakConfig
    worker: Worker | None = None
    workers_started: int = 0
    worker_logs: list[Path] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

    def worker_settings(self) -> dict[str, str]:
        return {
            **store_settings(self.bench, self.stores, self.redis.url),
            "CHIRP_CLAIM_IDLE": str(self.config.claim_idle),
            "CHIRP_REPAIR_AFTER": str(self.config.repair_after),
        }

    def start_worker(self) -> None:
        self.workers_started += 1
        self.worker = start_worker(self.worker_settings(), self.run_dir, 10 + self.workers_started)
        self.worker_logs.append(self.worker.log)

    def act(self, action: str) -> dict[str, Any]:
        """Do one fault action now (blocking); what was done."""
        if action == "kill worker":
            assert self.worker is not None
            pid = self.worker.process.pid
            self.worker.process.kill()  # SIGKILL: jobs it had taken stay unacknowledged
            self.worker.process.wait()
            return {"pid": pid}
        if action == "start worker":
            self.start_worker()
            assert self.worker is not None
            return {"pid": self.worker.process.pid}
        if action == "stop redis":
            self.redis.stop(remove_dir=False)
            return {"port": self.redis.port}
        if action == "start redis":
            self.redis = restart_redis(self.redis)
            return {"port": self.redis.port, "pid": self.redis.pid}
        raise ValueError(action)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        self.api.stop()


@contextmanager
def rig(config: SoakConfig, workdir: Path, log: Callable[[str], None]) -> Iterator[Rig]:
    """The quick data set on the stand-ins, Redis, the API (core 0) and one worker (core 1)."""
    seed_config, durations = configure(True, None, 1, None)
    bench = open_bench(seed_config, durations, workdir, log)
    plan = seed.plan(seed_config, now_ms=bench.manifest.now_ms)
    with production_stores(plan, log) as stores:
        del plan
        run_dir = bench.workdir / "runs" / "soak"
        subprocess.run(["rm", "-rf", str(run_dir)], check=True)
        run_dir.mkdir(parents=True)
        redis = start_redis(directory=run_dir / "redis")
        current: Rig | None = None
        try:
            procs.pin(redis.pid, 1)
            log(f"redis-server on {redis.url} (core 1)")
            api = procs.start("soak-api", run_dir, store_settings(bench, stores, redis.url))
            current = Rig(bench, stores, redis, api, run_dir, config)
            log(f"API on {api.url} (core 0), pid {api.process.pid}")
            current.start_worker()
            assert current.worker is not None
            log(f"fan-out worker on core 1, pid {current.worker.process.pid}")
            yield current
        finally:
            if current is not None:
                current.stop()
            (current.redis if current is not None else redis).stop()


# ------------------------------------------------------------------ the run


def processes(rig: Rig) -> dict[str, int]:
    """The pids whose CPU and memory the soak follows (the worker: the current one)."""
    pids = {
        "api": rig.api.process.pid,
        "redis": rig.redis.pid,
        "arcadedb": rig.stores.neo4j.pid,
        "nx-27017": rig.stores.mongo.pid,
        "driver": os.getpid(),
    }
    if rig.worker is not None and rig.worker.process.poll() is None:
        pids["worker"] = rig.worker.process.pid
    return pids


def api_connections(rig: Rig) -> dict[str, int]:
    """The API's TCP connections now, by peer: its clients, Redis, MongoDB, Neo4j."""
    peers = {
        "redis": rig.redis.port,
        "mongodb": rig.stores.mongo.port,
        "neo4j": rig.stores.neo4j.port,
    }
    return connections(rig.api.process.pid, peers, rig.api.port)


def cpu_snapshot(pids: dict[str, int]) -> dict[str, tuple[int, float]]:
    """(pid, CPU seconds so far) of each process still running."""
    found = {}
    for name, pid in pids.items():
        try:
            found[name] = (pid, procs.cpu_seconds(pid))
        except OSError:
            continue  # it ended meanwhile (a killed worker, Redis while stopped)
    return found


def cpu_used(
    before: dict[str, tuple[int, float]], after: dict[str, tuple[int, float]], since: float
) -> dict[str, float]:
    """CPU of each process between two snapshots, in % of one core."""
    span = time.monotonic() - since
    return {
        name: round(100 * (seconds - before[name][1]) / span, 1)
        for name, (pid, seconds) in after.items()
        if name in before and before[name][0] == pid and span > 0
    }


def cpu_between(samples: Sequence[dict[str, Any]], start: float, end: float) -> dict[str, float]:
    """Each process's CPU between the samples taken in [start, end), in % of one core
    (summed over consecutive samples of the same pid: a restarted process starts anew)."""
    inside = [s for s in samples if start <= s["t"] < end]
    used: dict[str, float] = {}
    for before, after in itertools.pairwise(inside):
        span = after["t"] - before["t"]
        for name, (pid, seconds) in after["cpu"].items():
            earlier = before["cpu"].get(name)
            if earlier is not None and earlier[0] == pid and span > 0:
                used[name] = used.get(name, 0.0) + (seconds - earlier[1])
    span = inside[-1]["t"] - inside[0]["t"] if len(inside) > 1 else 0.0
    return {name: round(100 * seconds / span, 1) for name, seconds in used.items()} if span else {}


async def sample(
    rig: Rig, started: float, every: float, samples: list[dict[str, Any]], stop: asyncio.Event
) -> None:
    """Every ``every`` s until ``stop``: the API's and the current worker's VmRSS (kB), and
    the CPU seconds of every process so far."""
    while not stop.is_set():
        pids = processes(rig)
        samples.append(
            {
                "t": round(time.monotonic() - started, 2),
                "api_kb": rss_kb(pids["api"]),
                "api_fds": open_files(pids["api"]),
                "worker_kb": rss_kb(pids["worker"]) if "worker" in pids else None,
                "cpu": cpu_snapshot(pids),
            }
        )
        with suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)


async def inject(
    rig: Rig,
    faults: Sequence[Fault],
    started: float,
    mongo_writes: asyncio.Lock,
    log: Callable[[str], None],
) -> None:
    """Each fault at its time (seconds after ``started``, a time.monotonic()). A worker
    starts holding ``mongo_writes`` (its start-up opens a MongoDB transaction: see
    ``traffic.MixClient``)."""
    for fault in faults:
        delay = started + fault.at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        at = time.monotonic() - started
        if fault.action == "start worker":
            async with mongo_writes:
                waited = time.monotonic() - started - at
                detail = await asyncio.to_thread(rig.act, fault.action)
            detail["waited_for_mongo_writes_s"] = round(waited, 2)
        else:
            detail = await asyncio.to_thread(rig.act, fault.action)
        done = time.monotonic() - started
        rig.events.append(
            {"action": fault.action, "at": round(at, 2), "done_at": round(done, 2), **detail}
        )
        log(f"  t={at:6.1f}s {fault.action} {detail} ({done - at:.2f} s)")


async def settle(rig: Rig, post_ids: Sequence[int], within: float) -> dict[str, Any]:
    """Wait until no acknowledged post is waiting for its fan-out (MongoDB's flag)."""
    store = MongoTweetStore(mongo_connect(rig.stores.mongo.url), rig.stores.database)
    ours = set(post_ids)
    started = time.monotonic()
    try:
        first = None
        while True:
            pending = [t.id for t in await store.pending_fanout(2**63 - 1, 100_000) if t.id in ours]
            first = len(pending) if first is None else first
            if not pending or time.monotonic() - started > within:
                return {
                    "pending_when_load_stopped": first,
                    "pending_at_end": len(pending),
                    "seconds": round(time.monotonic() - started, 1),
                }
            await asyncio.sleep(0.5)
    finally:
        await store.close()


async def run(config: SoakConfig, rig: Rig, log: Callable[[str], None]) -> dict[str, Any]:
    bench = rig.bench
    readers = bench.manifest.readers["mixed"]
    tokens = {reader: bench.token(reader) for reader in readers}
    report: dict[str, Any] = {}
    async with traffic.MixClient(rig.api.url, tokens, bench.manifest.user_ids) as client:
        # as the bench does: each celebrity posts once, each reader reads once
        celebrities = traffic.MixClient(
            rig.api.url, {c: bench.token(c) for c in bench.manifest.celebrities}, [], label="warm"
        )
        async with celebrities:
            for celebrity in bench.manifest.celebrities:
                await celebrities.post_as(celebrity)
        await client.read_each()
        await client.closed_loop(10, 3.0)  # warm-up, discarded
        levels = []
        for concurrency in config.ramp:
            before, started = cpu_snapshot(processes(rig)), time.monotonic()
            level = await client.closed_loop(concurrency, config.ramp_seconds)
            level["cpu_pct"] = cpu_used(before, cpu_snapshot(processes(rig)), started)
            levels.append(level)
            log(
                f"  ramp: {concurrency} in flight: {level['ok_rps']} req/s, p50 {level['p50_ms']}"
                f" ms, p99 {level['p99_ms']} ms, errors {level['errors']}, CPU % {level['cpu_pct']}"
            )
        # errors in the ramp fail the soak (below); its rate is then the best level's anyway
        best = traffic.best_error_free(levels) or max(levels, key=lambda level: level["ok_rps"])
        rate = round(config.load * best["ok_rps"], 1)
        report["ramp"] = {"levels": levels, "max_error_free_rps": best["ok_rps"], "at": best}
        log(
            f"max {best['ok_rps']} req/s (at {best['concurrency']} in flight); soak at"
            f" {rate} req/s for {config.seconds:.0f} s"
        )

        report["api_connections_before_soak"] = api_connections(rig)
        samples: list[dict[str, Any]] = []
        stop = asyncio.Event()
        started, started_epoch = time.monotonic(), time.time()
        soak_from = client.recorder.now()
        sampler = asyncio.create_task(sample(rig, started, config.sample_every, samples, stop))
        faults = asyncio.create_task(
            inject(rig, schedule(config), started, client.mongo_writes, log)
        )
        soaked = await client.open_loop(rate, config.seconds)
        await faults
        stop.set()
        await sampler
        soak_to = client.recorder.now()
        outcomes = client.recorder.between(soak_from, soak_to)
        # times relative to the soak's start, as the faults' and the samples'
        shifted = [traffic.Outcome(o.at - soak_from, o.kind, o.seconds, o.result) for o in outcomes]
        windows = outage_windows(rig.events)
        report["soak"] = {"target_rps": rate, **soaked}
        report["errors"] = judge_errors(shifted, windows)
        report["errors"]["ramp_and_warm_up"] = sum(
            1 for o in client.recorder.outcomes if o.result != "ok" and o.at < soak_from
        )
        report["events"] = rig.events
        report["api_breaker_opened_at_s"] = marked_at(
            rig.api.log, "failing fast for", started_epoch
        )
        report["outage_windows"] = [list(w) for w in windows]
        report["rss_samples"] = samples
        api_samples = [(s["t"], s["api_kb"]) for s in samples if s["api_kb"] is not None]
        report["memory"] = judge_memory(
            api_samples, config.seconds, config.warm_fraction, config.rss_growth_limit
        )
        report["windows"] = windowed(shifted, samples, rig.events, config.seconds)

    acked = client.acked
    acked.posts += celebrities.acked.posts
    log(
        f"acknowledged: {len(acked.posts)} posts, {len(acked.likes)} likes,"
        f" {len(acked.follows)} follows; waiting for their fan-out"
    )
    report["api_connections_after_load"] = api_connections(rig)
    report["fanout"] = await settle(rig, [t for t, _, _ in acked.posts], config.settle_timeout)
    log(f"  fan-out: {report['fanout']}")
    verifier = Verifier(rig.api.url, bench.token, bench.manifest.handles, readers)
    report["verification"] = await verifier.check(acked)
    log(f"  verification: {report['verification']['summary']}")
    return report


def windowed(
    outcomes: Sequence[traffic.Outcome],
    samples: Sequence[dict[str, Any]],
    events: Sequence[dict[str, Any]],
    duration: float,
    count: int = 10,
) -> list[dict[str, Any]]:
    """The soak in ``count`` equal windows: throughput, latency, errors, RSS, faults."""
    width = duration / count
    rows = []
    for n in range(count):
        start, end = n * width, (n + 1) * width
        inside = [o for o in outcomes if start <= o.at < end]
        figures = traffic.summary(inside, width)
        rss = [s["api_kb"] for s in samples if start <= s["t"] < end and s["api_kb"]]
        cpu = cpu_between(samples, start, end)
        fds = [s["api_fds"] for s in samples if start <= s["t"] < end and s["api_fds"]]
        rows.append(
            {
                "from_s": round(start, 1),
                "to_s": round(end, 1),
                "ok_rps": figures["ok_rps"],
                "p50_ms": figures["p50_ms"],
                "p99_ms": figures["p99_ms"],
                "errors": sum(figures["errors"].values()),
                "api_rss_mb": round(statistics.median(rss) / 1024, 1) if rss else None,
                "api_open_files": max(fds) if fds else None,
                "api_cpu_pct": cpu.get("api"),
                "load_core_cpu_pct": round(sum(v for k, v in cpu.items() if k != "api"), 1),
                "cpu_pct": cpu,
                "faults": [e["action"] for e in events if start <= e["at"] < end],
            }
        )
    return rows


def verdicts(report: dict[str, Any]) -> list[str]:
    """What failed, in words (empty: the soak passed)."""
    failed = []
    errors = report["errors"]
    if errors["unexpected"]:
        failed.append(f"{errors['unexpected']} client errors: {errors['by_window']}")
    if errors["ramp_and_warm_up"]:
        failed.append(f"{errors['ramp_and_warm_up']} client errors before the soak")
    summary = report["verification"]["summary"]
    for what, missing in summary["missing"].items():
        if missing:
            failed.append(f"{missing} acknowledged {what} missing")
    if report["fanout"]["pending_at_end"]:
        failed.append(f"{report['fanout']['pending_at_end']} posts never fanned out")
    memory = report["memory"]
    if memory["flat"] is not True:
        failed.append(f"API memory not flat: {memory}")
    actions = Counter(e["action"] for e in report["events"])
    if actions["kill worker"] < 1 or actions["start redis"] < 1:
        failed.append(f"faults missing: {dict(actions)}")
    return failed


def print_report(report: dict[str, Any]) -> None:
    print()
    print(f"{'from s':>7}{'to s':>7}{'ok req/s':>10}{'p50 ms':>8}{'p99 ms':>9}{'errors':>7}"
          f"{'API RSS MB':>11}{'API fds':>8}{'API CPU %':>10}{'core 1 %':>9}  faults")  # fmt: skip
    for row in report["windows"]:
        print(
            f"{row['from_s']:>7.0f}{row['to_s']:>7.0f}{row['ok_rps']:>10.1f}"
            f"{_cell(row['p50_ms'], 8)}{_cell(row['p99_ms'], 9)}{row['errors']:>7}"
            f"{_cell(row['api_rss_mb'], 11)}{row['api_open_files'] or '':>8}"
            f"{_cell(row['api_cpu_pct'], 10)}"
            f"{_cell(row['load_core_cpu_pct'], 9)}  {', '.join(row['faults'])}"
        )
    print()
    ramp = report["ramp"]
    print(f"max error-free throughput (ramp): {ramp['max_error_free_rps']} req/s"
          f" at {ramp['at']['concurrency']} in flight")  # fmt: skip
    soak = report["soak"]
    print(f"soak: target {soak['target_rps']} req/s, sent {soak['rps']}, acknowledged"
          f" {soak['ok_rps']}, p50 {soak['p50_ms']} ms, p99 {soak['p99_ms']} ms,"
          f" late {soak['late']}; ok by kind {soak['ok_by_kind']}")  # fmt: skip
    print(f"errors: {report['errors']}")
    print(f"memory: {report['memory']}")
    print(f"fan-out: {report['fanout']}")
    print(
        f"API connections: before the soak {report['api_connections_before_soak']},"
        f" after the load {report['api_connections_after_load']}"
    )
    print(f"verification: {report['verification']['summary']}")
    print()


def _cell(value: float | None, width: int) -> str:
    return f"{value:>{width}.1f}" if value is not None else " " * width


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the 2-minute version (CI)")
    parser.add_argument("--minutes", type=float, help="length of the soak (default 10; quick 2)")
    parser.add_argument("--json", type=Path, default=None, help="default bench/.data/soak.json")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / ".data")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    config = QUICK if args.quick else SoakConfig()
    if args.minutes:
        config = SoakConfig(**{**asdict(config), "minutes": args.minutes})
    out = args.json or args.workdir / ("soak-quick.json" if args.quick else "soak.json")
    started = time.perf_counter()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the load core: the API has core 0 to itself

    def log(line: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {line}", flush=True)

    with rig(config, args.workdir, log) as current:
        report = asyncio.run(run(config, current, log))
        report["worker_logs"] = scan_logs(current.worker_logs)
        report["api_log"] = scan_logs([current.api.log])
    report["failed"] = verdicts(report)
    report = {
        "seconds": round(time.perf_counter() - started, 1),
        "config": asdict(config),
        "machine": machine(),
        **report,
    }
    print_report(report)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    log(f"wrote {out}")
    for failure in report["failed"]:
        log(f"SOAK FAILED: {failure}")
    return 1 if report["failed"] else 0


def marked_at(path: Path, mark: str, since_epoch: float) -> list[float]:
    """Seconds after ``since_epoch`` of the log lines holding ``mark`` (the logs' clock is
    local time, to the millisecond)."""
    found = []
    for line in path.read_text(errors="replace").splitlines():
        if mark in line:
            try:
                stamp = datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f").timestamp()
            except ValueError:
                continue
            found.append(round(stamp - since_epoch, 1))
    return found


def scan_logs(paths: Sequence[Path]) -> dict[str, int]:
    """Lines of interest in the processes' logs, counted."""
    marks = {
        "tracebacks": "Traceback",
        "errors": " ERROR ",
        "claimed_jobs": "left by another worker",
        "repair_passes": "repair:",
        "queue_unavailable": "fan-out queue unavailable",
        "breaker_opened": "failing fast for",
        "reads_by_pull_cache_unavailable": "by pull",
        "follow_backfill_skipped": "no backfill",
        "own_timeline_not_updated": "own timeline not updated",
        "post_left_to_repair": "waits for repair",
    }
    counts = dict.fromkeys(marks, 0)
    for path in paths:
        text = path.read_text(errors="replace") if path.exists() else ""
        for name, mark in marks.items():
            counts[name] += text.count(mark)
    return counts


if __name__ == "__main__":
    sys.exit(main())
