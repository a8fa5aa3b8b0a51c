"""REDIS_URL naming a Redis Cluster: ``redis+cluster://host:port,host:port`` (bootstrap/)."""

from __future__ import annotations

import pytest

from bootstrap.settings import (
    RedisClusterURL,
    Settings,
    SettingsError,
    load_settings,
    parse_redis_cluster_url,
)
from bootstrap.stores import cluster_client, redact


@pytest.mark.parametrize(
    "url", ["", "redis://host:6379/0", "rediss://h:6380", "unix:///run/redis.sock", "host:6379"]
)
def test_a_single_server_url_is_not_a_cluster_url(url: str) -> None:
    assert parse_redis_cluster_url(url) is None


def test_every_seed_is_kept_and_the_first_becomes_a_plain_url() -> None:
    assert parse_redis_cluster_url("redis+cluster://a.example:7000,b.example,10.0.0.3:7002") == (
        RedisClusterURL(
            (("a.example", 7000), ("b.example", 6379), ("10.0.0.3", 7002)),
            "redis://a.example:7000",
        )
    )


def test_credentials_database_zero_and_options_go_with_the_seed() -> None:
    parsed = parse_redis_cluster_url(
        "rediss+cluster://chirp:s%40cret@h1:6380,h2:6380/0?ssl_cert_reqs=none"
    )
    assert parsed is not None
    assert parsed.seeds == (("h1", 6380), ("h2", 6380))
    assert parsed.seed_url == "rediss://chirp:s%40cret@h1:6380/0?ssl_cert_reqs=none"


def test_an_ipv6_seed_stays_bracketed() -> None:
    parsed = parse_redis_cluster_url("redis+cluster://[::1]:7000,[fe80::2]:7001")
    assert parsed is not None
    assert parsed.seeds == (("::1", 7000), ("fe80::2", 7001))
    assert parsed.seed_url == "redis://[::1]:7000"


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("redis+cluster://", "names its nodes"),
        ("redis+cluster://,/0", "names its nodes"),
        ("redis+cluster://h1:port", "is not host:port"),
        ("redis+cluster://h1:6379,:6380", "is not host:port"),
        ("redis+cluster://h1:6379/2", "database 0 only"),
    ],
)
def test_a_malformed_cluster_url_is_refused_at_start_up(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_redis_cluster_url(url)
    with pytest.raises(SettingsError, match=f"^REDIS_URL: .*{reason}"):
        load_settings(env={"REDIS_URL": url})


def test_settings_accept_a_cluster_url() -> None:
    url = "redis+cluster://h1:7000,h2:7001"
    assert load_settings(env={"REDIS_URL": url}).redis_url == url
    assert Settings(redis_url=url).redis_url == url


async def test_the_client_starts_from_every_seed_without_connecting() -> None:
    client = cluster_client("redis+cluster://:pw@127.0.0.1:1,127.0.0.1:2", socket_timeout=3)
    assert sorted(node.name for node in client.startup_nodes) == ["127.0.0.1:1", "127.0.0.1:2"]
    assert client.connection_kwargs["password"] == "pw"
    assert client.connection_kwargs["socket_timeout"] == 3
    await client.aclose()


def test_logs_show_a_cluster_url_without_its_password() -> None:
    assert redact("redis+cluster://u:pw@h1:1,h2:2") == "redis+cluster://u:***@h1:1,h2:2"
