"""Render the exported SDL (schema.graphql) as a Markdown reference: docs/api-reference.md.

    python tools/api_reference.py           # rewrite docs/api-reference.md (make api-docs)
    python tools/api_reference.py --check   # exit 1 if it is stale

Every type, field, argument (with its default), enum value and input field, with
its description, grouped: the three roots first, then object types, interfaces,
inputs, enums and scalars, each section alphabetical. Every type named anywhere
links to its own heading. Reads the SDL file only (graphql-core's
``build_schema``), so it needs nothing of the application; nothing imports it
but its test (tests/test_api_reference.py).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLType,
    GraphQLUnionType,
    build_schema,
    print_ast,
)

ROOT = Path(__file__).resolve().parent.parent
SDL = ROOT / "schema.graphql"
OUTPUT = ROOT / "docs" / "api-reference.md"

HEADER = """\
# Chirp API reference

<!-- Generated from schema.graphql by tools/api_reference.py: do not edit by hand.
     After an API change: `make schema`, then `make api-docs`. -->

Every type, field, argument, input and enum value of the GraphQL API at
`/graphql`, as the server's exported schema ([`schema.graphql`](../schema.graphql))
describes it. [The API guide](api.md) explains the concepts with worked
examples. Fields marked "(auth)" need a signed-in viewer
(`Authorization: Bearer <token>`); without one they answer the error
`UNAUTHENTICATED`.
"""


def slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower-cased, punctuation dropped,
    spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def type_link(kind: GraphQLType) -> str:
    """``[Tweet]!`` with the named type linked to its heading."""
    if isinstance(kind, GraphQLNonNull):
        return type_link(kind.of_type) + "!"
    if isinstance(kind, GraphQLList):
        return "[" + type_link(kind.of_type) + "]"
    assert isinstance(kind, GraphQLNamedType)
    return f"[{kind.name}](#{slug(kind.name)})"


def typed(kind: GraphQLType) -> str:
    """A type reference as the reader sees it: code, the named type a link."""
    wrapped = type_link(kind)
    name_link = re.search(r"\[(\w+)\]\((#[\w-]+)\)", wrapped)
    assert name_link is not None
    name, anchor = name_link.groups()
    before, after = wrapped[: name_link.start()], wrapped[name_link.end() :]
    return f"[`{before}{name}{after}`]({anchor})"


def default_of(value: GraphQLArgument | GraphQLInputField) -> str | None:
    """The default as written in the SDL (``20``, ``null``, ``[]``), or None."""
    node = value.ast_node
    if node is None or node.default_value is None:
        return None
    return print_ast(node.default_value)


def description(text: str | None, indent: str = "") -> list[str]:
    """A description as Markdown lines (each prefixed by ``indent``), or nothing."""
    if not text:
        return []
    escaped = text.strip().replace("<", "&lt;")
    return [indent + line if line else "" for line in escaped.splitlines()]


def deprecation(reason: str | None, indent: str = "") -> list[str]:
    return [] if reason is None else [f"{indent}**Deprecated:** {reason}"]


def input_value(name: str, value: GraphQLArgument | GraphQLInputField, indent: str) -> list[str]:
    """One argument or input field: name, type, default, description."""
    line = f"{indent}- `{name}`: {typed(value.type)}"
    default = default_of(value)
    if default is not None:
        line += f" = `{default}`"
    out = [line]
    text = description(value.description, indent + "  ")
    if text:
        out[0] += "  "  # a Markdown line break before the description
        out += text
    out += deprecation(value.deprecation_reason, indent + "  ")
    return out


def field_entry(name: str, field: GraphQLField) -> list[str]:
    out = [f"- **`{name}`**: {typed(field.type)}"]
    text = description(field.description, "  ")
    if text:
        out[0] += "  "
        out += text
    out += deprecation(field.deprecation_reason, "  ")
    if field.args:
        out[-1] += "  " if len(out) > 1 else ""  # a line break before the arguments
        out.append("  Arguments:")
        for arg_name, arg in field.args.items():
            out += input_value(arg_name, arg, "  ")
    return out


def root_section(root: GraphQLObjectType) -> list[str]:
    """A root type: one heading per field, so each operation can be linked to."""
    out = [f"## {root.name}", ""]
    out += description(root.description)
    for name, field in root.fields.items():
        out += ["", f"### {root.name}.{name}", "", f"**Type:** {typed(field.type)}", ""]
        text = description(field.description)
        if text:
            out += [*text, ""]
        out += deprecation(field.deprecation_reason)
        if field.args:
            out.append("**Arguments:**")
            out.append("")
            for arg_name, arg in field.args.items():
                out += input_value(arg_name, arg, "")
    return [*out, ""]


def implementations(schema: GraphQLSchema, interface: GraphQLInterfaceType) -> list[str]:
    found = schema.get_implementations(interface)
    return sorted(t.name for t in (*found.objects, *found.interfaces))


def type_section(schema: GraphQLSchema, kind: GraphQLNamedType) -> list[str]:
    out = [f"### {kind.name}", ""]
    if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType) and kind.interfaces:
        names = ", ".join(typed(i) for i in kind.interfaces)
        out += [f"Implements {names}.", ""]
    if isinstance(kind, GraphQLInterfaceType):
        names = ", ".join(f"[`{n}`](#{slug(n)})" for n in implementations(schema, kind))
        out += [f"Implemented by {names}.", ""]
    if isinstance(kind, GraphQLUnionType):
        names = ", ".join(typed(t) for t in kind.types)
        out += [f"One of {names}.", ""]
    text = description(kind.description)
    if text:
        out += [*text, ""]
    if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
        out += ["**Fields:**", ""]
        for name, field in kind.fields.items():
            out += field_entry(name, field)
        out.append("")
    elif isinstance(kind, GraphQLInputObjectType):
        out += ["**Input fields:**", ""]
        for name, value in kind.fields.items():
            out += input_value(name, value, "")
        out.append("")
    elif isinstance(kind, GraphQLEnumType):
        out += ["**Values:**", ""]
        for name, enum_value in kind.values.items():
            line = f"- `{name}`"
            text = description(enum_value.description, "  ")
            out += [line + ("  " if text else ""), *text]
            out += deprecation(enum_value.deprecation_reason, "  ")
        out.append("")
    return out


# The sections after the roots, in order: heading, which named types belong there.
SECTIONS: tuple[tuple[str, type | tuple[type, ...]], ...] = (
    ("Objects", GraphQLObjectType),
    ("Interfaces", GraphQLInterfaceType),
    ("Unions", GraphQLUnionType),
    ("Inputs", GraphQLInputObjectType),
    ("Enums", GraphQLEnumType),
    ("Scalars", GraphQLScalarType),
)


def named_types(schema: GraphQLSchema) -> list[GraphQLNamedType]:
    """Every type of the schema but the introspection ones, alphabetically."""
    return sorted(
        (t for name, t in schema.type_map.items() if not name.startswith("__")),
        key=lambda t: t.name,
    )


def check_anchors(headings: Iterable[str]) -> None:
    """Every heading's anchor is its own, so links never land on the wrong one."""
    seen: dict[str, str] = {}
    for heading in headings:
        anchor = slug(heading)
        assert anchor not in seen, f"headings {seen[anchor]!r} and {heading!r} share #{anchor}"
        seen[anchor] = heading


