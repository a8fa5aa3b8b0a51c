"""Execution plans: each query document compiled once, then run without interpretation.

graphql-core interprets every request field by field: for each of the ~300 fields
of a home page it looks the field up, builds a resolve info, coerces arguments,
dispatches on the return type and checks the value for an awaitable. A plan does
that work once per (document, operation): a tree of steps that knows, for each
field, how to get its value (an attribute read for strawberry's plain fields, a
direct call of the resolver function for strawberry resolvers without arguments,
the field's full resolver otherwise) and how to complete it (a specialised check
per scalar, list and object type). Values that are awaitable (DataLoader futures,
coroutines) are collected level by level and awaited together, so DataLoader
batches stay as large as under the reference executor.

A plan only ever returns a result the reference executor would return. As soon as
it meets anything off the happy path (a resolver raising, a null in a non-null
position, a value of a type it does not expect) it abandons the attempt, and the
operation runs again on graphql-core's executor, which produces the exact errors,
null propagation and partial data. Hence queries only: re-running a query is safe
because it changes nothing. Mutations, subscriptions and documents the planner
does not cover (any directive such as @skip or @include, fields of interface or
union type, introspection other than ``__typename``, fragment arguments, field
middleware) always take the reference path. tests/unit/test_plan.py runs many
generated queries through both and compares them.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import OrderedDict
from collections.abc import Callable
from functools import cached_property
from math import isfinite
from operator import attrgetter
from types import GeneratorType
from typing import Any

from graphql import (
    ExecutionResult,
    FieldNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLResolveInfoHelpers,
    GraphQLString,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetails, collect_fields, collect_subfields
from graphql.execution.values import get_argument_values
from graphql.pyutils import AwaitableOrValue, Path, Undefined
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from schema.execution.context import reset_request_caches

log = logging.getLogger("chirp.plan")
Info = GraphQLResolveInfo[Any]

PLAN_CACHE_SIZE = 512
_BASIC_RESOLVER = "_get_basic_result"  # strawberry's resolver of plain attribute fields
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_EXACT: dict[Any, type] = {
    GraphQLString: str,
    GraphQLID: str,
    GraphQLBoolean: bool,
    GraphQLInt: int,
}


class Abandon(Exception):
    """The plan met something only the reference executor answers exactly."""


Complete = Callable[[Any, "Path | None", "Info | None", "_Run"], Any]


class _Step:
    """One response key of a selection set: how to get its value and complete it."""

    __slots__ = (
        "args",
        "complete",
        "completion_info",
        "direct",
        "exact",
        "field_def",
        "getter",
        "key",
        "leaf_exact",
        "needs_info",
        "needs_path",
        "nodes",
        "parent_name",
        "parent_type",
        "resolve",
        "strawberry_field",
        "typename",
        "variable_args",
    )

    def __init__(self, key: str, parent_type: GraphQLObjectType) -> None:
        self.key = key
        self.parent_type = parent_type
        self.parent_name = parent_type.name
        self.typename: str | None = None  # __typename: a constant
        self.getter: Callable[[Any], Any] | None = None  # a plain attribute read
        self.direct: _Direct | None = None  # a strawberry resolver called without its wrapper
        self.exact: type | None = None  # a plain leaf's Python type, returned as it is
        self.leaf_exact: type | None = None  # the same for a resolver's leaf value
        self.resolve: Callable[..., Any] | None = None
        self.args: dict[str, Any] = {}
        self.variable_args = False
        self.field_def: GraphQLField | None = None
        self.nodes: list[FieldNode] = []
        self.strawberry_field: StrawberryField | None = None
        self.needs_info = False  # a resolve info for the resolver or the completion
        self.completion_info = False  # the completion needs the resolve info
        self.needs_path = False
        self.complete: Complete = _identity


def _identity(value: Any, path: Path | None, info: Info | None, run: _Run) -> Any:
    return value


class _Run:
    """The state of one execution of a plan."""

    __slots__ = ("args", "awaitable", "executor", "pending")

    def __init__(self, executor: PlannedExecutor) -> None:
        self.executor = executor
        self.awaitable = executor.is_awaitable
        self.pending: list[tuple[Any, Any, Any, Complete, Path | None, Info | None]] = []
        self.args: dict[int, dict[str, Any]] = {}

    def is_awaitable(self, value: Any) -> bool:
        cls = value.__class__
        known = _AWAITABLE.get(cls)
        if known is None:
            if cls is GeneratorType:  # generator-based coroutines are marked per instance
                return bool(self.awaitable(value))
            known = _AWAITABLE[cls] = bool(self.awaitable(value))
        return known

    def arguments(self, step: _Step) -> dict[str, Any]:
        """Arguments that use variables: coerced once per execution."""
        found = self.args.get(id(step))
        if found is None:
            assert step.field_def is not None
            executor = self.executor
            found = self.args[id(step)] = get_argument_values(
                step.field_def,
                step.nodes[0],
                executor.variable_values,
                None,
                executor.hide_suggestions,
            )
        return found

    def close(self) -> None:
        """Abandoning: coroutines never awaited are closed, not left to warn."""
        for entry in self.pending:
            if inspect.iscoroutine(entry[0]):
                entry[0].close()
        self.pending.clear()


_AWAITABLE: dict[type, bool] = {}


class _Direct:
    """How to call a strawberry resolver without arguments directly (see ``direct_call``)."""

    __slots__ = ("function", "info_name", "self_param", "source_names")

    def __init__(
        self, function: Callable[..., Any], self_param: bool, sources: list[str], info: str | None
    ) -> None:
        self.function = function
        self.self_param = self_param
        self.source_names = sources
        self.info_name = info


Execute = Callable[[Any, "Path | None", "_Run"], dict[str, Any]]


def _compile(steps: list[_Step], lazy_info: type) -> Execute:
    """The response object of one selection set, as a function generated for it.

    Straight-line code, one block per step, with every decision the plan could
    make in advance made: which attribute to read or which resolver to call and
    how, whether the field needs a path or a resolve info, and the exact Python
    type a leaf may be returned as without completion. A value that is awaitable
    goes to ``run.pending`` (``_settle`` awaits it); any other goes through the
    step's completer, as graphql-core would complete it.
    """
    names: dict[str, Any] = {"Path": Path, "LazyInfo": lazy_info}
    lines = ["def execute(source, path, run):", "    out = {}", "    executor = run.executor"]
    for index, step in enumerate(steps):
        key = repr(step.key)
        if step.typename is not None:
            lines.append(f"    out[{key}] = {step.typename!r}")
            continue
        names[f"s{index}"], names[f"c{index}"] = step, step.complete
        field_path = f"Path(path, {key}, {step.parent_name!r})"
        block: list[str] = []
        exact = step.exact
        if step.getter is not None:
            attribute = _plain_attribute(step)
            if attribute is not None:
                block.append(f"value = source.{attribute}")
            else:
                names[f"g{index}"] = step.getter
                block.append(f"value = g{index}(source)")
            block.append(f"field_path = {field_path if step.needs_path else 'None'}")
            info = f"executor.resolve_info(s{index}, field_path)" if step.needs_info else "None"
        elif step.direct is not None:
            direct = step.direct
            names[f"f{index}"] = direct.function
            arguments = ["source"] if direct.self_param else []
            arguments += [f"{name}=source" for name in direct.source_names]
            if direct.info_name is not None:
                arguments.append(f"{direct.info_name}=LazyInfo(executor, s{index}, field_path)")
            block.append(f"field_path = {field_path}")
            block.append(f"value = f{index}({', '.join(arguments)})")
            info = (
                f"executor.resolve_info(s{index}, field_path)" if step.completion_info else "None"
            )
            exact = exact or step.leaf_exact
        else:
            assert step.resolve is not None
            names[f"r{index}"] = step.resolve
            args = f"run.arguments(s{index})" if step.variable_args else f"s{index}.args"
            block.append(f"field_path = {field_path}")
            block.append(f"info = executor.resolve_info(s{index}, field_path)")
            block.append(f"value = r{index}(source, info, **{args})")
            info = "info"
        tail = [
            f"info = {info}" if info != "info" else "",
            "if run.is_awaitable(value):",
            f"    out[{key}] = None",
            f"    run.pending.append((value, out, {key}, c{index}, field_path, info))",
            "else:",
            f"    out[{key}] = c{index}(value, field_path, info, run)",
        ]
        tail = [line for line in tail if line]
        if exact is not None:
            # a plain str, bool or 32-bit int needs no completion
            names[f"e{index}"] = exact
            check = f"value.__class__ is e{index}"
            if exact is int:
                check += f" and {_INT_MIN} <= value <= {_INT_MAX}"
            if step.getter is not None:
                lines += [f"    {block[0]}", f"    if {check}:", f"        out[{key}] = value"]
                lines += ["    else:"] + [f"        {line}" for line in block[1:] + tail]
                continue
            tail = [f"if {check}:", f"    out[{key}] = value", "else:"] + [
                f"    {line}" for line in tail
            ]
        lines += [f"    {line}" for line in block + tail]
    lines.append("    return out")
    where = f"<plan of {steps[0].parent_name if steps else '?'}>"
    exec(compile("\n".join(lines), where, "exec"), names)
    execute: Execute = names["execute"]
    return execute


def _plain_attribute(step: _Step) -> str | None:
    """The attribute a plain strawberry field reads, if it is read with getattr."""
    field = step.strawberry_field
    if field is None or field.default_resolver is not getattr:
        return None
    name = field.python_name
    return name if name.isidentifier() and not name.startswith("__") else None


async def _settle(data: dict[str, Any], run: _Run) -> dict[str, Any]:
    """Await what the synchronous pass left pending, level by level."""
    pending = run.pending
    while pending:
        batch = pending[:]
        pending.clear()
        # Coroutines start together as tasks (their DataLoader calls batch); then each
        # value is awaited in turn, which costs nothing once its batch has resolved
        # and avoids gather's bookkeeping for the many DataLoader futures of a page.
        waits = [
            asyncio.ensure_future(entry[0]) if inspect.iscoroutine(entry[0]) else entry[0]
            for entry in batch
        ]
        for index, wait in enumerate(waits):
            try:
                value = await wait
            except Exception as exc:
                # settle the siblings first, as the reference executor would
                await asyncio.gather(*waits[index + 1 :], return_exceptions=True)
                raise Abandon from exc
            _, container, key, complete, path, info = batch[index]
            if run.is_awaitable(value):
                pending.append((value, container, key, complete, path, info))
            else:
                container[key] = complete(value, path, info, run)
    return data


# ------------------------------------------------------------------ completion


def _leaf(return_type: Any, nullable: bool) -> Complete:
    coerce = return_type.coerce_output_value

    def complete_leaf(value: Any, path: Any, info: Any, run: _Run) -> Any:
        if value is None:
            if nullable:
                return None
            raise Abandon
        cls = value.__class__
        if cls is exact:
            if cls is int:
                if _INT_MIN <= value <= _INT_MAX:
                    return value
            elif cls is not float or isfinite(value):
                return value
        try:
            coerced = coerce(value)
        except Exception as exc:
            raise Abandon from exc
        if coerced is Undefined or coerced is None:
            raise Abandon
        return coerced

    exact = _EXACT.get(return_type, float if return_type is GraphQLFloat else None)
    return complete_leaf


def _list(item: Complete, item_paths: bool, nullable: bool) -> Complete:
    def complete_list(value: Any, path: Path | None, info: Any, run: _Run) -> Any:
        if value is None:
            if nullable:
                return None
            raise Abandon
        if value.__class__ is not list and value.__class__ is not tuple:
            raise Abandon  # other iterables: the reference executor's rules apply
        out: list[Any] = []
        append = out.append
        for index, entry in enumerate(value):
            entry_path = Path(path, index, None) if item_paths else None
            if run.is_awaitable(entry):
                append(None)
                run.pending.append((entry, out, index, item, entry_path, info))
            else:
                append(item(entry, entry_path, info, run))
        return out

    return complete_list


def _ignores_info(is_type_of: Any) -> bool:
    """strawberry's generated ``is_type_of(obj, _info)`` never reads its info."""
    return getattr(is_type_of, "__module__", "") == "strawberry.schema.schema_converter" and (
        getattr(is_type_of, "__qualname__", "").endswith("._get_is_type_of.<locals>.is_type_of")
    )


