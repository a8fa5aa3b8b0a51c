"""``python -m bench.profile``: py-spy samples of the server under the home-page load.

Starts the app (or, with ``--floor``, the floor server) pinned to core 0 on a fresh
copy of the seeded data, warms the mixed reader pool, then records it with
``py-spy record`` while ``wrk`` drives the home-timeline page from core 1. Prints
the functions with the most samples, by self time and by inclusive time, and keeps
the raw collapsed stacks (``--out``) for a flame graph (``flamegraph.pl`` or
speedscope both read them).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from bench import scenarios, wrk
from bench.__main__ import configure, open_bench


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the quick data set (1,000 users)")
    parser.add_argument("--floor", action="store_true", help="profile the floor server instead")
    parser.add_argument("--strategy", default="hybrid", choices=("hybrid", "pull", "push"))
    parser.add_argument("--pool", default="mixed", help="reader pool: mixed, 10, 100 or 1000")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of sampling")
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=30, help="functions to list")
    parser.add_argument(
        "--all-threads",
        action="store_true",
        help="sample every thread, waiting ones too (default: only the thread holding the GIL,"
        " i.e. where the core's Python time goes)",
    )
    parser.add_argument("--out", type=Path, help="write the collapsed stacks here")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / ".data")
    return parser.parse_args(argv)


def ensure_py_spy() -> str:
    found = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(found).exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
    return found


def summarise(stacks: Path, top: int) -> str:
    """Self and inclusive sample counts per function from collapsed stacks."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        frames_text, _, count_text = line.rpartition(" ")
        if not frames_text:
            continue
        count = int(count_text)
        frames = [f for f in frames_text.split(";") if f]
        total += count
        if frames:
            own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    lines = [f"{total} samples"]
    for title, counter in (("self", own), ("inclusive", inclusive)):
        lines.append(f"\n{'%':>6}  by {title} time")
        for frame, count in counter.most_common(top):
            lines.append(f"{100 * count / max(1, total):6.1f}  {frame}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    py_spy = ensure_py_spy()
    wrk.ensure_wrk()
    config, durations = configure(args.quick, None, 1, args.seconds)
    bench = open_bench(config, durations, args.workdir, print)
    readers = bench.manifest.readers[args.pool]
    tokens_file = bench.tokens_file(f"profile-{args.pool}", readers)
    stacks = args.out or bench.workdir / "profile.stacks"
    kind = "floor" if args.floor else "graphql"
    with bench.server(f"profile-{kind}", bench.settings(args.strategy), floor=args.floor) as srv:
        url = f"{srv.url}/graphql"
        scenarios.warm_celebrities_via(bench, srv, floor=args.floor)
        asyncio.run(scenarios.read_pages(url, tokens_file.read_text().split()))
        wrk.run(srv.url, tokens_file, bench.body_file, 2, durations.connections)
        record = [
            py_spy, "record", "--pid", str(srv.process.pid), "--rate", str(args.rate),
            "--duration", str(max(1, round(args.seconds))), "--format", "raw",
            "--output", str(stacks), "--nonblocking",
            *([] if args.all_threads else ["--gil"]),
        ]  # fmt: skip
        result: dict[str, wrk.WrkResult] = {}

        def load() -> None:
            time.sleep(0.5)
            result["wrk"] = wrk.run(
                srv.url, tokens_file, bench.body_file, args.seconds, durations.connections
            )

        driver = threading.Thread(target=load)
        driver.start()
        subprocess.run(record, check=True, capture_output=True)
        driver.join()
    run = result["wrk"]
    print(
        f"{kind}: {run.rps:.1f} req/s, p50 {run.p50_ms} ms, p99 {run.p99_ms} ms, errors {run.errors}"
    )
    print(summarise(stacks, args.top))
    print(f"\ncollapsed stacks: {stacks}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
