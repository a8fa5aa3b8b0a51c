"""The GraphQL endpoint: strawberry's aiohttp view with Chirp's context and errors.

Every refusal at the HTTP level (malformed JSON, wrong content type, a body
over the limit, a mutation over GET) is a JSON body in GraphQL's error shape
with ``extensions.code``, never a bare text page.

Answers follow GraphQL over HTTP, by the request's ``Accept`` header (``Format``):
``application/graphql-response+json`` labels the answer so and gives a request
error (parse, validation, variable coercion: no ``data``) status 400;
``application/json`` answers as before the specification, 200 with ``"data":
null``; no ``Accept``, ``*/*`` or anything else takes the specification's status
codes under the ``application/json`` label.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from functools import lru_cache
from typing import Any, NamedTuple

import orjson
from aiohttp import ClientConnectionResetError, hdrs, web
from cross_web import AiohttpHTTPRequestAdapter, AsyncHTTPRequestAdapter, HTTPException
from strawberry.aiohttp.views import AiohttpWebSocketAdapter, GraphQLView
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from core.errors import RateLimited
from resolvers.context import Context
from services.apps import InvalidApiKey
from services.container import Services
from web.assets import NOT_BUILT_PAGE, NOT_BUILT_STATUS, Bundles, graphiql_page
from web.limits import CONTEXT_KEY, apply_limits, client_ip
from web.security import graphiql_csp
from web.shutdown import track_websocket

HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
JSON_TYPE = "application/json"
MAX_SUBSCRIPTIONS_PER_CONNECTION = 20
GRAPHQL_RESPONSE_TYPE = "application/graphql-response+json"
POST_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})
OPTIONAL_PARAMS = frozenset({"operationName", "variables", "extensions"})


class Format(NamedTuple):
    """How GraphQL responses are sent, for one kind of ``Accept`` header."""

    content_type: str  # the Content-Type of every GraphQL response
    request_error_status: int  # a response without data: the request was refused


# The legacy media type, for clients that ask for it: every response is 200.
JSON = Format(JSON_TYPE, 200)
# GraphQL over HTTP's own: a request error is a 4xx, without the data entry.
GRAPHQL_RESPONSE = Format(GRAPHQL_RESPONSE_TYPE + "; charset=utf-8", 400)
# No preference (no Accept, */*, or no type offered): the specification's status
# codes, under the label every client reads (and the spec's audit expects for */*).
DEFAULT = Format(JSON_TYPE, 400)
FORMAT = web.ResponseKey("graphql_format", Format)
# GETs only: whether the answer may be kept by shared caches (an anonymous persisted
# query by its hash alone: the URL names the document, and nothing names the reader).
SHARED_CACHE = web.ResponseKey("graphql_shared_cache", bool)
PUBLIC = "public, max-age=10, stale-while-revalidate=30"
PRIVATE = "private, no-store"
_OFFERED = {
    GRAPHQL_RESPONSE_TYPE: GRAPHQL_RESPONSE,
    JSON_TYPE: JSON,
    "application/*": DEFAULT,
    "*/*": DEFAULT,
}
_RANK = {GRAPHQL_RESPONSE: 2, JSON: 1, DEFAULT: 0}  # equal q: the more specific wins


@lru_cache(maxsize=256)
def negotiate(accept: str | None) -> Format:
    """The Format an Accept header asks for: its offered type of highest q.

    Types this server does not offer are passed over (the server's choice,
    DEFAULT, answers a header naming none), and so is a type of q=0.
    """
    best, best_q = DEFAULT, 0.0
    for item in (accept or "").split(","):
        media_type, *params = item.split(";")
        found = _OFFERED.get(media_type.strip().lower())
        if found is None:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > best_q or (q == best_q and q > 0 and _RANK[found] > _RANK[best]):
            best, best_q = found, q
    return best


def request_error_status(response: Mapping[str, Any], refused: int) -> int | None:
    """The status of a response that is a GraphQL request error, or None if it is not one.

    A request error has no data and no error of a field (parse, validation, variable
    coercion): ``refused``, or 500 if the server failed.
    """
    if response.get("data") is not None:
        return None
    errors = response.get("errors") or ()
    if not errors or any("path" in error for error in errors):
        return None  # an execution error: the data entry stays, even when null
    codes = {error.get("extensions", {}).get("code") for error in errors}
    if codes == {"PERSISTED_QUERY_NOT_FOUND"}:
        return 200  # Apollo's clients send the document then; a 4xx turns APQ off for good
    return 500 if "INTERNAL_SERVER_ERROR" in codes else refused


def error_response(
    status: int, message: str, code: str | None = None, content_type: str = JSON_TYPE
) -> web.Response:
    body = {
        "errors": [
            {
                "message": message,
                "extensions": {"code": code or HTTP_CODES.get(status, "BAD_REQUEST")},
            }
        ]
    }
    response = web.Response(body=orjson.dumps(body), status=status)
    response.headers[hdrs.CONTENT_TYPE] = content_type
    return response


class RequestAdapter(AiohttpHTTPRequestAdapter):
    """Media types are case-insensitive: hand strawberry the lower-cased one."""

    @property
    def content_type(self) -> str | None:
        value = super().content_type
        return value.lower() if value else value


class WebSocketAdapter(AiohttpWebSocketAdapter):
    """GraphQL over WebSocket speaks text frames: send the JSON as text, not bytes."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_str(orjson.dumps(message).decode())
        except (RuntimeError, ClientConnectionResetError) as exc:
            raise WebSocketDisconnected from exc


