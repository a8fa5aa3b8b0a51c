"""Settings: one typed declaration, read from the environment and command-line flags.

Each setting is a field of ``Settings`` declared once with ``option()``: its
type and checks, default, environment variable, help, and flag. A flag given
on the command line wins over the environment, which wins over the default;
an empty variable counts as unset (except ``CHIRP_RATE_LIMIT_SAFELIST``, where
empty means nobody is exempt). Secrets (``CHIRP_SECRET_KEY``,
``NEO4J_PASSWORD``, ``MINIO_SECRET_KEY``) have no flag, so they never show in
a process list. ``python app.py --help`` prints every setting.

pydantic-settings reads the environment (``load_settings``) and pydantic
validates every value; the flags are argparse options made from the same
declaration (``add_arguments``). pydantic-settings' own command-line source is
not used: it names each flag after the field's alias, so ``--CHIRP-PORT``
would stand beside ``--port``; it cannot keep a secret off the command line
(``CliSuppress`` only hides it from the help); and Chirp's command line has
subcommands (``serve``, ``worker``, ``admin init``), each taking these flags
after its name as well as before it (``add_arguments``). Building
``Settings(...)`` in code never reads the process environment: only
``load_settings`` does, so a test cannot pick up a developer's ``REDIS_URL``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.sources.utils import parse_env_vars

from services.limits import parse_networks


def _check(test: Callable[[Any], bool], message: str) -> AfterValidator:
    def check(value: Any) -> Any:
        if not test(value):
            raise ValueError(message)
        return value

    return AfterValidator(check)


Port = Annotated[int, _check(lambda v: 0 <= v <= 65535, "must be a TCP port (0-65535)")]
WorkerId = Annotated[int, _check(lambda v: 0 <= v <= 1023, "must be between 0 and 1023")]
PositiveInt = Annotated[int, _check(lambda v: v > 0, "must be a positive integer")]
NonNegativeInt = Annotated[int, _check(lambda v: v >= 0, "must be 0 or more")]
PositiveFloat = Annotated[float, _check(lambda v: v > 0, "must be a positive number")]
NonNegativeFloat = Annotated[float, _check(lambda v: v >= 0, "must be 0 or more")]
LogLevel = Annotated[
    Literal["DEBUG", "INFO", "WARNING", "ERROR"],
    BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v),
]


def _rate_rule(value: str) -> str:
    parse_rate(value)
    return value


def _networks(value: str) -> str:
    try:
        parse_networks(value)
    except ValueError as exc:
        raise ValueError(f"must be comma-separated IP addresses or CIDRs ({exc})") from None
    return value


_PERIODS = {"s": 1, "m": 60, "h": 3600}


def parse_rate(value: str) -> tuple[int, int]:
    """'15000/5m' -> (15000, 300): points (or attempts) and the window in seconds."""
    amount, _, period = value.strip().partition("/")
    period = period.strip().lower()
    unit = _PERIODS.get(period[-1:]) if period else None
    digits = period[:-1] if unit else period
    try:
        points, seconds = int(amount), int(digits or "1") * (unit or 1)
    except ValueError:
        points = seconds = 0
    if points < 1 or seconds < 1:
        raise ValueError("must be POINTS/PERIOD, e.g. 1500/5m (period in s, m or h)")
    return points, seconds


def load_manifest(path: Path) -> dict[str, str]:
    """A registered-operations manifest: a JSON object of SHA-256 hash -> document, checked."""
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    if not isinstance(loaded, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in loaded.items()
    ):
        raise ValueError(f"{path} must be a JSON object of SHA-256 hash -> document")
    wrong = [k for k, v in loaded.items() if hashlib.sha256(v.encode()).hexdigest() != k]
    if wrong:
        raise ValueError(
            f"in {path}, {len(wrong)} hash(es) are not the SHA-256 of their document, "
            f"e.g. {wrong[0][:16]}..."
        )
    return loaded


def _manifest(path: Path | None) -> Path | None:
    if path is not None:
        load_manifest(path)
    return path


# REDIS_URL naming a Redis Cluster: redis+cluster:// (rediss+cluster:// for TLS), then
# one or more seed nodes separated by commas; the client discovers the other nodes.
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


@dataclass(frozen=True)
class RedisClusterURL:
    """A cluster ``REDIS_URL`` taken apart: its seeds, and the first as a plain URL."""

    seeds: tuple[tuple[str, int], ...]  # (host, port), in the order given
    seed_url: str  # redis:// or rediss:// to the first seed, credentials and options kept


def parse_redis_cluster_url(url: str) -> RedisClusterURL | None:
    """``redis+cluster://[user:password@]host:port[,host:port...][/0][?options]`` taken
    apart; None for any other URL (a single server). ValueError when it is malformed."""
    scheme, sep, rest = url.partition("://")
    plain = CLUSTER_SCHEMES.get(scheme.lower())
    if not sep or plain is None:
        return None
    ends = [i for i in (rest.find("/"), rest.find("?")) if i >= 0]
    cut = min(ends, default=len(rest))
    netloc, tail = rest[:cut], rest[cut:]
    userinfo, at, hosts = netloc.rpartition("@")
    seeds: list[tuple[str, int]] = []
    for part in hosts.split(","):
        if not part.strip():
            continue
        split = urlsplit("//" + part.strip())
        try:
            port = split.port or 6379
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not host:port") from None
        if not split.hostname:
            raise ValueError(f"{part.strip()!r} is not host:port")
        seeds.append((split.hostname, port))
    if not seeds:
        raise ValueError(f"a {scheme} URL names its nodes, e.g. {scheme}://host1:6379,host2:6379")
    if urlsplit(tail).path not in ("", "/", "/0"):
        raise ValueError("Redis Cluster has database 0 only")
    host, port = seeds[0]
    shown = f"[{host}]" if ":" in host else host
    return RedisClusterURL(tuple(seeds), f"{plain}://{userinfo}{at}{shown}:{port}{tail}")


def _redis_url(value: str) -> str:
    parse_redis_cluster_url(value)
    return value


RedisURL = Annotated[str, AfterValidator(_redis_url)]
RateRule = Annotated[str, AfterValidator(_rate_rule)]
Manifest = Annotated[Path | None, AfterValidator(_manifest)]
Networks = Annotated[str, AfterValidator(_networks)]
Strategy = Annotated[
    Literal["hybrid", "push", "pull"],
    BeforeValidator(lambda v: v.lower() if isinstance(v, str) else v),
]


def option(
    default: Any, env: str, help: str, flag: str | None = None, metavar: str = "VALUE"
) -> Any:
    """One setting's declaration: default, environment variable, help, and flag.

    ``flag`` None: the setting is read from the environment only (a secret).
    """
    return Field(
        default,
        validation_alias=env,
        description=help,
        json_schema_extra={"flag": flag, "metavar": metavar},
    )


class Settings(BaseSettings):
    """Every setting of a Chirp process, typed and checked."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="forbid",
        case_sensitive=True,
        env_ignore_empty=True,
        validate_by_name=True,  # code and tests pass field names
        validate_by_alias=True,  # the environment source answers by variable name
    )

    # --- the service
    host: str = option(
        "127.0.0.1",
        "CHIRP_HOST",
        "Interface the HTTP server (the API's, or a worker's metrics) binds to.",
        "--host",
        "HOST",
    )
    port: Port = option(8000, "CHIRP_PORT", "TCP port of the API's HTTP server.", "--port", "PORT")
    worker_metrics_port: Port = option(
        9100,
        "CHIRP_WORKER_METRICS_PORT",
        "TCP port on which a fan-out worker (`python app.py worker`) serves /healthz and "
        "/metrics; 0: none. Each worker on one host needs its own.",
        "--metrics-port",
        "PORT",
    )
    data_dir: Path = option(
        Path("data"),
        "CHIRP_DATA_DIR",
        "Folder for the embedded stores (SQLite files) and the generated signing key.",
        "--data-dir",
        "DIR",
    )
    public_url: str = option(
        "",
        "CHIRP_PUBLIC_URL",
        "Public base URL used in links this service hands out (e.g. Tweet.url); "
        "default http://HOST:PORT.",
        "--public-url",
        "URL",
    )
    worker_id: WorkerId = option(
        0,
        "CHIRP_WORKER_ID",
        "Snowflake worker id, 0-1023; every process that creates ids needs its own.",
        "--worker-id",
        "N",
    )
    workers: PositiveInt = option(
        1,
        "CHIRP_WORKERS",
        "API server processes sharing --port (Linux, SO_REUSEPORT; more than 1 needs "
        "REDIS_URL); process k takes snowflake worker id CHIRP_WORKER_ID + k.",
        "--workers",
        "N",
    )
    secret_key: str = option(
        "",
        "CHIRP_SECRET_KEY",
        "Key that signs bearer tokens (environment only). Unset: a random key is "
        "generated once and kept in DATA_DIR/secret.key.",
    )
    token_ttl_seconds: PositiveInt = option(
        30 * 24 * 3600,
        "CHIRP_TOKEN_TTL",
        "Lifetime of a bearer token in seconds.",
        "--token-ttl",
        "SECONDS",
    )
    log_level: LogLevel = option(
        "INFO",
        "CHIRP_LOG_LEVEL",
        "Log level: DEBUG, INFO, WARNING or ERROR.",
        "--log-level",
        "LEVEL",
    )
    startup_timeout_seconds: PositiveFloat = option(
        30.0,
        "CHIRP_STARTUP_TIMEOUT",
        "How long start-up keeps retrying a backend that does not answer yet, in seconds.",
        "--startup-timeout",
        "SECONDS",
    )
    shutdown_timeout_seconds: PositiveFloat = option(
        10.0,
        "CHIRP_SHUTDOWN_TIMEOUT",
        "On SIGINT or SIGTERM, how long requests in flight may take to finish before they "
        "are cancelled, in seconds (open WebSockets are closed at once, with 1001).",
        "--shutdown-timeout",
        "SECONDS",
    )

    # --- home timelines and fan-out
    timeline_strategy: Strategy = option(
        "hybrid",
        "CHIRP_TIMELINE_STRATEGY",
        "Home timelines: hybrid (push to followers, merge celebrities at read), push "
        "(fan out every author) or pull (merge followees' tweets at read, no cache).",
        "--timeline-strategy",
        "NAME",
    )
    celebrity_threshold: PositiveInt = option(
        10_000,
        "CHIRP_CELEBRITY_THRESHOLD",
        "Followers from which an author's tweets are merged at read instead of fanned out.",
        "--celebrity-threshold",
        "N",
    )
    timeline_cap: PositiveInt = option(
        800,
        "CHIRP_TIMELINE_CAP",
        "Tweet ids kept per cached home timeline; older pages come from the stores.",
        "--timeline-cap",
        "N",
    )
    active_days: PositiveInt = option(
        30,
        "CHIRP_ACTIVE_DAYS",
        "A cached timeline unread this many days expires; fan-out skips its owner.",
        "--active-days",
        "DAYS",
    )
    inprocess_workers: NonNegativeInt = option(
        1,
        "CHIRP_INPROCESS_WORKERS",
        "Fan-out workers inside the API process (0 when `python app.py worker` runs them).",
        "--inprocess-workers",
        "N",
    )
    fanout_concurrency: PositiveInt = option(
        4,
        "CHIRP_FANOUT_CONCURRENCY",
        "Fan-out jobs one worker applies at the same time.",
        "--fanout-concurrency",
        "N",
    )
    fanout_batch: PositiveInt = option(
        1000,
        "CHIRP_FANOUT_BATCH",
        "Followers read and written per batch (one pipeline) during fan-out.",
        "--fanout-batch",
        "N",
    )
    fanout_wait_seconds: float = option(
        0.5,
        "CHIRP_FANOUT_WAIT",
        "With in-process workers, how long a post waits for its fan-out so followers "
        "reading right after see it (0: answer at once; fan-out stays asynchronous).",
        "--fanout-wait",
        "SECONDS",
    )
    claim_idle_seconds: PositiveFloat = option(
        30.0,
        "CHIRP_CLAIM_IDLE",
        "A fan-out job taken but unfinished this long (its worker died) goes to another worker.",
        "--claim-idle",
        "SECONDS",
    )
    repair_after_seconds: PositiveFloat = option(
        60.0,
        "CHIRP_REPAIR_AFTER",
        "A stored tweet whose fan-out has not completed after this long is fanned out again.",
        "--repair-after",
        "SECONDS",
    )

    # --- media
    minio_endpoint: str = option(
        "",
        "MINIO_ENDPOINT",
        "MinIO or any S3 store for media bytes, host:port. Unset: DATA_DIR/media.",
        "--minio-endpoint",
        "HOST:PORT",
    )
    minio_public_endpoint: str = option(
        "",
        "MINIO_PUBLIC_ENDPOINT",
        "host:port clients upload to, when it differs from MINIO_ENDPOINT (e.g. behind a proxy).",
        "--minio-public-endpoint",
        "HOST:PORT",
    )
    minio_region: str = option(
        "us-east-1", "MINIO_REGION", "S3 region of the bucket.", "--minio-region", "NAME"
    )
    minio_access_key: str = option(
        "", "MINIO_ACCESS_KEY", "S3 access key.", "--minio-access-key", "KEY"
    )
    minio_secret_key: str = option("", "MINIO_SECRET_KEY", "S3 secret key (environment only).")
    minio_bucket: str = option(
        "chirp-media",
        "MINIO_BUCKET",
        "Bucket for media; created at start-up.",
        "--minio-bucket",
        "NAME",
    )
    minio_secure: bool = option(
        False, "MINIO_SECURE", "Use HTTPS to reach the S3 store.", "--minio-secure", "BOOL"
    )
    cdn_base_url: str = option(
        "",
        "CDN_BASE_URL",
        "Base of Media.url: the pull CDN in front of this service's /media/ route. "
        "Default: CHIRP_PUBLIC_URL (the origin itself).",
        "--cdn-base-url",
        "URL",
    )
    max_photo_bytes: PositiveInt = option(
        5 * 1024 * 1024,
        "CHIRP_MAX_PHOTO_BYTES",
        "Largest JPEG, PNG or WebP upload.",
        "--max-photo-bytes",
        "BYTES",
    )
    max_gif_bytes: PositiveInt = option(
        15 * 1024 * 1024, "CHIRP_MAX_GIF_BYTES", "Largest GIF upload.", "--max-gif-bytes", "BYTES"
    )
    max_video_bytes: PositiveInt = option(
        512 * 1024 * 1024,
        "CHIRP_MAX_VIDEO_BYTES",
        "Largest MP4 upload.",
        "--max-video-bytes",
        "BYTES",
    )
    upload_url_ttl_seconds: PositiveInt = option(
        15 * 60,
        "CHIRP_UPLOAD_URL_TTL",
        "Lifetime of an upload URL in seconds.",
        "--upload-url-ttl",
        "SECONDS",
    )
    media_sweep_after_seconds: PositiveInt = option(
        24 * 3600,
        "CHIRP_MEDIA_SWEEP_AFTER",
        "Uploaded media never attached to a tweet is removed after this many seconds.",
        "--media-sweep-after",
        "SECONDS",
    )

    # --- production stores
    neo4j_uri: str = option(
        "",
        "NEO4J_URI",
        "Neo4j for the social graph, e.g. neo4j://host:7687. Unset: embedded SQLite.",
        "--neo4j-uri",
        "URI",
    )
    neo4j_user: str = option("neo4j", "NEO4J_USER", "Neo4j user name.", "--neo4j-user", "USER")
    neo4j_password: str = option("", "NEO4J_PASSWORD", "Neo4j password (environment only).")
    neo4j_database: str = option(
        "neo4j", "NEO4J_DATABASE", "Neo4j database name.", "--neo4j-database", "NAME"
    )
    mongodb_uri: str = option(
        "",
        "MONGODB_URI",
        "MongoDB (a replica set or mongos) for tweets and likes, e.g. "
        "mongodb://host:27017/?replicaSet=rs0. Unset: embedded SQLite.",
        "--mongodb-uri",
        "URI",
    )
    mongodb_db: str = option(
        "chirp", "MONGODB_DB", "MongoDB database name.", "--mongodb-db", "NAME"
    )
    redis_url: RedisURL = option(
        "",
        "REDIS_URL",
        "Redis for timelines, the fan-out queue, events, rate limits and persisted "
        "queries, e.g. redis://host:6379/0, or a Redis Cluster: "
        "redis+cluster://host1:6379,host2:6379. Unset: in process.",
        "--redis-url",
        "URL",
    )

    redis_timeout_ms: PositiveInt = option(
        50,
        "CHIRP_REDIS_TIMEOUT_MS",
        "Deadline of each Redis call a request waits on (timeline reads, enqueue, rate "
        "limits); a missed one takes the degraded path (pull, repair).",
        "--redis-timeout-ms",
        "MS",
    )
    redis_breaker_failures: PositiveInt = option(
        3,
        "CHIRP_REDIS_BREAKER_FAILURES",
        "Redis calls failing in a row that open the circuit (calls then fail at once).",
        "--redis-breaker-failures",
        "N",
    )
    redis_breaker_reset_seconds: PositiveFloat = option(
        1.0,
        "CHIRP_REDIS_BREAKER_RESET_SECONDS",
        "How long an open circuit fails fast before one call probes Redis again.",
        "--redis-breaker-reset-seconds",
        "SECONDS",
    )

    # --- on the open internet: limits, keys, query cost (README "Running in production")
    require_api_key: bool = option(
        False,
        "CHIRP_REQUIRE_API_KEY",
        "Refuse GraphQL requests without an app's X-Api-Key (401 UNAUTHENTICATED); "
        "production turns it on.",
        "--require-api-key",
        "true|false",
    )
    app_quota_per_hour: PositiveInt = option(
        500_000,
        "CHIRP_APP_QUOTA_PER_HOUR",
        "Points per hour a new app's key may spend, all its users together.",
        "--app-quota-per-hour",
        "POINTS",
    )
    persisted_manifest: Manifest = option(
        None,
        "CHIRP_PERSISTED_MANIFEST",
        "A JSON object of SHA-256 hash -> document: only these operations run "
        "(registered operations only); unset: any document, and automatic persisted queries.",
        "--persisted-manifest",
        "PATH",
    )
    rate_limit_user: RateRule = option(
        "15000/5m",
        "CHIRP_RATE_LIMIT_USER",
        "Points a signed-in user may spend per window (a request costs its query cost), "
        "as POINTS/PERIOD with the period in s, m or h.",
        "--rate-limit-user",
        "POINTS/PERIOD",
    )
    rate_limit_anonymous: RateRule = option(
        "3000/5m",
        "CHIRP_RATE_LIMIT_ANONYMOUS",
        "Points an anonymous client IP address (IPv6: its /64) may spend per window.",
        "--rate-limit-anonymous",
        "POINTS/PERIOD",
    )
    rate_limit_sign_up: RateRule = option(
        "5/30m",
        "CHIRP_RATE_LIMIT_SIGN_UP",
        "Sign-ups per client IP address per window.",
        "--rate-limit-sign-up",
        "N/PERIOD",
    )
    rate_limit_log_in: RateRule = option(
        "25/5m",
        "CHIRP_RATE_LIMIT_LOG_IN",
        "Log-in attempts per window, per client IP address and, separately, per handle.",
        "--rate-limit-log-in",
        "N/PERIOD",
    )
    rate_limit_upload: RateRule = option(
        "30/30m",
        "CHIRP_RATE_LIMIT_UPLOAD",
        "Media uploads a user may start per window.",
        "--rate-limit-upload",
        "N/PERIOD",
    )
    rate_limit_delete: RateRule = option(
        "30/30m",
        "CHIRP_RATE_LIMIT_DELETE",
        "Tweets a user may delete per window.",
        "--rate-limit-delete",
        "N/PERIOD",
    )
    max_subscriptions: PositiveInt = option(
        20,
        "CHIRP_MAX_SUBSCRIPTIONS",
        "Subscriptions a user (or an anonymous address) may hold open at once, per instance.",
        "--max-subscriptions",
        "N",
    )
    rate_limit_connect: RateRule = option(
        "60/5m",
        "CHIRP_RATE_LIMIT_CONNECT",
        "WebSocket connections a client address may open per window.",
        "--rate-limit-connect",
        "N/PERIOD",
    )
    rate_limit_safelist: Networks = option(
        "127.0.0.0/8,::1/128",
        "CHIRP_RATE_LIMIT_SAFELIST",
        "Comma-separated CIDRs never rate limited (log-in's per-handle limit still "
        "applies); empty safelists nothing.",
        "--rate-limit-safelist",
        "CIDRS",
    )
    trusted_proxies: Networks = option(
        "",
        "CHIRP_TRUSTED_PROXIES",
        "Comma-separated CIDRs of load balancers whose X-Forwarded-For names the client.",
        "--trusted-proxies",
        "CIDRS",
    )
    cors_origins: str = option(
        "",
        "CHIRP_CORS_ORIGINS",
        "Comma-separated origins whose pages may call the API from a browser "
        "(e.g. https://app.example.com); empty: same-origin pages only.",
        "--cors-origins",
        "ORIGINS",
    )
    trends_blocklist: str = option(
        "",
        "CHIRP_TRENDS_BLOCKLIST",
        "Comma-separated hashtags (with or without '#') never shown as trends; still counted.",
        "--trends-blocklist",
        "TAGS",
    )
    trends_cache_seconds: NonNegativeFloat = option(
        5.0,
        "CHIRP_TRENDS_CACHE_SECONDS",
        "How long one answer of trends is served before it is read again (0: every read).",
        "--trends-cache-seconds",
        "SECONDS",
    )
    who_to_follow_cache_seconds: NonNegativeFloat = option(
        180.0,
        "CHIRP_WHO_TO_FOLLOW_CACHE_SECONDS",
        "How long a viewer's who-to-follow candidates are kept before they are asked of the"
        " graph again (0: every read).",
        "--who-to-follow-cache-seconds",
        "SECONDS",
    )
    max_query_cost: PositiveInt = option(
        5000,
        "CHIRP_MAX_QUERY_COST",
        "Highest query cost one request may have; costlier ones are refused before they run.",
        "--max-query-cost",
        "POINTS",
    )
    max_query_nodes: PositiveInt = option(
        500_000,
        "CHIRP_MAX_QUERY_NODES",
        "Most list items one request may ask for (GitHub's node limit).",
        "--max-query-nodes",
        "N",
    )
    introspection: bool = option(
        True,
        "CHIRP_INTROSPECTION",
        "Answer introspection (__schema, __type) and suggest field names in errors; "
        "production turns both off.",
        "--introspection",
        "true|false",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Only what the caller passes: reading the environment is ``load_settings``' job."""
        return (init_settings,)

    @property
    def media_base_url(self) -> str:
        """Where media URLs point: the CDN, or this service's origin route without one."""
        return (self.cdn_base_url or self.base_url).rstrip("/")

    @property
    def base_url(self) -> str:
        """Public base URL of this service, without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in {"0.0.0.0", "::", ""} else self.host
        if ":" in host:  # an IPv6 address goes in brackets in a URL
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` (field names), checked like any other value."""
        return type(self)(**{**self.model_dump(), **changes})


@dataclass(frozen=True)
class Option:
    """One setting as the command line and its help see it (read off ``Settings``)."""

    field: str
    env: str
    help: str
    flag: str | None  # None: environment only (secrets)
    metavar: str
    default: Any


def _options() -> tuple[Option, ...]:
    found = []
    for name, info in Settings.model_fields.items():
        extra = info.json_schema_extra
        assert isinstance(info.validation_alias, str), name
        assert isinstance(extra, dict), name
        flag, metavar = extra["flag"], extra["metavar"]
        assert flag is None or isinstance(flag, str), name
        found.append(
            Option(
                name,
                info.validation_alias,
                info.description or "",
                flag,
                str(metavar),
                info.default,
            )
        )
    return tuple(found)


OPTIONS: tuple[Option, ...] = _options()


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


# Variables whose empty value means "none", not "unset": an empty safelist exempts nobody
# (its default exempts loopback).
EMPTY_IS_A_VALUE = frozenset({"CHIRP_RATE_LIMIT_SAFELIST"})


class _Environment(EnvSettingsSource):
    """pydantic-settings' environment source, over a given mapping instead of os.environ.

    Only the declared variables are handed on: the source would otherwise also take a
    variable named like a field (``port``) for it.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        declared = {option.env for option in OPTIONS}
        self._given = {name: value for name, value in env.items() if name in declared}
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        found = dict(
            parse_env_vars(
                self._given, self.case_sensitive, self.env_ignore_empty, self.env_parse_none_str
            )
        )
        for name in EMPTY_IS_A_VALUE:
            if self._given.get(name) == "":
                found[name] = ""
        return found


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one flag per option, with the environment variable and default in its help.

    A flag not given leaves no attribute at all (``SUPPRESS``), so the same flags can
    be added to a parser and to each of its subcommands: ``python app.py --worker-id 3
    worker`` and ``python app.py worker --worker-id 3`` both set it, and a subcommand's
    parser never overwrites a flag given before it with an empty default.
    """
    for option in OPTIONS:
        if option.flag is None:
            continue
        shown = f" (default: {option.default})" if option.default not in ("", None) else ""
        parser.add_argument(
            option.flag,
            dest=option.field,
            metavar=option.metavar,
            default=argparse.SUPPRESS,
            help=f"{option.help} Env: {option.env}.{shown}",
        )


def where_to_set(field: str) -> str:
    """How an operator changes a setting, for messages: ``CHIRP_PORT or --port``."""
    [option] = [option for option in OPTIONS if option.field == field]
    return f"{option.env} or {option.flag}" if option.flag else option.env


def environment_help() -> str:
    """The epilog of --help: every environment variable, secrets included."""
    lines = ["environment variables (a flag given on the command line wins):"]
    for option in OPTIONS:
        flag = option.flag or "(environment only)"
        lines.append(f"  {option.env:<22} {flag:<20} {option.help}")
    return "\n".join(lines)


def load_settings(
    env: Mapping[str, str] | None = None, args: argparse.Namespace | None = None
) -> Settings:
    """Settings from the defaults, then the environment (``os.environ`` unless given), then
    parsed flags. A value that cannot be used is a SettingsError naming where it came from."""
    by_env = {option.env: option for option in OPTIONS}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name, raw in _Environment(os.environ if env is None else env)().items():
        option = by_env[name]
        values[option.field], sources[option.field] = raw, name
    for option in OPTIONS:
        given = getattr(args, option.field, None)
        if option.flag is not None and given is not None:
            values[option.field], sources[option.field] = str(given), option.flag
    try:
        return Settings(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0])
        reason = error["msg"].removeprefix("Value error, ")
        where = sources.get(field, field)
        raise SettingsError(
            f"{where}: {reason[:1].lower()}{reason[1:]}, got {error['input']!r}"
        ) from None


def option_names() -> Sequence[str]:
    return [option.env for option in OPTIONS]
