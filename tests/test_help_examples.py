"""Help that teaches: every command's --help has Examples, and every Example runs as printed.

The examples are parsed out of the help text itself (not out of help_text.py), then each runs
through the real entry point in its own home with its own sandbox, the way a person pastes it into
a terminal: a line starting with `memberships` runs on a pseudo-terminal with the sandbox token
typed at it (for `login`'s prompt); `... | memberships ...` gets the token on a pipe. The test's
sandbox stands in for the Bird API where an example needs one (MEMBERSHIPS_API_URL and
MEMBERSHIPS_TOKEN point at it); examples with --sandbox use the bundled one, isolated by the home.
`sandbox serve` runs in the foreground: it must print its exports, then stop cleanly on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import select
import shlex
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from harness import base_env, cli, home, sandbox  # noqa: F401  (fixtures)
from keyring_backends import FileKeyringState
from memberships_cli.cli import build_app, main
from memberships_cli.help_text import GLOBAL_NOTE
from memberships_cli.output.fields import ALIASES, FIELDS
from memberships_cli.sandbox import SANDBOX_TOKEN

app = build_app()


def command_paths() -> list[tuple[str, ...]]:
    paths: list[tuple[str, ...]] = []

    def walk(command, path):
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if not sub.hidden:
                walk(sub, path + (name,))

    walk(typer.main.get_command(app), ())
    return paths


def help_of(path: tuple[str, ...]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main([*path, "--help"]) == 0
    return out.getvalue()


def examples_in(help_text: str) -> list[str]:
    """The command lines of the help's Examples section (comments left out)."""
    section = help_text.split("\n  Examples:\n", 1)
    if len(section) < 2:
        return []
    lines = []
    for line in section[1].splitlines():
        if not line.strip():
            break
        if not line.strip().startswith("#"):
            lines.append(line.strip())
    return lines


PATHS = command_paths()
HELPS = {path: help_of(path) for path in PATHS}
EXAMPLES = sorted({line for text in HELPS.values() for line in examples_in(text)})


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "memberships")
def test_every_help_has_examples_and_the_global_options_note(path):
    text = HELPS[path]
    examples = examples_in(text)
    assert examples, f"`memberships {' '.join(path)} --help` has no Examples"
    assert all("memberships" in line for line in examples)
    if path:  # the root lists the global options themselves
        assert " ".join(GLOBAL_NOTE.split()) in " ".join(text.split())


def test_examples_use_organizations_the_sandbox_has():
    from memberships_cli.sandbox.seed import _ORGANIZATIONS

    slugs = {slug for _, slug, _ in _ORGANIZATIONS}
    named = {word for line in EXAMPLES for word in re.findall(r"\b[a-z]+(?:-[a-z]+)+\b", line)}
    named -= {"dry-run", "with-token", "insecure-storage", "api-url", "no-color"}
    assert named and named <= slugs, named - slugs


def _serve(line: str, home_dir) -> None:
    """Run a `sandbox serve` example. Examples that share a fixed port take turns (an xdist worker
    each would otherwise find it taken and skip); a port held by another program still skips."""
    import fcntl
    import tempfile

    argv = shlex.split(line)[1:]
    port = int(argv[argv.index("--port") + 1]) if "--port" in argv else 8765
    with open(Path(tempfile.gettempdir()) / f"memberships-tests-port-{port}.lock", "w") as turn:
        fcntl.flock(turn, fcntl.LOCK_EX)
        _serve_on(argv, port, home_dir)


