"""Chirp: the command line and the process lifecycle.

``python app.py`` serves the GraphQL API on the embedded default (SQLite files
and in-process structures in ``--data-dir``); ``python app.py worker`` runs
fan-out workers; ``python app.py admin init`` sets the stores up; ``python app.py
demo`` fills empty stores with a sample world; ``python app.py --help`` lists
every setting. What runs is built in ``bootstrap/``.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import gc
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from bootstrap.demo import DemoConfig, DemoRefused
from bootstrap.demo import run as run_demo
from bootstrap.services import (
    AdminError,
    Overrides,
    register_app,
    secret_key,
    serving,
    working,
)
from bootstrap.settings import (
    Settings,
    SettingsError,
    add_arguments,
    environment_help,
    load_settings,
    where_to_set,
)
from bootstrap.stores import UNAVAILABLE_ERRORS, BackendStartError, init_stores
from bootstrap.supervisor import Supervisor, die_with_parent
from core.ids import MAX_WORKER_ID
from schema import QueryLimits, build_schema
from services.container import Services
from web.media_routes import add_media_routes
from web.routes import WORKER_ID, add_routes, add_worker_routes, error_middleware
from web.security import parse_origins, security_middleware
from web.shutdown import close_websockets_on_shutdown

log = logging.getLogger("chirp")

MAX_BODY_BYTES = 1024 * 1024
# how long a WebSocket client has to answer the close frame at shutdown
WEBSOCKET_CLOSE_GRACE_SECONDS = 2.0
BACKLOG = 128  # connections waiting to be accepted (aiohttp's default)

SERVICES_KEY = web.AppKey("services", Services)
SETTINGS_KEY = web.AppKey("settings", Settings)


def create_app(settings: Settings, overrides: Overrides | None = None) -> web.Application:
    """The API: GraphQL, media and health routes over the services ``serving`` runs."""
    origins = parse_origins(settings.cors_origins)
    app = web.Application(
        client_max_size=MAX_BODY_BYTES,
        middlewares=[security_middleware(origins), error_middleware],
    )
    app[SETTINGS_KEY] = settings
    limits = QueryLimits(
        max_cost=settings.max_query_cost,
        max_nodes=settings.max_query_nodes,
        introspection=settings.introspection,
    )
    add_routes(
        app,
        build_schema(UNAVAILABLE_ERRORS, limits=limits),
        lambda: app[SERVICES_KEY],
        settings.require_api_key,
        origins,
    )
    add_media_routes(app, lambda: app[SERVICES_KEY])
    # on SIGINT or SIGTERM, before aiohttp waits for the handlers still running
    grace = min(WEBSOCKET_CLOSE_GRACE_SECONDS, settings.shutdown_timeout_seconds / 2)
    close_websockets_on_shutdown(app, grace)

    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        async with serving(settings, overrides) as services:
            app[SERVICES_KEY] = services
            yield

    app.cleanup_ctx.append(services_ctx)
    return app


def create_worker_app(settings: Settings) -> web.Application:
    """A fan-out worker process: no API, only /healthz and /metrics for operators."""
    app = web.Application(middlewares=[error_middleware])
    add_worker_routes(app)

    async def worker_ctx(app: web.Application) -> AsyncIterator[None]:
        async with working(settings):
            yield

    app.cleanup_ctx.append(worker_ctx)
    return app


DESCRIPTION = (
    "Chirp: a Twitter-style GraphQL API server. With no settings it runs on the embedded "
    "default (no servers needed) and keeps its data in --data-dir. Each of NEO4J_URI, "
    "MONGODB_URI and REDIS_URL switches its store to production."
)
COMMANDS = {
    "serve": "serve the API on --port (the default command)",
    "worker": "run a fan-out worker only (CHIRP_FANOUT_CONCURRENCY consumers), with "
    "/healthz and /metrics on --metrics-port; give each process its own --worker-id",
    "admin": "operator tasks",
    "demo": "fill empty stores with a demo world (users, follows, tweets, likes, photos, "
    "a trending burst) and print a demo account to log in with",
}
ADMIN_TASKS = {
    "init": "create the stores' constraints and indexes and, on a sharded MongoDB "
    "cluster, shard the collections; safe to run again",
    "create-app": "register an app for the user --owner and print its API key once (the "
    "first key of a server with CHIRP_REQUIRE_API_KEY, e.g. for its own web client)",
}


def command(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    prog: str,
    text: str,
    common: dict[str, Any],
) -> argparse.ArgumentParser:
    name = prog.rsplit(" ", 1)[1]
    return commands.add_parser(
        name,
        prog=prog,
        usage="%(prog)s [OPTIONS]",
        help=text,
        description=textwrap.fill(f"{text[:1].upper()}{text[1:]}.", 79),
        **common,
    )


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def add_demo_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = DemoConfig()
    demo = parser.add_argument_group("demo options")
    demo.add_argument(
        "--users", type=positive, default=defaults.users, metavar="N", help="accounts (%(default)s)"
    )
    demo.add_argument(
        "--tweets",
        type=positive,
        default=defaults.tweets,
        metavar="N",
        help="tweets over the days shown, besides the burst of the last hour (%(default)s)",
    )
    demo.add_argument(
        "--days", type=positive, default=defaults.days, metavar="N", help="days shown (%(default)s)"
    )
    demo.add_argument(
        "--seed",
        type=int,
        default=defaults.seed,
        metavar="N",
        help="the same seed gives the same users, graph, texts and relative times (%(default)s)",
    )
    demo.add_argument(
        "--password",
        metavar="TEXT",
        help="the password of every demo account (default: a new random one, printed)",
    )
    demo.add_argument(
        "--reset",
        action="store_true",
        help="first remove the embedded stores' files from --data-dir (SQLite files and "
        "media/); refused when NEO4J_URI, MONGODB_URI, REDIS_URL or MINIO_ENDPOINT is set. "
        "Without it, stores that already have users are left alone",
    )


def demo(settings: Settings, args: argparse.Namespace) -> int:
    config = DemoConfig(
        users=args.users, tweets=args.tweets, days=args.days, seed=args.seed, password=args.password
    )
    try:
        summary = asyncio.run(run_demo(settings, config, args.reset, progress=print))
    except DemoRefused as exc:
        log.error("demo refused: %s (python app.py demo --reset starts afresh)", exc)
        return 1
    except BackendStartError as exc:
        log.error("cannot run the demo: %s", exc)
        return 1
    for line in summary.lines(settings.base_url):
        print(line)
    return 0


def build_parser() -> argparse.ArgumentParser:
    """``python app.py [COMMAND]``: every command takes every settings flag, after its
    name as well as before it, and lists them in its --help."""
    settings_flags = argparse.ArgumentParser(add_help=False)
    add_arguments(settings_flags)
    common: dict[str, Any] = {
        "parents": [settings_flags],
        "epilog": environment_help(),
        "formatter_class": argparse.RawDescriptionHelpFormatter,
    }
    parser = argparse.ArgumentParser(
        prog="python app.py",
        usage="%(prog)s [OPTIONS] [COMMAND [OPTIONS]]",
        description=textwrap.fill(DESCRIPTION, 79),
        **common,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parsers = {
        name: command(commands, f"python app.py {name}", text, common)
        for name, text in COMMANDS.items()
    }
    add_demo_arguments(parsers["demo"])
    parsers["admin"].usage = "%(prog)s [OPTIONS] TASK [OPTIONS]"
    tasks = parsers["admin"].add_subparsers(dest="admin_command", metavar="TASK", required=True)
    for name, text in ADMIN_TASKS.items():
        task = command(tasks, f"python app.py admin {name}", text, common)
        if name == "create-app":
            task.add_argument("--owner", required=True, metavar="HANDLE", help="owner's handle")
            task.add_argument("--name", required=True, metavar="NAME", help="the app's name")
    return parser


# A request allocates thousands of short-lived objects. With Python's default
# thresholds (700, 10, 10) the collector runs about once per home-page request
# and keeps re-walking the ~100,000 long-lived objects of the schema, drivers and
# modules. Frozen after start-up, they are never walked again; the first
# threshold then trades pause length against frequency. Measured in process over
# 3,000 home pages (BENCHMARKS.md, "Collector settings"): 2,000 collects about
# once per 13 pages with pauses under 1.5 ms; 10,000 spent as much time in all
# but paused 3-5 ms at a time, which showed in GraphQL's p99.
GC_THRESHOLDS = (2_000, 10, 10)


async def settle_heap(app: web.Application) -> None:
    """Once started: freeze what start-up made, and collect young objects less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """uvloop's event loop where it is installed (Linux and macOS), else asyncio's.

    uvloop runs the same asyncio code with its loop, sockets and callbacks in C:
    about a quarter more home pages per core here (BENCHMARKS.md, "What changed").
    """
    try:
        import uvloop  # optional: not installed on every platform
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def exit_on_a_second_signal(app: web.Application) -> None:
    """While stopping, a second SIGINT or SIGTERM (Ctrl-C pressed again) ends the process
    at once: requests still in flight are dropped, nothing more is waited for. Committed
    writes are safe (the stores are durable on commit); the exit status is 1."""
    loop = asyncio.get_running_loop()

    def exit_now(signum: int) -> None:
        log.warning(
            "%s again: exiting now, without waiting for requests in flight",
            signal.Signals(signum).name,
        )
        os._exit(1)

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, exit_now, signum)


