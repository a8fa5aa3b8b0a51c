"""The GraphQL schema: strawberry types and roots over the resolvers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from graphql import ASTValidationRule
from strawberry.extensions.max_aliases import create_validator as alias_limit_rule
from strawberry.schema.config import StrawberryConfig

from core import metrics
from core.errors import ApiError, ServiceUnavailable, UserError
from schema.execution.limits import NoEmptySelections, depth_limit_rule
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
# Built once: the validation cache is keyed by the rule classes, so a rule class
# made per request (as the limiter extensions do) would make every request miss.
LIMIT_RULES: list[type[ASTValidationRule]] = [
    NoEmptySelections,
    depth_limit_rule(MAX_DEPTH),
    alias_limit_rule(MAX_ALIASES),
]
SDL_PATH = Path(__file__).resolve().parent.parent / "schema.graphql"


def build_schema(
    unavailable_errors: tuple[type[BaseException], ...] = (sqlite3.OperationalError,),
    *,
    plans: bool = True,
) -> ChirpSchema:
    """The API schema, with limits and the parse/validation caches.

    ``unavailable_errors``: exceptions meaning a backend is unreachable; they
    reach the client as SERVICE_UNAVAILABLE. ``plans``: run queries from
    compiled execution plans (schema/execution/plan.py), and queries validated
    before through the short path (schema/execution/pipeline.py); off, every
    operation runs on graphql-core's reference executor through strawberry's
    full path.
    """
    config = StrawberryConfig(auto_camel_case=True)
    latency = metrics.observe_operation
    return ChirpSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[User, Tweet, Media],
        extensions=[lambda: RequestPipeline(LIMIT_RULES, MAX_TOKENS, latency)],
        config=config,
        expected_errors=(ApiError, UserError),
        unavailable_errors=unavailable_errors,
        unavailable=ServiceUnavailable(),
        on_latency=latency,
        execution_context_class=executor_class(config.info_class) if plans else None,
        short_path=plans,
    )


def export_sdl() -> str:
    """The schema's SDL as kept in schema.graphql at the repository root."""
    return str(build_schema()).rstrip() + "\n"
