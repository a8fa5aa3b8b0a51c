"""Fuzzing the API over HTTP with operations generated from the live schema.

hypothesis-graphql builds operations from the schema the code exports, for every
root field of Query and Mutation: valid ones (any selection, any argument values,
ids aimed at the world's objects half the time), invalid ones (one schema violation
each), the same operations with their text mangled, and operations whose arguments
come as variables of any JSON shape, and persisted-query extensions of any shape.
Each goes to the app over real HTTP (POST, or GET for short queries), as alice, as
bob, anonymously or with a token that is no good, with one of the Accept headers
clients send, with or without an API key and an Idempotency-Key. Whatever it is:

- the answer is never a 5xx, and is JSON with no stack trace in it;
- every error carries ``extensions.code``, never INTERNAL_SERVER_ERROR nor
  SERVICE_UNAVAILABLE (no backend is down here);
- the server logged no error (no ERROR record, no exception, from chirp or aiohttp);
- a valid operation is refused only for an expected reason (sign in, a limit, a
  bad id, cursor or page size), an invalid one always is.

CI runs a few hundred operations with derandomized data, so a failure reproduces;
``make fuzz`` runs CHIRP_FUZZ_EXAMPLES (5,000) with fresh randomness each time.
Hypothesis prints the failing operation, shrunk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any, ClassVar, Literal

import graphql
import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

import schema as api
from app import create_app
from bootstrap.services import Overrides
from bootstrap.settings import Settings
from resolvers.pagination import encode_cursor
from tests.conftest import FAST_PASSWORDS, SECRET, GraphQLClient
from tests.http.world import Json, World, build_world

ON_MODULE_LOOP = pytest.mark.asyncio(loop_scope="module")  # the loop of the module's app

# Operations in all, split among the tests below (CI: the default; `make fuzz`: more).
EXAMPLES = int(os.environ.get("CHIRP_FUZZ_EXAMPLES", "600"))
RANDOM = os.environ.get("CHIRP_FUZZ_RANDOM", "") == "1"  # `make fuzz`: new data each run

SDL = api.export_sdl()
SCHEMA = graphql.build_schema(SDL)
Kind = Literal["query", "mutation"]


def root_fields(kind: Kind) -> dict[str, graphql.GraphQLField]:
    root = SCHEMA.query_type if kind == "query" else SCHEMA.mutation_type
    assert root is not None
    return dict(root.fields)


ROOTS: list[tuple[Kind, str]] = [
    (kind, name) for kind in ("query", "mutation") for name in sorted(root_fields(kind))
]
WITH_ARGUMENTS = [(kind, name) for kind, name in ROOTS if root_fields(kind)[name].args]

# A valid operation may still be refused, for these reasons only.
EXPECTED_REFUSALS = {
    "UNAUTHENTICATED",
    "BAD_USER_INPUT",  # a bad id, cursor or page size
    "QUERY_TOO_DEEP",
    "TOO_MANY_ALIASES",
    "QUERY_TOO_LARGE",
    "QUERY_TOO_COSTLY",
    "RATE_LIMITED",  # log-in's per-handle limit applies even to loopback
}
NEVER = {"INTERNAL_SERVER_ERROR", "SERVICE_UNAVAILABLE"}
CODE = re.compile(r"[A-Z][A-Z0-9_]*")
CALLERS = ("alice", "bob", "anonymous", "tampered", "not a token", "another scheme")
ACCEPTS = (
    None,
    "application/json",
    "application/graphql-response+json",
    "application/graphql-response+json, application/json;q=0.9",
    "*/*",
)
GET_LIMIT = 1500  # longer queries go by POST (a URL has a length limit)


def examples(share: float, tests: int) -> int:
    """Examples per test for tests sharing ``share`` of EXAMPLES."""
    return max(3, math.ceil(EXAMPLES * share / tests))


def fuzz_settings(max_examples: int) -> settings:
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,  # caplog: cleared for each example
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


# --- what the operations aim at -------------------------------------------------------------


class Aim:
    """The world's ids and handles; strategies draw an index, the test binds the values."""

    ids: ClassVar[list[str]] = []
    handles = ("alice", "bob", "carol", "@alice", "ALICE", "nobody")

    @classmethod
    def id(cls, index: int) -> str:
        return cls.ids[index % len(cls.ids)] if cls.ids else "1"


