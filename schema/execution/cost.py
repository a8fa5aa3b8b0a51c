"""Query cost: what an operation may cost, known before it runs, in one walk of its document.

The rules (README "Query cost" says the same for clients):

- a scalar or enum field costs 0, an object 1 (``__typename`` and the
  introspection fields ``__schema``/``__type`` cost nothing: GraphiQL must work);
- a list of objects costs its length times each item: inside a connection (a
  field with a ``first`` or ``last`` argument) the list's length is that
  argument (its literal, its variable's value or default, or the field's
  default; never over the page cap); any other list has a length from
  ``list_sizes`` (e.g. ``Tweet.media``: at most 4), or ``default_list_size``;
- a field may carry an extra cost (``field_costs``) for a resolver heavier than
  its shape says, such as a search;
- fragments count as many times as they are spread; inline fragments on the
  different members of an abstract type are all added (an upper bound).

``nodes`` is GitHub's node count: the most list items the answer can hold.
Both are upper bounds: the ``actual`` cost of an answer (``actual_cost``) is
the number of objects it holds, which is never more than the requested cost.

A ``CostPlan`` is made once per (document, operation) with each fragment
costed once (a DAG, so fragment bombs stay linear), and evaluated per request
with the variables: a few multiplications for a typical document.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    is_composite_type,
    is_interface_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
    value_from_ast_untyped,
)

PAGE_ARGUMENTS = ("first", "last")


@dataclass(frozen=True)
class _Count:
    """A list length: a literal, or a variable (with its default and the field's)."""

    literal: int | None = None
    variable: str | None = None
    default: int = 0

    def value(self, variables: Mapping[str, Any] | None, cap: int) -> int:
        number: Any = self.literal
        if self.variable is not None:
            number = (variables or {}).get(self.variable, self.default)
        count = number if type(number) is int else self.default
        return max(0, min(count, cap))


@dataclass(eq=False)
class _Node:
    """Cost of a selection set: a constant plus lists of (length, item cost) and shared parts."""

    constant: int = 0
    lists: list[tuple[_Count, _Node]] = field(default_factory=list)
    parts: list[_Node] = field(default_factory=list)  # fragments, shared between spreads

    @property
    def fixed(self) -> bool:
        return not self.lists and not self.parts


@dataclass(frozen=True)
class Cost:
    """An operation's requested cost and node count, for one set of variables."""

    cost: int
    nodes: int


class CostPlan:
    """One operation's cost as a function of its variables."""

    def __init__(self, root: _Node, cap: int, introspection: frozenset[str] = frozenset()) -> None:
        self.root = root
        self.cap = cap
        self.introspection = introspection  # response keys of __schema/__type: not counted
        self.fixed = Cost(root.constant, 0) if root.fixed else None

    def evaluate(self, variables: Mapping[str, Any] | None) -> Cost:
        if self.fixed is not None:
            return self.fixed
        memo: dict[int, tuple[int, int]] = {}

        def walk(node: _Node) -> tuple[int, int]:
            known = memo.get(id(node))
            if known is not None:
                return known
            cost, nodes = node.constant, 0
            for count, item in node.lists:
                length = count.value(variables, self.cap)
                item_cost, item_nodes = walk(item)
                cost += length * item_cost
                nodes += length * (1 + item_nodes)
            for part in node.parts:
                part_cost, part_nodes = walk(part)
                cost, nodes = cost + part_cost, nodes + part_nodes
            memo[id(node)] = cost, nodes
            return cost, nodes

        return Cost(*walk(self.root))


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        model: CostModel,
    ) -> None:
        self.schema = schema
        self.model = model
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.done: dict[str, _Node] = {}
        self.active: set[str] = set()
        self.variable_defaults: dict[str, Any] = {
            v.variable.name.value: value_from_ast_untyped(v.default_value)
            for v in operation.variable_definitions or ()
            if v.default_value is not None
        }

    def fragment(self, name: str) -> _Node:
        if name in self.done:
            return self.done[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.active:
            return _Node()
        self.active.add(name)
        parent = self.schema.get_type(definition.type_condition.name.value)
        node = self.selections(definition.selection_set, parent, None)
        self.active.discard(name)
        self.done[name] = node
        return node

    def page_size(self, node: FieldNode, default: Any) -> _Count:
        fallback = default if type(default) is int else self.model.default_list_size
        for argument in node.arguments or ():
            if argument.name.value not in PAGE_ARGUMENTS:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return _Count(literal=int(value.value))
            if isinstance(value, VariableNode):
                name = value.name.value
                given = self.variable_defaults.get(name, fallback)
                return _Count(variable=name, default=given if type(given) is int else fallback)
            return _Count(literal=fallback)
        return _Count(literal=fallback)

    def selections(
        self,
        selections: SelectionSetNode | None,
        parent: GraphQLNamedType | None,
        page: _Count | None,
    ) -> _Node:
        """Cost of ``selections`` on ``parent``; ``page``: the length of lists directly in it."""
        result = _Node()
        for node in selections.selections if selections else ():
            if isinstance(node, FragmentSpreadNode):
                result.parts.append(self.fragment(node.name.value))
            elif isinstance(node, InlineFragmentNode):
                inner = (
                    self.schema.get_type(node.type_condition.name.value)
                    if node.type_condition
                    else parent
                )
                result.parts.append(self.selections(node.selection_set, inner, page))
            elif isinstance(node, FieldNode):
                self.field(node, parent, page, result)
        return result

    def field(
        self, node: FieldNode, parent: GraphQLNamedType | None, page: _Count | None, into: _Node
    ) -> None:
        name = node.name.value
        if name.startswith("__") or node.selection_set is None:
            return  # scalars, enums, __typename and introspection cost nothing
        if not (is_object_type(parent) or is_interface_type(parent)):
            return
        definition = parent.fields.get(name)
        if definition is None:
            return
        target = get_named_type(definition.type)
        if not is_composite_type(target):
            return
        pages = [a for a in PAGE_ARGUMENTS if a in definition.args]
        inner_page = (
            self.page_size(node, definition.args[pages[0]].default_value) if pages else None
        )
        item = self.selections(node.selection_set, target, inner_page)
        item.constant += 1 + self.model.field_costs.get(f"{parent.name}.{name}", 0)
        kind = definition.type.of_type if is_non_null_type(definition.type) else definition.type
        if is_list_type(kind):
            sizes = self.model.list_sizes
            size = sizes.get(f"{parent.name}.{name}", sizes.get(f"*.{name}"))
            count = (
                page
                if page is not None and size is None
                else _Count(literal=size if size is not None else self.model.default_list_size)
            )
            into.lists.append((count, item))
        elif item.fixed:
            into.constant += item.constant
        else:
            into.parts.append(item)


class CostModel:
    """Cost plans of documents, made once per (query text, operation name) and kept."""

    def __init__(
        self,
        *,
        page_cap: int,
        field_costs: Mapping[str, int] | None = None,
        list_sizes: Mapping[str, int] | None = None,
        default_list_size: int = 10,
        size: int = 1024,
    ) -> None:
        self.page_cap = page_cap
        self.field_costs = dict(field_costs or {})
        self.list_sizes = dict(list_sizes or {})
        self.default_list_size = default_list_size
        self.size = size
        self._plans: OrderedDict[tuple[str, str | None], CostPlan | None] = OrderedDict()

    def plan(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
        operation_name: str | None,
    ) -> CostPlan | None:
        """The operation's cost plan; None for subscriptions (they are capped by count)."""
        key = (query, operation_name)
        if key in self._plans:
            self._plans.move_to_end(key)
            return self._plans[key]
        plan: CostPlan | None = None
        root = schema.get_root_type(operation.operation)
        if operation.operation is not OperationType.SUBSCRIPTION and isinstance(
            root, GraphQLObjectType
        ):
            compiler = _Compiler(schema, document, operation, self)
            introspection = frozenset(
                (node.alias or node.name).value
                for node in operation.selection_set.selections
                if isinstance(node, FieldNode) and node.name.value in ("__schema", "__type")
            )
            plan = CostPlan(
                compiler.selections(operation.selection_set, root, None),
                self.page_cap,
                introspection,
            )
        self._plans[key] = plan
        if len(self._plans) > self.size:
            self._plans.popitem(last=False)
        return plan


def actual_cost(data: object, skip: frozenset[str] = frozenset()) -> int:
    """Objects in an answer's data (the data object itself and its ``skip`` keys not counted)."""
    if type(data) is list:
        return _objects(data)
    if type(data) is not dict:
        return 0
    count = 0
    for key, value in data.items():
        kind = type(value)
        if (kind is dict or kind is list) and key not in skip:
            count += _objects(value)
    return count


def _objects(value: Any) -> int:
    """Dicts in ``value`` (a dict or a list), itself included; scalars are not visited."""
    if type(value) is dict:
        count = 1
        for item in value.values():
            kind = type(item)
            if kind is dict or kind is list:
                count += _objects(item)
        return count
    count = 0
    for item in value:
        kind = type(item)
        if kind is dict or kind is list:
            count += _objects(item)
    return count
