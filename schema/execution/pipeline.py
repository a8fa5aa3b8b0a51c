"""The request pipeline: one schema extension, and a short path for known queries.

The extension sets the token limit, adds Chirp's validation rules, serves
parsing and validation from caches keyed by the document, and reports each
operation's latency (for /metrics) to a callback. strawberry's ParserCache,
ValidationCache, AddValidationRules and MaxTokensLimiter do the same as four
extensions; each extension costs hook calls in every phase of every request,
so one does it all.

``ValidatedQueries`` remembers the query documents that passed validation, so a
query sent again runs on graphql-core's ``execute`` directly (``ChirpSchema.execute``),
without strawberry's per-request machinery around it: creating the extension and
its runner, entering its hooks, looking parse and validation up again. Any answer
with errors is thrown away and the operation runs again the full way, so error
handling (classification, masking, logging) stays in one place.

``RequestContext`` is strawberry's per-request execution context, except that it
never guesses which operation of a document to run (GraphQL's ``GetOperation()``).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from functools import lru_cache
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    get_operation_ast,
    parse,
    validate,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType as StrawberryOperationType

from schema.execution.guard import ADMITTED, Admission, Guard

CACHE_SIZE = 1024  # distinct documents kept parsed and validated
# Told each operation's name (None if anonymous) and how long it took, in seconds.
LatencyCallback = Callable[[str | None, float], None]

_parse = lru_cache(maxsize=CACHE_SIZE)(parse)


def _check(
    schema: GraphQLSchema, document: DocumentNode, rules: tuple[Any, ...], suggestions: bool
) -> list[GraphQLError]:
    """strawberry's validation (its two rules added), with or without "Did you mean"."""
    return validate(
        schema,
        document,
        (*rules, MaybeNullValidationRule, OneOfInputValidationRule),
        hide_suggestions=not suggestions,
    )


@lru_cache(maxsize=CACHE_SIZE)
def _validate(
    schema: GraphQLSchema, query: str, max_tokens: int, rules: tuple[Any, ...], suggestions: bool
) -> list[GraphQLError]:
    """Validation errors of the document ``_parse`` gives for ``query``.

    Keyed by the query text, not the parsed document: a document's hash walks its
    whole tree on every lookup (graphql-core does not cache it), a string's is kept.
    """
    return _check(schema, _parse(query, max_tokens=max_tokens), rules, suggestions)


class OperationNameRequired(CannotGetOperationTypeError):
    """A document of several operations, and no operation name to choose one.

    A ``CannotGetOperationTypeError``: the request is refused before anything runs,
    as for an operation name that names no operation in the document.
    """

    MESSAGE = "Must provide operation name if query contains multiple operations."

    def __init__(self) -> None:
        super().__init__(None)

    def as_http_error_reason(self) -> str:
        return self.MESSAGE


class RequestContext(ExecutionContext):
    """strawberry's execution context, except that it never picks an operation itself.

    strawberry takes the first operation of the document when the request names
    none, so ``query A { ... } query B { ... }`` sent without an operation name ran
    A. GraphQL's ``GetOperation()`` makes that a request error: it is refused
    (``OperationNameRequired``) when strawberry asks for the operation's type, before
    validation and execution. ``requested_operation`` is the name the request sent.
    """

    requested_operation: str | None

    def __post_init__(self, provided_operation_name: str | None) -> None:
        super().__post_init__(provided_operation_name)
        self.requested_operation = provided_operation_name

    @property
    def operation_type(self) -> StrawberryOperationType:
        document = self.graphql_document
        if self.requested_operation is None and document is not None:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                raise OperationNameRequired
        return super().operation_type


class ValidatedQueries:
    """Query documents that passed validation, by (query text, operation name)."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        # (query, operation name sent) -> (document, the operation's own name)
        self._documents: dict[tuple[str, str | None], tuple[DocumentNode, str | None]] = {}

    def note(self, query: str, operation_name: str | None, document: DocumentNode) -> None:
        """A document validated without errors: kept if the operation is a query."""
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return
        if len(self._documents) >= self.size:
            self._documents.clear()
        name = operation.name.value if operation.name else None
        self._documents[(query, operation_name)] = (document, name)

    def get(self, query: str, operation_name: str | None) -> tuple[DocumentNode, str | None] | None:
        """The document and its operation's name (the latency metric's label)."""
        return self._documents.get((query, operation_name))


class RequestPipeline(SchemaExtension):
    """Token limit, cached parse, cached validation with extra rules, cost, latency metric."""

    def __init__(
        self,
        rules: Sequence[type[ASTValidationRule]],
        max_tokens: int,
        on_latency: LatencyCallback | None = None,
        guard: Guard | None = None,
        suggestions: bool = True,
    ) -> None:
        super().__init__()
        self.rules = tuple(rules)  # the same classes every time: the validation cache key
        self.max_tokens = max_tokens
        self.on_latency = on_latency
        self.guard = guard
        self.suggestions = suggestions
        self.admission: Admission | None = None

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.max_tokens
        context.validation_rules = context.validation_rules + self.rules
        started = time.perf_counter()
        yield
        if self.on_latency is not None:
            self.on_latency(self.execution_context.operation_name, time.perf_counter() - started)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.graphql_document = _parse(context.query, **context.parse_options)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        if context.graphql_document is _parse(context.query, max_tokens=self.max_tokens):
            context.pre_execution_errors = _validate(
                context.schema._schema,
                context.query,
                self.max_tokens,
                tuple(context.validation_rules),
                self.suggestions,
            )
            validated = getattr(context.schema, "validated", None)
            if (
                isinstance(validated, ValidatedQueries)
                and not context.pre_execution_errors
                and context.query is not None
            ):
                # Kept under the name the request sent, which is what ``get`` is asked
                # with (strawberry's ``operation_name`` is the first operation's name
                # when the request sent none).
                requested = (
                    context.requested_operation
                    if isinstance(context, RequestContext)
                    else context.operation_name
                )
                validated.note(context.query, requested, context.graphql_document)
        else:  # not the document on_parse made: validate it as it is
            context.pre_execution_errors = _check(
                context.schema._schema,
                context.graphql_document,
                tuple(context.validation_rules),
                self.suggestions,
            )
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        """Admission before the operation runs; a refusal is its whole result."""
        context = self.execution_context
        if (admitted := ADMITTED.get()) is not None:
            self.admission = admitted
        elif self.guard is not None and context.graphql_document is not None:
            verdict = await self.guard.admit(
                context.schema._schema,
                context.query,
                context.graphql_document,
                context.operation_name,
                context.variables,
                context.context,
            )
            if isinstance(verdict, GraphQLError):
                context.result = GraphQLExecutionResult(data=None, errors=[verdict])
            else:
                self.admission = verdict
        yield

    def get_results(self) -> dict[str, Any]:
        if self.admission is None:
            return {}
        result = self.execution_context.result
        data = result.data if result is not None else None
        return {"cost": Guard.report(self.admission, data)}