class ListenError(Exception):
    """The port (or host) a process is set to listen on cannot be had."""


def listen(host: str, port: int, port_field: str) -> list[socket.socket]:
    """The sockets of a server on ``host``:``port``, bound and listening now, as asyncio's
    ``create_server`` would make them (every address of the host; IPv6 sockets IPv6
    only). A port already taken is refused at once, before anything opens, and no
    other process can take it while the stores open: connections made meanwhile wait
    in the backlog until aiohttp accepts them, once the stores are open
    (``web.run_app(sock=...)``). Bound but not listening, the port could still be
    bound by another process (SO_REUSEADDR), and the later listen() fails: silently,
    under uvloop."""
    try:
        addresses = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except socket.gaierror as exc:
        raise ListenError(
            f"cannot listen on host {host!r}: {exc.strerror}; set {where_to_set('host')}"
        ) from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(addresses):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        setting = where_to_set(port_field)
        if exc.errno == errno.EADDRINUSE:
            reason = f"port {port} is already in use"
        else:
            reason = f"cannot listen on {host}:{port}: {(exc.strerror or str(exc)).lower()}"
            if exc.errno == errno.EADDRNOTAVAIL:  # not an address of this machine
                setting = where_to_set("host")
        raise ListenError(f"{reason}; set {setting}") from None
    return sockets


