"""Profiles and the config file: precedence (flag > env > profile > default), validation with errors
that name the file, and the `config` commands, through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memberships_cli.config import load_settings, read_config, write_config
from memberships_cli.errors import UsageError
from memberships_cli.sandbox import SANDBOX_TOKEN

from harness import FAIL_KEYRING
from keyring_backends import FileKeyringState


def config_path(home: Path) -> Path:
    return home / "config" / "memberships-cli" / "config.toml"


def write(home: Path, text: str) -> Path:
    path = config_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


@pytest.fixture
def xdg(home, monkeypatch):
    """In-process tests: platformdirs reads XDG_CONFIG_HOME, pointed at the test's home."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", FAIL_KEYRING)
    return home


# -- load_settings ---------------------------------------------------------------------------------


PROFILES = """
[profiles.default]
api_url = "https://default.example.com"

[profiles.work]
api_url = "https://work.example.com/api/"
format = "json"
"""


@pytest.mark.parametrize(
    "flag, env, expected_url, expected_source",
    [
        ("https://flag.example.com", {"MEMBERSHIPS_API_URL": "https://env.example.com"}, "https://flag.example.com", "--api-url"),
        (None, {"MEMBERSHIPS_API_URL": "https://env.example.com"}, "https://env.example.com", "MEMBERSHIPS_API_URL"),
        (None, {}, "https://work.example.com/api", "profile work"),
    ],
)
def test_api_url_precedence_flag_env_profile(xdg, flag, env, expected_url, expected_source):
    write(xdg, PROFILES)
    settings = load_settings(api_url=flag, profile="work", environ=env)
    assert (settings.api_url, settings.api_url_source) == (expected_url, expected_source)
    assert settings.default_format == "json"


def test_no_profile_settings_means_the_defaults(xdg):
    write(xdg, PROFILES)
    settings = load_settings(profile="elsewhere", environ={})
    assert (settings.api_url, settings.api_url_source, settings.default_format) == ("https://api.bird.com", "default", None)


def test_the_profile_comes_from_the_flag_then_the_environment(xdg):
    write(xdg, PROFILES)
    assert load_settings(environ={}).api_url == "https://default.example.com"
    assert load_settings(environ={"MEMBERSHIPS_PROFILE": "work"}).profile == "work"
    settings = load_settings(profile="default", environ={"MEMBERSHIPS_PROFILE": "work"})
    assert (settings.profile, settings.profile_source, settings.api_url) == ("default", "--profile", "https://default.example.com")


def test_config_commands_can_skip_a_broken_file(xdg):
    write(xdg, "not toml [")
    with pytest.raises(UsageError):
        load_settings(environ={})
    assert load_settings(environ={}, use_config_file=False).api_url == "https://api.bird.com"


@pytest.mark.parametrize(
    "text, message",
    [
        ("[profiles.work\n", "is not valid TOML"),
        ('[profiles.work]\nformat = "yaml"\n', "invalid format 'yaml'"),
        ('[profiles.work]\napi-url = "https://x.example.com"\n', "unknown setting 'api-url'"),
        ('[profiles.work]\napi_url = "http://remote.example.com"\n', "refusing plain http://"),
        ('[profiles.work]\napi_url = 42\n', "must be a string"),
        ('api_url = "https://x.example.com"\n', "unknown key 'api_url'"),
        ('profiles = "work"\n', "must be a table"),
        ('[profiles."bad name"]\n', "invalid profile name"),
        ("[profiles]\nwork = 1\n", "must be a table"),
    ],
)
def test_a_bad_config_file_is_an_error_naming_the_file(xdg, text, message):
    path = write(xdg, text)
    with pytest.raises(UsageError) as caught:
        read_config(path)
    assert message in caught.value.message
    assert str(path) in caught.value.message


def test_write_then_read_round_trips_and_drops_empty_profiles(tmp_path):
    path = tmp_path / "sub" / "config.toml"
    write_config(path, {"work": {"format": "csv", "api_url": "https://w.example.com"}, "empty": {}})
    assert read_config(path) == {"work": {"format": "csv", "api_url": "https://w.example.com"}}
    assert "[profiles.empty]" not in path.read_text()
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temporary file left


def test_a_missing_file_is_no_profiles(tmp_path):
    assert read_config(tmp_path / "none.toml") == {}


# -- through the CLI -------------------------------------------------------------------------------


def test_a_profile_points_commands_at_its_api_url_and_format(cli, sandbox, home):
    write(home, f'[profiles.work]\napi_url = "{sandbox.url}"\nformat = "json"\n')
    r = cli("--profile", "work", "list", env={"MEMBERSHIPS_API_URL": None})
    assert r.code == 0, r
    assert isinstance(json.loads(r.stdout), list)  # the profile's format, though stdout is a pipe
    assert sandbox.requests and sandbox.requests[0]["path"] == "/me/memberships"


def test_a_flag_still_beats_the_profile_format(cli, sandbox, home):
    write(home, '[profiles.default]\nformat = "json"\n')
    r = cli("list", "--format", "csv")
    assert r.code == 0, r
    assert r.stdout.startswith("organization.name,organization.slug,")