def id_literal() -> st.SearchStrategy[graphql.ValueNode]:
    """Half the time an id of the world, else any id: digits of any size, an Int, text."""
    return st.one_of(
        st.integers(0, 15).map(lambda i: nodes.String(Aim.id(i))),
        st.integers(0, 15).map(lambda i: nodes.String(Aim.id(i))),
        st.integers(min_value=-1, max_value=2**70).map(nodes.String),
        st.integers(min_value=-(2**70), max_value=2**70).map(nodes.Int),
        st.text(max_size=24).map(nodes.String),
    )


def cursors() -> st.SearchStrategy[str]:
    """Strings that look like cursors: each kind, any number of parts, any integers."""
    parts = st.lists(st.integers(min_value=-1, max_value=2**64), min_size=0, max_size=3)
    return st.builds(
        lambda kind, numbers: encode_cursor(kind, *numbers), st.sampled_from("ftlx"), parts
    )


def string_literal() -> st.SearchStrategy[graphql.ValueNode]:
    return st.one_of(
        st.sampled_from(Aim.handles),
        st.sampled_from(["image/png", "image/gif", "video/mp4", "text/plain"]),
        cursors(),
        st.text(max_size=300),
    ).map(nodes.String)


def int_literal() -> st.SearchStrategy[graphql.ValueNode]:
    """Page sizes around the cap, sizes around the limits, any 32-bit Int."""
    return st.one_of(
        st.integers(-2, 102),
        st.sampled_from([5 * 2**20, 15 * 2**20, 512 * 2**20, 512 * 2**20 + 1]),
        st.integers(-(2**31), 2**31 - 1),
    ).map(nodes.Int)


CUSTOM_SCALARS = {"ID": id_literal(), "String": string_literal(), "Int": int_literal()}


@cache
def operations(name: str, mode: Mode) -> st.SearchStrategy[str]:
    return from_schema(SDL, fields=[name], mode=mode, custom_scalars=CUSTOM_SCALARS)


@cache
def any_operation() -> st.SearchStrategy[str]:
    return from_schema(SDL, custom_scalars=CUSTOM_SCALARS)


# --- sending and judging ---------------------------------------------------------------------


class Target:
    """The app under fuzz and its world (not a dataclass: hypothesis would print it all)."""

    def __init__(self, gql: GraphQLClient, world: World) -> None:
        self.gql = gql
        self.world = world

    def __repr__(self) -> str:
        return "Target(the app, its world)"


@dataclass(frozen=True)
class Envelope:
    """How an operation travels: who sends it, with which headers, by which method."""

    caller: str  # alice, bob, anonymous, or a token that is no good
    accept: str | None
    api_key: str | None  # "alice's" (her app's key), or any value
    idempotency_key: str | None
    use_get: bool  # for queries short enough for a URL

    def headers(self, world: World) -> dict[str, str]:
        sent = {"Accept": self.accept} if self.accept else {}
        tokens = {
            "alice": f"Bearer {world.alice.token}",
            "bob": f"Bearer {world.bob.token}",
            "tampered": f"Bearer {world.alice.token[:-3]}AAA",
            "not a token": "Bearer not.a.token",
            "another scheme": f"Basic {world.alice.token}",
        }
        if self.caller in tokens:
            sent["Authorization"] = tokens[self.caller]
        if self.api_key is not None:
            sent["X-Api-Key"] = world.key if self.api_key == "alice's" else self.api_key
        if self.idempotency_key is not None:
            sent["Idempotency-Key"] = self.idempotency_key
        return sent


header_text = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=300)
envelopes = st.builds(
    Envelope,
    caller=st.sampled_from(CALLERS),
    accept=st.sampled_from(ACCEPTS),
    api_key=st.one_of(
        st.none(), st.none(), st.just("alice's"), st.builds("chirp_{}".format, header_text)
    ),
    idempotency_key=st.one_of(st.none(), st.sampled_from(["k1", "k2"]), header_text),  # reused
    use_get=st.booleans(),
)


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    body: Json

    @property
    def codes(self) -> list[str]:
        return [error["extensions"]["code"] for error in self.body.get("errors", [])]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def target(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Target]:
    """One app for the whole module (the fuzzer's changes pile up in it, as in life)."""
    folder: Path = tmp_path_factory.mktemp("fuzz")
    chosen = Settings(data_dir=folder / "data", secret_key=SECRET, public_url="https://chirp.test")
    client = TestClient(TestServer(create_app(chosen, Overrides(passwords=FAST_PASSWORDS))))
    await client.start_server()
    try:
        gql = GraphQLClient(client)
        world = await build_world(gql)
        Aim.ids = world.ids()
        yield Target(gql, world)
    finally:
        Aim.ids = []
        await client.close()