def run_server(
    app: web.Application,
    settings: Settings,
    what: str,
    port_field: str | None,
    serving_on: str = "on",
    reuse_port: bool = False,
) -> int:
    """Run ``app`` until SIGINT or SIGTERM (aiohttp's ``GracefulExit``), listening on the
    port setting ``port_field`` (None: no port at all); 0 when it stopped cleanly.

    ``reuse_port``: one of ``--workers N``'s processes. It binds the port with
    SO_REUSEPORT beside its siblings only once its stores are open (aiohttp starts its
    sites after the start-up hooks), so the kernel hands it no connection before it can
    answer; its supervisor has checked the port is free and holds it meanwhile."""
    sockets: list[socket.socket] = []
    if reuse_port:
        where = f"{serving_on} http://{settings.host}:{settings.port} (shared, SO_REUSEPORT)"
    elif port_field is not None:
        port = getattr(settings, port_field)
        try:
            sockets = listen(settings.host, port, port_field)
        except ListenError as exc:
            log.error("%s", exc)
            return 1
        bound = sockets[0].getsockname()[1]
        where = f"{serving_on} http://{settings.host}:{bound}"
    else:
        where = "with no port"
    loop = new_event_loop()
    log.info(
        "Chirp %s starting %s (event loop: %s)", what, where, type(loop).__module__.split(".")[0]
    )
    app.on_startup.append(settle_heap)  # after the stores open (cleanup contexts run first)
    app.on_shutdown.insert(0, exit_on_a_second_signal)  # the first thing once stopping
    try:
        web.run_app(
            app,
            loop=loop,
            host=settings.host if reuse_port else None,
            port=settings.port if reuse_port else None,
            reuse_port=reuse_port or None,
            sock=None if reuse_port else sockets,  # none: serves nothing, stops on a signal
            backlog=BACKLOG,
            print=None,
            access_log=None,
            shutdown_timeout=settings.shutdown_timeout_seconds,
        )
    except BackendStartError as exc:
        log.error("cannot start: %s", exc)
        return 1
    except OSError as exc:  # a worker of --workers N: its SO_REUSEPORT bind was refused
        if not reuse_port:
            raise
        log.error("cannot listen on %s:%s: %s", settings.host, settings.port, exc)
        return 1
    finally:
        for sock in sockets:
            sock.close()
    log.info("Chirp stopped")
    return 0


