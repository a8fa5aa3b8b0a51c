"""Execution plans (schema/execution/plan.py) answer exactly as graphql-core's reference executor.

``build_schema()`` runs queries from compiled plans; ``build_schema(plans=False)``
runs every operation on graphql-core's executor. This module is the spec of the
plans as a differential test: every document runs on both schemas, each time
with a fresh request context, and the two responses must be the same: ``data``
identical as JSON text, keys in the same order, and the same ``errors`` (messages,
paths, locations, extensions). Errors are compared as a multiset, and a planned
answer differing in its errors only may match any of several reference runs: the
order of errors from independent branches, and which error a null propagating
over two of them keeps, depend on when the stores' threads answer, even on the
reference executor alone. A spy on the executor tells how each planned
execution went:

- ``plan``: the plan answered (the reference executor did not run);
- ``fallback``: the plan was abandoned and the reference executor answered;
- ``reference``: no plan was made (mutations, directives, abstract types,
  introspection); the reference executor answered.

A plannable document whose answer has no error must be answered by its plan, so
the test cannot pass by always falling back; an answer with errors can only come
from the reference executor.

The data is a small world seeded through the services (sign-ups, follows both
ways, tweets with hashtags, mentions, links and photos, likes, retweets, a
retweet and a like of a since-deleted tweet, a user with no tweets, a
celebrity). Hypothesis writes the documents by walking the GraphQL schema
itself: aliases (the same field under several aliases with other arguments),
fields selected twice and merged, named and inline fragments, arguments inline
and through variables (with and without defaults), cursors from real pages,
depth up to the schema's limit; now and then a directive, ``node(id:)`` or an
introspection field, which must take the reference path. Then come the error
cases one by one, the plan cache, and regressions of the discrepancies found.
"""

from __future__ import annotations

import asyncio
import gc
import io
import json
import sqlite3
import weakref
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import pytest
from graphql import (
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
    is_required_argument,
)
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from PIL import Image
from prometheus_client import REGISTRY
from strawberry import Schema
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.types import ExecutionResult

import core.links
import resolvers.tweets
from bootstrap.services import make_services
from bootstrap.settings import Settings
from bootstrap.stores import open_media, open_stores
from core.models import TweetRecord
from resolvers.context import Context
from resolvers.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from schema import MAX_ALIASES, MAX_DEPTH, build_schema
from schema.execution import pipeline
from schema.execution import plan as plan_module
from schema.execution.plan import PlannedExecutor
from schema.execution.schema import ChirpSchema
from services.container import Services
from services.media import upload_key
from tests.conftest import FAST_PASSWORDS, SECRET

T = TypeVar("T")
PASSWORD = "correct horse"
HANDLES = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi")
# grace (four followers) and alice (three) are celebrities: their tweets are merged on read
CELEBRITY_THRESHOLD = 3
# the connection fields and the kind of cursor each takes (resolvers/pagination.py)
CURSOR_KINDS = {
    "homeTimeline": "t",
    "tweets": "t",
    "likes": "l",
    "followers": "f",
    "following": "f",
}
# hypothesis draws the first options of a list most: the fields a client uses most come first
# Answers that depend on the clock when answered (two runs of one document differ).
CLOCK_FIELDS = {("Query", "rateLimit")}

PREFERRED = [
    *("homeTimeline", "edges", "node", "author", "retweetOf", "media", "mentions", "links"),
    *("user", "tweets", "likes", "tweet", "followers", "following", "me", "pageInfo"),
]


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    """The seeded data, and what documents may name: handles, ids, cursors."""

    services: Services
    users: dict[str, int]  # handle -> id
    tweets: dict[str, TweetRecord] = field(default_factory=dict)  # by a short name
    deleted: list[int] = field(default_factory=list)
    media: list[int] = field(default_factory=list)
    cursors: dict[str, list[str]] = field(default_factory=dict)  # kind -> from real pages

    def viewers(self) -> list[int | None]:
        """Who runs each generated document: a follower of many, a celebrity's follower, nobody."""
        return [self.users["alice"], self.users["dave"], None]

    def tweet_ids(self) -> list[str]:
        return [str(t.id) for t in self.tweets.values()]


