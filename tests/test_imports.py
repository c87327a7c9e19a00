"""Start-up stays light: the paths that never reach the API import none of the heavy modules.

Structural, not a timing (timings are in benchmarks/startup.py): each path runs the real
`main()` in a fresh interpreter, which then reports what is in sys.modules. Every path must also
do its work (exit code and output checked), so a path that broke early cannot pass by importing
nothing; and the control cases show the check sees an import when one happens.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer

from harness import base_env
from memberships_cli.cli import build_app
from memberships_cli.sandbox import SANDBOX_TOKEN

app = build_app()  # every command: the tree to walk

# What start-up must not pay for: the HTTP stack (~8.7x `python -c pass`), the OS keyring (~9x),
# pydantic (~5.8x, arrives with typer >= 0.29), Rich's console and table machinery (~5.6x), and
# the sandbox's SQLite store, and libjq (only for --jq).
HEAVY = ("httpx", "keyring", "pydantic", "rich.console", "rich.table", "sqlite3", "jq")

PROBE = """
import json, sys
from memberships_cli.cli import main
try:
    code = main(json.loads(sys.argv[1]))
except SystemExit as exc:  # shell completion answers through sys.exit
    code = exc.code
except Exception as exc:  # reported, so the modules loaded up to the failure are still checked
    code = f"{exc.__class__.__name__}: {exc}"
sys.stdout.flush()
loaded = [name for name in json.loads(sys.argv[2]) if name in sys.modules]
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def probe(argv: list[str], env: dict) -> tuple[int, str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(argv), json.dumps(HEAVY)],
        capture_output=True, text=True, env=env, timeout=60,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["code"] or 0, proc.stdout, report["loaded"]


def _help_paths() -> list[list[str]]:
    """`--help` of the app and of every command and group, found by walking the command tree,
    so a command added later is covered without touching this file."""
    paths = []

    def walk(command, path):
        paths.append([*path, "--help"])
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if not sub.hidden:
                walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return paths


def _command_exists(*path: str) -> bool:
    command = typer.main.get_command(app)
    for name in path:
        command = getattr(command, "commands", {}).get(name)
        if command is None:
            return False
    return True


HELP_PATHS = _help_paths()
# (argv, expected exit code, text the output must contain)
OFFLINE = [
    (["--version"], 0, "memberships "),
    *[(argv, 0, "Usage:") for argv in HELP_PATHS],
    ([], 0, "Usage:"),  # no command: the help, as a success
    (["help"], 0, "Usage:"),
    (["help", "list"], 0, "Usage:"),
    (["list", "--sandbox", "--help"], 0, "Usage:"),
    (["help", "environment"], 0, "MEMBERSHIPS_TOKEN"),
]
if _command_exists("config", "path"):
    OFFLINE.append((["config", "path"], 0, "config"))
if _command_exists("completion"):
    OFFLINE += [(["completion", shell], 0, "memberships") for shell in ("bash", "zsh", "fish", "powershell")]
USAGE_ERRORS = [
    (["--no-such-flag"], 2, ""),
    (["no-such-command"], 2, ""),
    (["list", "--limit", "zero"], 2, ""),
    (["list", "--format", "yaml"], 2, ""),
    (["accept"], 2, ""),  # neither ORG nor --all
    (["lst"], 2, ""),  # close matches
    (["list", "--profile"], 2, ""),  # a global option after the command, without its value
]


@pytest.fixture
def env(home):
    return base_env(home)


@pytest.mark.parametrize(("argv", "code", "text"), OFFLINE + USAGE_ERRORS, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_offline_paths_import_nothing_heavy(env, argv, code, text):
    got, stdout, loaded = probe(argv, env)
    assert got == code, stdout
    assert text in stdout
    assert loaded == [], f"`memberships {' '.join(argv)}` imported {loaded}"


@pytest.mark.skipif(not _command_exists("completion"), reason="no completion command in this build")
@pytest.mark.parametrize(("words", "cword", "expected"), [("memberships li", 1, "list"), ("memberships list --for", 2, "--format")])
def test_shell_completion_imports_nothing_heavy(env, words, cword, expected):
    """What the shell runs on every <TAB>: commands, options, and ORG slugs from the cache."""
    env = dict(env, _MEMBERSHIPS_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
    got, stdout, loaded = probe([], env)
    assert got == 0
    assert expected in stdout.split()
    assert loaded == []


@pytest.mark.skipif(not _command_exists("completion"), reason="no completion command in this build")
def test_org_completion_reads_the_cache_and_imports_nothing_heavy(env, sandbox):
    listing = dict(env, MEMBERSHIPS_API_URL=sandbox.url, MEMBERSHIPS_TOKEN=SANDBOX_TOKEN)
    # What a full `list` at a terminal leaves behind (tests/test_completion.py shows it does).
    from memberships_cli import completion_cache

    cache = Path(listing["XDG_CACHE_HOME"]) / "memberships-cli" / completion_cache.FILE_NAME
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"savedAt": time.time(), "slugs": ["acme-logistics", "globex-retail"]}))
    env = dict(listing, _MEMBERSHIPS_COMPLETE="complete_bash", COMP_WORDS="memberships accept acme-l", COMP_CWORD="2")
    requests = len(sandbox.requests)
    got, stdout, loaded = probe([], env)
    assert got == 0
    assert "acme-logistics" in stdout.split()
    assert loaded == []
    assert len(sandbox.requests) == requests  # from the cache, not the API


def test_control_listing_does_import_httpx(env, sandbox):
    """The check sees an import when there is one: `list` needs the HTTP client."""
    env = dict(env, MEMBERSHIPS_API_URL=sandbox.url, MEMBERSHIPS_TOKEN=SANDBOX_TOKEN)
    got, stdout, loaded = probe(["list", "--format", "jsonl", "--limit", "2"], env)
    assert got == 0 and len(stdout.splitlines()) == 2
    assert "httpx" in loaded
    # Our table is our own and the sandbox is another process. (httpx imports its own CLI, with
    # rich.table, rich.syntax and pygments, whenever click is importable: +120 ms of CPU.)
    assert "rich.table" not in loaded and "sqlite3" not in loaded


def test_control_sandbox_flag_does_import_sqlite3(env):
    got, stdout, loaded = probe(["--sandbox", "list", "--format", "jsonl", "--limit", "1"], env)
    assert got == 0 and len(stdout.splitlines()) == 1
    assert {"sqlite3", "httpx"} <= set(loaded)


def test_control_only_the_jq_flag_imports_jq(env, sandbox):
    """libjq loads for --jq and for nothing else, --json included."""
    env = dict(env, MEMBERSHIPS_API_URL=sandbox.url, MEMBERSHIPS_TOKEN=SANDBOX_TOKEN)
    got, stdout, loaded = probe(["list", "--json", "--limit", "1"], env)
    assert got == 0 and json.loads(stdout)
    assert "jq" not in loaded
    got, stdout, loaded = probe(["list", "--jq", ".[0].organization.slug", "--limit", "1"], env)
    assert got == 0 and stdout.strip() == "acme-logistics"
    assert "jq" in loaded
