"""The GraphQL endpoint: strawberry's aiohttp view with Chirp's context and errors.

Every refusal at the HTTP level (malformed JSON, wrong content type, a body
over the limit, a mutation over GET) is a JSON body in GraphQL's error shape
with ``extensions.code``, never a bare text page.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson
from aiohttp import ClientConnectionResetError, web
from cross_web import AiohttpHTTPRequestAdapter, AsyncHTTPRequestAdapter, HTTPException
from strawberry.aiohttp.views import AiohttpWebSocketAdapter, GraphQLView
from strawberry.exceptions import MissingQueryError
from strawberry.http import GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema import BaseSchema
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from resolvers.context import Context
from services.container import Services
from web.shutdown import track_websocket

HTTP_CODES = {
    400: "BAD_REQUEST",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
}
JSON_TYPE = "application/json"
POST_OPERATIONS = OperationType.from_http("POST")


def error_response(status: int, message: str, code: str | None = None) -> web.Response:
    body = {
        "errors": [
            {
                "message": message,
                "extensions": {"code": code or HTTP_CODES.get(status, "BAD_REQUEST")},
            }
        ]
    }
    return web.Response(body=orjson.dumps(body), status=status, content_type="application/json")


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

    def __init__(self, schema: BaseSchema, services: Callable[[], Services]) -> None:
        super().__init__(schema=schema, graphql_ide="graphiql", allow_queries_via_get=True)
        self.services = services  # read per request: the stores open after routes are set

    async def get_context(self, request: web.Request, response: Any) -> Context:
        return Context.for_request(
            self.services(),
            request.headers.get("Authorization"),
            request.headers.get("Idempotency-Key"),
        )

    async def create_websocket_response(
        self, request: web.Request, subprotocol: str | None
    ) -> web.WebSocketResponse:
        """Each WebSocket is tracked, so shutdown closes it with 1001 (web/shutdown.py)."""
        ws = await super().create_websocket_response(request, subprotocol)
        await track_websocket(request, ws)
        return ws

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """graphql-transport-ws / graphql-ws: the token comes in connection_init."""
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        authorization = params.get("authorization") or params.get("Authorization")
        context.authenticate(authorization if isinstance(authorization, str) else None)
        unset: UnsetType = UNSET
        return unset

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def create_response(self, response_data: Any, sub_response: web.Response) -> web.Response:
        sub_response.body = orjson.dumps(response_data)
        sub_response.content_type = "application/json"
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
            return await super().parse_http_body(request)
        except (AttributeError, TypeError):
            raise HTTPException(
                400, "The request body must be a JSON object with a `query` string."
            ) from None

    def parse_query_params(self, params: Any) -> dict[str, Any]:
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
        if type(query) is not str or not all(
            v is None or type(v) is dict for v in (variables, extensions)
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
                operation_name=data.get("operationName"),
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
            if exc.status_code == 400 and exc.reason.endswith("not allowed when using GET"):
                # GraphQL over HTTP: an operation GET may not carry is 405, naming POST
                response = error_response(405, exc.reason + "; send it with POST.")
                response.headers["Allow"] = "POST"
                return response
            return error_response(exc.status_code, exc.reason)
        except web.HTTPRequestEntityTooLarge:
            limit = request.app._client_max_size
            return error_response(413, f"The request body is over the {limit} byte limit.")