def png(size: tuple[int, int], colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


async def upload_photo(services: Services, owner: int, data: bytes) -> int:
    """The media flow without HTTP: create the upload, store the bytes, complete it."""
    media = services.media
    assert media is not None
    record, _target = await media.create_upload(owner, "image/png", len(data))

    async def chunks() -> Any:
        yield data

    await media.objects.put(upload_key(record.id), chunks(), len(data), "image/png")
    return (await media.complete(owner, record.id)).id


async def settle(services: Services) -> None:
    """Apply the queued fan-out jobs as a worker would (this marks grace a celebrity)."""
    queue = services.stores.queue
    while deliveries := await queue.take("tests", 100, 0):
        for delivery in deliveries:
            await services.fanout.apply(delivery.job)
        await queue.ack([d.id for d in deliveries])


async def seed(services: Services) -> World:
    users: dict[str, int] = {}
    for handle in HANDLES:
        name = None if handle in ("frank", "heidi") else handle.title() + " " + handle[0].upper()
        bio = f"I am {handle}; #{handle}" if handle != "grace" else ""
        _token, user = await services.accounts.sign_up(handle, PASSWORD, name, bio)
        users[handle] = user.id
    world = World(services, users)
    follows = [
        ("alice", "bob"),
        ("bob", "alice"),
        ("alice", "carol"),
        ("carol", "alice"),
        ("bob", "carol"),
        ("dave", "alice"),
        ("erin", "bob"),
        ("heidi", "erin"),
        ("frank", "heidi"),
        *((fan, "grace") for fan in ("alice", "bob", "carol", "dave")),
    ]
    for follower, followee in follows:
        await services.social.follow(users[follower], users[followee])

    async def post(name: str, author: str, text: str, media: tuple[int, ...] = ()) -> None:
        world.tweets[name] = await services.tweets.create(users[author], text, None, media)

    await post("bob1", "bob", "Hello @alice! #Intro https://example.com/welcome")
    await post("alice1", "alice", "@bob @carol lunch? #food #Food")
    await post(
        "carol1",
        "carol",
        "#python tips at https://docs.python.org/3/ and https://example.org/a?b=1",
    )
    await post("doomed", "carol", "soon gone #gone @dave")
    await post("grace1", "grace", "celebrity news #news")
    photos = (
        await upload_photo(services, users["erin"], png((16, 12), "red")),
        await upload_photo(services, users["erin"], png((8, 8), "blue")),
    )
    world.media.extend(photos)
    await post("erin1", "erin", "two photos #photos", photos)
    await post("bob2", "bob", "second post, no tags")
    await post("grace2", "grace", "shout-out to @alice and @nobody #news")
    await post("heidi1", "heidi", "@erin @bob @heidi hi")
    await post("dave1", "dave", "just dave")
    await post("alice2", "alice", "ÜNICODE ✓ #café https://example.com/ü")

    tweets = world.tweets
    for liker, liked in [
        ("alice", "bob1"),
        ("carol", "bob1"),
        ("bob", "alice1"),
        ("alice", "grace1"),
        ("dave", "doomed"),
        ("dave", "carol1"),
        ("alice", "erin1"),
    ]:
        await services.tweets.like(users[liker], tweets[liked].id)
    for who, original in [
        ("alice", "bob1"),
        ("dave", "doomed"),
        ("heidi", "grace1"),
        ("bob", "erin1"),
    ]:
        name = f"{who}-rt-{original}"
        tweets[name] = await services.tweets.retweet(users[who], tweets[original].id)
    doomed = tweets.pop("doomed")
    await services.tweets.delete(doomed.author_id, doomed.id)  # dave's retweet and like remain
    world.deleted.append(doomed.id)
    await post("carol2", "carol", "after the delete #python")
    await settle(services)
    celebrities = await services.stores.graph.followed_celebrities(users["dave"])
    assert set(celebrities) == {users["alice"], users["grace"]}
    return world


async def gather_cursors(world: World, schema: ChirpSchema) -> None:
    """Cursors of every connection of every user, and of the viewers' home timelines."""
    kinds: dict[str, list[str]] = {"t": [], "l": [], "f": []}
    page = "(first: 100) { edges { cursor } }"
    query = (
        "query($h: String!) { user(handle: $h) { tweets(first: 100, includeReplies: true) "
        f"{{ edges {{ cursor }} }} likes{page} followers{page} following{page} }} }}"
    )
    for handle in HANDLES:
        result = await schema.execute(
            query, {"h": handle}, context_value=Context(world.services, None)
        )
        assert result.errors is None, result.errors
        assert result.data is not None
        user = result.data["user"]
        for connection in ("tweets", "likes", "followers", "following"):
            kind = CURSOR_KINDS[connection]
            kinds[kind] += [e["cursor"] for e in user[connection]["edges"]]
    for viewer in world.viewers():
        if viewer is not None:
            result = await schema.execute(
                "{ homeTimeline(first: 100) { edges { cursor } } }",
                context_value=Context(world.services, viewer),
            )
            assert result.errors is None, result.errors
            assert result.data is not None
            kinds["t"] += [e["cursor"] for e in result.data["homeTimeline"]["edges"]]
    world.cursors = {kind: sorted(set(found)) for kind, found in kinds.items()}
    assert all(len(found) >= 3 for found in world.cursors.values()), world.cursors


# ------------------------------------------------------------------------ the harness


class Spy:
    """Records, for the planned schema, whether a plan was found and whether graphql-core ran."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def install(self, patch: pytest.MonkeyPatch) -> None:
        find_plan = PlannedExecutor.find_plan
        reference = StrawberryGraphQLCoreExecutionContext.execute_operation
        events = self.events

        def spied_find_plan(executor: PlannedExecutor) -> Any:
            found = find_plan(executor)
            events.append("plan" if found is not None else "no plan")
            return found

        def spied_reference(executor: Any, serially: bool | None = None) -> Any:
            if isinstance(executor, PlannedExecutor):
                events.append("reference")
            return reference(executor, serially)

        patch.setattr(PlannedExecutor, "find_plan", spied_find_plan)
        patch.setattr(StrawberryGraphQLCoreExecutionContext, "execute_operation", spied_reference)

    def outcome(self) -> str:
        """How the last execution on the planned schema was answered."""
        if "reference" not in self.events:
            return "plan" if "plan" in self.events else "not executed"
        return "fallback" if "plan" in self.events else "reference"


@dataclass
class Document:
    text: str
    variables: dict[str, Any] = field(default_factory=dict)
    operation_name: str | None = None
    reference_only: tuple[str, ...] = ()  # why the planner must refuse it; () if plannable

    def __str__(self) -> str:
        shown = self.text
        if self.variables:
            shown += f"\nvariables: {json.dumps(self.variables)}"
        if self.operation_name:
            shown += f"\noperationName: {self.operation_name}"
        return shown


@dataclass(frozen=True)
class Answer:
    """A response as a client reads it: ``data`` as JSON text, keys in order, and the errors.

    Errors are compared as a multiset: when several errors come from independent
    branches, their order (and, when a null propagates over two of them, which one
    is reported) depends on when the stores' threads answer, even on the reference
    executor alone.
    """

    data: str
    errors: tuple[str, ...]

    @classmethod
    def of(cls, result: ExecutionResult) -> Answer:
        errors = tuple(json.dumps(e.formatted, ensure_ascii=False) for e in result.errors or ())
        return cls(json.dumps(result.data, indent=1, ensure_ascii=False), errors)

    def canonical(self) -> str:
        return "\n".join(["data:", self.data, "errors:", *sorted(self.errors)])

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"data": json.loads(self.data)}
        if self.errors:
            body["errors"] = [json.loads(e) for e in self.errors]
        return body


# Which of several errors a null propagating over them keeps depends, like their order, on
# when the stores' threads answer: a planned answer that differs from the reference run in
# its errors only must equal one of this many more reference runs.
RERUNS = 20
CRASHED = "the request crashed: CancelledError escaped from schema.execute"


@dataclass
class Env:
    runner: asyncio.Runner
    world: World
    planned: ChirpSchema
    reference: ChirpSchema
    spy: Spy

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coroutine)

    async def execute(
        self,
        schema: ChirpSchema,
        doc: Document,
        viewer: int | None,
    ) -> Answer:
        context = Context(self.world.services, viewer)
        try:
            result = await schema.execute(
                doc.text, doc.variables, context_value=context, operation_name=doc.operation_name
            )
        except asyncio.CancelledError:  # nothing cancels this test: the request itself crashed
            return Answer(CRASHED, ())
        return Answer.of(result)

    async def both(self, doc: Document, viewer: int | None) -> tuple[Answer, Answer, str]:
        """(planned answer, reference answer, how the planned one was answered)."""
        self.spy.events.clear()
        planned = await self.execute(self.planned, doc, viewer)
        how = self.spy.outcome()
        reference = await self.execute(self.reference, doc, viewer)
        if planned.data == reference.data and planned.canonical() != reference.canonical():
            for _ in range(RERUNS):
                reference = await self.execute(self.reference, doc, viewer)
                if planned.canonical() == reference.canonical():
                    break
        if not doc.text.lstrip().startswith("mutation"):
            # sent again, a query validated before takes the schema's short path
            again = await self.execute(self.planned, doc, viewer)
            assert again.canonical() == planned.canonical(), f"short path\n{doc}"
        return planned, reference, how

    def compare(self, doc: Document | str, viewer: int | None = None) -> tuple[dict[str, Any], str]:
        """Run on both schemas, require the same answer; (the response, how the plan went)."""
        if isinstance(doc, str):
            doc = Document(doc)
        planned, reference, how = self.run(self.both(doc, viewer))
        assert planned.canonical() == reference.canonical(), (
            f"{doc}\nviewer: {viewer}\nplan answered by: {how}"
        )
        assert reference.data != CRASHED, f"{doc}\nviewer: {viewer}\nboth {CRASHED}"
        body = reference.body()
        check_outcome(doc, body, how)
        return body, how


def check_outcome(doc: Document, body: dict[str, Any], how: str) -> None:
    where = f"{doc}\nresponse: {json.dumps(body)}"
    if how == "not executed":  # refused before execution (validation, variables)
        assert "errors" in body, where
        assert body["data"] is None, where
    elif doc.reference_only:
        assert how == "reference", (
            f"{how}, expected the reference path ({doc.reference_only})\n{where}"
        )
    elif "errors" not in body:
        assert how == "plan", f"{how}: a clean answer must come from the plan\n{where}"
    else:
        assert how == "fallback", f"{how}: an answer with errors\n{where}"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("plan")
    chosen = Settings(
        data_dir=folder / "data",
        secret_key=SECRET,
        public_url="https://chirp.test",
        celebrity_threshold=CELEBRITY_THRESHOLD,
        inprocess_workers=0,
    )
    with (
        asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner,
        pytest.MonkeyPatch.context() as patch,
    ):
        stores = runner.run(open_stores(chosen))
        media = runner.run(open_media(chosen, SECRET))
        try:
            services = make_services(chosen, stores, FAST_PASSWORDS, media)
            world = runner.run(seed(services))
            reference = build_schema(plans=False)
            runner.run(gather_cursors(world, reference))
            spy = Spy()
            spy.install(patch)
            yield Env(runner, world, build_schema(), reference, spy)
        finally:
            runner.run(media.close())
            runner.run(stores.close())


# ------------------------------------------------------------------- the documents


def literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def is_list(field_def: GraphQLField) -> bool:
    kind = field_def.type
    while isinstance(kind, GraphQLNonNull):
        kind = kind.of_type
    return isinstance(kind, GraphQLList)


def argument_values(world: World, parent: str, name: str, argument: str) -> list[Any] | None:
    """What an argument may be given, the usual first and the erroneous last; None: unknown."""
    if argument == "first":
        return [2, 1, 3, 0, None, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_PAGE_SIZE + 1, -1]
    if argument == "after" and name in CURSOR_KINDS:
        kind = CURSOR_KINDS[name]
        wrong = next(k for k in ("t", "l", "f") if k != kind)
        return [None, *world.cursors[kind], world.cursors[wrong][0], "not-a-cursor"]
    if argument == "after":  # a connection without cursors in the world (replies, blocks...)
        return [None, None, None, "not-a-cursor"]
    if argument == "last":
        return [2, 1, 0, None, 10, MAX_PAGE_SIZE, MAX_PAGE_SIZE + 1, -1]
    if argument == "includeReplies":
        return [False, True, None]
    if (parent, name, argument) == ("Query", "user", "handle"):
        return [*HANDLES, "@bob", " Carol ", "GRACE", "nobody", "not a handle!"]
    if (parent, name, argument) == ("Query", "tweet", "id"):
        deleted = [str(i) for i in world.deleted]
        return [*world.tweet_ids(), *deleted, str(world.users["bob"]), "1", "not-an-id"]
    if (parent, name, argument) in {
        ("Query", "search", "query"),
        ("Query", "searchUsers", "query"),
    }:
        return ["hello", "#tag", "@ali", '"two words"', '"unclosed', ""]
    if argument == "limit":  # trends, whoToFollow
        return [3, 1, 10, 50, 51, 0]
    if argument == "windowMinutes":
        return [60, 5, 1440, 4]
    if (parent, name, argument) in {("Query", "moment", "id"), ("Query", "list", "id")}:
        return [*world.tweet_ids()[:1], "1", "not-an-id"]  # none exists: null, or an error
    if (parent, name, argument) == ("Query", "node", "id"):
        people = [str(world.users[h]) for h in ("alice", "frank")]
        media = [str(i) for i in world.media]
        return [*world.tweet_ids()[:4], *people, *media, str(world.deleted[0]), "1"]
    return None


class Writer:
    """Writes one valid document over the schema, drawing every choice from hypothesis."""

    def __init__(self, draw: st.DrawFn, world: World, schema: GraphQLSchema, extras: bool) -> None:
        self.draw = draw
        self.world = world
        self.schema = schema
        self.extras = extras  # may use what only the reference executor runs
        self.max_depth = draw(st.sampled_from([4, 6, MAX_DEPTH]))
        self.budget = draw(st.integers(3, 24))  # fields left to write
        self.aliases = 0
        self.definitions: list[str] = []  # variable definitions
        self.variables: dict[str, Any] = {}
        self.keys: dict[tuple[str, str], str] = {}  # (type, response key) -> its arguments
        self.fragments: dict[str, tuple[str, str, int]] = {}  # name -> (type, text, height)
        self.reference_only: set[str] = set()

    def choose(self, options: list[T]) -> T:
        return self.draw(st.sampled_from(options))

    def chance(self, one_in: int) -> bool:
        return self.draw(st.integers(1, one_in)) == one_in

    def document(self) -> Document:
        root = self.schema.query_type
        assert root is not None
        body, _height = self.selection_set(root, 1, 1)
        name = self.choose([None, "Page", "homePage"])
        if name is None and not self.definitions and self.chance(2):
            text = body  # the query shorthand
        else:
            defined = f"({', '.join(self.definitions)})" if self.definitions else ""
            text = f"query{' ' + name if name else ''}{defined} {body}"
        for _type, fragment, _height in self.fragments.values():
            text += f"\n{fragment}"
        named = name if name is not None and self.chance(2) else None
        return Document(text, self.variables, named, tuple(sorted(self.reference_only)))

    # A selection set at `level` holds fields whose own selection sets are `level` deep
    # (the depth limit's count): an object field there needs level <= max_depth.

    def selection_set(self, parent: GraphQLObjectType, level: int, width: int) -> tuple[str, int]:
        """The text of a selection set on ``parent`` and its height (levels it adds)."""
        parts: list[str] = []
        height = 0
        for _ in range(self.draw(st.integers(1, 4))):
            text, added = self.selection(parent, level, width)
            parts.append(text)
            height = max(height, added)
        return "{ " + " ".join(parts) + " }", height

    def selection(self, parent: GraphQLObjectType, level: int, width: int) -> tuple[str, int]:
        kind = self.choose(["field", "field", "field", "field", "spread", "inline"])
        if self.budget <= 0:
            kind = "field"
        if kind == "inline":
            condition = self.choose([f" on {parent.name}", ""])
            body, height = self.selection_set(parent, level, width)
            return f"...{condition}{self.directive()} {body}", height
        if kind == "spread":
            return self.spread(parent, level, width)
        return self.field(parent, level, width)

    def spread(self, parent: GraphQLObjectType, level: int, width: int) -> tuple[str, int]:
        reusable = [
            name
            for name, (type_name, text, height) in self.fragments.items()
            if type_name == parent.name and text and level - 1 + height <= self.max_depth
        ]
        if reusable and self.chance(2):
            name = self.choose(reusable)
            height = self.fragments[name][2]
        else:
            name = f"{parent.name}Parts{len(self.fragments) + 1}"
            self.fragments[name] = (parent.name, "", 0)  # reserved: no spread of itself
            body, height = self.selection_set(parent, level, width)
            self.fragments[name] = (parent.name, f"fragment {name} on {parent.name} {body}", height)
        return f"...{name}{self.directive()}", height

    def directive(self) -> str:
        if not self.extras or not self.chance(6):
            return ""
        self.reference_only.add("directive")
        chosen = self.choose([" @include(if: $show)", " @skip(if: $show)", " @skip(if: false)"])
        if "$show" in chosen and "$show: Boolean!" not in self.definitions:
            self.definitions.append("$show: Boolean!")
            self.variables["show"] = self.draw(st.booleans())
        return chosen

    def fields(self, parent: GraphQLObjectType, level: int) -> list[str]:
        """The fields of ``parent`` this selection may name: objects weigh double."""
        objects: list[str] = []
        leaves: list[str] = []
        for name, field_def in parent.fields.items():
            if (parent.name, name) in CLOCK_FIELDS:
                continue
            named = get_named_type(field_def.type)
            if not is_leaf_type(named) and (level > self.max_depth or self.budget <= 0):
                continue
            if isinstance(named, GraphQLInterfaceType) and not self.extras:
                continue  # node(id:): the reference path
            required = [a for a, arg in field_def.args.items() if is_required_argument(arg)]
            if any(argument_values(self.world, parent.name, name, a) is None for a in required):
                continue
            (leaves if is_leaf_type(named) else objects).append(name)
        objects.sort(key=lambda name: PREFERRED.index(name) if name in PREFERRED else 99)
        names = [*objects, *objects, *leaves, "__typename"]
        if parent is self.schema.query_type and self.extras:
            names += ["__schema", "__type"]
        return names

    def field(self, parent: GraphQLObjectType, level: int, width: int) -> tuple[str, int]:
        self.budget -= 1
        name = self.choose(self.fields(parent, level))
        if name in ("__schema", "__type"):
            self.reference_only.add("introspection")
            if name == "__schema":
                return "__schema { queryType { name } types { name kind } }", 0
            return '__type(name: "Tweet") { name fields { name type { name kind } } }', 0
        alias = None
        if self.aliases < MAX_ALIASES - 5 and self.chance(3):
            alias = f"{name.strip('_')}{self.draw(st.integers(1, 3))}"
            self.aliases += 1
        key = alias or name
        if name == "__typename":
            return f"{alias + ': ' if alias else ''}__typename{self.directive()}", 0
        field_def = parent.fields[name]
        if (parent.name, key) in self.keys:  # the key again: same field, same arguments
            arguments = self.keys[parent.name, key]
        else:
            arguments = self.arguments(parent, name, field_def, width)
            self.keys[parent.name, key] = arguments
        head = f"{alias + ': ' if alias else ''}{name}{arguments}{self.directive()}"
        named = get_named_type(field_def.type)
        if is_leaf_type(named):
            return head, 0
        if isinstance(named, GraphQLInterfaceType):
            self.reference_only.add("abstract type")
            body, height = self.on_node(level + 1, width)
            return f"{head} {body}", height + 1
        assert isinstance(named, GraphQLObjectType)
        factor = 1
        if name in CURSOR_KINDS or named.name.endswith("Connection"):
            factor = 3
        elif is_list(field_def) and name != "edges":
            factor = 2
        body, height = self.selection_set(named, level + 1, width * factor)
        return f"{head} {body}", height + 1

    def on_node(self, level: int, width: int) -> tuple[str, int]:
        parts = ["__typename", "id"]
        height = 0
        for type_name in ("Tweet", "User", "Media"):
            if self.chance(2):
                concrete = self.schema.get_type(type_name)
                assert isinstance(concrete, GraphQLObjectType)
                body, added = self.selection_set(concrete, level, width)
                parts.append(f"... on {type_name} {body}")
                height = max(height, added)
        return "{ " + " ".join(parts) + " }", height

    def arguments(
        self, parent: GraphQLObjectType, name: str, field_def: GraphQLField, width: int
    ) -> str:
        given: list[str] = []
        for argument, arg in field_def.args.items():
            values = argument_values(self.world, parent.name, name, argument)
            if values is None:
                continue
            required = isinstance(arg.type, GraphQLNonNull)
            if argument == "first" and width > 1:
                values = [1, 2, 0]  # keep nested lists small
            how = self.choose(["inline", "variable", "variable with a default", "omitted"])
            if how == "omitted" and (required or (argument == "first" and width > 1)):
                how = "inline"
            if how == "omitted":
                continue
            value = self.choose(values)
            if how == "inline":
                given.append(f"{argument}: {literal(value)}")
                continue
            variable = f"{argument}{len(self.definitions) + 1}"
            definition = f"${variable}: {arg.type}"
            if how == "variable with a default" and not required:
                definition += f" = {literal(value)}"
                if self.chance(2):  # else the default stays unused
                    self.variables[variable] = self.choose(values)
            else:
                self.variables[variable] = value
            self.definitions.append(definition)
            given.append(f"{argument}: ${variable}")
        return f"({', '.join(given)})" if given else ""


@st.composite
def documents(draw: st.DrawFn, world: World, schema: GraphQLSchema) -> Document:
    extras = draw(st.integers(1, 6)) == 6  # one document in six may leave the plans
    return Writer(draw, world, schema, extras).document()


# ----------------------------------------------------------- generated documents


EXAMPLES = 200


def costly(body: dict[str, Any]) -> bool:
    """Whether an answer is the refusal of a query over the cost limit."""
    errors = body.get("errors") or [{}]
    return bool(errors[0].get("extensions", {}).get("code") == "QUERY_TOO_COSTLY")


def test_generated_documents_answer_as_the_reference_executor(env: Env) -> None:
    answered: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        doc = data.draw(documents(env.world, env.planned._schema), label="document")
        for viewer in env.world.viewers():
            body, how = env.compare(doc, viewer)
            if how == "not executed" and costly(body):
                reject()  # valid, but over the cost limit: a policy, not a document error
            assert how != "not executed", f"the generator wrote an invalid document:\n{doc}\n{body}"
            answered[how] += 1

    check()
    print(f"\nanswered by: {dict(answered)}")
    # the plans really run: most executions are answered by them
    assert answered["plan"] >= len(env.world.viewers()) * EXAMPLES // 3, answered
    assert answered["fallback"] > 0, answered
    assert answered["reference"] > 0, answered


def test_the_generator_knows_every_argument_of_the_query_types(env: Env) -> None:
    """A field added to the schema with an argument the generator cannot fill fails here."""
    schema = env.planned._schema
    seen: set[str] = set()
    unknown: list[str] = []
    stack: list[GraphQLObjectType] = [t for t in [schema.query_type] if t is not None]
    while stack:
        parent = stack.pop()
        if parent.name in seen:
            continue
        seen.add(parent.name)
        for name, field_def in parent.fields.items():
            for argument in field_def.args:
                if argument_values(env.world, parent.name, name, argument) is None:
                    unknown.append(f"{parent.name}.{name}({argument}:)")
            named = get_named_type(field_def.type)
            if isinstance(named, GraphQLInterfaceType):
                stack += [
                    t for t in schema.get_possible_types(named) if isinstance(t, GraphQLObjectType)
                ]
            elif isinstance(named, GraphQLObjectType):
                stack.append(named)
    assert unknown == []
    assert {"Query", "User", "Tweet", "Media", "Link", "PageInfo"} <= seen


# --------------------------------------------------------------- the reference path


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ('{ user(handle: "bob") { handle tweetsCount @include(if: true) } }', "directive"),
        (
            'query($s: Boolean!) { user(handle: "bob") { ... on User @skip(if: $s) { bio } } }',
            "directive",
        ),
        (
            '{ user(handle: "bob") { ...Parts } } fragment Parts on User { id @skip(if: false) }',
            "directive",
        ),
        (
            "{ node(id: TWEET) { __typename id ... on Tweet { text author { handle } } } }",
            "abstract",
        ),
        ("{ node(id: USER) { id ... on User { handle followersCount } } }", "abstract"),
        ("{ node(id: MEDIA) { id ... on Media { kind width height url } } }", "abstract"),
        ("{ __schema { queryType { name } } }", "introspection"),
        (
            '{ __type(name: "User") { name fields { name } } user(handle: "bob") { id } }',
            "introspection",
        ),
    ],
)
def test_documents_the_planner_refuses_take_the_reference_path(
    env: Env, text: str, why: str
) -> None:
    world = env.world
    text = (
        text.replace("TWEET", f'"{world.tweets["erin1"].id}"')
        .replace("USER", f'"{world.users["grace"]}"')
        .replace("MEDIA", f'"{world.media[0]}"')
    )
    doc = Document(text, {"s": False} if "$s" in text else {}, reference_only=(why,))
    for viewer in world.viewers():
        body, how = env.compare(doc, viewer)
        assert how == "reference", body
        assert "errors" not in body, body


def test_a_mutation_takes_the_reference_path(env: Env) -> None:
    bob = env.world.users["bob"]
    doc = Document(  # alice follows bob already: an idempotent call, nothing changes
        f'mutation {{ followUser(userId: "{bob}") {{ user {{ handle viewerFollows }} errors {{ code }} }} }}',
        reference_only=("mutation",),
    )
    body, how = env.compare(doc, env.world.users["alice"])
    assert body == {
        "data": {"followUser": {"user": {"handle": "bob", "viewerFollows": True}, "errors": []}}
    }
    assert how == "reference"


def test_a_home_page_runs_from_its_plan(env: Env) -> None:
    """The query the app sends most, with every kind of field: answered by the plan."""
    doc = Document(
        """query Home($first: Int, $after: String) {
          me { handle followersCount }
          homeTimeline(first: $first, after: $after) {
            edges { cursor node { ...TweetCard retweetOf { ...TweetCard } } }
            pageInfo { hasNextPage endCursor }
          }
        }
        fragment TweetCard on Tweet {
          id text createdAt likeCount retweetCount hashtags conversationId url
          viewerHasLiked viewerHasRetweeted
          author { id handle displayName viewerFollows followsViewer }
          mentions { handle } media { id kind url width height } links { shortUrl displayUrl }
        }""",
        {"first": 4},
    )
    world = env.world
    for viewer in (world.users["alice"], world.users["dave"], world.users["frank"]):
        body, how = env.compare(doc, viewer)
        assert how == "plan"
        assert "errors" not in body
        page = body["data"]["homeTimeline"]
        doc.variables["after"] = page["pageInfo"]["endCursor"]  # the next page, by cursor
        body, how = env.compare(doc, viewer)
        assert how == "plan", body
        doc.variables.pop("after")
    # dave sees his retweet of a deleted tweet: retweetOf is null, not an error
    body, _ = env.compare(
        '{ user(handle: "dave") { tweets { edges { node { text retweetOf { id } } } } } }'
    )
    assert {"node": {"text": "", "retweetOf": None}} in body["data"]["user"]["tweets"]["edges"]


def test_the_limits_refuse_alike(env: Env) -> None:
    deep = (  # ten levels: the limit
        '{ user(handle: "alice") { followers { edges { node { tweets { edges { node { author '
        "{ following(first: 2) { pageInfo { hasNextPage } } } } } } } } } } }"
    )
    body, how = env.compare(deep)
    assert how == "plan"
    assert "errors" not in body
    deeper = deep.replace("pageInfo { hasNextPage }", "edges { node { handle } }")
    body, how = env.compare(deeper)
    assert how == "not executed"
    assert [e["extensions"]["code"] for e in body["errors"]] == ["QUERY_TOO_DEEP"]
    aliases = " ".join(f"a{n}: __typename" for n in range(MAX_ALIASES + 1))
    body, how = env.compare(f"{{ {aliases} }}")
    assert how == "not executed"
    assert [e["extensions"]["code"] for e in body["errors"]] == ["TOO_MANY_ALIASES"]


# ----------------------------------------------------------------------- errors


def codes(body: dict[str, Any]) -> list[tuple[Any, str]]:
    return [(e.get("path"), e["extensions"]["code"]) for e in body.get("errors", [])]


def test_the_home_timeline_without_a_token_is_unauthenticated(env: Env) -> None:
    body, how = env.compare("{ homeTimeline { edges { cursor } } }", None)
    assert body["data"] is None
    assert codes(body) == [(["homeTimeline"], "UNAUTHENTICATED")]
    assert how == "fallback"
    body, how = env.compare('{ me { handle } user(handle: "bob") { handle } }', None)
    assert body["data"] == {"me": None, "user": {"handle": "bob"}}
    assert codes(body) == [(["me"], "UNAUTHENTICATED")]


@pytest.mark.parametrize(
    "after", ["nope", "bDox", "dDo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5", "x" * 101]
)
def test_a_bad_cursor_is_bad_user_input(env: Env, after: str) -> None:
    doc = Document(
        'query($after: String) { user(handle: "bob") { handle tweets(after: $after) { edges { cursor } } } me { handle } }',
        {"after": after},
    )
    body, how = env.compare(doc, env.world.users["alice"])
    assert body["data"] == {"user": None, "me": {"handle": "alice"}}
    assert codes(body) == [(["user", "tweets"], "BAD_USER_INPUT")]
    assert how == "fallback"


@pytest.mark.parametrize("first", [MAX_PAGE_SIZE + 1, -1, 2**31 - 1])
def test_first_out_of_range_is_bad_user_input(env: Env, first: int) -> None:
    doc = Document("query($n: Int) { homeTimeline(first: $n) { edges { cursor } } }", {"n": first})
    body, how = env.compare(doc, env.world.users["alice"])
    assert body["data"] is None
    assert codes(body) == [(["homeTimeline"], "BAD_USER_INPUT")]
    assert how == "fallback"


@pytest.mark.parametrize(
    ("variables", "code"),
    [
        ({"n": "ten"}, "BAD_USER_INPUT"),
        ({"n": 2**31}, "BAD_USER_INPUT"),
        ({"n": 1.5}, "BAD_USER_INPUT"),
        ({"n": 2, "h": None}, "BAD_USER_INPUT"),
        ({"n": 2, "h": ["bob"]}, "BAD_USER_INPUT"),
    ],
)
def test_a_variable_of_the_wrong_type_is_refused_before_execution(
    env: Env, variables: dict[str, Any], code: str
) -> None:
    doc = Document(
        'query($n: Int, $h: String! = "bob") { user(handle: $h) { tweets(first: $n) { edges { cursor } } } }',
        variables,
    )
    body, how = env.compare(doc, env.world.users["alice"])
    assert body["data"] is None
    assert how == "not executed"
    assert [e["extensions"]["code"] for e in body["errors"]] == [code]


def test_unknown_handles_and_ids_are_null_from_the_plan(env: Env) -> None:
    world = env.world
    doc = f"""{{
      nobody: user(handle: "nobody") {{ handle }}
      invalid: user(handle: "not a handle!") {{ handle }}
      spaced: user(handle: " @Carol ") {{ handle }}
      gone: tweet(id: "{world.deleted[0]}") {{ id }}
      aUser: tweet(id: "{world.users["bob"]}") {{ id }}
      unknown: tweet(id: "1") {{ id }}
    }}"""
    body, how = env.compare(doc, world.users["alice"])
    assert body == {
        "data": {
            "nobody": None,
            "invalid": None,
            "spaced": {"handle": "carol"},
            "gone": None,
            "aUser": None,
            "unknown": None,
        }
    }
    assert how == "plan"
    body, how = env.compare('{ ok: user(handle: "bob") { id } bad: tweet(id: "12x") { id } }')
    assert body["data"] == {"ok": {"id": str(world.users["bob"])}, "bad": None}
    assert codes(body) == [(["bad"], "BAD_USER_INPUT")]
    assert how == "fallback"


def raise_for(target: int, call: Callable[..., Any]) -> Callable[..., Any]:
    """``call``, raising for the tweet (or user) id ``target``."""

    def failing(ctx: Context, key: Any, *args: Any) -> Any:
        if key == target:
            raise RuntimeError(f"boom for {key}")
        return call(ctx, key, *args)

    return failing


def test_a_resolver_raising_mid_list_nulls_up_to_the_nullable_parent(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """viewerHasLiked (non-null) fails for one tweet: the null climbs to ``a: user``."""
    world = env.world
    monkeypatch.setattr(
        resolvers.tweets,
        "viewer_has_liked",
        raise_for(world.tweets["bob2"].id, resolvers.tweets.viewer_has_liked),
    )
    doc = """{
      a: user(handle: "bob") { handle tweets { edges { node { id viewerHasLiked } } } }
      b: user(handle: "carol") { handle tweets(first: 1) { edges { node { viewerHasLiked } } } }
    }"""
    body, how = env.compare(doc, world.users["alice"])
    assert body["data"]["a"] is None
    assert body["data"]["b"]["handle"] == "carol"
    [(path, code)] = codes(body)
    assert (path[0], path[-1], code) == ("a", "viewerHasLiked", "INTERNAL_SERVER_ERROR")
    assert body["errors"][0]["message"] == "Internal server error."
    assert how == "fallback"
    body, how = env.compare(
        "{ homeTimeline { edges { node { viewerHasLiked } } } }", world.users["alice"]
    )
    assert body["data"] is None
    assert how == "fallback"
    body, how = env.compare(doc, None)  # anonymous too (the patch fails before any lookup)
    assert body["data"]["a"] is None
    assert how == "fallback"


def test_a_nullable_field_raising_mid_list_is_null_there_only(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """retweetOf (nullable) fails for heidi's retweet of grace1: null there, one error."""
    world = env.world
    monkeypatch.setattr(
        resolvers.tweets, "related", raise_for(world.tweets["grace1"].id, resolvers.tweets.related)
    )
    doc = "{ homeTimeline(first: 100) { edges { node { id retweetOf { id text } } } } }"
    body, how = env.compare(doc, world.users["frank"])  # frank follows heidi
    edges = body["data"]["homeTimeline"]["edges"]
    retweet = [e["node"]["id"] for e in edges].index(str(world.tweets["heidi-rt-grace1"].id))
    assert codes(body) == [
        (["homeTimeline", "edges", retweet, "node", "retweetOf"], "INTERNAL_SERVER_ERROR")
    ]
    assert edges[retweet]["node"]["retweetOf"] is None
    assert how == "fallback"
    body, how = env.compare(doc, world.users["alice"])  # no retweet of grace1 on her page
    assert "errors" not in body
    assert how == "plan"


def test_a_synchronous_resolver_raising_is_answered_alike(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tweet.links runs without awaiting: the plan meets the error in its first pass."""
    real = core.links.display_url

    def display_url(url: str) -> str:
        if "docs.python.org" in url:
            raise ValueError(url)
        return real(url)

    monkeypatch.setattr("resolvers.tweets.display_url", display_url)
    doc = '{ a: user(handle: "carol") { tweets { edges { node { links { displayUrl } } } } } b: user(handle: "bob") { tweets { edges { node { links { displayUrl } } } } } }'
    body, how = env.compare(doc, env.world.users["alice"])
    assert body["data"]["a"] is None
    assert body["data"]["b"] is not None
    assert how == "fallback"


@pytest.mark.parametrize(
    ("failure", "code"),
    [
        (RuntimeError("boom"), "INTERNAL_SERVER_ERROR"),
        (sqlite3.OperationalError("database is locked"), "SERVICE_UNAVAILABLE"),
        (None, "INTERNAL_SERVER_ERROR"),  # bob missing from the answer: a broken store
    ],
    ids=["bug", "backend-down", "author-missing"],
)
def test_the_graph_failing_for_one_author_is_answered_alike(
    env: Env, monkeypatch: pytest.MonkeyPatch, failure: Exception | None, code: str
) -> None:
    """Every lookup of users that includes bob fails (or leaves him out): the batches,
    the nulls they propagate and the partial data must be the reference executor's."""
    world = env.world
    bob = world.users["bob"]
    graph = world.services.stores.graph
    get_users = graph.get_users

    async def failing(ids: Any) -> Any:
        found = await get_users(ids)
        if bob in ids:
            if failure is not None:
                raise failure
            found = {k: v for k, v in found.items() if k != bob}
        return found

    monkeypatch.setattr(graph, "get_users", failing)
    ids = [world.tweets[name].id for name in ("bob1", "carol1", "alice1", "bob2")]
    tweets = " ".join(
        f't{n}: tweet(id: "{i}") {{ text author {{ handle }} }}' for n, i in enumerate(ids)
    )
    doc = f'{{ {tweets} user(handle: "dave") {{ likes {{ edges {{ node {{ author {{ handle }} }} }} }} }} }}'
    for viewer in (None, world.users["carol"]):
        body, how = env.compare(doc, viewer)
        data = body["data"]
        assert data["t0"] is None, data
        assert data["t3"] is None, data
        assert {c for _, c in codes(body)} == {code}
        assert how == "fallback"


# ------------------------------------------------------------------- the plan cache


def cached(schema: ChirpSchema) -> list[tuple[str, str | None]]:
    """The keys of the schema's plan cache, least recently used first."""
    executor = schema.execution_context_class
    assert issubclass(executor, PlannedExecutor)
    return list(cast("type[PlannedExecutor]", executor).plans)


def count_planning(patch: pytest.MonkeyPatch) -> list[str | None]:
    """Record each compilation of a plan (a cache miss): the operation's name."""
    planned: list[str | None] = []
    plan = plan_module._Planner.plan

    def counting(planner: Any) -> Any:
        operation = planner.executor.operation
        planned.append(operation.name.value if operation.name else None)
        return plan(planner)

    patch.setattr(plan_module._Planner, "plan", counting)
    return planned


def test_one_document_with_two_operations_has_a_plan_per_operation(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = build_schema()  # a cache of its own
    compiled = count_planning(monkeypatch)
    text = """query A { user(handle: "alice") { handle } }
              query B { user(handle: "bob") { handle followersCount } me { handle } }"""
    for name, expected in [
        ("A", {"user": {"handle": "alice"}}),
        ("B", {"user": {"handle": "bob", "followersCount": 2}, "me": {"handle": "dave"}}),
        ("A", {"user": {"handle": "alice"}}),
    ]:
        doc = Document(text, operation_name=name)
        env.spy.events.clear()
        answer = env.run(env.execute(schema, doc, env.world.users["dave"]))
        assert env.spy.outcome() == "plan"
        assert answer == env.run(env.execute(env.reference, doc, env.world.users["dave"]))
        assert answer.body() == {"data": expected}
    assert compiled == ["A", "B"]  # the second A came from the cache
    assert cached(schema) == [(text, "B"), (text, "A")]
    # Without an operationName neither runs anything (GraphQL's GetOperation()), and no
    # plan is looked up or compiled.
    for refusing in (schema, env.reference):
        with pytest.raises(pipeline.OperationNameRequired):
            env.run(env.execute(refusing, Document(text), None))
    assert cached(schema) == [(text, "B"), (text, "A")]
    assert compiled == ["A", "B"]


def test_variables_are_not_part_of_the_key_inline_arguments_are(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = build_schema()
    compiled = count_planning(monkeypatch)
    by_variable = Document("query($h: String!) { user(handle: $h) { handle } }")
    for handle in ("alice", "bob", "nobody", "frank"):
        by_variable.variables = {"h": handle}
        answer = env.run(env.execute(schema, by_variable, None))
        assert answer.body() == {
            "data": {"user": {"handle": handle} if handle != "nobody" else None}
        }
    for handle in ("alice", "bob"):
        answer = env.run(
            env.execute(schema, Document(f'{{ user(handle: "{handle}") {{ handle }} }}'), None)
        )
        assert answer.body() == {"data": {"user": {"handle": handle}}}
    assert len(compiled) == 3
    assert len(cached(schema)) == 3


def test_the_plan_cache_is_bounded_least_recently_used_first(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_module, "PLAN_CACHE_SIZE", 3)
    schema = build_schema()
    compiled = count_planning(monkeypatch)
    docs = [Document(f'{{ user(handle: "{h}") {{ handle }} }}') for h in HANDLES[:4]]
    docs.append(Document("{ me @include(if: true) { handle } }", reference_only=("directive",)))

    def run(index: int) -> None:
        env.spy.events.clear()
        answer = env.run(env.execute(schema, docs[index], env.world.users["alice"]))
        assert answer == env.run(env.execute(env.reference, docs[index], env.world.users["alice"]))
        assert env.spy.outcome() == ("reference" if index == 4 else "plan")

    for index in range(5):
        run(index)
    assert cached(schema) == [(docs[i].text, None) for i in (2, 3, 4)]  # "no plan" counts
    run(2)  # a hit: now the most recent
    assert cached(schema) == [(docs[i].text, None) for i in (3, 4, 2)]
    run(0)  # evicted: compiled again, evicting the least recently used
    assert cached(schema) == [(docs[i].text, None) for i in (4, 2, 0)]
    assert len(compiled) == 6


def test_a_dropped_schema_takes_its_plans_with_it(env: Env) -> None:
    """Each schema's plans live on its own executor class: no process-wide registry
    keeps a schema (the app builds one per application, the tests one per app)."""
    schema = build_schema()
    answer = env.run(env.execute(schema, Document('{ user(handle: "bob") { handle } }'), None))
    assert answer.errors == ()
    assert len(cached(schema)) == 1
    gone = weakref.ref(schema._schema)
    del schema
    pipeline._validate.cache_clear()  # the validation cache holds schemas too (1024 at most)
    gc.collect()
    assert gone() is None


# ------------------------------------------------------------- fallback regressions
#
# The fallback once re-ran the operation on the context the abandoned attempt had
# used, its loaders full: resolvers that had been asynchronous answered at once, so
# errors came in another order, and a null propagating to the root kept another
# error, or one more, than the reference executor (fixed: schema/execution/plan.py
# gives the fallback fresh loaders). And the reference executor crashed when a failed field's
# siblings were cancelled while another field awaited the same loader key (fixed:
# resolvers/dataloader.py, a cached future is not cancelled for the others).


def test_the_fallback_reports_the_error_the_reference_reports(env: Env) -> None:
    """Every edge's ``author.likes`` fails and the first failure nulls the response: the
    first to fail is at the first tweet whose author ``a`` had already loaded (bob's)."""
    bob2 = env.world.tweets["bob2"].id
    doc = (
        f'{{ a: tweet(id: "{bob2}") {{ author {{ handle }} }} '
        'homeTimeline { edges { node { author { likes(after: "x") { __typename } } } } } }'
    )
    body, how = env.compare(doc, env.world.users["alice"])
    assert body["data"] is None
    [(path, code)] = codes(body)
    assert (path[:2], path[3:], code) == (
        ["homeTimeline", "edges"],
        ["node", "author", "likes"],
        "BAD_USER_INPUT",
    )
    assert how == "fallback"


@pytest.mark.parametrize(
    ("doc", "viewer"),
    [
        (
            "{ homeTimeline(first: -1) { __typename } me { following(first: -1) { __typename } } }",
            "alice",
        ),
        (
            '{ user(handle: "bob") { following(first: -1) { __typename } } homeTimeline { __typename } }',
            None,
        ),
    ],
    ids=["signed-in", "anonymous"],
)
def test_the_fallback_drops_the_errors_a_null_root_drops(
    env: Env, doc: str, viewer: str | None
) -> None:
    """homeTimeline fails first and nulls the whole response: the later error is dropped."""
    body, how = env.compare(doc, env.world.users[viewer] if viewer else None)
    assert body["data"] is None
    assert [path for path, _ in codes(body)] == [["homeTimeline"]]
    assert how == "fallback"


@pytest.mark.parametrize("planned", [False, True], ids=["reference-schema", "refused-plan"])
def test_a_field_error_beside_a_shared_loader_key_does_not_crash(env: Env, planned: bool) -> None:
    """``b.likes`` fails: graphql-core cancels ``b.followersCount``, which awaits the
    loader value ``a.followersCount`` awaits too (carol's count, one cached future)."""
    doc = Document(
        '{ a: user(handle: "carol") { followersCount } '
        'b: user(handle: "carol") { likes(first: -1) { __typename } followersCount } }'
    )
    schema = env.reference
    if planned:
        schema = env.planned
        doc.text = doc.text.replace("{ followersCount }", "{ followersCount @skip(if: false) }")
    answer = env.run(env.execute(schema, doc, None))
    assert answer.data != CRASHED
    body = answer.body()
    assert body["data"] == {"a": {"followersCount": 2}, "b": None}
    assert codes(body) == [(["b", "likes"], "BAD_USER_INPUT")]


HOME_PAGE = """{ me { handle } homeTimeline(first: 5) {
  edges { cursor node { id text viewerHasLiked viewerHasRetweeted author { handle } } }
  pageInfo { endCursor } } }"""


@pytest.mark.parametrize(
    ("text", "signed_in"),
    [(HOME_PAGE, True), ('{ user(handle: "bob") { handle tweetsCount } }', False)],
    ids=["home page", "a user, anonymously"],
)
def test_a_request_is_freed_when_answered_not_left_to_the_cycle_collector(
    env: Env, text: str, signed_in: bool
) -> None:
    """No reference cycle holds a request: its context, loaders and records go with it.

    A cycle would keep them until the collector's next pass over the older
    generations, which then takes milliseconds and stalls every request in flight.
    (The app's executor cuts graphql-core's own cycle; the reference schema, built
    without plans, runs strawberry's executor unchanged and is not checked. An
    answer with errors still leaves cycles: an error keeps its traceback, whose
    frames refer back to it.)
    """
    viewer = env.world.users["alice"] if signed_in else None

    async def answered(schema: ChirpSchema) -> tuple[weakref.ref[Context], weakref.ref[Any]]:
        context = Context(env.world.services, viewer)
        result = await schema.execute(text, context_value=context)
        assert not result.errors
        return weakref.ref(context), weakref.ref(context.loaders)

    gc.collect()
    gc.disable()
    try:
        context, loaders = env.run(answered(env.planned))
        env.run(asyncio.sleep(0))  # callbacks the loop still held
        assert context() is None
        assert loaders() is None
    finally:
        gc.enable()


def test_a_query_sent_again_takes_the_short_path_and_errors_the_full_one(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Validated once, a query then skips strawberry's per-request machinery.

    An answer with errors is answered again the full way, so its errors carry the
    same codes and messages.
    """
    full_runs: list[str | None] = []
    full_execute = Schema.execute

    async def counted(schema: Any, query: str | None, *args: Any, **kwargs: Any) -> Any:
        full_runs.append(query)
        return await full_execute(schema, query, *args, **kwargs)

    monkeypatch.setattr(Schema, "execute", counted)
    home = "query ShortPath { homeTimeline(first: 2) { edges { node { id text } } } }"
    alice = env.world.users["alice"]

    async def run(viewer: int | None) -> str:
        result = await env.planned.execute(
            home, context_value=Context(env.world.services, viewer), operation_name="ShortPath"
        )
        return Answer.of(result).canonical()

    def timed() -> float:  # operations the latency histogram counted under this name
        return (
            REGISTRY.get_sample_value(
                "chirp_graphql_request_seconds_count", {"operation": "ShortPath"}
            )
            or 0.0
        )

    first = env.run(run(alice))
    assert full_runs == [home]
    assert timed() == 1
    assert env.run(run(alice)) == first
    assert full_runs == [home]  # the short path answered
    assert timed() == 2
    refused = env.run(run(None))
    assert full_runs == [home, home]  # errors: answered the full way
    assert '"code": "UNAUTHENTICATED"' in refused
    assert env.run(run(None)) == refused