def _object(object_type: GraphQLObjectType, execute: Execute, nullable: bool) -> Complete:
    is_type_of = object_type.is_type_of

    def complete_object(value: Any, path: Path | None, info: Any, run: _Run) -> Any:
        if value is None:
            if nullable:
                return None
            raise Abandon
        if is_type_of is not None:
            matches = is_type_of(value, info)
            if matches is not True and (run.is_awaitable(matches) or not matches):
                raise Abandon
        return execute(value, path, run)

    return complete_object


# ------------------------------------------------------------------- planning


class _NotPlannable(Exception):
    """The document uses something the plans do not cover."""


def _has_directives(selection_set: SelectionSetNode | None) -> bool:
    if selection_set is None:
        return False
    for selection in selection_set.selections:
        if selection.directives:
            return True
        if isinstance(selection, (FieldNode, InlineFragmentNode)) and _has_directives(
            selection.selection_set
        ):
            return True
    return False


class _Planner:
    def __init__(self, executor: PlannedExecutor) -> None:
        self.executor = executor
        self.schema = executor.schema

    def plan(self) -> _Plan:
        executor = self.executor
        operation = executor.operation
        if operation.operation is not OperationType.QUERY or operation.directives:
            raise _NotPlannable("not a query, or a directive on the operation")
        if _has_directives(operation.selection_set):
            raise _NotPlannable("directives in the selection")
        for fragment in executor.fragments.values():
            definition = fragment.definition
            if fragment.variable_signatures or definition.directives:
                raise _NotPlannable("fragment arguments or directives")
            if _has_directives(definition.selection_set):
                raise _NotPlannable("directives in a fragment")
        root_type = self.schema.query_type
        if root_type is None:
            raise _NotPlannable("no query type")
        grouped = collect_fields(
            self.schema,
            executor.fragments,
            executor.variable_values,
            root_type,
            operation,
            executor.hide_suggestions,
        ).grouped_field_set
        return _Plan(_compile(self.steps(root_type, grouped), executor.lazy_info_class))

    def steps(
        self, parent_type: GraphQLObjectType, grouped: dict[str, list[FieldDetails]]
    ) -> list[_Step]:
        return [self.step(parent_type, key, details) for key, details in grouped.items()]

    def step(self, parent_type: GraphQLObjectType, key: str, details: list[FieldDetails]) -> _Step:
        step = _Step(key, parent_type)
        node = details[0].node
        name = node.name.value
        if name == "__typename":
            step.typename = parent_type.name
            return step
        if name.startswith("__"):
            raise _NotPlannable("introspection")
        if any(d.fragment_variable_values is not None for d in details):
            raise _NotPlannable("fragment variables")
        field_def = parent_type.fields.get(name)
        if field_def is None:
            raise _NotPlannable(f"unknown field {parent_type.name}.{name}")
        step.field_def = field_def
        step.nodes = [d.node for d in details]
        resolve = field_def.resolve
        definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        strawberry_field = definition if isinstance(definition, StrawberryField) else None
        step.strawberry_field = strawberry_field
        has_args = bool(field_def.args or node.arguments)
        if (
            resolve is not None
            and getattr(resolve, "__name__", "") == _BASIC_RESOLVER
            and strawberry_field is not None
            and not has_args
        ):
            default = strawberry_field.default_resolver
            python_name = strawberry_field.python_name
            step.getter = (
                attrgetter(python_name)
                if default is getattr
                else lambda source: default(source, python_name)
            )
        else:
            step.resolve = resolve or self.executor.field_resolver
            step.direct = self.direct_call(strawberry_field, resolve, has_args)
            if has_args:
                step.variable_args = any(_uses_variables(a.value) for a in node.arguments or ())
                if not step.variable_args:
                    step.args = get_argument_values(
                        field_def, node, self.executor.variable_values, None
                    )
        step.complete, step.completion_info = self.completer(field_def.type, details)
        step.needs_info = step.completion_info or step.getter is None
        step.needs_path = step.needs_info or not is_leaf_type(_named(field_def.type))
        if step.getter is not None and not step.needs_info:
            step.exact = _EXACT.get(_named(field_def.type))
        if step.direct is not None and is_leaf_type(_named(field_def.type)):
            step.leaf_exact = _EXACT.get(_named(field_def.type))
        return step

    def direct_call(
        self, field: StrawberryField | None, resolve: Any, has_args: bool
    ) -> _Direct | None:
        """A strawberry resolver without arguments or extensions, called without the wrapper.

        Equivalent to strawberry's own wrapper for such a field: it passes the source
        as ``self`` (or root/parent) and strawberry's Info, and nothing else. The Info
        builds graphql-core's resolve info only if the resolver reads more than its
        context.
        """
        if field is None or resolve is None or has_args or field.extensions:
            return None
        resolver = field.base_resolver
        if resolver is None or resolver.arguments or not callable(resolver.wrapped_func):
            return None
        sources = [p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p]
        info = resolver.info_parameter.name if resolver.info_parameter else None
        if not all(name.isidentifier() for name in [*sources, *([info] if info else [])]):
            return None
        return _Direct(resolver.wrapped_func, resolver.self_parameter is not None, sources, info)

    def completer(
        self, return_type: GraphQLOutputType, details: list[FieldDetails]
    ) -> tuple[Complete, bool]:
        """How to complete a value of this type, and whether that needs the field's info."""
        if isinstance(return_type, GraphQLNonNull):
            return self.completer_of(return_type.of_type, details, nullable=False)
        return self.completer_of(return_type, details, nullable=True)

    def completer_of(
        self, return_type: Any, details: list[FieldDetails], nullable: bool
    ) -> tuple[Complete, bool]:
        if is_leaf_type(return_type):
            return _leaf(return_type, nullable), False
        if isinstance(return_type, GraphQLList):
            item, needs_info = self.completer(return_type.of_type, details)
            item_paths = not is_leaf_type(_named(return_type.of_type))
            return _list(item, item_paths, nullable), needs_info
        if is_object_type(return_type):
            grouped = collect_subfields(
                self.schema,
                self.executor.fragments,
                self.executor.variable_values,
                self.executor.operation,
                return_type,
                details,
                self.executor.hide_suggestions,
            ).grouped_field_set
            execute = _compile(self.steps(return_type, grouped), self.executor.lazy_info_class)
            is_type_of = return_type.is_type_of
            return _object(return_type, execute, nullable), (
                is_type_of is not None and not _ignores_info(is_type_of)
            )
        raise _NotPlannable(f"abstract type {return_type}")


