"""Request latency per GraphQL operation, for GET /metrics."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from core import metrics


class OperationLatency(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        label = metrics.operation_label(self.execution_context.operation_name)
        metrics.GRAPHQL_LATENCY.labels(label).observe(time.perf_counter() - started)
