"""The GraphQL schema: strawberry types and roots over the resolvers."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from graphql import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.schema.config import StrawberryConfig

from core import metrics
from core.errors import ApiError, ServiceUnavailable, UserError
from resolvers.context import document, meter
from resolvers.pagination import MAX_PAGE_SIZE
from schema.execution.cost import CostModel
from schema.execution.guard import Guard
from schema.execution.limits import NoEmptySelections, document_limits_rule
from schema.execution.pipeline import RequestPipeline
from schema.execution.plan import executor_class
from schema.execution.schema import ChirpSchema
from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription
from schema.types import Media, Tweet, User

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5000
MAX_QUERY_COST = 5000
MAX_NODES = 500_000  # GitHub's node limit
# Resolvers heavier than their shape: points added to the field's cost.
FIELD_COSTS = {
    "Query.search": 10,
    "Query.searchUsers": 5,
    "Query.whoToFollow": 10,
    "Query.trends": 5,
}
# Lists without a page argument: their longest length.
LIST_SIZES = {"Tweet.media": 4, "*.errors": 3, "Query.trends": 50, "Query.whoToFollow": 50}
DEFAULT_LIST_SIZE = 10


@dataclass(frozen=True)
class QueryLimits:
    """What one document may ask for. README "Query cost" documents each."""

    max_cost: int = MAX_QUERY_COST
    max_nodes: int = MAX_NODES
    max_depth: int = MAX_DEPTH
    max_aliases: int = MAX_ALIASES
    max_tokens: int = MAX_TOKENS
    introspection: bool = True  # off: __schema/__type refused, no "Did you mean" suggestions

    def rules(self) -> list[type[ASTValidationRule]]:
        # Made once per schema: the validation cache is keyed by the rule classes, so
        # a rule class made per request (as strawberry's limiter extensions do) would
        # make every request miss.
        rules: list[type[ASTValidationRule]] = [
            NoEmptySelections,
            document_limits_rule(self.max_depth, self.max_aliases),
        ]
        if not self.introspection:
            rules.append(NoSchemaIntrospectionCustomRule)
        return rules


SDL_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def build_schema(
    unavailable_errors: tuple[type[BaseException], ...] = (sqlite3.OperationalError,),
    *,
    plans: bool = True,
    limits: QueryLimits | None = None,
) -> ChirpSchema:
    """The API schema, with limits and the parse/validation caches.

    ``unavailable_errors``: exceptions meaning a backend is unreachable; they
    reach the client as SERVICE_UNAVAILABLE. ``plans``: run queries from
    compiled execution plans (schema/execution/plan.py), and queries validated
    before through the short path (schema/execution/pipeline.py); off, every
    operation runs on graphql-core's reference executor through strawberry's
    full path. ``limits``: depth, aliases, tokens, cost and introspection.
    """
    limits = limits or QueryLimits()
    config = StrawberryConfig(auto_camel_case=True)
    latency = metrics.observe_operation
    expected = (ApiError, UserError)
    guard = Guard(
        CostModel(
            page_cap=MAX_PAGE_SIZE,
            field_costs=FIELD_COSTS,
            list_sizes=LIST_SIZES,
            default_list_size=DEFAULT_LIST_SIZE,
        ),
        max_cost=limits.max_cost,
        max_nodes=limits.max_nodes,
        meter=meter,
        expected_errors=expected,
    )
    rules = limits.rules()
    suggestions = limits.introspection
    return ChirpSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[User, Tweet, Media],
        extensions=[lambda: RequestPipeline(rules, limits.max_tokens, latency, guard, suggestions)],
        config=config,
        expected_errors=expected,
        unavailable_errors=unavailable_errors,
        unavailable=ServiceUnavailable(),
        on_latency=latency,
        execution_context_class=executor_class(config.info_class) if plans else None,
        short_path=plans,
        guard=guard,
        documents=document,
    )


def export_sdl() -> str:
    """The schema's SDL as kept in schema.graphql at the repository root."""
    return str(build_schema()).rstrip() + "\n"