def _named(return_type: Any) -> Any:
    while isinstance(return_type, (GraphQLNonNull, GraphQLList)):
        return_type = return_type.of_type
    return return_type


def _uses_variables(value: Any) -> bool:
    kind = getattr(value, "kind", "")
    if kind == "variable":
        return True
    if kind == "list_value":
        return any(_uses_variables(v) for v in value.values)
    if kind == "object_value":
        return any(_uses_variables(f.value) for f in value.fields)
    return False


class _Plan:
    __slots__ = ("execute",)

    def __init__(self, execute: Execute) -> None:
        self.execute = execute


def _finished(*_: Any, **__: Any) -> Any:
    raise RuntimeError("this operation's response is already built")


_FINISHED = GraphQLResolveInfoHelpers(gather=_finished, track=_finished)
_NO_PLAN = object()
PlanCache = OrderedDict[tuple[str, str | None], Any]  # (document, operation) -> plan or _NO_PLAN


class PlannedExecutor(StrawberryGraphQLCoreExecutionContext):
    """strawberry's executor, running queries from compiled plans when it can."""

    info_class: Any = None  # strawberry's Info class, set by the schema
    plans: PlanCache  # one per schema: each schema gets its own subclass (executor_class)
    lazy_info_class: Any = None  # the same, building graphql-core's resolve info on demand

    def build_response(self, data: dict[str, Any] | None) -> Any:
        """The response; then the executor lets go of itself.

        graphql-core's executor refers to itself through ``async_helpers`` (bound
        methods, for resolvers' ``info.async_helpers``): a reference cycle, which
        kept the whole request (its context, loaders and every record they fetched)
        alive until the cycle collector came by, and made those collections long
        (BENCHMARKS.md, "Reference cycles"). Nothing builds a resolve info once the
        response of a query or mutation is built (subscription events each run on
        an executor of their own), so the cycle is cut here, and the request is
        freed as soon as it is answered.
        """
        response = super().build_response(data)
        if isinstance(response, ExecutionResult):
            self.async_helpers = _FINISHED
        return response

    def resolve_info(self, step: _Step, path: Path | None) -> Info:
        assert step.field_def is not None
        assert path is not None
        return self.build_resolve_info(step.field_def, step.nodes, step.parent_type, path)

    def find_plan(self) -> _Plan | None:
        operation: OperationDefinitionNode = self.operation
        if operation.operation is not OperationType.QUERY or operation.loc is None:
            return None
        if self.abort_signal is not None or self.hooks is not None:
            return None
        manager = self.middleware_manager
        if manager is not None and manager.middlewares:
            return None
        key = (operation.loc.source.body, operation.name.value if operation.name else None)
        cache = self.plans
        found = cache.get(key)
        if found is None:
            try:
                found = _Planner(self).plan()
            except _NotPlannable as why:
                log.debug("no plan for %s: %s", key[1], why)
                found = _NO_PLAN
            cache[key] = found
            if len(cache) > PLAN_CACHE_SIZE:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        return found if isinstance(found, _Plan) else None

    def execute_operation(self, serially: bool | None = None) -> AwaitableOrValue[Any]:
        plan = self.find_plan() if not serially else None
        if plan is None:
            return super().execute_operation(serially)
        run = _Run(self)
        try:
            data = plan.execute(self.root_value, None, run)
        except Exception:  # any failure: the reference executor answers exactly
            return self.fall_back(run, serially)
        if not run.pending:
            return self.build_response(data)
        return self._finish(data, run, serially)

    def fall_back(self, run: _Run, serially: bool | None) -> AwaitableOrValue[Any]:
        """Run the operation on graphql-core's executor, as if the plan had never run.

        The attempt filled the context's per-request caches (loaders): they are
        reset (``reset_request_caches``), so the reference run fetches, fails and
        orders its errors exactly as it would have on its own.
        """
        run.close()
        reset_request_caches(self.context_value)
        return super().execute_operation(serially)

    async def _finish(self, data: dict[str, Any], run: _Run, serially: bool | None) -> Any:
        try:
            settled = await _settle(data, run)
        except Exception:
            result = self.fall_back(run, serially)
            return await result if self.is_awaitable(result) else result
        return self.build_response(settled)


def lazy_info_class(info_class: type) -> type:
    """``info_class`` whose graphql-core resolve info is built on first use.

    Most resolvers read only ``info.context``: answered without building it.
    """

    class LazyInfo(info_class):  # type: ignore[misc]
        def __init__(self, executor: PlannedExecutor, step: _Step, path: Path) -> None:
            self._executor = executor
            self._step = step
            self._path = path
            self._field = step.strawberry_field

        @cached_property
        def _raw_info(self) -> Info:
            return self._executor.resolve_info(self._step, self._path)

        @property
        def context(self) -> Any:
            return self._executor.context_value

    LazyInfo.__name__ = LazyInfo.__qualname__ = info_class.__name__
    return LazyInfo


def executor_class(info_class: type) -> type[PlannedExecutor]:
    """A PlannedExecutor for a schema whose resolvers receive ``info_class``."""
    return type(
        "PlannedExecutor",
        (PlannedExecutor,),
        {
            "info_class": info_class,
            "lazy_info_class": lazy_info_class(info_class),
            "plans": OrderedDict(),
        },
    )


__all__ = ["PlannedExecutor", "executor_class"]
