"""docs/api.md runs: every example of the API guide, in order, against a real app.

The guide's fenced blocks are the examples ("How to read the examples" in the
guide is the reader's side of these rules):

- ```` ```sh server ````: how the server was started; its ``NAME=value``
  assignments are the settings of the app the examples run against.
- ```` ```graphql ````: a GraphQL document, POSTed to ``/graphql`` as
  ``{"query": ..., "variables": ...}``, exactly as written. Its leading comment
  lines ``# Header: value`` are the HTTP headers the request carries.
- ```` ```json variables ````: the variables of the document just before it.
- ```` ```http ````: a raw HTTP request (``METHOD target``, headers, a blank
  line, the body), or, when it starts with ``HTTP/``, the answer: its status,
  the headers listed (others may come too) and the body.
- ```` ```json ````: the body of the answer to the request before it (status 200).
  A top-level ``extensions`` (the cost report every answer carries) is compared
  only when the block shows one.
- ```` ```text websocket ````: a GraphQL over WebSocket session
  (graphql-transport-ws on ``/graphql``): ``> message`` sent, ``< message``
  received and compared. The socket stays open across examples until a block
  closes it (``> close``), so an event caused by a later request is received in
  a later block.

Placeholders in angle brackets stand for values that differ from run to run. One
with a dot (``<alice.token>``, ``<hello.id>``) is a value carried between
examples: the first answer it appears in binds it, later answers must show the
same value, and requests have it substituted. One without a dot (``<id>``,
``<time>``, ``<cursor>``, ``<int>``...) matches any value (``<id>`` digits,
``<int>`` a number, ``<time>`` a date or epoch seconds). A placeholder may stand
for part of a string (``"https://host/media/<sha256>.png"``) and, unquoted, for
a whole JSON value (``"remaining": <int>``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse

from bootstrap.settings import OPTIONS
from tests.conftest import AppFactory, GraphQLClient

# CHIRP_API_GUIDE_RECORD=1: report every answer that differs from the guide and go on,
# instead of stopping at the first (for whoever is updating the guide).
RECORD = bool(os.environ.get("CHIRP_API_GUIDE_RECORD"))
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "api.md"
BASE_URL = "http://127.0.0.1:8000"  # what the guide's server calls itself (CHIRP_PUBLIC_URL)
# Files the examples upload, by name: a 2x2 PNG (real bytes: Chirp reads its type and size).
FILES = {
    "photo.png": base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR42mOUXfiJgYGBiYGBgYGBAQATlQG0qwxPNwAAAABJRU5ErkJggg=="
    )
}
FENCE = re.compile(r"^```([\w-]*)(?: ([\w-]+))?\n(.*?)^```$", re.MULTILINE | re.DOTALL)
PLACEHOLDER = re.compile(r"<([A-Za-z][\w.\-]*)>")
HEADER_COMMENT = re.compile(r"^# ([A-Za-z][\w-]*): (.*)$")
FILE_BODY = re.compile(r"^<the (\d+) bytes of ([\w.\-]+)>$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?$")


@dataclass
class Block:
    line: int
    lang: str
    tag: str | None
    text: str

    def where(self) -> str:
        return f"docs/api.md, line {self.line}"


def blocks(markdown: str) -> list[Block]:
    found = []
    for match in FENCE.finditer(markdown):
        line = markdown.count("\n", 0, match.start()) + 1
        found.append(Block(line, match.group(1), match.group(2), match.group(3)))
    return found


# --- matching answers against the documented ones -------------------------------------


def quote_bare_placeholders(text: str) -> str:
    """JSON with ``<name>`` outside strings made into ``"<name>"``."""
    out, in_string, escaped = [], False, False
    i = 0
    while i < len(text):
        char = text[i]
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
            out.append(char)
        elif char == "<" and (found := PLACEHOLDER.match(text, i)):
            out.append(f'"{found.group(0)}"')
            i = found.end()
            continue
        else:
            out.append(char)
        i += 1
    return "".join(out)


def parse_json(text: str, where: str) -> Any:
    try:
        return json.loads(quote_bare_placeholders(text))
    except json.JSONDecodeError as exc:
        raise AssertionError(f"{where}: not JSON ({exc})") from None


def wildcard_fits(kind: str, value: Any) -> bool:
    """Whether ``value`` is what the dotless placeholder ``<kind>`` stands for."""
    if value is None:
        return False
    if kind == "id":
        return isinstance(value, str) and value.isdigit()
    if kind == "int":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, str) and value.isdigit()
        )
    if kind == "time":
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            return True
        return isinstance(value, str) and ISO_TIME.match(value) is not None
    return True


@dataclass
class Bindings:
    values: dict[str, Any] = field(default_factory=dict)

    def substitute(self, text: str, where: str) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if "." not in name:
                return match.group(0)
            assert name in self.values, f"{where}: <{name}> is used before an answer shows it"
            return str(self.values[name])

        return PLACEHOLDER.sub(value, text)

    def match_string(self, expected: str, actual: Any, path: str) -> None:
        whole = PLACEHOLDER.fullmatch(expected)
        if whole:
            name = whole.group(1)
            if "." not in name:
                assert wildcard_fits(name, actual), f"{path}: {actual!r} is not a <{name}>"
            elif name in self.values:
                assert actual == self.values[name], (
                    f"{path}: {actual!r}, but <{name}> was {self.values[name]!r}"
                )
            else:
                assert actual is not None, f"{path}: <{name}> is null"
                self.values[name] = actual
            return
        if not PLACEHOLDER.search(expected):
            assert actual == expected, f"{path}: {actual!r}, documented {expected!r}"
            return
        assert isinstance(actual, str), f"{path}: {actual!r}, documented {expected!r}"
        pattern, names, start = "", [], 0
        for found in PLACEHOLDER.finditer(expected):
            pattern += re.escape(expected[start : found.start()])
            name = found.group(1)
            if "." in name and name in self.values:
                pattern += re.escape(str(self.values[name]))
            else:
                pattern += "(.+?)"
                names.append(name)
            start = found.end()
        pattern += re.escape(expected[start:])
        matched = re.fullmatch(pattern, actual, re.DOTALL)
        assert matched, f"{path}: {actual!r}, documented {expected!r}"
        for name, part in zip(names, matched.groups(), strict=True):
            if "." in name:
                self.values[name] = part
            else:
                assert wildcard_fits(name, part), f"{path}: {part!r} is not a <{name}>"

    def match(self, expected: Any, actual: Any, path: str = "answer") -> None:
        """``actual`` has the documented shape and values (placeholders aside)."""
        if isinstance(expected, str):
            self.match_string(expected, actual, path)
        elif isinstance(expected, dict):
            assert isinstance(actual, dict), f"{path}: {actual!r}, documented an object"
            assert list(actual) == list(expected), (
                f"{path}: keys {list(actual)}, documented {list(expected)}"
            )
            for key, value in expected.items():
                self.match(value, actual[key], f"{path}.{key}")
        elif isinstance(expected, list):
            assert isinstance(actual, list), f"{path}: {actual!r}, documented a list"
            assert len(actual) == len(expected), (
                f"{path}: {len(actual)} items, documented {len(expected)}: {actual!r}"
            )
            for n, (want, got) in enumerate(zip(expected, actual, strict=True)):
                self.match(want, got, f"{path}[{n}]")
        else:
            assert type(actual) is type(expected), f"{path}: {actual!r}, documented {expected!r}"
            assert actual == expected, f"{path}: {actual!r}, documented {expected!r}"


def layout(value: Any, indent: int = 0, width: int = 96) -> str:
    """JSON as the guide writes it: what fits on a line on one line, the rest unfolded."""
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) + indent <= width or not isinstance(value, dict | list) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = [
            f"{pad}{json.dumps(k, ensure_ascii=False)}: {layout(v, indent + 2, width)}"
            for k, v in value.items()
        ]
        return "{\n" + ",\n".join(items) + "\n" + " " * indent + "}"
    items = [pad + layout(v, indent + 2, width) for v in value]
    return "[\n" + ",\n".join(items) + "\n" + " " * indent + "]"


def suggestion(actual: Any, bindings: Bindings, key: str = "") -> Any:
    """An answer with its run-to-run values as placeholders: a start for a guide's block."""
    if isinstance(actual, dict):
        return {k: suggestion(v, bindings, k) for k, v in actual.items()}
    if isinstance(actual, list):
        return [suggestion(v, bindings, key) for v in actual]
    if not isinstance(actual, str):
        return actual
    for name, value in bindings.values.items():
        if isinstance(value, str) and len(value) > 3 and value in actual:
            actual = actual.replace(value, f"<{name}>")
    if key in {"cursor", "endCursor"}:
        return "<cursor>"
    if ISO_TIME.match(actual):
        return "<time>"
    return re.sub(r"\b\d{15,}\b", "<id>", actual)


