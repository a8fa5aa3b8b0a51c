"""``python -m bench.ab --base TREE``: another checkout's GraphQL server against this one's.

Both ``app.py`` servers (the other tree's, "before", and this tree's, "after") up
at once on core 0, each on a fresh copy of the same seeded data, warmed as in
section (a); then ``--rounds`` rounds of back-to-back wrk runs (before, after),
each after a 1 s warm-up. Prints each round's figures and after/before ratio and
the median ratio: the machine's drift cancels out of a ratio taken per round.
``--after TREE`` measures another checkout in place of this one (``--after`` the
same tree as ``--base``: how far apart two identical servers come out). With
``--floor`` the engine floors of both trees are measured the same way.

    python -m bench.ab --base /path/to/main --rounds 5 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
from collections.abc import Sequence
from pathlib import Path

from bench import procs, scenarios, wrk
from bench.__main__ import configure, open_bench


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("--base", type=Path, required=True, help="the checkout to compare with")
    parser.add_argument(
        "--after", type=Path, default=procs.ROOT, help="the checkout measured against it"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--quick", action="store_true", help="the quick data set")
    parser.add_argument("--floor", action="store_true", help="the engine floors instead")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).resolve().parent / ".data")
    args = parser.parse_args(argv)
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    wrk.ensure_wrk()
    config, durations = configure(args.quick, None, 1, args.seconds)
    bench = open_bench(config, durations, args.workdir, print)
    tokens_file = bench.tokens_file("mixed", bench.manifest.readers["mixed"])
    tokens = tokens_file.read_text().split()
    settings = bench.settings("hybrid")
    servers: dict[str, procs.Server] = {}
    try:
        for kind, root in (("before", args.base.resolve()), ("after", args.after.resolve())):
            name = f"ab-{kind}"
            servers[kind] = procs.start(
                name, bench.fresh_dir(name), settings, floor=args.floor, root=root
            )
        for server in servers.values():
            scenarios.warm_celebrities_via(bench, server, floor=args.floor)
            asyncio.run(scenarios.read_pages(f"{server.url}/graphql", tokens))
        ratios = []
        for n in range(args.rounds):
            found = {}
            for kind, server in servers.items():
                wrk.run(server.url, tokens_file, bench.body_file, 1.0, durations.connections)
                found[kind] = wrk.run(
                    server.url, tokens_file, bench.body_file, args.seconds, durations.connections
                )
            ratio = found["after"].rps / found["before"].rps
            ratios.append(ratio)
            print(
                f"round {n + 1}: "
                + ", ".join(
                    f"{k} {r.rps:.1f} req/s p50 {r.p50_ms} p99 {r.p99_ms} errors {r.errors}"
                    for k, r in found.items()
                )
                + f"; after/before {ratio:.3f}"
            )
        print(
            f"median after/before {statistics.median(ratios):.3f}"
            f" (range {min(ratios):.3f}-{max(ratios):.3f})"
        )
    finally:
        for server in servers.values():
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
