"""Settings: one table of options, read from the environment and CLI flags.

Every option has an environment variable and a matching ``--flag``; a flag
given on the command line wins over the environment, which wins over the
default. Secrets (``CHIRP_SECRET_KEY``) are environment-only, so they never
show in a process list. ``python app.py --help`` prints this table.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError(f"must be a positive integer, got {raw!r}")
    return value


def _port(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 65535:
        raise ValueError(f"must be a TCP port (0-65535), got {raw!r}")
    return value


def _worker_id(raw: str) -> int:
    value = int(raw)
    if not 0 <= value <= 1023:
        raise ValueError(f"must be between 0 and 1023, got {raw!r}")
    return value


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not value > 0:
        raise ValueError(f"must be a positive number, got {raw!r}")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(f"must be 0 or more, got {raw!r}")
    return value


def _strategy(raw: str) -> str:
    value = raw.lower()
    if value not in {"hybrid", "push", "pull"}:
        raise ValueError(f"must be hybrid, push or pull, got {raw!r}")
    return value


def _bool(raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"must be true or false, got {raw!r}")


def _log_level(raw: str) -> str:
    value = raw.upper()
    if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise ValueError(f"must be DEBUG, INFO, WARNING or ERROR, got {raw!r}")
    return value


@dataclass(frozen=True)
class Option:
    """One setting: its field name, environment variable, parser and help."""

    field: str
    env: str
    parse: Callable[[str], Any]
    help: str
    flag: str | None = None  # None: environment only (secrets)
    metavar: str = "VALUE"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("data")
    public_url: str = ""
    worker_id: int = 0
    secret_key: str = ""
    token_ttl_seconds: int = 30 * 24 * 3600
    log_level: str = "INFO"
    startup_timeout_seconds: float = 30.0
    neo4j_uri: str = ""
    neo4j_user: str = "neo4j"
    neo4j_password: str = ""
    neo4j_database: str = "neo4j"
    mongodb_uri: str = ""
    mongodb_db: str = "chirp"
    redis_url: str = ""
    timeline_strategy: str = "hybrid"
    celebrity_threshold: int = 10_000
    timeline_cap: int = 800
    active_days: int = 30
    inprocess_workers: int = 1
    fanout_concurrency: int = 4
    fanout_batch: int = 1000
    claim_idle_seconds: float = 30.0
    fanout_wait_seconds: float = 1.0
    repair_after_seconds: float = 60.0
    minio_endpoint: str = ""
    minio_access_key: str = ""
    minio_secret_key: str = ""
    minio_bucket: str = "chirp-media"
    minio_public_endpoint: str = ""
    minio_region: str = "us-east-1"
    minio_secure: bool = False
    cdn_base_url: str = ""
    max_photo_bytes: int = 5 * 1024 * 1024
    max_gif_bytes: int = 15 * 1024 * 1024
    max_video_bytes: int = 512 * 1024 * 1024
    upload_url_ttl_seconds: int = 15 * 60
    media_sweep_after_seconds: int = 24 * 3600

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
        return dataclasses.replace(self, **changes)


OPTIONS: tuple[Option, ...] = (
    Option("host", "CHIRP_HOST", str, "Interface the HTTP server binds to.", "--host", "HOST"),
    Option("port", "CHIRP_PORT", _port, "TCP port of the HTTP server.", "--port", "PORT"),
    Option(
        "data_dir",
        "CHIRP_DATA_DIR",
        Path,
        "Folder for the embedded stores (SQLite files) and the generated signing key.",
        "--data-dir",
        "DIR",
    ),
    Option(
        "public_url",
        "CHIRP_PUBLIC_URL",
        str,
        "Public base URL used in links this service hands out (e.g. Tweet.url); "
        "default http://HOST:PORT.",
        "--public-url",
        "URL",
    ),
    Option(
        "worker_id",
        "CHIRP_WORKER_ID",
        _worker_id,
        "Snowflake worker id, 0-1023; every process that creates ids needs its own.",
        "--worker-id",
        "N",
    ),
    Option(
        "secret_key",
        "CHIRP_SECRET_KEY",
        str,
        "Key that signs bearer tokens (environment only). Unset: a random key is "
        "generated once and kept in DATA_DIR/secret.key.",
    ),
    Option(
        "token_ttl_seconds",
        "CHIRP_TOKEN_TTL",
        _positive_int,
        "Lifetime of a bearer token in seconds.",
        "--token-ttl",
        "SECONDS",
    ),
    Option(
        "log_level",
        "CHIRP_LOG_LEVEL",
        _log_level,
        "Log level: DEBUG, INFO, WARNING or ERROR.",
        "--log-level",
        "LEVEL",
    ),
    Option(
        "startup_timeout_seconds",
        "CHIRP_STARTUP_TIMEOUT",
        _positive_float,
        "How long start-up keeps retrying a backend that does not answer yet, in seconds.",
        "--startup-timeout",
        "SECONDS",
    ),
    Option(
        "timeline_strategy",
        "CHIRP_TIMELINE_STRATEGY",
        _strategy,
        "Home timelines: hybrid (push to followers, merge celebrities at read), push "
        "(fan out every author) or pull (merge followees' tweets at read, no cache).",
        "--timeline-strategy",
        "NAME",
    ),
    Option(
        "celebrity_threshold",
        "CHIRP_CELEBRITY_THRESHOLD",
        _positive_int,
        "Followers from which an author's tweets are merged at read instead of fanned out.",
        "--celebrity-threshold",
        "N",
    ),
    Option(
        "timeline_cap",
        "CHIRP_TIMELINE_CAP",
        _positive_int,
        "Tweet ids kept per cached home timeline; older pages come from the stores.",
        "--timeline-cap",
        "N",
    ),
    Option(
        "active_days",
        "CHIRP_ACTIVE_DAYS",
        _positive_int,
        "A cached timeline unread this many days expires; fan-out skips its owner.",
        "--active-days",
        "DAYS",
    ),
    Option(
        "inprocess_workers",
        "CHIRP_INPROCESS_WORKERS",
        _non_negative_int,
        "Fan-out workers inside the API process (0 when `python app.py worker` runs them).",
        "--inprocess-workers",
        "N",
    ),
    Option(
        "fanout_concurrency",
        "CHIRP_FANOUT_CONCURRENCY",
        _positive_int,
        "Fan-out jobs one worker applies at the same time.",
        "--fanout-concurrency",
        "N",
    ),
    Option(
        "fanout_batch",
        "CHIRP_FANOUT_BATCH",
        _positive_int,
        "Followers read and written per batch (one pipeline) during fan-out.",
        "--fanout-batch",
        "N",
    ),
    Option(
        "fanout_wait_seconds",
        "CHIRP_FANOUT_WAIT",
        float,
        "With in-process workers, how long a post waits for its fan-out so followers "
        "reading right after see it (0: answer at once; fan-out stays asynchronous).",
        "--fanout-wait",
        "SECONDS",
    ),
    Option(
        "claim_idle_seconds",
        "CHIRP_CLAIM_IDLE",
        _positive_float,
        "A fan-out job taken but unfinished this long (its worker died) goes to another worker.",
        "--claim-idle",
        "SECONDS",
    ),
    Option(
        "repair_after_seconds",
        "CHIRP_REPAIR_AFTER",
        _positive_float,
        "A stored tweet whose fan-out has not completed after this long is fanned out again.",
        "--repair-after",
        "SECONDS",
    ),
    Option(
        "minio_endpoint",
        "MINIO_ENDPOINT",
        str,
        "MinIO or any S3 store for media bytes, host:port. Unset: DATA_DIR/media.",
        "--minio-endpoint",
        "HOST:PORT",
    ),
    Option(
        "minio_public_endpoint",
        "MINIO_PUBLIC_ENDPOINT",
        str,
        "host:port clients upload to, when it differs from MINIO_ENDPOINT (e.g. behind a proxy).",
        "--minio-public-endpoint",
        "HOST:PORT",
    ),
    Option(
        "minio_region", "MINIO_REGION", str, "S3 region of the bucket.", "--minio-region", "NAME"
    ),
    Option(
        "minio_access_key", "MINIO_ACCESS_KEY", str, "S3 access key.", "--minio-access-key", "KEY"
    ),
    Option("minio_secret_key", "MINIO_SECRET_KEY", str, "S3 secret key (environment only)."),
    Option(
        "minio_bucket",
        "MINIO_BUCKET",
        str,
        "Bucket for media; created at start-up.",
        "--minio-bucket",
        "NAME",
    ),
    Option(
        "minio_secure",
        "MINIO_SECURE",
        _bool,
        "Use HTTPS to reach the S3 store.",
        "--minio-secure",
        "BOOL",
    ),
    Option(
        "cdn_base_url",
        "CDN_BASE_URL",
        str,
        "Base of Media.url: the pull CDN in front of this service's /media/ route. "
        "Default: CHIRP_PUBLIC_URL (the origin itself).",
        "--cdn-base-url",
        "URL",
    ),
    Option(
        "max_photo_bytes",
        "CHIRP_MAX_PHOTO_BYTES",
        _positive_int,
        "Largest JPEG, PNG or WebP upload.",
        "--max-photo-bytes",
        "BYTES",
    ),
    Option(
        "max_gif_bytes",
        "CHIRP_MAX_GIF_BYTES",
        _positive_int,
        "Largest GIF upload.",
        "--max-gif-bytes",
        "BYTES",
    ),
    Option(
        "max_video_bytes",
        "CHIRP_MAX_VIDEO_BYTES",
        _positive_int,
        "Largest MP4 upload.",
        "--max-video-bytes",
        "BYTES",
    ),
    Option(
        "upload_url_ttl_seconds",
        "CHIRP_UPLOAD_URL_TTL",
        _positive_int,
        "Lifetime of an upload URL in seconds.",
        "--upload-url-ttl",
        "SECONDS",
    ),
    Option(
        "media_sweep_after_seconds",
        "CHIRP_MEDIA_SWEEP_AFTER",
        _positive_int,
        "Uploaded media never attached to a tweet is removed after this many seconds.",
        "--media-sweep-after",
        "SECONDS",
    ),
    Option(
        "neo4j_uri",
        "NEO4J_URI",
        str,
        "Neo4j for the social graph, e.g. neo4j://host:7687. Unset: embedded SQLite.",
        "--neo4j-uri",
        "URI",
    ),
    Option("neo4j_user", "NEO4J_USER", str, "Neo4j user name.", "--neo4j-user", "USER"),
    Option("neo4j_password", "NEO4J_PASSWORD", str, "Neo4j password (environment only)."),
    Option(
        "neo4j_database", "NEO4J_DATABASE", str, "Neo4j database name.", "--neo4j-database", "NAME"
    ),
    Option(
        "mongodb_uri",
        "MONGODB_URI",
        str,
        "MongoDB (a replica set or mongos) for tweets and likes, e.g. "
        "mongodb://host:27017/?replicaSet=rs0. Unset: embedded SQLite.",
        "--mongodb-uri",
        "URI",
    ),
    Option("mongodb_db", "MONGODB_DB", str, "MongoDB database name.", "--mongodb-db", "NAME"),
    Option(
        "redis_url",
        "REDIS_URL",
        str,
        "Redis for the timeline cache, e.g. redis://host:6379/0. Unset: in-process cache.",
        "--redis-url",
        "URL",
    ),
)


class SettingsError(ValueError):
    """A setting has a value that cannot be used."""


def _default(option: Option) -> Any:
    return next(f.default for f in dataclasses.fields(Settings) if f.name == option.field)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add one flag per option, with the environment variable and default in its help."""
    for option in OPTIONS:
        if option.flag is None:
            continue
        default = _default(option)
        shown = f" (default: {default})" if default not in ("", None) else ""
        parser.add_argument(
            option.flag,
            dest=option.field,
            metavar=option.metavar,
            default=None,
            help=f"{option.help} Env: {option.env}.{shown}",
        )


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
    """Build settings from defaults, then the environment, then parsed flags."""
    env = os.environ if env is None else env
    values: dict[str, Any] = {}
    for option in OPTIONS:
        raw: str | None = None
        source = option.env
        if args is not None and getattr(args, option.field, None) is not None:
            raw = str(getattr(args, option.field))
            source = option.flag or option.env
        elif env.get(option.env, "") != "":
            raw = env[option.env]
        if raw is None:
            continue
        try:
            values[option.field] = option.parse(raw)
        except ValueError as exc:
            raise SettingsError(f"{source}: {exc}") from exc
    return Settings(**values)


def option_names() -> Sequence[str]:
    return [option.env for option in OPTIONS]
