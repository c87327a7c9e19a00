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


# The entry point as installed (launch.run): Tab and --version are answered there, before typer.
LAUNCH_PROBE = """
import json, sys
argv, watched = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.argv[1:] = argv
from memberships_cli.launch import run
try:
    code = run()
except SystemExit as exc:
    code = exc.code
except Exception as exc:
    code = f"{exc.__class__.__name__}: {exc}"
sys.stdout.flush()
print(json.dumps({"code": code, "loaded": [name for name in watched if name in sys.modules]}), file=sys.stderr)
"""
# What the answers given before typer must not import, on top of HEAVY.
FRAMEWORK = ("typer", "click", "rich")
# What httpx drags in through its own command line when click is installed (issue 12).
HTTPX_CLI = ("click", "pygments", "rich.console", "rich.syntax")


def probe(argv: list[str], env: dict, watched=HEAVY, script: str = PROBE) -> tuple[int, str, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", script, json.dumps(argv), json.dumps(watched)],
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


@pytest.mark.parametrize("argv", [["--version"], ["--sandbox", "--profile", "work", "--version"], ["--api-url=x", "--version"]])
def test_version_is_answered_before_typer(env, argv):
    got, stdout, loaded = probe(argv, env, HEAVY + FRAMEWORK, LAUNCH_PROBE)
    assert got == 0
    assert stdout == "memberships 0.1.0\n"
    assert loaded == []


HELP_TEXTS = """
import contextlib, io, json, sys
from memberships_cli.cli import main
from memberships_cli.help_table import HELP

texts = {}
for path in HELP:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main([*path.split(), "--help"])
    texts[path] = out.getvalue()
sys.__stdout__.write(json.dumps(texts))
"""


@pytest.fixture(scope="module")
def typer_helps(tmp_path_factory) -> dict:
    """Every --help as typer prints it at 80 columns, in one fresh interpreter."""
    env = base_env(tmp_path_factory.mktemp("home")) | {"COLUMNS": "80"}
    proc = subprocess.run([sys.executable, "-c", HELP_TEXTS], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_help_table_covers_every_command():
    from memberships_cli.help_table import HELP

    assert sorted(HELP) == sorted(" ".join(argv[:-1]) for argv in HELP_PATHS)


@pytest.mark.parametrize("argv", [argv for argv in HELP_PATHS] + [["-h"], ["list", "-h"], ["--sandbox", "-v", "list", "--help"],
                                  ["--timeout", "3", "config", "set", "--help"], ["--timeout", "x", "--help"], [], ["config"], ["sandbox"]],
                         ids=lambda v: " ".join(v) or "(nothing)")
def test_help_is_answered_before_typer_with_typers_text(env, typer_helps, argv):
    rest = [a for a in argv if a not in ("--sandbox", "-v", "--timeout", "x", "3", "--help", "-h")]
    for columns in ("80", "132"):
        got, stdout, loaded = probe(argv, dict(env, COLUMNS=columns), HEAVY + FRAMEWORK, LAUNCH_PROBE)
        assert got == 0
        assert stdout == typer_helps[" ".join(rest)]
        assert loaded == []


@pytest.mark.parametrize("argv", [["--help"], ["config", "set", "-h"]])
def test_help_on_a_narrow_terminal_goes_to_typer(env, typer_helps, argv):
    got, stdout, loaded = probe(argv, dict(env, COLUMNS="60"), FRAMEWORK, LAUNCH_PROBE)
    assert got == 0
    assert "typer" in loaded
    assert "Usage: memberships" in stdout and stdout != typer_helps[" ".join(argv[:-1])]  # wrapped at 58


@pytest.mark.parametrize("argv", [["--version", "--help"], ["--timeout", "--version"], ["list", "--version"],
                                  ["--sandbox"], ["list", "--bogus", "--help"], ["nosuch", "--help"], ["list", "--help", "x"],
                                  ["--timeout", "--help"], ["--timeout", "x", "list", "--help"], ["--timeout=x", "config"]])
def test_anything_more_than_a_version_request_goes_to_typer(env, argv):
    _, stdout, loaded = probe(argv, env, FRAMEWORK, LAUNCH_PROBE)
    assert "typer" in loaded


@pytest.mark.parametrize(("words", "cword", "expected"), [
    ("memberships li", 1, "list"), ("memberships list --for", 2, "--format"),
    ("memberships list --format ", 3, "jsonl"), ("memberships config set ", 3, "api_url"),
])
def test_shell_completion_imports_no_framework(env, words, cword, expected):
    """What the shell runs on every <TAB>: commands, options and values, without typer or click."""
    env = dict(env, _MEMBERSHIPS_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
    got, stdout, loaded = probe([], env, HEAVY + FRAMEWORK, LAUNCH_PROBE)
    assert got == 0
    assert expected in stdout.split()
    assert loaded == []


@pytest.mark.parametrize(("words", "cword", "expected"), [("memberships li", 1, "list"), ("memberships list --for", 2, "--format")])
def test_typer_completion_path_imports_nothing_heavy(env, words, cword, expected):
    """The slow path (cli.main) stays light too: it answers what the fast completer declines."""
    env = dict(env, _MEMBERSHIPS_COMPLETE="complete_bash", COMP_WORDS=words, COMP_CWORD=str(cword))
    got, stdout, loaded = probe([], env)
    assert got == 0
    assert expected in stdout.split()
    assert loaded == []


def test_org_completion_reads_the_cache_and_imports_no_framework(env, sandbox):
    from memberships_cli import completion_cache

    listing = dict(env, MEMBERSHIPS_API_URL=sandbox.url, MEMBERSHIPS_TOKEN=SANDBOX_TOKEN)
    # What a full `list` at a terminal leaves behind (tests/test_completion.py shows it does).
    scope = completion_cache.scope_of(sandbox=False, api_url=sandbox.url, profile="default")
    saving = "import sys\nfrom memberships_cli import completion_cache as c\nc.save([('acme-logistics', 'active'), ('globex-retail', 'invited')], scope=sys.argv[1])"
    subprocess.run([sys.executable, "-c", saving, scope], env=listing, check=True, timeout=60)
    env = dict(listing, _MEMBERSHIPS_COMPLETE="complete_bash", COMP_WORDS="memberships show acme-l", COMP_CWORD="2")
    requests = len(sandbox.requests)
    got, stdout, loaded = probe([], env, HEAVY + FRAMEWORK, LAUNCH_PROBE)
    assert got == 0
    assert stdout.split() == ["acme-logistics"]
    assert loaded == []
    assert len(sandbox.requests) == requests  # from the cache, not the API


# -- network paths with click installed (the test extra installs it, as uvicorn, black or flask would)


def test_click_is_installed_and_httpx_alone_would_import_its_cli(env):
    """The trap exists in this environment: a bare `import httpx` pulls in click and pygments. So the
    tests below, which see none of them, see the guard in client.py at work."""
    code = "import json, sys, httpx; print(json.dumps([m for m in sys.argv[1:] if m in sys.modules]))"
    proc = subprocess.run([sys.executable, "-c", code, *HTTPX_CLI], env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert {"click", "pygments"} <= set(json.loads(proc.stdout))


NETWORK_PATHS = [
    (["list", "--format", "jsonl"], 0),
    (["list"], 0),  # piped: plain rows, no Rich
    (["show", "acme-logistics", "--json"], 0),
    (["accept", "globex-retail"], 0),
    (["leave", "initech-payments", "--yes"], 0),
    (["accept", "--all", "--dry-run"], 0),
]


@pytest.mark.parametrize(("argv", "code"), NETWORK_PATHS, ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_network_paths_never_import_httpx_cli(env, sandbox, argv, code):
    env = dict(env, MEMBERSHIPS_API_URL=sandbox.url, MEMBERSHIPS_TOKEN=SANDBOX_TOKEN)
    got, stdout, loaded = probe(argv, env, ("httpx",) + HTTPX_CLI)
    assert got == code, stdout
    assert stdout
    assert loaded == ["httpx"], f"`memberships {' '.join(argv)}` imported {loaded}"
    changed = [r["method"] for r in sandbox.requests if r["method"] in ("POST", "DELETE")]
    assert changed == {"accept": ["POST"], "leave": ["DELETE"]}.get(argv[0] if "--dry-run" not in argv else "", [])


def test_control_listing_does_import_httpx(env, sandbox):
    """The check sees an import when there is one: `list` needs the HTTP client."""
    env = dict(env, MEMBERSHIPS_API_URL=sandbox.url, MEMBERSHIPS_TOKEN=SANDBOX_TOKEN)
    got, stdout, loaded = probe(["list", "--format", "jsonl", "--limit", "2"], env)
    assert got == 0 and len(stdout.splitlines()) == 2
    assert "httpx" in loaded
    # Our table is our own and the sandbox is another process.
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


@pytest.mark.parametrize("argv", [["completion", "bash"], ["completion", "zsh"], ["--sandbox", "completion", "fish"],
                                  ["completion", "powershell"]])
def test_the_completion_script_is_printed_before_typer(env, argv):
    from memberships_cli.commands.completion import script

    got, stdout, loaded = probe(argv, env, HEAVY + FRAMEWORK, LAUNCH_PROBE)
    assert got == 0
    assert stdout == script(argv[-1])
    assert loaded == []


@pytest.mark.parametrize("argv", [["completion", "tcsh"], ["completion", "bash", "x"], ["--timeout", "x", "completion", "bash"]])
def test_other_completion_commands_go_to_typer(env, argv):
    got, _, loaded = probe(argv, env, FRAMEWORK, LAUNCH_PROBE)
    assert "typer" in loaded and got == 2


@pytest.mark.parametrize("xdg", [None, "/tmp/some//where/"])
def test_config_path_is_printed_before_typer_as_typer_prints_it(env, xdg):
    if xdg is not None:
        env = dict(env, XDG_CONFIG_HOME=xdg)
    got, typers, loaded = probe(["config", "path"], env)
    assert got == 0 and typers.endswith("config.toml\n")
    got, stdout, loaded = probe(["--profile", "x", "config", "path"], env, HEAVY + FRAMEWORK, LAUNCH_PROBE)
    assert got == 0
    assert stdout == typers
    assert loaded == []


def test_a_bad_sandbox_variable_leaves_command_help_to_typer(env):
    """typer converts MEMBERSHIPS_SANDBOX before a command's help (not before the root's, eager)."""
    got, stdout, loaded = probe(["list", "--help"], dict(env, MEMBERSHIPS_SANDBOX="maybe"), FRAMEWORK, LAUNCH_PROBE)
    assert "typer" in loaded and got == 2
    got, stdout, loaded = probe(["--help"], dict(env, MEMBERSHIPS_SANDBOX="maybe"), FRAMEWORK, LAUNCH_PROBE)
    assert loaded == [] and got == 0 and stdout.startswith("Usage: memberships [OPTIONS]")


def test_the_entry_points_global_options_are_the_apps():
    """launch.py recognises the root options by name, without the app: they must be the app's."""
    from memberships_cli import launch
    from memberships_cli.completion_table import TREE

    options = [option for option in TREE[""]["options"] if option[6] not in ("version", "help")]
    flags = {name for option in options if not option[3] for name in option[0] + option[1]}
    valued = {name for option in options if option[3] for name in option[0] + option[1]}
    assert flags == launch._GLOBAL_FLAGS
    assert valued == launch._GLOBAL_WITH_VALUE


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["completion", "zsh"]])
def test_a_reader_gone_is_no_error_before_typer_either(env, argv):
    import os

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte
    try:
        proc = subprocess.run([sys.executable, "-m", "memberships_cli", *argv], stdout=write_end, stderr=subprocess.PIPE,
                              env=env, timeout=60)
    finally:
        os.close(write_end)
    assert proc.returncode == 0
    assert proc.stderr == b""
