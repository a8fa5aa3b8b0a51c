"""Limits on the live feed: open subscriptions per user, WebSocket connections per address."""

from __future__ import annotations

import aiohttp

from tests.conftest import AppFactory
from tests.e2e.test_realtime import HOME, TRANSPORT_WS, Subscriber, subscribed

NOT_SAFELISTED = {"rate_limit_safelist": "", "trusted_proxies": "127.0.0.1/32"}


async def test_a_user_holds_a_bounded_number_of_subscriptions(make_client: AppFactory) -> None:
    gql = await make_client(max_subscriptions=2, **NOT_SAFELISTED)
    token, _ = await gql.sign_up("alice")
    feeds = []
    for _ in range(2):
        ws = await gql.http.ws_connect("/graphql", protocols=(TRANSPORT_WS,))
        feed = Subscriber(ws, TRANSPORT_WS)
        await feed.init(token)
        await feed.subscribe(HOME)
        feeds.append(feed)
    await subscribed(gql, 2)
    ws = await gql.http.ws_connect("/graphql", protocols=(TRANSPORT_WS,))
    third = Subscriber(ws, TRANSPORT_WS)
    await third.init(token)
    await third.subscribe(HOME)
    message = await third.message(5.0)
    assert message["type"] in ("error", "next")
    errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
    assert errors[0]["extensions"]["code"] == "RATE_LIMITED"
    # closing one frees its slot
    await feeds[0].close()
    await subscribed(gql, 1)
    await third.subscribe(HOME)
    await subscribed(gql, 2)
    for feed in (*feeds[1:], third):
        await feed.close()


async def test_connections_per_address_are_limited(make_client: AppFactory) -> None:
    gql = await make_client(rate_limit_connect="2/5m", **NOT_SAFELISTED)
    token, _ = await gql.sign_up("alice")
    codes = []
    for _ in range(3):
        ws = await gql.http.ws_connect(
            "/graphql", protocols=(TRANSPORT_WS,), headers={"X-Forwarded-For": "203.0.113.7"}
        )
        await ws.send_json(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        )
        frame = await ws.receive(timeout=5)
        codes.append(
            frame.json()["type"] if frame.type == aiohttp.WSMsgType.TEXT else ws.close_code
        )
        await ws.close()
    assert codes[:2] == ["connection_ack", "connection_ack"]
    assert codes[2] == 4403  # refused by graphql-transport-ws: forbidden


async def test_an_app_key_is_checked_at_connection_init(make_client: AppFactory) -> None:
    gql = await make_client(require_api_key=True)
    ws = await gql.http.ws_connect("/graphql", protocols=(TRANSPORT_WS,))
    await ws.send_json({"type": "connection_init", "payload": {}})
    frame = await ws.receive(timeout=5)
    assert frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    assert ws.close_code == 4403