# --- running the examples ---------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Request:
    block: Block
    method: str
    target: str
    headers: dict[str, str]
    body: bytes | None = None
    graphql: str | None = None  # a graphql block: its document
    variables: Any = None


def settings_of(block: Block) -> dict[str, Any]:
    """The settings a ```sh server``` block's NAME=value assignments give."""
    fields = {option.env: option.field for option in OPTIONS}
    chosen: dict[str, Any] = {}
    for name, value in re.findall(r"(?:^|\s)([A-Z][A-Z0-9_]*)=(\S*)", block.text):
        assert name in fields, f"{block.where()}: no setting {name}"
        chosen[fields[name]] = value
    return chosen


def graphql_request(block: Block, bindings: Bindings) -> Request:
    document = bindings.substitute(block.text, block.where())
    headers = {"Content-Type": "application/json"}
    for line in document.splitlines():
        found = HEADER_COMMENT.match(line)
        if not found:
            break
        headers[found.group(1)] = found.group(2)
    return Request(block, "POST", "/graphql", headers, graphql=document)


def http_request(block: Block, bindings: Bindings) -> Request:
    text = bindings.substitute(block.text, block.where())
    head, _, body = text.partition("\n\n")
    first, *header_lines = head.splitlines()
    method, target = first.split(" ", 1)
    headers = dict(line.split(": ", 1) for line in header_lines)
    sent: bytes | None = None
    body = body.rstrip("\n")
    if found := FILE_BODY.match(body):
        sent = FILES[found.group(2)]
        assert len(sent) == int(found.group(1)), f"{block.where()}: {found.group(2)} size"
    elif body:
        sent = body.encode()
    return Request(block, method, target.removeprefix(BASE_URL), headers, sent)


