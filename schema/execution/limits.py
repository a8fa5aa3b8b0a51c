"""Validation rules that bound what one document may ask for, each linear in the document.

Depth is the number of nested selection sets, as strawberry's
QueryDepthLimiter counts it: ``{ user { handle } }`` is 1 (fragments expanded, the
introspection fields ``__schema``/``__type`` not counted, so GraphiQL works).
Aliases are counted as strawberry's MaxAliasesValidator counts them: every
aliased field the operation reaches, through fragments as many times as they
are spread.

Both walks visit each fragment once and remember its answer: a document whose
fragments spread each other twice over (``fragment F1 { ...F2 ...F2 }``, a
"fragment bomb") would otherwise cost 2^n walks; here it costs one walk of the
text, and the counts it yields (exponential numbers) are refused. Cycles are
left to graphql-core's NoFragmentCycles rule; here a cycle simply adds nothing.

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


class _Measure:
    """Depth and alias count of selection sets, each fragment measured once."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.fragments = fragments
        self.done: dict[str, tuple[int, int]] = {}
        self.active: set[str] = set()  # fragments being measured: a cycle adds nothing

    def fragment(self, name: str) -> tuple[int, int]:
        if name in self.done:
            return self.done[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.active:
            return 0, 0
        self.active.add(name)
        measured = self.selections(definition.selection_set)
        self.active.discard(name)
        self.done[name] = measured
        return measured

    def selections(self, selections: SelectionSetNode | None) -> tuple[int, int]:
        """(depth, aliases) of one selection set."""
        deepest = aliases = 0
        for node in selections.selections if selections else ():
            if isinstance(node, FieldNode):
                if node.alias is not None:
                    aliases += 1
                if node.selection_set is None:
                    continue  # a leaf adds no level
                depth, inner = self.selections(node.selection_set)
                aliases += inner
                if not node.name.value.startswith("__"):
                    deepest = max(deepest, 1 + depth)
            elif isinstance(node, InlineFragmentNode):
                depth, inner = self.selections(node.selection_set)
                deepest, aliases = max(deepest, depth), aliases + inner
            elif isinstance(node, FragmentSpreadNode):
                depth, inner = self.fragment(node.name.value)
                deepest, aliases = max(deepest, depth), aliases + inner
        return deepest, aliases


def document_limits_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """A rule refusing operations nested over ``max_depth`` or with over ``max_aliases`` aliases."""

    class DocumentLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.measure = _Measure(
                {
                    d.name.value: d
                    for d in context.document.definitions
                    if isinstance(d, FragmentDefinitionNode)
                }
            )

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth, aliases = self.measure.selections(node.selection_set)
            name = f"'{node.name.value}'" if node.name else "The operation"
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"{name} is nested {depth} levels deep; the limit is {max_depth}.",
                        node,
                        extensions={"code": "QUERY_TOO_DEEP"},
                    )
                )
            if aliases > max_aliases:
                self.report_error(
                    GraphQLError(
                        f"{name} uses {aliases} aliases; the limit is {max_aliases}.",
                        node,
                        extensions={"code": "TOO_MANY_ALIASES"},
                    )
                )

    return DocumentLimits


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
