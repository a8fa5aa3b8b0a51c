"""``python -m bench.engine``: the timeline engine alone, in process, one read at a time.

The HTTP sections measure a home page with everything a request costs besides
the timeline: HTTP, the token, GraphQL (or the floor's JSON), the page's authors
and viewer flags. Those costs are the same whatever the strategy, so they dilute
the difference the strategy makes. This measures ``HomeTimeline.read`` alone:
the first page (20 tweets, asked as the API asks, page + 1) of each reader of a
pool in turn, one read at a time, each read's wall time recorded.

With ``--graphql``, each read is instead the whole home page of the HTTP
sections (``scenarios.HOME_QUERY``) through ``schema.execute`` with a fresh
request context: GraphQL, loaders and services in process, without HTTP. With
``--reads N``, each pool reads exactly N times instead of for ``--seconds``,
so that an instruction count (``valgrind --tool=callgrind``) of two runs with
different N gives the cost of one read, start-up cancelled out.

Opens the stores of ``--data-dir`` with the app's settings (environment
variables, as ``app.py``), runs the fan-out worker in process, warms as the HTTP
sections do (each celebrity posts once, every reader reads once, the fan-out
drained), then reads for ``--seconds`` per pool. Prints one JSON object: per
pool, reads, reads per second, and p50/p90/p99/max in ms. The bench runs it
pinned to the server core (``taskset -c 0``).

    python -m bench.engine --data-dir DIR --pools 10,100,1000 --seconds 10
    python -m bench.engine --data-dir DIR --pools 100 --graphql --reads 1200
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from prometheus_client import REGISTRY

from app import GC_THRESHOLDS, new_event_loop
from bench.scenarios import HOME_QUERY
from bench.seed import Manifest
from bootstrap.services import make_services, running_workers
from bootstrap.settings import load_settings
from bootstrap.stores import open_stores
from resolvers.context import Context
from schema import build_schema
from services.container import Services

PAGE = 20
FANOUT_TIMEOUT_SECONDS = 60.0


def _pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _fanout_jobs() -> float:
    return REGISTRY.get_sample_value("chirp_fanout_jobs_total", {"kind": "post"}) or 0.0


async def _drained(jobs: float) -> None:
    """Wait until the in-process worker's count of applied post jobs reaches ``jobs``."""
    deadline = time.monotonic() + FANOUT_TIMEOUT_SECONDS
    while _fanout_jobs() < jobs:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{_fanout_jobs():.0f} fan-out jobs applied, not {jobs:.0f}")
        await asyncio.sleep(0.02)


Read = Callable[[int], Awaitable[object]]


def graphql_reader(services: Services) -> Read:
    """A read of the home page through GraphQL, as a request of the HTTP sections asks it."""
    schema = build_schema()

    async def read(reader: int) -> object:
        context = Context.for_request(services, f"Bearer {services.tokens.issue(reader)}")
        result = await schema.execute(HOME_QUERY, context_value=context, operation_name="Home")
        if result.errors:
            raise RuntimeError(f"the home page of {reader} failed: {result.errors}")
        return result.data

    return read


async def measure(
    data_dir: Path,
    pools: Sequence[str],
    seconds: float,
    graphql: bool = False,
    reads: int | None = None,
) -> dict[str, Any]:
    manifest = Manifest.load(data_dir)
    settings = load_settings(args=argparse.Namespace(data_dir=str(data_dir)))
    stores = await open_stores(settings)
    services = make_services(settings, stores)
    results: dict[str, Any] = {"strategy": settings.timeline_strategy, "graphql": graphql}
    try:
        async with running_workers(settings, services, settings.inprocess_workers):
            jobs = _fanout_jobs()
            for celebrity in manifest.celebrities:  # fills their recent lists
                await services.tweets.create(celebrity, "warming up")
            await _drained(jobs + len(manifest.celebrities))
            gc.collect()  # the app server's collector settings (app.settle_heap)
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
            home = services.home.read

            async def engine_read(reader: int) -> object:
                return await home(reader, PAGE + 1, None)

            read = graphql_reader(services) if graphql else engine_read
            for pool in pools:
                readers = manifest.readers[pool]
                for reader in readers:  # fills their cached timelines
                    await read(reader)
                times: list[float] = []
                started = time.perf_counter()
                while (
                    len(times) < reads
                    if reads is not None
                    else time.perf_counter() - started < seconds
                ):
                    reader = readers[len(times) % len(readers)]
                    before = time.perf_counter()
                    await read(reader)
                    times.append(time.perf_counter() - before)
                elapsed = time.perf_counter() - started
                results[pool] = {
                    "reads": len(times),
                    "reads_per_s": round(len(times) / elapsed, 1),
                    **{f"p{q}_ms": round(_pct(times, q / 100) * 1000, 3) for q in (50, 90, 99)},
                    "max_ms": round(max(times) * 1000, 3),
                }
    finally:
        await stores.close()
    return results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--pools", default="10,100,1000", help="reader pools, comma-separated")
    parser.add_argument("--seconds", type=float, default=10.0, help="reading time per pool")
    parser.add_argument(
        "--graphql", action="store_true", help="read the whole home page through GraphQL"
    )
    parser.add_argument("--reads", type=int, help="read exactly this many times per pool")
    args = parser.parse_args(argv)
    pools = [p for p in args.pools.split(",") if p]
    with asyncio.Runner(loop_factory=new_event_loop) as runner:  # the servers' event loop
        found = measure(args.data_dir, pools, args.seconds, args.graphql, args.reads)
        print(json.dumps(runner.run(found)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
