"""Lookahead (schema/execution/lookahead.py): the fields a document selects below a field."""

from __future__ import annotations

from types import SimpleNamespace

from graphql import FieldNode, FragmentDefinitionNode, OperationDefinitionNode, parse

from schema.execution.lookahead import selected_below

CONNECTION = ("edges", "node")


def info_for(document: str, field: str = "homeTimeline") -> SimpleNamespace:
    """An Info as strawberry passes it, for every node of ``field`` at the root."""
    parsed = parse(document)
    operation = next(d for d in parsed.definitions if isinstance(d, OperationDefinitionNode))
    fragments = {
        d.name.value: d for d in parsed.definitions if isinstance(d, FragmentDefinitionNode)
    }
    nodes = [
        s
        for s in operation.selection_set.selections
        if isinstance(s, FieldNode) and s.name.value == field
    ]
    return SimpleNamespace(_raw_info=SimpleNamespace(field_nodes=nodes, fragments=fragments))


def test_names_the_fields_of_the_nodes_by_name_not_alias() -> None:
    info = info_for("{ homeTimeline { edges { cursor node { id liked: viewerHasLiked } } } }")
    assert selected_below(info, CONNECTION) == {"id", "viewerHasLiked"}


def test_follows_fragment_spreads_and_inline_fragments_at_every_level() -> None:
    info = info_for(
        """
        query { homeTimeline { ...Page } }
        fragment Page on TweetConnection { edges { ... on TweetEdge { node { ...T } } } }
        fragment T on Tweet { text author { handle } ... { viewerHasRetweeted } }
        """
    )
    assert selected_below(info, CONNECTION) == {"text", "author", "viewerHasRetweeted"}


def test_merges_every_node_of_the_field() -> None:
    info = info_for(
        "{ homeTimeline { edges { node { id } } } homeTimeline { edges { node { author { id } } } } }"
    )
    assert selected_below(info, CONNECTION) == {"id", "author"}


def test_fields_under_directives_count_as_selected() -> None:
    info = info_for(
        "query($x: Boolean!) { homeTimeline { edges { node { id text @skip(if: $x) } } } }"
    )
    assert selected_below(info, CONNECTION) == {"id", "text"}


def test_nothing_below_a_path_the_document_does_not_select() -> None:
    assert (
        selected_below(info_for("{ homeTimeline { pageInfo { hasNextPage } } }"), CONNECTION)
        == set()
    )


def test_answers_again_from_the_cache_for_the_same_document_nodes() -> None:
    info = info_for("{ homeTimeline { edges { node { id } } } }")
    first = selected_below(info, CONNECTION)
    assert selected_below(info, CONNECTION) is first
    assert selected_below(info, ("edges",)) == {"node"}
