"""Every top-level GraphQL error leaves with ``extensions.code``.

Expected errors keep their message; anything unexpected is logged here with
its stack trace and reaches the client only as "Internal server error".
"""

from __future__ import annotations

import logging
from typing import Any

from graphql import GraphQLError
from strawberry import Schema
from strawberry.types import ExecutionContext

from core.errors import ApiError, ServiceUnavailable, UserError

log = logging.getLogger("chirp.graphql")

INTERNAL_MESSAGE = "Internal server error."


def _code_without_exception(error: GraphQLError) -> str:
    """Codes for errors graphql-core raised itself (parse, validation, coercion)."""
    message = error.message
    if message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if "aliases found" in message:
        return "TOO_MANY_ALIASES"
    if "token limit" in message.lower() or ("tokens" in message and "exceed" in message):
        return "QUERY_TOO_LARGE"
    if message.startswith("Variable '$"):
        return "BAD_USER_INPUT"
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED"
    return "INTERNAL_SERVER_ERROR"  # e.g. a non-null field resolved to null


class ChirpSchema(Schema):
    """strawberry.Schema that classifies, masks and logs errors in one place."""

    def __init__(
        self,
        *args: Any,
        unavailable_errors: tuple[type[BaseException], ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.unavailable_errors = unavailable_errors

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            self.classify(error, execution_context)

    def classify(self, error: GraphQLError, execution_context: ExecutionContext | None) -> None:
        extensions = dict(error.extensions or {})
        if "code" in extensions:
            return
        original = error.original_error
        while isinstance(original, GraphQLError) and original.original_error is not None:
            original = original.original_error
        operation = execution_context.operation_name if execution_context else None
        if isinstance(original, (ApiError, UserError)):
            code = original.code
        elif original is None or isinstance(original, GraphQLError):
            code = _code_without_exception(error)
            if code == "INTERNAL_SERVER_ERROR":
                log.error("graphql error in %s at %s: %s", operation, error.path, error.message)
                error.message = INTERNAL_MESSAGE
        elif isinstance(original, self.unavailable_errors):
            code = ServiceUnavailable.code
            log.warning(
                "backend unavailable in %s at %s: %s: %s",
                operation,
                error.path,
                type(original).__name__,
                original,
            )
            error.message = ServiceUnavailable().message
        else:
            code = "INTERNAL_SERVER_ERROR"
            log.error("unexpected error in %s at %s", operation, error.path, exc_info=original)
            error.message = INTERNAL_MESSAGE
        extensions["code"] = code
        error.extensions = extensions
