"""Discovery on a large graph: search_users and suggestions latency, per adapter.

    .venv/bin/python -m bench.discovery --users 100000            # SQLite
    .venv/bin/python -m bench.discovery --users 100000 --neo4j    # and ArcadeDB (Bolt)

The graph is generated from ``--seed``: display names from common first and
last names (some accented), handles made from them; popularity is Zipf (weight
1/rank); each user follows between 5 and 2,000 accounts (a truncated power law,
exponent 2, mean about 30), each drawn by popularity. The viewer follows exactly
2,000 accounts drawn the same way, blocks 20 and mutes 20. The data is written
the way a version before discovery stored it (users and follows only), then the
adapter opens it, so its migration back-fills the follower counts and the name
index (timed).

Latency is measured through the adapter (thread hop or Bolt round trip
included), one call at a time: p50 and p99 over ``--reps`` calls per query.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from itertools import accumulate
from pathlib import Path
from typing import Any

from graph.port import SocialGraph, fold
from graph.sqlite import SCHEMA, SqliteSocialGraph


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST = _names(
    "Alice Alina Alan Albert Alex Alexandra Ali Amelia Ana Anaïs André Andrea Anna"
    " Ben Benjamin Camille Carla Carlos Charlotte Chloé Chris Claire Daniel David"
    " Diego Elena Eli Élise Éloïse Emma Eric Ethan Eva Felix François Gabriel Grace"
    " Hannah Hugo Ines Isabel Jack Jacob James Jana Jean Joe John Jonas José Joseph"
    " Julia Julien Karl Kate Laura Leo Léa Liam Lucas Lucía Luis Maria Mario Mark"
    " Martin Mary Max Mélanie Mia Michael Mila Nathan Noah Noël Nora Oliver Olivia"
    " Omar Oscar Paul Pedro Peter Renée Robert Ryan Sam Samuel Sara Sofia Søren Sophie"
    " Thomas Tom Victor Zoë Zoe"
)
LAST = _names(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodríguez Martínez"
    " Hernández López González Wilson Anderson Thomas Taylor Moore Jackson Martin Lee"
    " Pérez Thompson White Harris Sánchez Clark Ramírez Lewis Robinson Walker Young"
    " Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall"
    " Rivera Campbell Mitchell Carter Roberts Müller Schmidt Schneider Fischer Weber"
    " Dubois Lefèvre Moreau Laurent Rossi Russo Ferrari Silva Santos Costa Kowalski"
    " Novák Jensen Hansen"
)
# first-name prefixes (handles begin with first names: the handle part fills page 1)
PREFIXES = ("al", "jo", "ma", "el", "sa", "da", "an", "li", "mar", "eli", "sof", "ben", "jul")
# last-name prefixes and two words: only display names match
NAME_QUERIES = ("smi", "gar", "rod", "sch", "lo", "we", "mül", "ma smi", "eloise")
T0 = 1_700_000_000_000
YEAR_MS = 365 * 24 * 3600 * 1000


@dataclass
class Plan:
    users: list[tuple[int, str, str]]  # id, handle, display name
    follows: list[tuple[int, int, int]]  # follower, followee, since
    viewer: int
    blocks: list[tuple[int, int, int]]
    mutes: list[tuple[int, int, int]]


def make_plan(users: int, seed: int) -> Plan:
    rng = random.Random(seed)
    taken: set[str] = set()
    people: list[tuple[int, str, str]] = []
    for uid in range(1, users + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        base = (fold(first) + rng.choice(("", "_", "")) + fold(last))[:15]
        handle, n = base, 1
        while handle in taken:
            n += 1
            handle = base[: 15 - len(str(n))] + str(n)
        taken.add(handle)
        name = f"{first} {last}" if rng.random() > 0.1 else f"{first} {rng.choice(LAST)} {last}"
        people.append((uid, handle, name))
    ranked = [uid for uid, _, _ in people]
    rng.shuffle(ranked)
    cumulative = list(accumulate(1 / rank for rank in range(1, users + 1)))

    def draw(count: int, me: int) -> set[int]:
        chosen: set[int] = set()
        for _ in range(count * 2):
            if len(chosen) >= count:
                break
            pick = ranked[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
            if pick != me:
                chosen.add(pick)
        return chosen

    follows: list[tuple[int, int, int]] = []
    for uid, _, _ in people:
        degree = min(2000, int(5 / (1 - rng.random() * (1 - 5 / 2000))))
        follows += [(uid, other, T0 - rng.randrange(YEAR_MS)) for other in draw(degree, uid)]
    viewer = users + 1
    people.append((viewer, "the_viewer", "The Viewer"))
    mine: set[int] = set()
    while len(mine) < 2000:
        mine |= draw(2000 - len(mine), viewer)
    follows += [(viewer, other, T0 - rng.randrange(YEAR_MS)) for other in mine]
    others = [uid for uid in range(1, users + 1) if uid not in mine]
    hidden = rng.sample(others, 40)
    blocks = [(viewer, uid, T0) for uid in hidden[:20]]
    mutes = [(viewer, uid, T0) for uid in hidden[20:]]
    return Plan(people, follows, viewer, blocks, mutes)


def write_sqlite(plan: Plan, path: Path) -> None:
    """The tables as a version before discovery left them (no counts, no name index)."""
    with sqlite3.connect(path) as conn:
        conn.executescript(SCHEMA)
        conn.executemany(
            "INSERT INTO users (id, handle, handle_lower, display_name, bio, created_at,"
            " password_hash) VALUES (?, ?, ?, ?, '', ?, 'x')",
            [(uid, h, h.lower(), name, T0) for uid, h, name in plan.users],
        )
        conn.executemany("INSERT INTO follows VALUES (?, ?, ?)", sorted(plan.follows))
        conn.executemany("INSERT INTO blocks VALUES (?, ?, ?)", plan.blocks)
        conn.executemany("INSERT INTO mutes VALUES (?, ?, ?, NULL, 0)", plan.mutes)


async def write_neo4j(plan: Plan, uri: str, user: str, password: str) -> None:
    """Nodes and relationships as a version before discovery wrote them."""
    from neo4j import AsyncGraphDatabase

    async with AsyncGraphDatabase.driver(uri, auth=(user, password)) as driver:
        await driver.execute_query("MATCH (n) DETACH DELETE n")
        await driver.execute_query(
            "CREATE CONSTRAINT user_id IF NOT EXISTS FOR (u:User) REQUIRE u.id IS UNIQUE"
        )
        for start in range(0, len(plan.users), 5000):
            rows = [
                {"id": uid, "handle": h, "name": name}
                for uid, h, name in plan.users[start : start + 5000]
            ]
            await driver.execute_query(
                "UNWIND $rows AS r CREATE (:User {id: r.id, handle: r.handle,"
                " handle_lower: toLower(r.handle), display_name: r.name, bio: '',"
                " created_at: 0, password_hash: 'x'})",
                rows=rows,
            )
        edges = sorted(plan.follows)
        for start in range(0, len(edges), 5000):
            rows = [{"a": a, "b": b, "s": s} for a, b, s in edges[start : start + 5000]]
            await driver.execute_query(
                "UNWIND $rows AS r MATCH (a:User {id: r.a}) WITH a, r"
                " MATCH (b:User {id: r.b}) CREATE (a)-[:FOLLOWS {since: r.s}]->(b)",
                rows=rows,
            )
        for kind, pairs in (("BLOCKS", plan.blocks), ("MUTES", plan.mutes)):
            rows = [{"a": a, "b": b, "s": s} for a, b, s in pairs]
            await driver.execute_query(
                "UNWIND $rows AS r MATCH (a:User {id: r.a}) WITH a, r"
                f" MATCH (b:User {{id: r.b}}) CREATE (a)-[:{kind} {{since: r.s}}]->(b)",
                rows=rows,
            )


async def timed(call: Callable[[], Awaitable[Any]], reps: int) -> tuple[float, float, Any]:
    await call()  # warm
    samples = []
    result = None
    for _ in range(reps):
        started = time.perf_counter()
        result = await call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
    return statistics.median(samples), p99, result


async def measure(name: str, graph: SocialGraph, plan: Plan, reps: int) -> None:
    now = T0 + 1
    print(f"\n== {name}")
    for prefix in PREFIXES:
        p50, p99, found = await timed(partial(graph.search_users, prefix, 20), reps)
        deep = await graph.search_users(prefix, 20, 200)
        print(
            f"search_users({prefix!r}, 20): p50 {p50:.2f} ms  p99 {p99:.2f} ms"
            f"  ({len(found)} found; page at offset 200: {len(deep)})"
        )
    for query in NAME_QUERIES:
        p50, p99, found = await timed(partial(graph.search_users, query, 20), reps)
        print(
            f"search_users({query!r}, 20): p50 {p50:.2f} ms  p99 {p99:.2f} ms  ({len(found)} found)"
        )
    # past the last handle match: a page of name matches deep in the list
    p50, p99, found = await timed(partial(graph.search_users, "ma", 20, 10_000), reps)
    print(f"search_users('ma', 20, offset 10,000): p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    p50, p99, _ = await timed(partial(graph.search_users, "zz", 20), reps)
    print(f"search_users('zz', 20) (no match): p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    for sample, per in ((200, 100), (100, 50), (500, 100), (2000, 2000)):
        label = f"suggestions(viewer of 2,000, 10, sample={sample}, per_followee={per})"
        try:
            p50, p99, found = await timed(
                partial(graph.suggestions, plan.viewer, 10, now, sample, per), max(5, reps // 10)
            )
        except Exception as exc:  # the stand-in refuses the uncapped hop (heap budget)
            print(f"{label}: failed: {type(exc).__name__}: {str(exc)[:160]}")
            continue
        print(f"{label}: p50 {p50:.1f} ms  p99 {p99:.1f} ms  top: {found[:3]}")
    newcomer = plan.users[0][0]
    p50, p99, found = await timed(lambda: graph.popular(newcomer, 10, now), reps)
    print(f"popular(10): p50 {p50:.2f} ms  p99 {p99:.2f} ms  first: {found[:3]}")
    p50, p99, found = await timed(lambda: graph.popular(plan.viewer, 10, now), reps)
    print(f"popular(10) for the viewer of 2,000: p50 {p50:.2f} ms  p99 {p99:.2f} ms")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--neo4j", action="store_true", help="also start ArcadeDB and measure")
    args = parser.parse_args()
    started = time.perf_counter()
    plan = make_plan(args.users, args.seed)
    print(
        f"plan: {len(plan.users):,} users, {len(plan.follows):,} follows"
        f" ({time.perf_counter() - started:.1f} s)"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "graph.sqlite3"
        started = time.perf_counter()
        write_sqlite(plan, path)
        print(f"sqlite: written in {time.perf_counter() - started:.1f} s")
        graph = SqliteSocialGraph(path)
        started = time.perf_counter()
        await graph.open()
        print(
            f"sqlite: opened (migration: counts, name index) in"
            f" {time.perf_counter() - started:.1f} s"
        )
        try:
            await measure("SQLite", graph, plan, args.reps)
        finally:
            await graph.close()
    if args.neo4j:
        await measure_neo4j(plan, args.reps)


async def measure_neo4j(plan: Plan, reps: int) -> None:
    from graph.neo4j import Neo4jSocialGraph
    from graph.neo4j import connect as neo4j_connect
    from tests.servers import start_neo4j_standin

    server = start_neo4j_standin(max_heap="2g")
    try:
        user, password = server.extra["user"], server.extra["password"]
        started = time.perf_counter()
        await write_neo4j(plan, server.url, user, password)
        print(f"\nneo4j stand-in: written in {time.perf_counter() - started:.1f} s")
        graph = Neo4jSocialGraph(neo4j_connect(server.url, user, password))
        started = time.perf_counter()
        await graph.open()
        print(f"neo4j stand-in: opened (migration) in {time.perf_counter() - started:.1f} s")
        try:
            await measure("ArcadeDB over Bolt", graph, plan, reps)
        finally:
            await graph.close()
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(main())
