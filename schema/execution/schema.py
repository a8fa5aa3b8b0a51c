"""The schema class: every top-level GraphQL error leaves with ``extensions.code``.

Expected errors (the classes given as ``expected_errors``, each with a ``code``)
keep their message; a backend that is down (``unavailable_errors``) is answered
as ``unavailable``; anything else is logged here with its stack trace and reaches
the client only as "Internal server error". Known queries take a short path
(``pipeline.ValidatedQueries``). ``execute`` runs queries and mutations: a
subscription is refused there (``InvalidOperationTypeError``), as is a document of
several operations with none named (``pipeline.OperationNameRequired``). The
application's error classes and its latency metric come in as arguments: this
package knows nothing of the application.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, cast

from graphql import GraphQLError, execute
from strawberry import Schema
from strawberry.execution import optimized_is_awaitable
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from schema.execution.context import reset_request_caches
from schema.execution.guard import ADMITTED, Admission, Guard
from schema.execution.pipeline import LatencyCallback, RequestContext, ValidatedQueries

log = logging.getLogger("chirp.graphql")

INTERNAL_MESSAGE = "Internal server error."
# What ``execute`` runs: a subscription's events come only through ``subscribe``.
EXECUTABLE = frozenset({OperationType.QUERY, OperationType.MUTATION})


class CodedError(Protocol):
    """An error the client may see as it is: a machine-readable code and a message."""

    code: str
    message: str


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


# (context, query text, extensions) -> the document to run, e.g. from a persisted
# query's hash; raises one of ``expected_errors`` to refuse the request.
DocumentSource = Callable[[Any, str | None, dict[str, Any] | None], Awaitable[str | None]]


class ChirpSchema(Schema):
    """strawberry.Schema that classifies, masks and logs errors in one place."""

    def __init__(
        self,
        *args: Any,
        expected_errors: tuple[type[Exception], ...] = (),
        unavailable_errors: tuple[type[BaseException], ...] = (),
        unavailable: CodedError | None = None,
        on_latency: LatencyCallback | None = None,
        short_path: bool = False,
        guard: Guard | None = None,
        documents: DocumentSource | None = None,
        **kwargs: Any,
    ) -> None:
        """``expected_errors``: exception classes with ``code`` and ``message`` (CodedError);
        ``unavailable_errors``: what a backend raises when it is down, answered with the code
        and message of ``unavailable``; ``on_latency``: told each short-path answer's time;
        ``guard``: admission on the short path (the request pipeline does it on the other);
        ``documents``: where a request's document comes from (persisted queries)."""
        super().__init__(*args, **kwargs)
        self.expected_errors = expected_errors
        self.unavailable_errors = unavailable_errors
        self.unavailable = unavailable
        self.on_latency = on_latency
        self.validated = ValidatedQueries()
        self.short_path = short_path
        self.guard = guard
        self.documents = documents

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """strawberry's execute; a query validated before takes the short path."""
        if self.documents is not None:
            try:
                query = await self.documents(context_value, query, operation_extensions)
            except self.expected_errors as exc:
                code = cast("CodedError", exc).code
                error = GraphQLError(cast("CodedError", exc).message, extensions={"code": code})
                return ExecutionResult(data=None, errors=[error])
        known = self.validated.get(query, operation_name) if query is not None else None
        if (
            known is not None
            and self.short_path
            and (allowed_operation_types is None or OperationType.QUERY in allowed_operation_types)
        ):
            started = time.perf_counter()
            document, name = known
            admission: Admission | None = None
            if self.guard is not None:
                verdict = await self.guard.admit(
                    self._schema, query, document, operation_name, variable_values, context_value
                )
                if isinstance(verdict, GraphQLError):
                    return ExecutionResult(data=None, errors=[verdict])
                admission = verdict
            outcome = execute(
                self._schema,
                document,
                root_value=root_value,
                context_value=context_value,
                variable_values=variable_values,
                operation_name=operation_name,
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                executor_class=self.execution_context_class,
                operation_extensions=operation_extensions,
            )
            result = await outcome if isinstance(outcome, Awaitable) else outcome
            if not result.errors:
                if self.on_latency is not None:
                    self.on_latency(name, time.perf_counter() - started)
                extensions = (
                    {"cost": Guard.report(admission, result.data)}
                    if admission is not None
                    else None
                )
                return ExecutionResult(data=result.data, errors=None, extensions=extensions)
            # Errors: answered the full way, which classifies, masks and logs them; a
            # query changes nothing, so running it again is safe.
            reset_request_caches(context_value)
            token = ADMITTED.set(admission)
            try:
                return await self._execute_full(
                    query,
                    variable_values,
                    context_value,
                    root_value,
                    operation_name,
                    allowed_operation_types,
                    operation_extensions,
                )
            finally:
                ADMITTED.reset(token)
        return await self._execute_full(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed_operation_types,
            operation_extensions,
        )

    async def _execute_full(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None,
        context_value: Any | None,
        root_value: Any | None,
        operation_name: str | None,
        allowed_operation_types: Iterable[OperationType] | None,
        operation_extensions: dict[str, Any] | None,
    ) -> ExecutionResult:
        """strawberry's execute, for queries and mutations only."""
        allowed = (
            EXECUTABLE
            if allowed_operation_types is None
            else EXECUTABLE.intersection(allowed_operation_types)
        )
        result = await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )
        if result.errors and not (result.extensions or {}).get("cost") and self.guard:
            # Refused before admission (parse, validation, a refused document): one point,
            # so that a stream of bad documents is not free.
            cost = await self.guard.charge_refusal(context_value)
            if cost is not None:
                result.extensions = {**(result.extensions or {}), "cost": cost}
        return result

    def _create_execution_context(
        self,
        query: str | None,
        allowed_operation_types: Iterable[OperationType],
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionContext:
        """strawberry's, as a ``RequestContext``: the operation is never guessed."""
        return RequestContext(
            query=query,
            schema=self,
            allowed_operations=allowed_operation_types,
            context=context_value,
            root_value=root_value,
            variables=variable_values,
            provided_operation_name=operation_name,
            operation_extensions=operation_extensions,
        )

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
        if isinstance(original, self.expected_errors):
            code = cast("CodedError", original).code
        elif original is None or isinstance(original, GraphQLError):
            code = _code_without_exception(error)
            if code == "INTERNAL_SERVER_ERROR":
                log.error("graphql error in %s at %s: %s", operation, error.path, error.message)
                error.message = INTERNAL_MESSAGE
        elif isinstance(original, self.unavailable_errors) and self.unavailable is not None:
            code = self.unavailable.code
            log.warning(
                "backend unavailable in %s at %s: %s: %s",
                operation,
                error.path,
                type(original).__name__,
                original,
            )
            error.message = self.unavailable.message
        else:
            code = "INTERNAL_SERVER_ERROR"
            log.error("unexpected error in %s at %s", operation, error.path, exc_info=original)
            error.message = INTERNAL_MESSAGE
        extensions["code"] = code
        error.extensions = extensions
