"""Prometheus metrics of this process, served at GET /metrics."""

from __future__ import annotations

import re

from prometheus_client import Counter, Histogram

FANOUT_JOBS = Counter("chirp_fanout_jobs", "Fan-out jobs applied", ["kind"])
FANOUT_DELIVERIES = Counter(
    "chirp_fanout_deliveries", "Tweet ids inserted into home timelines by fan-out"
)
FANOUT_LAG = Histogram(
    "chirp_fanout_lag_seconds",
    "From a tweet's creation to its last timeline delivery",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
FANOUT_REPAIRED = Counter(
    "chirp_fanout_repaired", "Tweets found by the repair pass with their fan-out not done"
)
TIMELINE_READS = Counter(
    "chirp_timeline_reads", "Home timeline pages served, by where they came from", ["source"]
)
CELEBRITY_MERGES = Counter(
    "chirp_celebrity_merges", "Home timeline reads that merged celebrity tweets in"
)
REALTIME_DROPPED = Counter(
    "chirp_realtime_dropped", "Realtime events dropped because a subscriber was too slow"
)
GRAPHQL_LATENCY = Histogram(
    "chirp_graphql_request_seconds",
    "GraphQL operation latency",
    ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_MAX_OPERATION_NAMES = 200
_seen_operations: set[str] = set()


def operation_label(name: str | None) -> str:
    """A bounded label: client-chosen names beyond the first few hundred share one."""
    if not name or not _NAME.fullmatch(name):
        return "anonymous"
    if name not in _seen_operations:
        if len(_seen_operations) >= _MAX_OPERATION_NAMES:
            return "other"
        _seen_operations.add(name)
    return name


def observe_operation(name: str | None, seconds: float) -> None:
    """Record one GraphQL operation's latency under its (bounded) name."""
    GRAPHQL_LATENCY.labels(operation_label(name)).observe(seconds)