async def send(
    target: Target,
    envelope: Envelope,
    document: str | None,
    variables: Json | None = None,
    extensions: Any = None,
) -> Answer:
    """The operation over HTTP; the answer, checked to be JSON, not a 5xx, no stack trace."""
    headers = envelope.headers(target.world)
    fields: Json = {"query": document} if document is not None else {}
    if variables is not None:
        fields["variables"] = variables
    if extensions is not None:
        fields["extensions"] = extensions
    http = target.gql.http
    if envelope.use_get and len(json.dumps(fields)) <= GET_LIMIT:
        params = {k: v if k == "query" else json.dumps(v) for k, v in fields.items()}
        response = await http.get("/graphql", params=params, headers=headers)
    else:
        headers["Content-Type"] = "application/json"
        response = await http.post("/graphql", data=json.dumps(fields), headers=headers)
    text = await response.text()
    assert response.status < 500, f"{response.status}: {text}"
    assert "Traceback" not in text, text
    assert 'File "' not in text, text
    try:
        parsed = json.loads(text)
    except ValueError:
        raise AssertionError(f"not JSON ({response.status}): {text[:500]}") from None
    assert isinstance(parsed, dict), text
    return Answer(response.status, text, parsed)


def assert_sound(answer: Answer, caplog: pytest.LogCaptureFixture) -> None:
    """Every error coded, none internal, and nothing in the server's log."""
    for error in answer.body.get("errors", []):
        code = (error.get("extensions") or {}).get("code")
        assert isinstance(code, str), f"no code: {error}"
        assert CODE.fullmatch(code), f"not a code: {error}"
        assert code not in NEVER, answer.text
    logged = [
        record
        for record in caplog.records
        if record.name.startswith(("chirp", "aiohttp"))
        and (record.levelno >= logging.ERROR or record.exc_info)
    ]
    messages = [f"{r.name} {r.levelname}: {r.getMessage()}" for r in logged]
    assert not logged, "the server logged errors:\n" + "\n".join(messages)


def assert_expected_refusals(answer: Answer) -> None:
    unexpected = set(answer.codes) - EXPECTED_REFUSALS
    assert not unexpected, f"a valid operation refused with {unexpected}: {answer.text}"


# --- the fuzzers -----------------------------------------------------------------------------

VALID = fuzz_settings(examples(0.35, len(ROOTS)))
INVALID_OPS = fuzz_settings(examples(0.2, len(WITH_ARGUMENTS)))
VARIABLES = fuzz_settings(examples(0.2, len(WITH_ARGUMENTS)))
MANGLED = fuzz_settings(examples(0.15, 1))
PERSISTED = fuzz_settings(examples(0.1, 1))


def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner)


# Any JSON value, the world's ids and handles among them (NaN and Infinity too: Python's
# json writes them, and a server must refuse them cleanly).
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=40)
    | st.integers(0, 15).map(Aim.id)
    | st.sampled_from(Aim.handles)
    | cursors(),
    containers,
    max_leaves=12,
)


def root_id(root: tuple[Kind, str]) -> str:
    return f"{root[0]}.{root[1]}"


@ON_MODULE_LOOP
@pytest.mark.parametrize("root", ROOTS, ids=root_id)
@VALID
@given(data=st.data(), envelope=envelopes)
async def test_valid_operations(
    target: Target,
    caplog: pytest.LogCaptureFixture,
    root: tuple[Kind, str],
    data: st.DataObject,
    envelope: Envelope,
) -> None:
    kind, name = root
    document = data.draw(operations(name, Mode.POSITIVE), label="operation")
    if kind == "mutation":
        envelope = replace(envelope, use_get=False)  # over GET: 405, tested elsewhere
    caplog.clear()
    answer = await send(target, envelope, document)
    assert_sound(answer, caplog)
    assert_expected_refusals(answer)
    if not answer.codes:
        assert answer.status == 200, answer.text
        assert name in answer.body["data"], answer.text


@ON_MODULE_LOOP
@pytest.mark.parametrize("root", WITH_ARGUMENTS, ids=root_id)
@INVALID_OPS
@given(data=st.data(), envelope=envelopes)
async def test_invalid_operations(
    target: Target,
    caplog: pytest.LogCaptureFixture,
    root: tuple[Kind, str],
    data: st.DataObject,
    envelope: Envelope,
) -> None:
    _, name = root
    document = data.draw(operations(name, Mode.NEGATIVE), label="operation")
    caplog.clear()
    answer = await send(target, envelope, document)
    assert_sound(answer, caplog)
    assert answer.codes, f"an invalid operation ran: {answer.text}"
    assert answer.body.get("data") is None, answer.text


