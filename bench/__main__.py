"""``python -m bench [--quick] [--json PATH] [--seed N] ...``: see bench/README.md."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import discovery_api, scenarios, seed, wrk
from bench.production import production_stores
from bootstrap.settings import load_settings
from bootstrap.stores import open_stores

SECTIONS = ("a", "b", "c", "d", "e", "f", "g")
QUICK_SECTIONS = ("a", "b", "e")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smoke version, under 2 minutes")
    parser.add_argument("--json", type=Path, help="write every figure to this JSON file")
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data set")
    parser.add_argument("--users", type=int, help="users to seed (20,000; quick: 1,000)")
    parser.add_argument("--duration", type=float, help="seconds per measured wrk run")
    parser.add_argument(
        "--d-users",
        type=int,
        help="users of section d's data set, for all its store configurations (default"
        " 1,000, the quick size: at 20,000 seeding the stand-ins takes about 2.5 minutes"
        " and section d about 9)",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated sections to run among a,b,c,d,e,f,g (default: all; quick: a,b,e)",
    )
    parser.add_argument(
        "--g-users", type=int, default=100_000, help="users of section g's graph (100,000)"
    )
    parser.add_argument(
        "--g-tweets", type=int, default=100_000, help="tweets of section g (100,000)"
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(__file__).resolve().parent / ".data",
        help="seeded data (reused while the seed config and seed.py are unchanged) and"
        " server data dirs (default bench/.data, git-ignored)",
    )
    return parser.parse_args(argv)


def machine() -> dict[str, Any]:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    return {
        "nproc": os.cpu_count(),
        "lscpu": lscpu.splitlines()[:10],
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def seed_data(config: seed.SeedConfig, workdir: Path, log: Any) -> tuple[Path, seed.Manifest]:
    """The seeded data dir for this config, made once and reused (keyed by the config)."""
    source = Path(seed.__file__).read_bytes()  # a change to the seeding code means new data
    key = hashlib.sha256(json.dumps(asdict(config), sort_keys=True).encode() + source).hexdigest()[
        :12
    ]
    target = workdir / f"seed-{key}"
    if (target / seed.MANIFEST).exists():
        log(f"seed: reusing {target}")
        return target, seed.Manifest.load(target)
    building = workdir / f"seed-{key}.tmp"
    subprocess.run(["rm", "-rf", str(building)], check=True)
    building.mkdir(parents=True)
    started = time.perf_counter()
    plan = seed.plan(config)
    planned = time.perf_counter() - started

    async def write() -> None:
        stores = await open_stores(load_settings(env={"CHIRP_DATA_DIR": str(building)}))
        try:
            await seed.write(plan, stores)
        finally:
            await stores.close()

    asyncio.run(write())
    plan.manifest.seconds = round(time.perf_counter() - started, 1)
    plan.manifest.save(building)
    building.rename(target)
    m = plan.manifest
    log(
        f"seed: {config.users} users, {m.follows} follows, {m.tweets} tweets, {m.likes} likes"
        f" in {m.seconds} s (plan {planned:.1f} s) -> {target}"
    )
    return target, m


def configure(
    quick: bool, users: int | None, seed_value: int, duration: float | None
) -> tuple[seed.SeedConfig, scenarios.Durations]:
    """The data set and run lengths of a full (or quick) run."""
    users = users or (1000 if quick else 20_000)
    config = seed.SeedConfig(
        users=users,
        seed=seed_value,
        celebrity_threshold=10_000 if users >= 20_000 else max(50, users // 4),
        celebrities=3 if quick else 5,
        readers_per_class=20 if quick else 50,
        mixed_readers=50 if quick else 200,
    )
    durations = scenarios.Durations(
        measure=duration or (2.0 if quick else 10.0),
        warm=1.0 if quick else 3.0,
        posts=5 if quick else 20,
        fanout_repeats=3,
        engine=1.0 if quick else (duration or 10.0),
    )
    return config, durations


def open_bench(
    config: seed.SeedConfig, durations: scenarios.Durations, workdir: Path, log: Any
) -> scenarios.Bench:
    """Seeded data (made once, then reused) and the shared state of a run over it."""
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    seed_dir, manifest = seed_data(config, workdir, log)
    return scenarios.Bench(
        workdir, seed_dir, manifest, durations, threshold=config.celebrity_threshold, log=log
    )


def data_summary(config: seed.SeedConfig, manifest: seed.Manifest) -> dict[str, Any]:
    return {
        "seed": asdict(config),
        "data": {
            "users": len(manifest.user_ids),
            "follows": manifest.follows,
            "tweets": manifest.tweets,
            "likes": manifest.likes,
            "seed_seconds": manifest.seconds,
            "follower_counts_of_special_users": manifest.follower_counts,
        },
    }


def section_d_data(
    args: argparse.Namespace, config: seed.SeedConfig, bench: scenarios.Bench, log: Any
) -> tuple[seed.SeedConfig, scenarios.Bench]:
    """Section d's data set: the quick size unless --d-users (the run's own if the same).

    Seeding 20,000 users and 1.1 M follows into the stand-ins takes about 2.5 minutes
    even in bulk, and their first reads minutes more; through the ports it would take
    about 2 hours. So by default every configuration of section d, the embedded one
    included, runs on the quick-size data set: like for like, with the run's durations.
    """
    users = args.d_users or (config.users if args.quick else 1000)
    d_config, _ = configure(users < 20_000, users, args.seed, None)
    if d_config == config:
        return config, bench
    d_bench = open_bench(d_config, bench.durations, args.workdir, log)
    d_bench.rows, d_bench.failures = bench.rows, bench.failures  # one table, one verdict
    return d_config, d_bench


def print_table(rows: Sequence[scenarios.Row]) -> None:
    print()
    print(f"{'section':<8}{'measurement':<48}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}")
    for row in rows:

        def cell(value: float | None, width: int = 9) -> str:
            return f"{value:>{width}.1f}" if value is not None else " " * width

        errors = f"{row.errors:>8}" if row.errors is not None else " " * 8
        print(
            f"{row.section:<8}{row.name:<48}{cell(row.rps)}{cell(row.p50_ms)}{cell(row.p99_ms)}{errors}"
        )
        for key, value in row.extra.items():
            if key not in {"command", "requests", "p75_ms", "p90_ms"}:
                print(f"{'':<10}{key}: {value}")
    print()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the driver shares the load core with wrk, not the server's

    def log(line: str) -> None:
        print(f"[{time.perf_counter() - started:6.1f}s] {line}", flush=True)

    wrk.ensure_wrk()
    quick = args.quick
    config, durations = configure(quick, args.users, args.seed, args.duration)
    sections = [s for s in (args.only.split(",") if args.only else SECTIONS) if s]
    if quick and not args.only:
        sections = list(QUICK_SECTIONS)
    bench = open_bench(config, durations, args.workdir, log)
    manifest = bench.manifest
    report_extra: dict[str, Any] = {}
    redis = None
    try:
        if "a" in sections:
            log("(a) GraphQL home page vs the floor")
            scenarios.graphql_vs_floor(bench)
        if "b" in sections:
            log("(b) hybrid vs pull vs push")
            classes = (10, 100, 1000)
            scenarios.strategies(bench, classes, floor_classes=(1000,) if quick else None)
        if "c" in sections or "d" in sections or "g" in sections:
            from tests.servers import start_redis

            redis = start_redis()
            os.sched_setaffinity(redis.pid, {1})
            log(f"redis-server on {redis.url} (core 1)")
        if "c" in sections and redis is not None:
            log("(c) fan-out delivery on Redis")
            scenarios.fanout(bench, redis.url)
        if "d" in sections and redis is not None:
            d_config, d_bench = section_d_data(args, config, bench, log)
            d_users = len(d_bench.manifest.user_ids)
            log(f"(d) embedded default vs production stores ({d_users:,} users)")
            plan = seed.plan(d_config, now_ms=d_bench.manifest.now_ms)  # the seeded data, again
            if plan.manifest.user_ids != d_bench.manifest.user_ids:
                raise RuntimeError(f"the plan differs from the data in {d_bench.seed_dir}")
            with production_stores(plan, log) as stores:
                del plan
                scenarios.stores_compare(d_bench, redis.url, stores, redis_pid=redis.pid)
            report_extra["section_d_data"] = data_summary(d_config, d_bench.manifest)
        if "e" in sections:
            log("(e) read-heavy mix: 100 home-timeline reads per post")
            scenarios.read_heavy_mix(bench)
        if "f" in sections:
            log("(f) latency at lower concurrency: 1 to 20 connections")
            scenarios.concurrency_sweep(bench)
        if "g" in sections:
            log(f"(g) search, trends, who to follow ({args.g_tweets:,} tweets)")
            g_config = discovery_api.DiscoveryConfig(
                users=args.g_users,
                tweets=args.g_tweets,
                seed=args.seed,
                reps=50 if quick else 200,
            )
            report_extra["section_g_data"] = discovery_api.run(
                bench.workdir, g_config, redis.url if redis else None, bench.add, bench.fail, log
            )
    finally:
        if redis is not None:
            redis.stop()
    total = time.perf_counter() - started
    print_table(bench.rows)
    log(f"done in {total:.0f} s")
    if args.json:
        report = {
            "mode": "quick" if quick else "full",
            "seconds": round(total, 1),
            "argv": sys.argv[1:] if argv is None else list(argv),
            "machine": machine(),
            "seed": asdict(config),
            "data": data_summary(config, manifest)["data"],
            **report_extra,
            "durations": asdict(durations),
            "rows": [asdict(r) for r in bench.rows],
            "failed_checks": bench.failures,
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))
        log(f"wrote {args.json}")
    for failure in bench.failures:
        log(f"CHECK FAILED: {failure}")
    return 1 if bench.failures else 0


if __name__ == "__main__":
    sys.exit(main())
