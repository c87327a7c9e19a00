"""Fixtures of the contract stage: Prism mock servers (static and seeded dynamic), the real CLI run in a
subprocess against them, and the tally of what Prism validated (printed at the end, and written to
$PRISM_REPORT as JSON for tests/contract/run.sh).

Without PRISM_BIN (the path of node_modules/.bin/prism) every test here is skipped, so the normal
`pytest` run needs no Node; with MEMBERSHIPS_REQUIRE_PRISM=1 a missing Prism is a failure instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contract_harness import DYNAMIC_SEED, SPEC, TOKEN, CliRun, LogCounts, Server, Tally, cli_env, summary_line

_TALLY = pytest.StashKey[Tally]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TALLY] = Tally()


@pytest.fixture(scope="session")
def tally(request: pytest.FixtureRequest) -> Tally:
    return request.config.stash[_TALLY]


@pytest.fixture(scope="session")
def prism_bin() -> str:
    path = os.environ.get("PRISM_BIN", "")
    required = os.environ.get("MEMBERSHIPS_REQUIRE_PRISM") == "1"
    if not path:
        message = "PRISM_BIN is not set: run tests/contract/run.sh for the contract stage"
        if required:
            pytest.fail(message + " (MEMBERSHIPS_REQUIRE_PRISM=1)", pytrace=False)
        pytest.skip(message)
    if not os.access(path, os.X_OK):
        pytest.fail(f"PRISM_BIN={path} is not an executable", pytrace=False)
    return path


def _serve(prism_bin: str, tmp_path_factory, tally: Tally, *, dynamic: bool):
    log = tmp_path_factory.mktemp("prism") / ("dynamic.log" if dynamic else "static.log")
    server = Server(prism_bin, SPEC, log, dynamic=dynamic, seed=DYNAMIC_SEED if dynamic else None)
    server.start()
    try:
        yield server
    finally:
        server.stop()
    # After the last test: the whole log must agree with what the tests sent, so a violation logged
    # late, or by a request no test accounted for, still fails the stage.
    counts = LogCounts.of(server.log_text())
    tally.servers[server.label] = counts
    tally.flagged_on_purpose += server.flagged_on_purpose
    problems = []
    if counts.received != server.requests_sent:
        problems.append(f"Prism received {counts.received} requests, the tests sent {server.requests_sent}")
    if counts.not_passed + counts.no_route != server.flagged_on_purpose:
        problems.append(
            f"Prism flagged {counts.not_passed + counts.no_route} requests, the negative tests "
            f"{server.flagged_on_purpose}"
        )
    response_violations = [v for v in counts.violations if v.startswith("Violation: response")]
    if response_violations:
        problems.append("served examples break the schema: " + "; ".join(response_violations))
    if problems:
        pytest.fail(f"{server.label}: " + "; ".join(problems) + f"\nlog: {log}", pytrace=False)


@pytest.fixture(scope="session")
def static_prism(prism_bin, tmp_path_factory, tally):
    yield from _serve(prism_bin, tmp_path_factory, tally, dynamic=False)


@pytest.fixture(scope="session")
def dynamic_prism(prism_bin, tmp_path_factory, tally):
    yield from _serve(prism_bin, tmp_path_factory, tally, dynamic=True)


# -- the CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def cli(tmp_path: Path, tally: Tally):
    """Run `python -m memberships_cli --verbose [GLOBALS] ARGS` against a Prism server and collect what
    Prism logged about its requests."""

    def run(server: Server, *args: str, global_args: tuple[str, ...] = (), token: str | None = TOKEN,
            env_url: bool = True, input: str = "", timeout: float = 60) -> CliRun:
        argv = ["--verbose", *global_args, *args]
        env = cli_env(tmp_path / "home", server.url if env_url else None, token)
        offset = server.log_size()
        proc = subprocess.run([sys.executable, "-m", "memberships_cli", *argv], input=input, capture_output=True,
                              text=True, env=env, cwd=tmp_path, timeout=timeout)
        # --verbose logs "> METHOD URL" for every request sent, retries included.
        requests = [line[2:] for line in proc.stderr.splitlines() if line.startswith("> ")]
        server.requests_sent += len(requests)
        log, counts = server.wait_for(offset, len(requests))
        tally.cli_runs += 1
        tally.commands.add(args[0])
        result = CliRun(list(argv), proc.returncode, proc.stdout, proc.stderr, requests, log, counts)
        assert "Traceback" not in proc.stderr, result
        return result

    return run


# -- the summary -----------------------------------------------------------------------------------


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    tally = config.stash.get(_TALLY, None)
    if tally is None or not tally.servers:
        return
    totals = tally.totals()
    terminalreporter.write_line(summary_line(totals))
    report = os.environ.get("PRISM_REPORT")
    if report:
        Path(report).write_text(json.dumps({**totals, "summary": summary_line(totals)}, indent=2) + "\n")
