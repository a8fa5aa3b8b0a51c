"""The command line, as an operator meets it: commands, their flags, their ports.

- Every command (`serve`, `worker`, `admin init`) takes every settings flag after
  its name as well as before it, and its --help lists them all.
- The API listens on CHIRP_PORT (8000); a fan-out worker serves only /healthz and
  /metrics, on CHIRP_WORKER_METRICS_PORT (9100; 0: no port at all). So a worker
  and an API run side by side on the same settings.
- A port already taken stops the process at once with one line naming the port
  and the setting to change: exit code 1, no traceback.
"""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from app import build_parser
from bootstrap.settings import OPTIONS, Settings, load_settings
from tests.processes import Chirp, environment, run, running
from tests.servers import free_port


def settings_from(*argv: str) -> Settings:
    return load_settings(env={}, args=build_parser().parse_args(list(argv)))


# ------------------------------------------------------------ flags and help


@pytest.mark.parametrize(
    "argv",
    [
        ["worker", "--worker-id", "3"],
        ["--worker-id", "3", "worker"],
        ["--worker-id", "2", "worker", "--worker-id", "3"],  # the later one wins
        ["worker", "--worker-id=3"],
    ],
)
def test_a_flag_works_after_the_command_and_before_it(argv: list[str]) -> None:
    assert settings_from(*argv).worker_id == 3


@pytest.mark.parametrize("command", [[], ["serve"], ["worker"], ["admin", "init"]])
def test_every_command_takes_every_settings_flag(command: list[str]) -> None:
    parsed = settings_from(*command, "--data-dir", "/srv/chirp", "--metrics-port", "0")
    assert (parsed.data_dir, parsed.worker_metrics_port) == (Path("/srv/chirp"), 0)
    parsed = settings_from("--data-dir", "/srv/chirp", *command, "--log-level", "debug")
    assert (parsed.data_dir, parsed.log_level) == (Path("/srv/chirp"), "DEBUG")


def test_a_flag_not_given_after_the_command_leaves_the_one_given_before() -> None:
    parsed = settings_from("--port", "8100", "--redis-url", "redis://r:6379/0", "serve")
    assert (parsed.port, parsed.redis_url) == (8100, "redis://r:6379/0")


@pytest.mark.parametrize("command", [[], ["serve"], ["worker"], ["admin"], ["admin", "init"]])
def test_each_command_help_lists_every_setting(tmp_path: Path, command: list[str]) -> None:
    result = run([*command, "--help"], environment(tmp_path))
    assert result.returncode == 0, result.stderr
    usage = result.stdout.splitlines()[0]
    assert usage.startswith(" ".join(["usage: python app.py", *command])), usage
    for option in OPTIONS:
        assert option.env in result.stdout, option
        if option.flag:
            assert f"{option.flag} {option.metavar}" in result.stdout, option


def test_a_bad_value_after_the_command_is_refused_naming_the_flag(tmp_path: Path) -> None:
    result = run(["worker", "--worker-id", "2000"], environment(tmp_path))
    assert result.returncode == 2
    assert "--worker-id" in result.stderr
    assert "1023" in result.stderr


def test_admin_init_takes_its_flags_after_the_task(tmp_path: Path) -> None:
    data_dir = tmp_path / "elsewhere"
    result = run(["admin", "init", "--data-dir", str(data_dir)], environment(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert f"graph: embedded SQLite at {data_dir}" in result.stdout
    assert (data_dir / "graph.sqlite3").exists()


# ------------------------------------------------------------------- ports


def test_the_api_and_a_worker_have_different_default_ports() -> None:
    assert (Settings().port, Settings().worker_metrics_port) == (8000, 9100)


@contextmanager
def taken_port() -> Iterator[int]:
    """A port some other program is listening on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


@pytest.mark.parametrize(
    ("command", "setting"),
    [
        (["--port"], "CHIRP_PORT or --port"),
        (["serve", "--port"], "CHIRP_PORT or --port"),
        (["worker", "--metrics-port"], "CHIRP_WORKER_METRICS_PORT or --metrics-port"),
    ],
)
def test_a_busy_port_is_one_clear_line_naming_the_setting(
    tmp_path: Path, command: list[str], setting: str
) -> None:
    with taken_port() as port:
        started = time.monotonic()
        result = run([*command, str(port)], environment(tmp_path / "data"))
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.endswith(f"chirp: port {port} is already in use; set {setting}"), line
    # refused before anything opened: no store was touched, no data folder made
    assert not (tmp_path / "data").exists()
    assert time.monotonic() - started < 10


async def healthy(base: str) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{base}/healthz") as reply:
        assert reply.status == 200
        assert await reply.json() == {"status": "ok"}


async def stops_cleanly(process: Chirp) -> None:
    process.signal(signal.SIGINT)  # as Ctrl-C sends it
    assert await process.exited(within=15) == 0, process.output
    assert "Traceback" not in process.output, process.output
    assert "Chirp stopped" in process.output, process.output


@pytest.mark.slow
async def test_a_worker_runs_beside_the_api_on_the_same_settings(tmp_path: Path) -> None:
    api_port, metrics_port = free_port(), free_port()
    env = environment(
        tmp_path / "data", CHIRP_PORT=str(api_port), CHIRP_WORKER_METRICS_PORT=str(metrics_port)
    )
    with running([], env, tmp_path / "api.log") as api:
        await api.ready(f"http://127.0.0.1:{api_port}/healthz")
        # the worker has CHIRP_PORT too, and leaves it to the API
        with running(["worker", "--worker-id", "1"], env, tmp_path / "worker.log") as worker:
            await worker.ready(f"http://127.0.0.1:{metrics_port}/healthz")
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"http://127.0.0.1:{metrics_port}/metrics") as metrics,
            ):
                assert metrics.status == 200
                assert "chirp_fanout_jobs_total" in await metrics.text()
                async with session.get(f"http://127.0.0.1:{metrics_port}/graphql") as api_route:
                    assert api_route.status == 404  # a worker serves no API
            await healthy(f"http://127.0.0.1:{api_port}")
            await stops_cleanly(worker)
        await healthy(f"http://127.0.0.1:{api_port}")
        await stops_cleanly(api)
    assert f"/healthz and /metrics on http://127.0.0.1:{metrics_port}" in worker.output


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["worker", "--worker-id", "3"], ["--worker-id", "3", "worker"]])
async def test_worker_takes_its_worker_id(tmp_path: Path, argv: list[str]) -> None:
    port = free_port()
    env = environment(tmp_path / "data", CHIRP_WORKER_METRICS_PORT=str(port))
    with running(argv, env, tmp_path / "worker.log") as worker:
        await worker.ready(f"http://127.0.0.1:{port}/healthz")
        await stops_cleanly(worker)
    assert "-w3: " in worker.output, worker.output  # its consumer's name ends in its id


@pytest.mark.slow
async def test_a_worker_with_metrics_port_0_listens_on_no_port(tmp_path: Path) -> None:
    env = environment(tmp_path / "data")
    with running(["worker", "--metrics-port", "0"], env, tmp_path / "worker.log") as worker:
        deadline = time.monotonic() + 30
        while "consumer(s)" not in worker.output:  # its fan-out consumers are running
            assert worker.returncode is None, worker.output
            assert time.monotonic() < deadline, worker.output
            await asyncio.sleep(0.05)
        await stops_cleanly(worker)
    assert "fan-out worker starting with no port" in worker.output, worker.output
