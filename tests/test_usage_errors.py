"""Every usage error click finds reads like the CLI's own: `error: what; what to do`, lowercase, one
line on stderr, exit 2, nothing on stdout, and no framework jargon (`x>=1`, `<int range>`,
`Did you mean 'list'?;`).

The table runs through `main()` in one fresh interpreter (a process per case would cost ~0.3 s
each for nothing: a usage error has no state); a few cases also go through `python -m`."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from harness import base_env, cli, home, sandbox  # noqa: F401  (fixtures)

CASES = [
    (["lst"], "error: unknown command 'lst'; did you mean `memberships list`?"),
    (["--sandbox", "acept"], "error: unknown command 'acept'; did you mean `memberships --sandbox accept`?"),
    (["bogus"], "error: unknown command 'bogus'; see `memberships --help`"),
    (["config", "st"], "error: unknown command 'st'; did you mean `memberships config set` or `memberships config list`?"),
    (["--sandbox"], "error: missing command; see `memberships --help`"),
    (["show"], "error: missing argument ORG; name an organization, e.g. `memberships show acme-logistics`"),
    (["config", "set", "format"], "error: missing argument VALUE; see `memberships config set --help`"),
    (["completion", "tcsh"], "error: SHELL must be one of: bash, zsh, fish, powershell, not 'tcsh'; see `memberships completion --help`"),
    (["completion", "-v", "completion"], "error: SHELL must be one of: bash, zsh, fish, powershell, not 'completion'; see `memberships completion --help`"),
    (["list", "--limit", "0"], "error: --limit must be a whole number of at least 1, not 0; see `memberships list --help`"),
    (["list", "-L", "x"], "error: --limit must be a whole number of at least 1, not 'x'; see `memberships list --help`"),
    (["list", "--limit=-3"], "error: --limit must be a whole number of at least 1, not -3; see `memberships list --help`"),
    (["accept", "--all", "--concurrency", "33"], "error: --concurrency must be a whole number from 1 to 32, not 33; see `memberships accept --help`"),
    (["leave", "--concurrency", "0"], "error: --concurrency must be a whole number from 1 to 32, not 0; see `memberships leave --help`"),
    (["sandbox", "serve", "--port", "99999"], "error: --port must be a whole number from 0 to 65535, not 99999; see `memberships sandbox serve --help`"),
    (["sandbox", "serve", "--latency", "nan"], "error: --latency must be a number from 0 to 10, not 'nan'; see `memberships sandbox serve --help`"),
    (["--timeout", "soon", "list"], "error: --timeout must be a number, not 'soon'; see `memberships --help`"),
    (["list", "--timeout=soon"], "error: --timeout must be a number, not 'soon'; see `memberships --help`"),
    (["list", "--bogus"], "error: unknown option --bogus; see `memberships list --help`"),
    (["list", "--stat", "invited"], "error: unknown option --stat; did you mean --status?"),
    (["--sandbx", "list"], "error: unknown option --sandbx; did you mean --sandbox?"),
    (["list", "--format"], "error: --format needs a value; see `memberships list --help`"),
    (["accept", "--concurrency"], "error: --concurrency needs a value; see `memberships accept --help`"),
    (["list", "--json=yes"], "error: --json takes no value; see `memberships list --help`"),
    (["list", "extra"], "error: unexpected argument 'extra'; see `memberships list --help`"),
    (["show", "acme-logistics", "globex-retail"], "error: unexpected argument 'globex-retail'; see `memberships show --help`"),
    (["config", "get", "format", "api_url"], "error: unexpected argument 'api_url'; see `memberships config get --help`"),
    (["list", "--", "--sandbox"], "error: unexpected argument '--sandbox'; see `memberships list --help`"),
    (["list", "--api-url"], "error: --api-url needs a value; e.g. `memberships list --api-url URL`"),
    (["help", "nothing"], "error: no help topic or command 'nothing'; topics: environment; commands: see `memberships --help`"),
]
JARGON = ("x>=", "<=x", "<int", "<str", "<float", "Did you mean", "?;", "Error:", "Invalid value", "No such", "Missing")

RUN_ALL = """
import contextlib, io, json, sys
from memberships_cli.cli import main

results = []
for argv in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    results.append([code, out.getvalue(), err.getvalue()])
sys.__stdout__.write(json.dumps(results))
"""


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict:
    home_dir = tmp_path_factory.mktemp("home")
    env = base_env(home_dir)
    argvs = [argv for argv, _ in CASES]
    proc = subprocess.run([sys.executable, "-c", RUN_ALL, json.dumps(argvs)], env=env, capture_output=True,
                          text=True, timeout=120, cwd=home_dir, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr
    return {" ".join(argv): result for argv, result in zip(argvs, json.loads(proc.stdout))}


@pytest.mark.parametrize("argv,line", CASES, ids=[" ".join(a) for a, _ in CASES])
def test_usage_error_reads_like_ours(outcomes, argv, line):
    code, stdout, stderr = outcomes[" ".join(argv)]
    assert (code, stdout, stderr) == (2, "", line + "\n")
    assert not any(word in stderr for word in JARGON), stderr


@pytest.mark.parametrize("argv,line", [CASES[0], CASES[8], CASES[19]], ids=["command", "number", "option"])
def test_the_same_through_the_entry_point(cli, argv, line):
    result = cli(*argv)
    assert (result.code, result.stdout, result.stderr) == (2, "", line + "\n")