async def send(client: GraphQLClient, request: Request) -> Answer:
    if request.graphql is not None:
        payload: dict[str, Any] = {"query": request.graphql}
        if request.variables is not None:
            payload["variables"] = request.variables
        data = json.dumps(payload).encode()
    else:
        data = request.body or b""
    response = await client.http.request(
        request.method, request.target, headers=request.headers, data=data
    )
    body = await response.read()
    return Answer(response.status, dict(response.headers), body)


def compare_body(expected: Any, answer: Answer, bindings: Bindings, where: str) -> None:
    actual = json.loads(answer.body)
    if isinstance(actual, dict) and isinstance(expected, dict) and "extensions" not in expected:
        actual.pop("extensions", None)
    try:
        bindings.match(expected, actual)
    except AssertionError as exc:
        shown = json.dumps(actual, ensure_ascii=False)
        raise AssertionError(f"{where}: {exc}\nthe server answered: {shown}") from None


def check_answer(block: Block, answer: Answer, bindings: Bindings) -> None:
    where = block.where()
    if block.lang == "json":
        assert answer.status == 200, f"{where}: status {answer.status}: {answer.body!r}"
        compare_body(parse_json(block.text, where), answer, bindings, where)
        return
    head, _, body = block.text.partition("\n\n")
    status_line, *header_lines = head.splitlines()
    status = int(status_line.split()[1])
    assert answer.status == status, f"{where}: status {answer.status}: {answer.body!r}"
    for line in header_lines:
        name, value = line.split(": ", 1)
        got = {k.lower(): v for k, v in answer.headers.items()}.get(name.lower())
        assert got is not None, f"{where}: no {name} header in {answer.headers}"
        bindings.match_string(value, got, f"{where}: header {name}")
    if body.strip():
        compare_body(parse_json(body, where), answer, bindings, where)