def serve(settings: Settings) -> int:
    if settings.workers > 1:
        return serve_many(settings)
    return run_server(create_app(settings), settings, "API", "port")


# ------------------------------------------------ --workers N: one port, N processes

# The environment variable that makes `python app.py` one of --workers N's processes:
# JSON of its settings, its slot, its supervisor's pid and its ready pipe.
SUPERVISED = "CHIRP_SUPERVISED_WORKER"
APP_PY = Path(__file__).resolve()


class WorkersRefused(Exception):
    """``--workers N`` cannot run with these settings on this system."""


def check_workers(settings: Settings) -> None:
    """Refuse what ``--workers N`` (N > 1) cannot do right, with the reason and the fix."""
    n = settings.workers
    if not sys.platform.startswith("linux") or not hasattr(socket, "SO_REUSEPORT"):
        raise WorkersRefused(
            f"CHIRP_WORKERS={n} needs Linux (SO_REUSEPORT spreads connections over the "
            "processes); run one process per port behind a load balancer instead"
        )
    if not settings.redis_url:
        raise WorkersRefused(
            f"CHIRP_WORKERS={n} needs REDIS_URL: without Redis the timelines cache, the "
            "fan-out queue, live events, rate limits, persisted queries and trends live in "
            "each process, and the processes would disagree (a subscription would miss "
            "tweets posted through another process); set REDIS_URL, or CHIRP_WORKERS=1"
        )
    last = settings.worker_id + n - 1
    if last > MAX_WORKER_ID:
        raise WorkersRefused(
            f"CHIRP_WORKERS={n} with CHIRP_WORKER_ID={settings.worker_id} needs snowflake "
            f"worker ids {settings.worker_id}-{last}, beyond {MAX_WORKER_ID}; lower "
            "CHIRP_WORKER_ID or --worker-id"
        )


def hold_port(probe: list[socket.socket]) -> list[socket.socket]:
    """The addresses ``probe`` (from ``listen``, no SO_REUSEPORT) proved free, bound again
    with SO_REUSEPORT but not listening: the workers can join them, a later process
    without SO_REUSEPORT cannot take the port, and no connection waits on them."""
    addresses = [(sock.family, sock.getsockname()) for sock in probe]
    for sock in probe:
        sock.close()
    held: list[socket.socket] = []
    try:
        for family, address in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            held.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
    except OSError:
        for sock in held:
            sock.close()
        raise
    return held