def with_variables(kind: Kind, name: str) -> tuple[str, dict[str, graphql.GraphQLArgument]]:
    """An operation passing each argument of the field as a variable of its type."""
    field = root_fields(kind)[name]
    declared = ", ".join(f"${arg}: {argument.type}" for arg, argument in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    named = graphql.get_named_type(field.type)
    selection = "" if graphql.is_leaf_type(named) else " { __typename }"
    return f"{kind} fuzzed({declared}) {{ {name}({passed}){selection} }}", dict(field.args)


@ON_MODULE_LOOP
@pytest.mark.parametrize("root", WITH_ARGUMENTS, ids=root_id)
@VARIABLES
@given(data=st.data(), envelope=envelopes)
async def test_variables_of_any_shape(
    target: Target,
    caplog: pytest.LogCaptureFixture,
    root: tuple[Kind, str],
    data: st.DataObject,
    envelope: Envelope,
) -> None:
    kind, name = root
    document, arguments = with_variables(kind, name)
    variables = data.draw(
        st.fixed_dictionaries({}, optional=dict.fromkeys(arguments, json_values)),
        label="variables",
    )
    caplog.clear()
    answer = await send(target, envelope, document, variables)
    assert_sound(answer, caplog)


mangles = st.sampled_from(["cut", "drop", "repeat", "insert"])
junk = st.sampled_from(["{", "}", "(", ")", ":", "$", "...", "@", '"', "#", "!", "[", "]", "\\u"])


def mangle(document: str, how: str, at: int, width: int, extra: str) -> str:
    """The document cut short, with a slice dropped or repeated, or with text inserted."""
    at = at % (len(document) + 1)
    if how == "cut":
        return document[:at]
    if how == "drop":
        return document[:at] + document[at + width :]
    if how == "repeat":
        return document[:at] + document[at : at + width] * 3 + document[at:]
    return document[:at] + extra + document[at:]


@ON_MODULE_LOOP
@MANGLED
@given(
    document=any_operation(),
    how=mangles,
    at=st.integers(min_value=0),
    width=st.integers(1, 40),
    extra=junk | st.text(max_size=5),
    envelope=envelopes,
)
async def test_mangled_operations(
    target: Target,
    caplog: pytest.LogCaptureFixture,
    document: str,
    how: str,
    at: int,
    width: int,
    extra: str,
    envelope: Envelope,
) -> None:
    caplog.clear()
    answer = await send(target, envelope, mangle(document, how, at, width, extra))
    assert_sound(answer, caplog)


def persisted_query(document: str) -> st.SearchStrategy[Any]:
    """An ``extensions`` value: mostly a persistedQuery for the document, well formed or not."""
    digest = hashlib.sha256(document.encode()).hexdigest()
    hashes = st.one_of(
        st.just(digest),
        st.just(digest.upper()),
        st.text("0123456789abcdef", min_size=64, max_size=64),
        json_values,
    )
    versions = st.one_of(st.just(1), st.just(1.0), st.just(True), json_values)
    entry = st.fixed_dictionaries({"version": versions, "sha256Hash": hashes}) | json_values
    return st.fixed_dictionaries({"persistedQuery": entry}) | json_values


@ON_MODULE_LOOP
@PERSISTED
@given(
    document=any_operation(),
    data=st.data(),
    with_document=st.booleans(),
    envelope=envelopes,
)
async def test_persisted_query_extensions(
    target: Target,
    caplog: pytest.LogCaptureFixture,
    document: str,
    data: st.DataObject,
    with_document: bool,
    envelope: Envelope,
) -> None:
    # (None: a GET with neither a document nor extensions is a browser's, for GraphiQL)
    extensions = data.draw(persisted_query(document).filter(lambda e: e is not None))
    caplog.clear()
    first = await send(target, envelope, document if with_document else None, None, extensions)
    assert_sound(first, caplog)
    again = await send(target, envelope, None, None, extensions)  # the hash alone
    assert_sound(again, caplog)


def test_every_root_field_is_fuzzed() -> None:
    """Valid operations for every root field; invalid ones and variables for each field
    with arguments (hypothesis-graphql has nothing to violate in a field without any)."""
    assert {name for _, name in ROOTS} == set(root_fields("query")) | set(root_fields("mutation"))
    assert all(not root_fields(kind)[name].args for kind, name in set(ROOTS) - set(WITH_ARGUMENTS))
