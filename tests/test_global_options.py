"""Global options work after the command as well as before it (like gh's persistent flags), through
the real entry point: each one is shown to take effect, in both `--opt value` and `--opt=value`
forms, and never after `--` or as the value of a command's own option."""

from __future__ import annotations

import pytest
import typer

from harness import cli, home, sandbox  # noqa: F401  (fixtures)
from memberships_cli.cli import build_app

CLOSED_PORT_URL = "http://127.0.0.1:9"  # discard port: nothing listens there


def _me_requests(server) -> list[dict]:
    return [r for r in server.requests if r["path"].startswith("/me")]


@pytest.mark.parametrize("where", ["before", "after"])
def test_sandbox_flag_uses_the_bundled_sandbox(cli, sandbox, where):
    args = ["--sandbox", "list", "--format", "plain"] if where == "before" else ["list", "--format", "plain", "--sandbox"]
    result = cli(*args)
    assert result.code == 0, result
    assert "acme-logistics" in result.stdout
    assert _me_requests(sandbox) == []  # MEMBERSHIPS_API_URL (the test's sandbox) was not used


@pytest.mark.parametrize("flag", ["--verbose", "-v"])
def test_verbose_after_the_command_logs_requests(cli, flag):
    result = cli("list", "--limit", "1", flag)
    assert result.code == 0, result
    assert "> GET " in result.stderr and "/me/memberships?limit=1" in result.stderr
    quiet = cli("list", "--limit", "1")
    assert "> GET " not in quiet.stderr


def test_no_color_after_the_command_turns_colour_off(cli):
    coloured = cli("list", "--format", "table", env={"FORCE_COLOR": "1"})
    assert coloured.code == 0 and "\x1b[" in coloured.stdout
    plain = cli("list", "--format", "table", "--no-color", env={"FORCE_COLOR": "1"})
    assert plain.code == 0, plain
    assert "\x1b[" not in plain.stdout and "acme-logistics" in plain.stdout


@pytest.mark.parametrize("form", ["separate", "equals"])
def test_api_url_after_the_command(cli, sandbox, form):
    url_args = ["--api-url", sandbox.url] if form == "separate" else [f"--api-url={sandbox.url}"]
    result = cli("list", "--limit", "2", *url_args, api_url=CLOSED_PORT_URL)
    assert result.code == 0, result
    assert [r["query"] for r in _me_requests(sandbox)] == [{"limit": "2"}]


@pytest.mark.parametrize("form", ["separate", "equals"])
def test_timeout_after_the_command_takes_effect(cli, sandbox, form):
    sandbox.latency = 3.0
    timeout_args = ["--timeout", "0.3"] if form == "separate" else ["--timeout=0.3"]
    result = cli("list", *timeout_args, env={"MEMBERSHIPS_RETRIES": "0"})
    assert result.code == 5, result  # timed out: the network exit code
    assert result.stderr.startswith("error: ")


@pytest.mark.parametrize("form", ["separate", "equals"])
def test_profile_after_the_command(cli, form):
    profile_args = ["--profile", "work"] if form == "separate" else ["--profile=work"]
    stored = cli("config", "set", "format", "json", *profile_args)
    assert stored.code == 0, stored
    assert "profile work" in stored.stderr
    assert cli("config", "get", "format", *profile_args).stdout == "json\n"
    assert cli("--profile", "work", "config", "get", "format").stdout == "json\n"
    assert cli("config", "get", "format").stdout == ""  # the default profile was not touched


def test_global_options_after_a_subcommand_of_a_group(cli):
    result = cli("config", "list", "--profile", "other", "--no-color")
    assert result.code == 0, result
    assert "profile other" in result.stderr


def test_after_double_dash_a_global_option_is_an_argument(cli, sandbox):
    result = cli("show", "--", "--sandbox")
    assert result.code == 3, result  # looked up as an organization on the test's sandbox
    assert "--sandbox" in result.stderr
    assert _me_requests(sandbox)  # the test's API was asked: --sandbox was not taken as the flag


def test_a_value_that_looks_like_a_global_option_stays_with_its_option(cli, sandbox):
    result = cli("list", "--status", "--sandbox", "--format", "plain")
    assert result.code == 0, result
    assert [r["query"].get("status") for r in _me_requests(sandbox)] == ["--sandbox"]

    dry = cli("accept", "--all", "--match", "-v", "--dry-run")
    assert dry.code == 0, dry
    assert "> GET" not in dry.stderr  # -v was the --match pattern, not --verbose
    assert "No pending invitations matching -v." in dry.stderr


def test_a_flag_given_a_value_is_refused_precisely(cli):
    result = cli("list", "--sandbox=1")
    assert result.code == 2
    assert result.stderr == "error: --sandbox takes no value; see `memberships list --help`\n"


def test_a_global_option_missing_its_value_after_the_command(cli):
    result = cli("list", "--profile")
    assert result.code == 2
    assert result.stderr == "error: --profile needs a value; e.g. `memberships list --profile NAME`\n"


def test_no_command_option_shadows_a_global_option():
    """-v and the other global spellings mean the same everywhere: no command defines them."""
    root = typer.main.get_command(build_app())
    global_names = {name for p in root.params for name in (*p.opts, *p.secondary_opts)}
    assert {"--sandbox", "-v", "--verbose", "--no-color", "--api-url", "--profile", "--timeout"} <= global_names
    clashes = []

    def walk(command, path):
        for param in command.params:
            for name in (*getattr(param, "opts", ()), *getattr(param, "secondary_opts", ())):
                if name in global_names:
                    clashes.append((" ".join(path), name))
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    for name, sub in root.commands.items():
        walk(sub, [name])
    assert clashes == []


@pytest.mark.parametrize(
    "words",
    [["help"], ["help", "list"], ["help", "config", "set"], ["--sandbox", "help", "accept"], ["help", "sandbox"]],
)
def test_help_command_is_the_same_as_help_flag(cli, words):
    topic = [w for w in words if w not in ("help", "--sandbox")]
    via_help = cli(*words, env={"COLUMNS": "80"})
    via_flag = cli(*topic, "--help", env={"COLUMNS": "80"})
    assert via_help.code == 0 and via_flag.code == 0, (via_help, via_flag)
    assert via_help.stdout == via_flag.stdout
    assert via_help.stdout.startswith(f"Usage: {' '.join(['memberships', *topic])} ")


# The API's errors suggest a command; it must run against the same API and profile as the one that
# failed (a bare `memberships list` would list another profile's, or the real API's, organizations).
@pytest.mark.parametrize(
    "fault, args, hint",
    [
        ({"status": 401}, ["list"], "run `memberships --profile work login` again"),
        (None, ["show", "00000000-0000-4000-8000-000000000000"], "run `memberships --profile work list` to see your organizations"),
        ({"status": 200, "trickle": 0.25, "method": "DELETE"}, ["leave", "acme-logistics", "--yes", "--timeout", "1"],
         "run `memberships --profile work list` to see whether it took effect"),
    ],
)
def test_api_error_hints_repeat_the_global_options(cli, sandbox, fault, args, hint):
    from memberships_cli.sandbox import Fault

    if fault is not None:
        sandbox.add_fault(Fault(**fault))
    result = cli(*args, "--profile", "work")
    assert result.code in (3, 4, 5), result
    assert hint in result.stderr, result
    assert "`memberships list`" not in result.stderr and "`memberships login`" not in result.stderr