def _serve_on(argv: list[str], port: int, home_dir) -> None:
    if port:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                pytest.skip(f"port {port} is taken on this machine")
    proc = subprocess.Popen([sys.executable, "-m", "memberships_cli", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=base_env(home_dir), text=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 30)
        assert ready, "sandbox serve printed nothing within 30 s"
        first = proc.stdout.readline()
        assert re.fullmatch(r"export MEMBERSHIPS_API_URL=http://127\.0\.0\.1:\d+\n", first), first
        ready, _, _ = select.select([proc.stderr], [], [], 30)
        assert ready and "Ctrl-C stops it" in proc.stderr.readline()
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    stderr = proc.stderr.read()
    # Stopped by Ctrl-C: 0 once serving, 130 if the signal beat the serving loop by a hair.
    assert proc.returncode in (0, 130), stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("line", EXAMPLES)
def test_example_runs_as_printed(cli, home, tmp_path, line):
    if line.startswith("memberships sandbox serve"):
        _serve(line, home)
        return
    keyring = FileKeyringState(tmp_path / "keyring.json")
    if " | " in line:
        command = line.rsplit(" | ", 1)[1]
        result = cli(*shlex.split(command)[1:], input=SANDBOX_TOKEN + "\n", env=keyring.env)
    else:
        result = cli(*shlex.split(line)[1:], input=SANDBOX_TOKEN + "\n", tty=True, env=keyring.env)
    assert result.code == 0, result


def test_the_example_finder_sees_examples_and_skips_comments():
    text = "Usage: x\n\n  Examples:\n    # a comment\n    memberships list\n\n  Global options ...\n"
    assert examples_in(text) == ["memberships list"]
    assert examples_in("Usage: x\n") == []


# -- other things the help must teach ------------------------------------------------------------


def test_fields_help_lists_every_field():
    text = " ".join(HELPS[("list",)].split())
    listed = text.split("Fields: ", 1)[1].split(". ", 1)[0] if "Fields: " in text else ""
    names = {name.strip() for name in listed.rstrip(".").split(",")}
    for alias, path in ALIASES.items():
        assert alias in names
    for path in FIELDS:
        assert path in names or path in ALIASES.values(), path
    assert "Fields: " in " ".join(HELPS[("show",)].split())


def test_environment_topic_names_every_variable_the_code_reads(cli):
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "memberships_cli").rglob("*.py"))
    read = set(re.findall(r"(?<![A-Z_])MEMBERSHIPS_[A-Z_]+[A-Z]", source)) - {"MEMBERSHIPS_COMPLETE"}
    assert {"MEMBERSHIPS_TOKEN", "MEMBERSHIPS_RETRIES", "MEMBERSHIPS_KEYRING_TIMEOUT"} <= read
    result = cli("help", "environment")
    assert result.code == 0 and result.stderr == ""
    missing = [name for name in sorted(read | {"NO_COLOR", "FORCE_COLOR", "PAGER", "MEMBERSHIPS_PAGER"})
               if name not in result.stdout]
    assert missing == []
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_environment_topic_says_what_timeout_bounds_as_the_option_does(cli):
    # --timeout bounds each try from connecting to the last byte (a deadline per attempt), not
    # the connect or a read alone: the variable is the same setting and must not say otherwise.
    topic = " ".join(cli("help", "environment").stdout.split())
    option = " ".join(cli("--help", env={"COLUMNS": "200"}).stdout.split())
    assert "Time limit of each try of a request" in option
    assert "MEMBERSHIPS_TIMEOUT time limit of each try of a request, in seconds, like --timeout (default: 30)" in topic


def test_command_summaries_fit_80_columns_whole(cli):
    """Each command's one-line summary in its group's --help is its docstring's first line, not
    cut with `...`, at COLUMNS=80."""
    root = typer.main.get_command(app)
    groups = [((), root)] + [((name,), cmd) for name, cmd in root.commands.items() if hasattr(cmd, "commands")]
    for path, group in groups:
        result = cli(*path, "--help", env={"COLUMNS": "80"})
        assert result.code == 0, result
        listing = result.stdout.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
        for name, command in group.commands.items():
            row = next(line for line in listing.splitlines() if line.split()[0] == name)
            assert len(row) <= 80 and not row.endswith("..."), row
            first_sentence = re.split(r"(?<=\.)\s", " ".join((command.help or "").split()), maxsplit=1)[0]
            assert row.split(None, 1)[1] == first_sentence, (row, first_sentence)


ROOT = __import__("pathlib").Path(__file__).resolve().parent.parent