def test_memberships_profile_selects_the_profile(cli, sandbox, home):
    write(home, f'[profiles.work]\napi_url = "{sandbox.url}"\n')
    r = cli("list", env={"MEMBERSHIPS_API_URL": None, "MEMBERSHIPS_PROFILE": "work"})
    assert r.code == 0, r
    assert sandbox.requests


def test_each_profile_uses_its_own_stored_token(cli, sandbox, home, tmp_path):
    kr = FileKeyringState(tmp_path / "keyring.json")
    kr.put(f"127.0.0.1:{sandbox.port}:work", SANDBOX_TOKEN)
    kr.put(f"127.0.0.1:{sandbox.port}:default", "the-default-profiles-token")
    r = cli("--profile", "work", "list", token=None, env=kr.env)
    assert r.code == 0, r
    assert {q["authorization"] for q in sandbox.requests} == {f"Bearer {SANDBOX_TOKEN}"}


@pytest.mark.parametrize(
    "text, message",
    [("[profiles.default\n", "is not valid TOML"), ('[profiles.default]\nformat = "yaml"\n', "invalid format")],
)
def test_a_broken_config_file_stops_commands_with_exit_2(cli, sandbox, home, text, message):
    path = write(home, text)
    r = cli("list")
    assert r.code == 2, r
    assert message in r.stderr and str(path) in r.stderr
    assert r.stderr.count("\n") == 1
    assert sandbox.requests == []


def test_an_invalid_profile_name_is_exit_2(cli, sandbox):
    r = cli("--profile", "../../etc", "list")
    assert r.code == 2, r
    assert "invalid profile name" in r.stderr


# -- the config command ----------------------------------------------------------------------------


def test_config_path_prints_the_file_even_when_it_is_broken(cli, home):
    write(home, "broken [")
    r = cli("config", "path")
    assert r.code == 0, r
    assert r.stdout == f"{config_path(home)}\n"


def test_config_set_get_list_unset(cli, sandbox, home):
    r = cli("--profile", "work", "config", "set", "format", "jsonl")
    assert r.code == 0, r
    assert r.stdout == "" and "Set format=jsonl for profile work" in r.stderr
    r = cli("--profile", "work", "config", "set", "api_url", "https://work.example.com/")
    assert r.code == 0, r
    assert read_config(config_path(home)) == {"work": {"format": "jsonl", "api_url": "https://work.example.com"}}
    assert cli("--profile", "work", "config", "get", "format").stdout == "jsonl\n"
    assert cli("--profile", "work", "config", "list").stdout == "format=jsonl\napi_url=https://work.example.com\n"
    assert json.loads(cli("--profile", "work", "config", "list", "--json").stdout) == {
        "format": "jsonl", "api_url": "https://work.example.com"}
    assert cli("config", "list", "--all").stdout == "work.format=jsonl\nwork.api_url=https://work.example.com\n"
    r = cli("config", "list")  # the default profile has nothing stored
    assert (r.code, r.stdout) == (0, "") and "No settings stored for profile default" in r.stderr
    r = cli("--profile", "work", "config", "unset", "format")
    assert r.code == 0, r
    assert read_config(config_path(home)) == {"work": {"api_url": "https://work.example.com"}}
    r = cli("--profile", "work", "config", "get", "format")
    assert (r.code, r.stdout) == (0, "") and "format is not set for profile work" in r.stderr
    r = cli("--profile", "work", "config", "unset", "format")
    assert r.code == 0 and "nothing to unset" in r.stderr
    assert sandbox.requests == []


@pytest.mark.parametrize(
    "args, message",
    [
        (["set", "format", "yaml"], "invalid format 'yaml'"),
        (["set", "api_url", "http://remote.example.com"], "refusing plain http://"),
        (["set", "api_url", "ftp://x"], "invalid API URL"),
        (["set", "colour", "red"], "unknown setting 'colour'"),
        (["get", "colour"], "unknown setting 'colour'"),
        (["unset", "colour"], "unknown setting 'colour'"),
    ],
)
def test_config_refuses_bad_keys_and_values_and_leaves_the_file_alone(cli, home, args, message):
    path = write(home, '[profiles.default]\nformat = "csv"\n')
    r = cli("config", *args)
    assert r.code == 2, r
    assert message in r.stderr
    assert path.read_text() == '[profiles.default]\nformat = "csv"\n'


def test_config_set_on_a_broken_file_names_it_and_leaves_it_alone(cli, home):
    path = write(home, "broken [")
    r = cli("config", "set", "format", "json")
    assert r.code == 2, r
    assert str(path) in r.stderr and "not valid TOML" in r.stderr
    assert path.read_text() == "broken ["


def test_config_notes_when_the_environment_overrides_api_url(cli, sandbox, home):
    r = cli("config", "set", "api_url", "https://example.com")
    assert r.code == 0, r
    assert "MEMBERSHIPS_API_URL overrides api_url" in r.stderr


def test_config_keeps_other_profiles(cli, home):
    write(home, '[profiles.other]\nformat = "plain"\n')
    assert cli("config", "set", "format", "csv").code == 0
    assert read_config(config_path(home)) == {"other": {"format": "plain"}, "default": {"format": "csv"}}
