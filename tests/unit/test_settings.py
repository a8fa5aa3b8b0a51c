"""Settings (bootstrap/settings.py): defaults, environment, CLI flags, validation, help."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from bootstrap.settings import (
    OPTIONS,
    Settings,
    SettingsError,
    add_arguments,
    environment_help,
    load_settings,
    option_names,
    where_to_set,
)


def parse_flags(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="app.py")
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_defaults_with_an_empty_environment_and_no_flags() -> None:
    settings = load_settings(env={}, args=parse_flags())
    assert settings == Settings()
    assert settings.host == "127.0.0.1"
    assert settings.port == 8000
    assert settings.data_dir == Path("data")
    assert settings.public_url == ""
    assert settings.worker_id == 0
    assert settings.secret_key == ""
    assert settings.token_ttl_seconds == 30 * 24 * 3600
    assert settings.log_level == "INFO"
    assert settings.worker_metrics_port == 9100  # not the API's port: both run side by side
    assert settings.shutdown_timeout_seconds == 10.0


def test_a_flag_not_given_leaves_nothing_in_the_parsed_flags() -> None:
    """So a subcommand's copy of the flags never overwrites one given before it."""
    assert vars(parse_flags()) == {}
    assert vars(parse_flags("--metrics-port", "0")) == {"worker_metrics_port": "0"}


def test_messages_name_a_setting_by_its_variable_and_flag() -> None:
    assert where_to_set("port") == "CHIRP_PORT or --port"
    assert where_to_set("worker_metrics_port") == "CHIRP_WORKER_METRICS_PORT or --metrics-port"
    assert where_to_set("secret_key") == "CHIRP_SECRET_KEY"


def test_load_settings_works_without_parsed_flags() -> None:
    assert load_settings(env={}) == Settings()


def test_environment_variables_are_parsed_into_typed_values() -> None:
    env = {
        "CHIRP_HOST": "0.0.0.0",
        "CHIRP_PORT": "9001",
        "CHIRP_DATA_DIR": "/var/lib/chirp",
        "CHIRP_PUBLIC_URL": "https://chirp.example",
        "CHIRP_WORKER_ID": "1023",
        "CHIRP_SECRET_KEY": "s" * 40,
        "CHIRP_TOKEN_TTL": "60",
        "CHIRP_LOG_LEVEL": "debug",
    }
    settings = load_settings(env=env)
    assert settings == Settings(
        host="0.0.0.0",
        port=9001,
        data_dir=Path("/var/lib/chirp"),
        public_url="https://chirp.example",
        worker_id=1023,
        secret_key="s" * 40,
        token_ttl_seconds=60,
        log_level="DEBUG",
    )


def test_an_empty_environment_variable_means_unset() -> None:
    assert load_settings(env={"CHIRP_PORT": "", "CHIRP_LOG_LEVEL": ""}) == Settings()


def test_unrelated_environment_variables_are_ignored() -> None:
    assert load_settings(env={"PORT": "1", "HOST": "x", "chirp_port": "2"}) == Settings()
    # named like a field, not like its variable
    assert load_settings(env={"port": "1", "host": "x", "redis_url": "redis://x"}) == Settings()


def test_load_settings_reads_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHIRP_PORT", "9005")
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/0")
    settings = load_settings()
    assert (settings.port, settings.redis_url) == (9005, "redis://cache:6379/0")


def test_settings_built_in_code_never_read_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A test building Settings(...) must not pick up a developer's REDIS_URL."""
    monkeypatch.setenv("REDIS_URL", "redis://production:6379/0")
    monkeypatch.setenv("CHIRP_PORT", "9005")
    assert Settings().redis_url == ""
    assert Settings(host="h").port == 8000


def test_cli_flags_win_over_the_environment() -> None:
    env = {"CHIRP_PORT": "9001", "CHIRP_HOST": "10.0.0.1", "CHIRP_WORKER_ID": "3"}
    args = parse_flags("--port", "9002", "--worker-id", "4", "--log-level", "warning")
    settings = load_settings(env=env, args=args)
    assert settings.port == 9002
    assert settings.worker_id == 4
    assert settings.log_level == "WARNING"
    assert settings.host == "10.0.0.1"  # no flag given: the environment still applies


def test_every_flagged_option_is_settable_from_the_command_line() -> None:
    args = parse_flags(
        "--host=::",
        "--port=0",
        "--data-dir=/tmp/x",
        "--public-url=https://p.example/",
        "--worker-id=0",
        "--token-ttl=1",
        "--log-level=ERROR",
    )
    settings = load_settings(env={}, args=args)
    assert (settings.host, settings.port, settings.data_dir) == ("::", 0, Path("/tmp/x"))
    assert (settings.public_url, settings.worker_id) == ("https://p.example/", 0)
    assert (settings.token_ttl_seconds, settings.log_level) == (1, "ERROR")


