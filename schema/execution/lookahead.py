"""Lookahead: which fields a request selects below the field being resolved.

A connection resolver that knows its nodes' selected fields can fetch what they
will need in one batch per kind before returning (``prefetch_tweet_fields`` in resolvers/loaders.py), so
the node fields then answer from values already loaded instead of each awaiting
a loader future. Over-approximates on purpose: fields under @skip/@include and
under every type condition count as selected (a prefetch too many costs one
batch; one too few only loses the shortcut).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    IntValueNode,
    SelectionSetNode,
    VariableNode,
)

CACHE_SIZE = 1024
# (id of the field's first node, path) -> (that node, the names): documents are
# parsed once and cached (pipeline.py), so a node's identity is stable
# across the requests that send the same document; the node is kept so its id
# cannot be reused by another while the entry lives.
_cache: dict[tuple[int, tuple[str, ...]], tuple[FieldNode, frozenset[str]]] = {}


def selected_below(info: Any, path: Sequence[str]) -> frozenset[str]:
    """Names (not aliases) of the fields selected at ``path`` below the current field.

    ``info`` is strawberry's Info of the field being resolved; ``path`` names the
    fields to follow, e.g. ``("edges", "node")`` for a connection's nodes.
    """
    raw = info._raw_info  # graphql-core's resolve info: the field's nodes and fragments
    nodes: list[FieldNode] = raw.field_nodes
    key = (id(nodes[0]), tuple(path))
    found = _cache.get(key)
    if found is not None and found[0] is nodes[0]:
        return found[1]
    names = frozenset(_names_below(nodes, path, raw.fragments))
    if len(_cache) >= CACHE_SIZE:
        _cache.clear()
    _cache[key] = (nodes[0], names)
    return names


def _names_below(
    nodes: Sequence[FieldNode],
    path: Sequence[str],
    fragments: Mapping[str, FragmentDefinitionNode],
) -> set[str]:
    current = list(nodes)
    for name in path:
        current = [
            field
            for node in current
            for field in _fields(node.selection_set, fragments)
            if field.name.value == name
        ]
    return {
        field.name.value for node in current for field in _fields(node.selection_set, fragments)
    }


def _fields(
    selection_set: SelectionSetNode | None, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """The field nodes of a selection set, through inline fragments and fragment spreads."""
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            yield from _fields(selection.selection_set, fragments)
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:  # validation forbids unknown and cyclic spreads
                yield from _fields(fragment.selection_set, fragments)


def int_arguments_below(info: Any, path: Sequence[str], argument: str) -> list[int | None]:
    """The values of an Int ``argument`` of each field at ``path`` below the current field
    (None where it is left out or null), e.g. the ``first`` of a connection's nodes'
    ``actors``: what a resolver above must fetch enough of. Literals and variables."""
    raw = info._raw_info
    current: list[FieldNode] = list(raw.field_nodes)
    for name in path:
        current = [
            field
            for node in current
            for field in _fields(node.selection_set, raw.fragments)
            if field.name.value == name
        ]
    values: list[int | None] = []
    for node in current:
        value: Any = None
        for arg in node.arguments or ():
            if arg.name.value != argument:
                continue
            if isinstance(arg.value, VariableNode):
                value = (raw.variable_values or {}).get(arg.value.name.value)
            elif isinstance(arg.value, IntValueNode):
                value = int(arg.value.value)
        values.append(value if isinstance(value, int) else None)
    return values
