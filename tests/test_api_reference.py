"""docs/api-reference.md is the reference rendered from schema.graphql, kept up to date."""

from tools.api_reference import OUTPUT, SDL, render, slug


def test_api_reference_is_up_to_date() -> None:
    on_disk = OUTPUT.read_text(encoding="utf-8")
    assert on_disk == render(SDL.read_text(encoding="utf-8")), (
        "docs/api-reference.md is stale: run `make api-docs`"
    )


def test_every_type_field_and_argument_is_in_the_reference() -> None:
    sdl = """
    "A root." type Query { "Finds one." thing(id: ID!, first: Int = 20, kind: Kind = BIG): Thing }
    type Mutation { make(input: MakeInput!): Thing! }
    interface Node { id: ID! }
    "A thing." type Thing implements Node { id: ID! "Its name." name: String @deprecated(reason: "gone") }
    input MakeInput { "How many." count: Int = 1 }
    enum Kind { "Large." BIG SMALL }
    scalar DateTime
    """
    page = render(sdl)
    for expected in (
        "### Query.thing",
        "Finds one.",
        "- `first`: [`Int`](#int) = `20`",
        "- `kind`: [`Kind`](#kind) = `BIG`",
        "### Mutation.make",
        "- `input`: [`MakeInput!`](#makeinput)",
        "Implements [`Node`](#node).",
        "Implemented by [`Thing`](#thing).",
        "**Deprecated:** gone",
        "- `count`: [`Int`](#int) = `1`",
        "- `BIG`  \n  Large.",
        "### DateTime",
        "### ID",
    ):
        assert expected in page, expected
    # the roots come first, then the sections in order
    order = ["## Query", "## Mutation", "## Objects", "## Interfaces", "## Inputs", "## Enums"]
    positions = [page.index(f"\n{heading}\n") for heading in order]
    assert positions == sorted(positions)


def test_anchors_are_the_ones_github_makes() -> None:
    assert slug("Query.homeTimeline") == "queryhometimeline"
    assert slug("Tweet") == "tweet"
    assert slug("Getting started") == "getting-started"