def test_the_secret_key_has_no_flag_so_it_never_shows_in_a_process_list() -> None:
    with pytest.raises(SystemExit):
        parse_flags("--secret-key", "x" * 40)
    [secret] = [o for o in OPTIONS if o.field == "secret_key"]
    assert secret.flag is None


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CHIRP_PORT": "70000"}, "CHIRP_PORT"),
        ({"CHIRP_PORT": "-1"}, "CHIRP_PORT"),
        ({"CHIRP_PORT": "eighty"}, "CHIRP_PORT"),
        ({"CHIRP_WORKER_ID": "2000"}, "CHIRP_WORKER_ID"),
        ({"CHIRP_WORKER_ID": "-1"}, "CHIRP_WORKER_ID"),
        ({"CHIRP_LOG_LEVEL": "LOUD"}, "CHIRP_LOG_LEVEL"),
        ({"CHIRP_TOKEN_TTL": "0"}, "CHIRP_TOKEN_TTL"),
        ({"CHIRP_TOKEN_TTL": "1.5"}, "CHIRP_TOKEN_TTL"),
        ({"CHIRP_STARTUP_TIMEOUT": "0"}, "CHIRP_STARTUP_TIMEOUT"),
        ({"CHIRP_SHUTDOWN_TIMEOUT": "0"}, "CHIRP_SHUTDOWN_TIMEOUT"),
        ({"CHIRP_WORKER_METRICS_PORT": "70000"}, "CHIRP_WORKER_METRICS_PORT"),
    ],
)
def test_bad_environment_values_raise_a_settings_error_naming_the_variable(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(env=env)


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--port", "70000"], "--port"),
        (["--worker-id", "2000"], "--worker-id"),
        (["--log-level", "LOUD"], "--log-level"),
        (["--token-ttl", "-5"], "--token-ttl"),
    ],
)
def test_bad_flag_values_raise_a_settings_error_naming_the_flag(
    argv: list[str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(env={}, args=parse_flags(*argv))


def test_a_settings_error_is_a_value_error_with_the_reason() -> None:
    with pytest.raises(ValueError, match=r"0-65535.*70000"):
        load_settings(env={"CHIRP_PORT": "70000"})


def test_base_url_defaults_to_the_host_and_port() -> None:
    assert Settings().base_url == "http://127.0.0.1:8000"
    assert Settings(host="chirp.local", port=8080).base_url == "http://chirp.local:8080"


@pytest.mark.parametrize("wildcard", ["0.0.0.0", "::", ""])
def test_base_url_of_a_wildcard_bind_points_at_loopback(wildcard: str) -> None:
    assert Settings(host=wildcard, port=9000).base_url == "http://127.0.0.1:9000"


def test_base_url_brackets_an_ipv6_host() -> None:
    assert Settings(host="::1", port=8000).base_url == "http://[::1]:8000"


def test_base_url_is_the_public_url_without_a_trailing_slash() -> None:
    assert Settings(public_url="https://chirp.example/").base_url == "https://chirp.example"
    assert (
        Settings(public_url="https://x.example/app//", port=1).base_url == "https://x.example/app"
    )


def test_replace_returns_a_changed_copy() -> None:
    settings = Settings()
    changed = settings.replace(port=1)
    assert (settings.port, changed.port) == (8000, 1)


def test_settings_are_checked_in_code_too_and_cannot_change() -> None:
    with pytest.raises(ValueError, match="0-65535"):
        Settings(port=70000)
    with pytest.raises(ValueError, match="between 0 and 1023"):
        Settings().replace(worker_id=1024)
    with pytest.raises(ValueError, match="prot"):
        Settings(prot=1)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="frozen"):
        Settings().port = 1


# DESIGN.md names the production backends' variables as their drivers' users know them.
BACKEND_PREFIXES = ("NEO4J_", "MONGODB_", "REDIS_", "MINIO_", "CDN_")


def test_every_option_has_help_and_a_chirp_environment_variable() -> None:
    fields = set(Settings.model_fields)
    for option in OPTIONS:
        assert option.help.strip(), option
        assert option.env.startswith(("CHIRP_", *BACKEND_PREFIXES)), option
        assert option.field in fields, option
        if option.flag is not None:
            assert option.flag.startswith("--"), option
    assert {o.field for o in OPTIONS} == fields
    assert len({o.env for o in OPTIONS}) == len(OPTIONS)
    assert len({o.flag for o in OPTIONS if o.flag}) == len([o for o in OPTIONS if o.flag])


def test_the_service_own_options_use_the_chirp_prefix() -> None:
    own = [o for o in OPTIONS if not o.env.startswith(BACKEND_PREFIXES)]
    assert {o.field for o in own} >= {"host", "port", "data_dir", "worker_id", "secret_key"}
    assert all(o.env.startswith("CHIRP_") for o in own)


def test_the_help_lists_every_environment_variable() -> None:
    text = environment_help()
    for name in option_names():
        assert name in text
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    flag_help = " ".join(parser.format_help().split())  # argparse wraps lines
    assert "CHIRP_PORT" in flag_help
    assert "(default: 8000)" in flag_help


def test_an_empty_safelist_exempts_nobody() -> None:
    """Empty variables count as unset, except the safelist, whose default exempts loopback."""
    from bootstrap.settings import load_settings

    assert load_settings(env={}).rate_limit_safelist == "127.0.0.0/8,::1/128"
    assert load_settings(env={"CHIRP_RATE_LIMIT_SAFELIST": ""}).rate_limit_safelist == ""
    assert load_settings(env={"CHIRP_PORT": ""}).port == 8000