@dataclass
class Session:
    client: GraphQLClient
    bindings: Bindings = field(default_factory=Bindings)
    socket: ClientWebSocketResponse | None = None
    pending: Request | None = None

    async def websocket(self, block: Block) -> None:
        for line in block.text.splitlines():
            direction, _, message = line.partition(" ")
            where = f"{block.where()}: {line[:60]}"
            if direction == ">" and message == "close":
                assert self.socket is not None, f"{where}: no socket open"
                await self.socket.close()
                self.socket = None
            elif direction == ">":
                if self.socket is None:
                    self.socket = await self.client.http.ws_connect(
                        "/graphql", protocols=["graphql-transport-ws"]
                    )
                await self.socket.send_str(self.bindings.substitute(message, where))
                if json.loads(message).get("type") == "subscribe":
                    await asyncio.sleep(0.3)  # no acknowledgement: let it reach the hub
            elif direction == "<":
                assert self.socket is not None, f"{where}: no socket open"
                received = await self.socket.receive_json(timeout=10)
                try:
                    self.bindings.match(parse_json(message, where), received)
                except AssertionError as exc:
                    if RECORD:
                        print(f"\n--- {where}: {exc}\n    received: {json.dumps(received)}")
                        print(layout(suggestion(received, self.bindings)))
                        continue
                    raise AssertionError(f"{where}: {exc}\nreceived: {received}") from None
            else:
                raise AssertionError(f"{where}: a line starts with '> ' or '< '")

    async def run(self, block: Block) -> None:
        where = block.where()
        if block.lang == "graphql":
            assert self.pending is None, f"{where}: the request before has no answer"
            self.pending = graphql_request(block, self.bindings)
        elif block.lang == "json" and block.tag == "variables":
            assert self.pending is not None, f"{where}: variables without a document"
            assert self.pending.graphql is not None, f"{where}: variables of an http request"
            text = self.bindings.substitute(block.text, where)
            self.pending.variables = parse_json(text, where)
        elif block.lang == "http" and not block.text.startswith("HTTP/"):
            assert self.pending is None, f"{where}: the request before has no answer"
            self.pending = http_request(block, self.bindings)
        elif (block.lang == "json" and block.tag is None) or block.lang == "http":
            assert self.pending is not None, f"{where}: an answer without a request"
            answer = await send(self.client, self.pending)
            self.pending = None
            await self.client.settle()  # fan-out done: followers see the tweet
            try:
                check_answer(block, answer, self.bindings)
            except AssertionError as exc:
                if not RECORD:
                    raise
                print(f"\n--- {exc}\n    status {answer.status}: {answer.body.decode()}")
                with contextlib.suppress(ValueError):  # not JSON: nothing to suggest
                    body = json.loads(answer.body)
                    if isinstance(body, dict):
                        body.pop("extensions", None)
                    print(layout(suggestion(body, self.bindings)))
        elif block.lang == "text" and block.tag == "websocket":
            await self.websocket(block)

    async def close(self) -> None:
        if self.socket is not None:
            await self.socket.close()


def guide_blocks() -> list[Block]:
    return blocks(GUIDE.read_text(encoding="utf-8"))


async def start(make_client: AppFactory, found: list[Block]) -> Session:
    servers = [b for b in found if b.lang == "sh" and b.tag == "server"]
    assert len(servers) == 1, "docs/api.md needs one ```sh server``` block"
    client = await make_client(public_url=BASE_URL, **settings_of(servers[0]))
    return Session(client)


async def test_every_example_of_the_api_guide_is_what_the_server_answers(
    make_client: AppFactory,
) -> None:
    found = guide_blocks()
    session = await start(make_client, found)
    try:
        for block in found:
            await session.run(block)
        assert session.pending is None, "the guide's last request has no answer"
    finally:
        await session.close()
    examples = sum(1 for b in found if b.lang in {"graphql", "http"} or b.tag == "websocket")
    assert examples >= 40, examples


def test_the_guide_runs_every_operation_of_the_api() -> None:
    """Each root field of the schema appears in an example of the guide."""
    from graphql import build_schema

    schema = build_schema((GUIDE.parents[1] / "schema.graphql").read_text(encoding="utf-8"))
    documents = "\n".join(
        b.text for b in guide_blocks() if b.lang in {"graphql", "http"} or b.tag == "websocket"
    )
    missing = [
        f"{root.name}.{name}"
        for root in (schema.query_type, schema.mutation_type, schema.subscription_type)
        if root is not None
        for name in root.fields
        if not re.search(rf"\b{name}\b", documents)
    ]
    assert missing == [], f"docs/api.md has no example of {missing}"


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ({"id": "<id>", "at": "<time>"}, {"id": "42", "at": "2026-01-02T03:04:05.123+00:00"}),
        ({"url": "http://h/media/<sha>.png"}, {"url": "http://h/media/ab12.png"}),
        (["<a.id>", "<a.id>"], ["7", "7"]),
    ],
)
def test_placeholders_match_what_they_stand_for(expected: Any, actual: Any) -> None:
    Bindings().match(expected, actual)


@pytest.mark.parametrize(
    ("expected", "actual"),
    [
        ({"id": "<id>"}, {"id": "abc"}),
        (["<a.id>", "<a.id>"], ["7", "8"]),
        ({"a": 1}, {"a": 1, "b": 2}),
        ({"n": 1}, {"n": True}),
    ],
)
def test_what_differs_from_the_guide_fails(expected: Any, actual: Any) -> None:
    with pytest.raises(AssertionError):
        Bindings().match(expected, actual)


def test_bare_placeholders_are_json_values() -> None:
    text = '{"remaining": <int>, "s": "a <b> c", "l": [<x.y>]}'
    assert parse_json(text, "here") == {"remaining": "<int>", "s": "a <b> c", "l": ["<x.y>"]}