def worker_settings(settings: Settings, index: int, port: int) -> Settings:
    """What the process in slot ``index`` runs with: its own worker id, the port the
    supervisor holds. CHIRP_FANOUT_WAIT is 0: a post's fan-out job may be taken by any
    process's in-process worker, and only a worker of the same process could end the wait
    early, so most posts would wait its whole length."""
    return settings.replace(
        workers=1, worker_id=settings.worker_id + index, port=port, fanout_wait_seconds=0.0
    )


def serve_many(settings: Settings) -> int:
    """``--workers N``: N API processes on one port, supervised (bootstrap/supervisor.py)."""
    try:
        check_workers(settings)
        probe = listen(settings.host, settings.port, "port")  # in use: refused, as one process
        held = hold_port(probe)
    except (WorkersRefused, ListenError) as exc:
        log.error("%s", exc)
        return 1
    port = held[0].getsockname()[1]
    if not settings.secret_key:
        secret_key(settings)  # DATA_DIR/secret.key made once, before the workers read it
    n, base = settings.workers, settings.worker_id
    log.info(
        "Chirp API: %d worker processes on http://%s:%d (worker ids %d-%d)",
        n, settings.host, port, base, base + n - 1,
    )  # fmt: skip

    def spawn(index: int, ready_fd: int) -> subprocess.Popen[bytes]:
        spec = {
            "settings": worker_settings(settings, index, port).model_dump(mode="json"),
            "slot": index,
            "parent": os.getpid(),
            "ready_fd": ready_fd,
        }
        return subprocess.Popen(
            [sys.executable, str(APP_PY), "serve"],
            env={**os.environ, SUPERVISED: json.dumps(spec)},
            pass_fds=[ready_fd],
            process_group=0,  # a terminal's Ctrl-C reaches the supervisor only
        )

    try:
        status = Supervisor(n, spawn, lambda index: f"worker {base + index}").run()
    finally:
        for sock in held:
            sock.close()
    if status == 0:
        log.info("Chirp stopped")
    else:
        log.warning("Chirp stopped (status %d)", status)
    return status


def serve_supervised(raw: str) -> int:
    """One of ``--workers N``'s processes, started by ``serve_many`` with its settings."""
    spec = json.loads(raw)
    settings = Settings(**spec["settings"])
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s %(levelname)s %(name)s [worker {settings.worker_id}]: %(message)s",
    )
    die_with_parent(spec["parent"])
    app = create_app(settings)
    app[WORKER_ID] = settings.worker_id
    ready_fd: int = spec["ready_fd"]

    async def tell_supervisor(app: web.Application) -> None:  # after the stores open
        os.write(ready_fd, b"1")
        os.close(ready_fd)

    app.on_startup.append(tell_supervisor)
    return run_server(app, settings, f"API worker {settings.worker_id}", "port", reuse_port=True)


def work(settings: Settings) -> int:
    metrics = "worker_metrics_port" if settings.worker_metrics_port else None
    return run_server(
        create_worker_app(settings),
        settings,
        "fan-out worker",
        metrics,
        "with /healthz and /metrics on",
    )


def main(argv: Sequence[str] | None = None) -> int:
    supervised = os.environ.pop(SUPERVISED, None)
    if supervised is not None:
        return serve_supervised(supervised)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings(args=args)
    except SettingsError as exc:
        parser.error(str(exc))
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command == "admin":
        try:
            if args.admin_command == "create-app":
                for line in asyncio.run(register_app(settings, args.owner, args.name)):
                    print(line)
                return 0
            for line in asyncio.run(init_stores(settings)):
                print(line)
        except BackendStartError as exc:
            log.error("cannot run admin %s: %s", args.admin_command, exc)
            return 1
        except AdminError as exc:
            log.error("admin %s: %s", args.admin_command, exc)
            return 1
        return 0
    if args.command == "worker":
        return work(settings)
    if args.command == "demo":
        if settings.log_level == "INFO":  # the default: the demo prints what it did itself
            logging.getLogger().setLevel(logging.WARNING)
        return demo(settings, args)
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main())