class ChirpGraphQLView(GraphQLView[Context, None]):
    request_adapter_class = RequestAdapter
    websocket_adapter_class = WebSocketAdapter

    def __init__(
        self,
        schema: BaseSchema,
        services: Callable[[], Services],
        require_api_key: bool = False,
        origins: Collection[str] = (),
        bundles: Bundles | None = None,
    ) -> None:
        super().__init__(schema=schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.allowed_origins = list(origins)  # pages that may open the WebSocket
        self.bundles = bundles if bundles is not None else Bundles()  # Chirp's own GraphiQL
        self.max_subscriptions_per_connection = MAX_SUBSCRIPTIONS_PER_CONNECTION
        self.services = services  # read per request: the stores open after routes are set
        self.require_api_key = require_api_key

    async def get_context(self, request: web.Request, response: Any) -> Context:
        services = self.services()
        context = Context.for_request(
            services,
            request.headers.get("Authorization"),
            request.headers.get("Idempotency-Key"),
        )
        trusted = services.limits.trusted_proxies if services.limits is not None else ()
        context.client_ip = client_ip(request, trusted)
        key = request.headers.get("X-Api-Key")
        if isinstance(response, web.WebSocketResponse):
            context.api_key = key  # checked in on_ws_connect, where a refusal can be sent
        elif request.method == "GET" and self.should_render_graphql_ide(
            self.request_adapter_class(request)
        ):
            pass  # the GraphiQL page itself: its requests send the key
        else:
            refusal = await self.identify_app(context, key)
            if refusal is not None:
                raise HTTPException(401, refusal)
        if isinstance(response, web.StreamResponse):
            response[CONTEXT_KEY] = context  # for the rate-limit headers of its answer
        return context

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        """GraphiQL for a browser's GET of /graphql. A GET that carries an operation, its
        document or a persisted query's hash (``extensions`` without ``query``), runs it
        whatever its Accept: curl's ``*/*`` and a browser's allow HTML too."""
        extensions = request.query_params.get("extensions")
        return not extensions and super().should_render_graphql_ide(request)

    async def identify_app(self, context: Context, key: str | None) -> str | None:
        """Take the app from its API key; why the request is refused, or None."""
        apps = context.services.apps
        if not key:
            if self.require_api_key:
                return "This server needs an app's API key: send it as X-Api-Key."
            return None
        if apps is None:
            return None
        try:
            app = await apps.identify(key.strip())
        except InvalidApiKey:
            return "Unknown or revoked API key."
        context.app_id, context.app_quota = app.id, app.quota_per_hour
        return None

    async def create_websocket_response(
        self, request: web.Request, subprotocol: str | None
    ) -> web.WebSocketResponse:
        """Each WebSocket is tracked, so shutdown closes it with 1001 (web/shutdown.py)."""
        ws = await super().create_websocket_response(request, subprotocol)
        await track_websocket(request, ws)
        return ws

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws / graphql-ws: the token (and an API key, which a browser
        cannot send as a header) come in connection_init."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = params.get("authorization") or params.get("Authorization")
        context.authenticate(authorization if isinstance(authorization, str) else None)
        key = params.get("x-api-key") or params.get("X-Api-Key") or context.api_key
        refusal = await self.identify_app(context, key if isinstance(key, str) else None)
        if refusal is not None:
            raise ConnectionRejectionError({"message": refusal, "code": "UNAUTHENTICATED"})
        try:
            await context.attempt("connect")  # connections per address
        except RateLimited as exc:
            raise ConnectionRejectionError(
                {
                    "message": exc.message,
                    "code": exc.code,
                    "retryAfter": exc.extensions["retryAfter"],
                }
            ) from None
        unset: UnsetType = UNSET
        return unset

    async def render_graphql_ide(self, request: web.Request) -> web.Response:
        """Chirp's GraphiQL page (web/assets.py), its bundle served by this server; the
        page saying how to build it (503) when there is none."""
        bundle = self.bundles.entry("graphiql")
        if bundle is None:
            response = web.Response(
                text=NOT_BUILT_PAGE, status=NOT_BUILT_STATUS, content_type="text/html"
            )
        else:
            response = web.Response(text=graphiql_page(bundle), content_type="text/html")
        response.headers["Content-Security-Policy"] = graphiql_csp(request.host)
        response.headers[hdrs.CACHE_CONTROL] = "no-cache"  # names this build's files
        return response

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def get_sub_response(self, request: web.Request) -> web.Response:
        response = web.Response()
        response[FORMAT] = negotiate(request.headers.get(hdrs.ACCEPT))
        if request.method == "GET":
            response[SHARED_CACHE] = (
                "persistedQuery" in request.query.get("extensions", "")
                and "query" not in request.query
                and not request.headers.get(hdrs.AUTHORIZATION)
            )
        return response

    def create_response(self, response_data: Any, sub_response: web.Response) -> web.Response:
        answer = sub_response.get(FORMAT, DEFAULT)
        if "errors" in response_data and answer.request_error_status != 200:
            status = request_error_status(response_data, answer.request_error_status)
            if status is not None:
                del response_data["data"]
                sub_response.set_status(status)
        sub_response.body = orjson.dumps(response_data)
        sub_response.headers[hdrs.CONTENT_TYPE] = answer.content_type
        shared = sub_response.get(SHARED_CACHE)
        if shared is not None:  # a GET: a CDN may keep an anonymous persisted query's answer
            public = shared and "errors" not in response_data
            sub_response.headers[hdrs.CACHE_CONTROL] = PUBLIC if public else PRIVATE
            sub_response.headers[hdrs.VARY] = "Accept, Authorization, X-Api-Key"
        apply_limits(sub_response, response_data)
        return sub_response

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        if request.method == "POST":
            content_type, _ = parse_content_type(request.content_type or "")
            if content_type.lower() != JSON_TYPE:
                raise HTTPException(
                    415, "Send GraphQL requests with Content-Type: application/json."
                )
        try:
            data = await super().parse_http_body(request)
        except (AttributeError, TypeError):
            raise HTTPException(
                400, "The request body must be a JSON object with a `query` string."
            ) from None
        if isinstance(data, GraphQLRequestData) and not isinstance(data.operation_name, str | None):
            raise HTTPException(400, "`operationName` must be a string or null.")
        return data

    def parse_query_params(self, params: Any) -> dict[str, Any]:
        # GraphQL over HTTP: an empty optional parameter is as good as none.
        params = {k: v for k, v in params.items() if v != "" or k not in OPTIONAL_PARAMS}
        try:
            return super().parse_query_params(params)
        except HTTPException as exc:
            raise HTTPException(
                400, "`variables` and `extensions` in the query string must be JSON objects."
            ) from exc

    async def post_json(self, request: web.Request) -> web.Response | None:
        """The common request, a POST of one JSON operation, answered in fewer steps.

        What strawberry's ``run`` does for such a request, without the steps that
        cannot apply to it (WebSocket and GraphiQL checks, content-type and body
        parsing through its adapters, batch and streaming dispatch). Anything else,
        or anything unusual in the body, returns None: ``run`` answers it.
        """
        if request.content_type.lower() != JSON_TYPE:  # aiohttp's parsed media type
            return None
        try:
            data = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return None
        if type(data) is not dict:
            return None
        query, variables, extensions = (data.get(k) for k in ("query", "variables", "extensions"))
        operation_name = data.get("operationName")
        if (
            type(query) is not str
            or not all(v is None or type(v) is dict for v in (variables, extensions))
            or not (operation_name is None or type(operation_name) is str)
        ):
            return None
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        root_value = await self.get_root_value(request)  # type: ignore[func-returns-value]
        try:
            result = await self.schema.execute(
                query,
                root_value=root_value,
                variable_values=variables,
                context_value=context,
                operation_name=operation_name,
                allowed_operation_types=POST_OPERATIONS,
                operation_extensions=extensions,
            )
        except (CannotGetOperationTypeError, InvalidOperationTypeError, MissingQueryError):
            return None  # refused before running anything: run() gives the exact answer
        response_data = await self.process_result(request=request, result=result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
        return self.create_response(response_data=response_data, sub_response=sub_response)

    async def __call__(self, request: web.Request) -> web.StreamResponse:
        try:
            if request.method == "POST" and (fast := await self.post_json(request)) is not None:
                return fast
            return await self.run(request=request)
        except HTTPException as exc:
            return refusal(request, exc)
        except web.HTTPRequestEntityTooLarge:
            limit = request.app._client_max_size
            return error_response(413, f"The request body is over the {limit} byte limit.")


def refusal(request: web.Request, exc: HTTPException) -> web.Response:
    """The answer to a request strawberry refused before running anything.

    A request that could not be read as GraphQL gets no GraphQL response (the
    specification forbids its media type there): a JSON error. One refused for its
    operation (none to choose, or one this method cannot run) is a GraphQL request
    error, in the format the client asked for.
    """
    operation = exc.__cause__
    if not isinstance(operation, CannotGetOperationTypeError | InvalidOperationTypeError):
        return error_response(exc.status_code, exc.reason)
    content_type = negotiate(request.headers.get(hdrs.ACCEPT)).content_type
    if not isinstance(operation, InvalidOperationTypeError):
        return error_response(400, exc.reason, content_type=content_type)
    if operation.operation_type is OperationType.SUBSCRIPTION:
        message = (
            f"Subscriptions are not served over HTTP {request.method}: open a WebSocket to "
            f"{request.path} with the graphql-transport-ws protocol and subscribe there."
        )
        return error_response(400, message, "SUBSCRIPTION_OVER_HTTP", content_type)
    if request.method != "GET":
        return error_response(exc.status_code, exc.reason, content_type=content_type)
    # GraphQL over HTTP: a mutation over GET is 405, naming POST
    response = error_response(405, exc.reason + "; send it with POST.", content_type=content_type)
    response.headers["Allow"] = "POST"
    return response
