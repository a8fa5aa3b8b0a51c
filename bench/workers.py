"""``python -m bench.workers``: home-page throughput of ``--workers 1`` vs ``--workers 2``.

Both servers run on the same seeded data (``bench/seed.py``, a fresh copy each)
with Redis (``--workers 2`` needs it; the 1-worker server uses it too, like for
like). On this 2-core machine wrk and redis-server are pinned to core 1; the
1-worker server to core 0 (the per-core figure), the 2-worker server spread over
cores 0-1, so its second process shares core 1 with wrk and Redis: the figure is
what two processes get out of two cores *with the load generator on one of
them*, a lower bound of the scaling on dedicated cores. The servers are measured
in alternation, ``--rounds`` times (this machine's speed drifts between runs),
each after a short warm-up; every round's figures are printed, then the range.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench import procs, scenarios, wrk
from bench.__main__ import configure, open_bench


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.workers", description=__doc__)
    parser.add_argument("--users", type=int, default=20_000, help="users seeded (20,000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data set")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measured run")
    parser.add_argument("--warm", type=float, default=2.0, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (3)")
    parser.add_argument("--connections", type=int, default=20, help="wrk connections (20)")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / ".data")
    return parser.parse_args(argv)


def all_answering(server: procs.Server, workers: int, within: float = 60.0) -> None:
    """Wait until /healthz has answered from each of the ``workers`` processes."""
    if workers == 1:
        return
    seen: set[int] = set()
    deadline = time.monotonic() + within
    while len(seen) < workers:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only workers {sorted(seen)} answered: {server.log.read_text()}")
        with urllib.request.urlopen(f"{server.url}/healthz", timeout=2) as answer:
            seen.add(json.loads(answer.read())["worker"])


def summary(result: wrk.WrkResult) -> dict[str, Any]:
    return {
        "rps": result.rps,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "errors": result.errors,
        "command": result.command,
    }


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the driver on the load core
    config, durations = configure(False, args.users, args.seed, args.duration)
    bench = open_bench(config, durations, args.workdir, print)
    from tests.servers import start_redis

    redis = start_redis()
    os.sched_setaffinity(redis.pid, {1})
    readers = bench.manifest.readers["mixed"]
    tokens_file = bench.tokens_file("mixed", readers)
    tokens = tokens_file.read_text().split()
    layouts: dict[int, int | str] = {1: 0, 2: "0,1"}  # workers -> the cores it may use
    servers: dict[int, procs.Server] = {}
    rounds: list[dict[int, wrk.WrkResult]] = []
    try:
        for workers, cores in layouts.items():
            settings = bench.settings(
                "hybrid",
                REDIS_URL=f"{redis.url.rsplit('/', 1)[0]}/{workers}",  # a database each
                CHIRP_WORKERS=str(workers),
            )
            data_dir = bench.fresh_dir(f"workers-{workers}")
            server = procs.start(f"workers-{workers}", data_dir, settings, core=cores)
            servers[workers] = server
            all_answering(server, workers)
            scenarios.warm_celebrities(bench, server)
            asyncio.run(scenarios.read_pages(f"{server.url}/graphql", tokens))
        for number in range(args.rounds):
            results: dict[int, wrk.WrkResult] = {}
            for workers, server in servers.items():
                wrk.run(server.url, tokens_file, bench.body_file, args.warm, args.connections)
                results[workers] = result = wrk.run(
                    server.url, tokens_file, bench.body_file, args.duration, args.connections
                )
                print(
                    f"round {number + 1}: --workers {workers}: {result.rps:.1f} req/s, "
                    f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, "
                    f"errors {result.errors}"
                )
            rounds.append(results)
    finally:
        for server in servers.values():
            server.stop()
        redis.stop()
    ratios = [r[2].rps / r[1].rps for r in rounds]
    print(f"scaling (2 workers / 1 worker), per round: {', '.join(f'{x:.2f}' for x in ratios)}")
    print(f"range: {min(ratios):.2f}-{max(ratios):.2f}")
    if args.json:
        figures: dict[str, Any] = {
            "users": args.users,
            "rounds": [{str(w): summary(r) for w, r in rnd.items()} for rnd in rounds],
            "ratios": ratios,
        }
        args.json.write_text(json.dumps(figures, indent=2))
    errors = sum(r.errors for rnd in rounds for r in rnd.values())
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
