"""Admission: an operation's cost, checked and charged before it runs.

After a document validates and before it executes, ``Guard.admit`` evaluates
its cost plan (``cost.py``) with the request's variables, refuses what is over
the per-request maximum cost or node count (QUERY_TOO_COSTLY, naming both
numbers), then charges the cost to the caller's budget through ``meter``, the
application's callback, which raises one of ``expected_errors`` (a coded error,
e.g. RATE_LIMITED with ``retry_after``) to refuse. Nothing of the operation has
run when it is refused. ``Guard.report`` is the answer's ``extensions.cost``.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from graphql import DocumentNode, GraphQLError, GraphQLSchema, get_operation_ast

from schema.execution.cost import CostModel, actual_cost


class Charge(Protocol):
    """What the budget a request was charged to says after the charge."""

    @property
    def limit(self) -> int: ...
    @property
    def remaining(self) -> int: ...


# (context value, points) -> the budget after the charge (None: not metered)
Meter = Callable[[Any, int], Awaitable[Charge | None]]


@dataclass(frozen=True)
class Admission:
    requested: int
    charge: Charge | None
    skip: frozenset[str] = frozenset()  # introspection's response keys


REFUSAL_COST = 1  # points a request refused before admission costs
MINIMUM_CHARGE = 1  # every operation spends at least this, however cheap its document

# An admission already made for the operation this task runs again (the short path's
# answer had errors and the operation runs the full way): it is not charged twice.
ADMITTED: ContextVar[Admission | None] = ContextVar("chirp_admitted", default=None)


class Guard:
    def __init__(
        self,
        costs: CostModel,
        *,
        max_cost: int,
        max_nodes: int,
        meter: Meter | None = None,
        expected_errors: tuple[type[Exception], ...] = (),
    ) -> None:
        self.costs = costs
        self.max_cost = max_cost
        self.max_nodes = max_nodes
        self.meter = meter
        self.expected_errors = expected_errors

    async def admit(
        self,
        schema: GraphQLSchema,
        query: str | None,
        document: DocumentNode,
        operation_name: str | None,
        variables: Mapping[str, Any] | None,
        context: Any,
    ) -> Admission | GraphQLError | None:
        """The admission, a refusal, or None when the operation is not costed (subscriptions)."""
        operation = get_operation_ast(document, operation_name)
        if operation is None or query is None:
            return None  # no such operation: execution answers the error
        plan = self.costs.plan(schema, query, document, operation, operation_name)
        if plan is None:
            return None
        cost = plan.evaluate(variables)
        if cost.cost > self.max_cost or cost.nodes > self.max_nodes:
            over = (
                f"costs {cost.cost} points; the maximum is {self.max_cost}"
                if cost.cost > self.max_cost
                else f"may return {cost.nodes} nodes; the maximum is {self.max_nodes}"
            )
            return GraphQLError(
                f"This query {over}. Ask for smaller pages (first) or fewer fields.",
                extensions={
                    "code": "QUERY_TOO_COSTLY",
                    "cost": cost.cost,
                    "maximumCost": self.max_cost,
                    "nodes": cost.nodes,
                    "maximumNodes": self.max_nodes,
                },
            )
        charge = None
        if self.meter is not None:
            try:
                charge = await self.meter(context, max(MINIMUM_CHARGE, cost.cost))
            except self.expected_errors as exc:
                extensions: dict[str, Any] = {"code": getattr(exc, "code", "BAD_REQUEST")}
                retry = getattr(exc, "retry_after", None)
                if isinstance(retry, int | float):
                    extensions["retryAfter"] = max(1, math.ceil(retry))
                return GraphQLError(getattr(exc, "message", str(exc)), extensions=extensions)
        return Admission(cost.cost, charge, plan.introspection)

    async def charge_refusal(self, context: Any) -> dict[str, Any] | None:
        """One point for a request refused before admission (a refusal of that is moot: the
        budget is spent, so the next request is refused); its ``extensions.cost``."""
        if self.meter is None:
            return None
        try:
            charge = await self.meter(context, REFUSAL_COST)
        except self.expected_errors:
            return None
        return self.report(Admission(0, charge), None)

    @staticmethod
    def report(admission: Admission, data: object) -> dict[str, Any]:
        charge = admission.charge
        return {
            "requestedQueryCost": admission.requested,
            "actualQueryCost": actual_cost(data, admission.skip) if data is not None else 0,
            "limit": charge.limit if charge else None,
            "remaining": charge.remaining if charge else None,
        }
