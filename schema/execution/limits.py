"""Validation rules that bound what one document may ask for.

Depth is the number of nested selection sets, as strawberry's
QueryDepthLimiter counts it: ``{ user { handle } }`` is 1 (fragments expanded, the
introspection fields ``__schema``/``__type`` not counted, so GraphiQL works).
An empty selection set (``{ }``), which graphql-core 3.3 parses, is refused
here as a validation error rather than left for a crash further on.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)


def depth_limit_rule(max_depth: int) -> type[ValidationRule]:
    class DepthLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def depth(self, selections: SelectionSetNode | None, seen: frozenset[str]) -> int:
            deepest = 0
            for node in selections.selections if selections else ():
                if isinstance(node, FieldNode):
                    if node.name.value.startswith("__"):
                        continue
                    if node.selection_set is not None:  # a leaf adds no level
                        deepest = max(deepest, 1 + self.depth(node.selection_set, seen))
                elif isinstance(node, InlineFragmentNode):
                    deepest = max(deepest, self.depth(node.selection_set, seen))
                elif isinstance(node, FragmentSpreadNode):
                    name = node.name.value
                    fragment = self.fragments.get(name)
                    if fragment is not None and name not in seen:
                        deepest = max(deepest, self.depth(fragment.selection_set, seen | {name}))
                if deepest > max_depth:
                    break  # enough to refuse; stop walking a hostile document
            return deepest

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth = self.depth(node.selection_set, frozenset())
            if depth > max_depth:
                name = node.name.value if node.name else "anonymous operation"
                self.report_error(
                    GraphQLError(
                        f"'{name}' is nested {depth} levels deep; the limit is {max_depth}.",
                        node,
                        extensions={"code": "QUERY_TOO_DEEP"},
                    )
                )

    return DepthLimit


class NoEmptySelections(ValidationRule):
    def enter_selection_set(self, node: SelectionSetNode, *_: Any) -> None:
        if not node.selections:
            self.report_error(
                GraphQLError(
                    "A selection set cannot be empty: name at least one field.",
                    node,
                    extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
                )
            )