def render(sdl: str) -> str:
    """The reference page for an SDL document."""
    schema = build_schema(sdl)
    roots = [r for r in (schema.query_type, schema.mutation_type, schema.subscription_type) if r]
    root_names = {r.name for r in roots}
    others = [t for t in named_types(schema) if t.name not in root_names]
    grouped = [
        (title, [t for t in others if isinstance(t, classes)]) for title, classes in SECTIONS
    ]
    grouped = [(title, kinds) for title, kinds in grouped if kinds]

    toc = ["## Contents", ""]
    for root in roots:
        toc.append(
            f"- [{root.name}](#{slug(root.name)}): "
            + ", ".join(f"[`{name}`](#{slug(f'{root.name}.{name}')})" for name in root.fields)
        )
    for title, kinds in grouped:
        toc.append(
            f"- [{title}](#{slug(title)}): "
            + ", ".join(f"[`{t.name}`](#{slug(t.name)})" for t in kinds)
        )

    body: list[str] = []
    headings = ["Chirp API reference", "Contents"]
    for root in roots:
        body += root_section(root)
        headings += [root.name, *(f"{root.name}.{name}" for name in root.fields)]
    for title, kinds in grouped:
        body += [f"## {title}", ""]
        headings.append(title)
        for kind in kinds:
            body += type_section(schema, kind)
            headings.append(kind.name)
    check_anchors(headings)
    text = "\n".join([HEADER, *toc, "", *body])
    return re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the page is stale")
    args = parser.parse_args(argv)
    page = render(SDL.read_text(encoding="utf-8"))
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.exists() else ""
        if current != page:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run `make api-docs`", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(page, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
