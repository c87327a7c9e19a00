"""Stopped from outside, it still reports (issue 14, section 5). SIGTERM, what `timeout`, a CI
cancel and `docker stop` send, takes Ctrl-C's path: a bulk run stops sending, waits for the
answers in flight, reports every organization and exits 143; a second signal stops the waiting;
a listing keeps the rows it printed. Through the real entry point against the sandbox, with the
signal sent to the child process."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memberships_cli.sandbox import SANDBOX_TOKEN, Fault, seed

from harness import base_env, fault_from_third_page

LIST = "/me/memberships"
N = 12


def _popen(home: Path, sandbox, *args: str, **kw) -> subprocess.Popen:
    env = base_env(home) | {"MEMBERSHIPS_API_URL": sandbox.url, "MEMBERSHIPS_TOKEN": SANDBOX_TOKEN}
    return subprocess.Popen([sys.executable, "-m", "memberships_cli", *args], env=env, cwd=str(home), **kw)


def _wait_for(predicate, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _sent(sandbox, method: str) -> list[str]:
    """The organization ids that requests of `method` reached."""
    return [q["path"].rsplit("/", 1)[1] for q in sandbox.requests if q["method"] == method]


class Child:
    """The CLI in a subprocess with stdout and stderr in files (a pipe nobody reads yet could fill
    and block it)."""

    def __init__(self, home: Path, sandbox, *args: str) -> None:
        self.out, self.err = home / "out", home / "err"
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = _popen(home, sandbox, *args, stdout=out, stderr=err)

    def signal(self, signum: int) -> None:
        self.proc.send_signal(signum)

    def stderr(self) -> str:
        return self.err.read_text()

    def finish(self, timeout: float = 30) -> tuple[int, str, str]:
        self.proc.wait(timeout)
        out, err = self.out.read_text(), self.err.read_text()
        assert "Traceback" not in out + err
        return self.proc.returncode, out, err


@pytest.mark.parametrize("command", ["accept", "leave"])
def test_sigterm_mid_bulk_run_reports_every_organization_and_exits_143(home, sandbox, command):
    ids = sandbox.store.add_generated(N, "invited" if command == "accept" else "active")
    slugs = [sandbox.store.get(org)["organization"]["slug"] for org in ids]
    sandbox.latency = 0.3  # every answer takes this long, and is applied: the state can be checked
    method = "POST" if command == "accept" else "DELETE"
    args = ["accept", "--all", "--match", "generated-*"] if command == "accept" else ["leave", *slugs, "--yes"]
    child = Child(home, sandbox, *args, "--json", "--concurrency", "2")
    _wait_for(lambda: len(_sent(sandbox, method)) >= 4)
    child.signal(signal.SIGTERM)
    code, out, err = child.finish()

    assert code == 143, (out, err)
    assert err.endswith("\nTerminated.\n")
    outcomes = json.loads(out)  # the whole report, as valid JSON
    assert [o["organizationId"] for o in outcomes] == ids
    done = "accepted" if command == "accept" else "left"
    results = [o["result"] for o in outcomes]
    assert set(results) == {done, "not-done"} and results.count(done) >= 4, results
    # What the report says is what the server holds: done ones applied, not-done ones never sent.
    sent = set(_sent(sandbox, method))
    for o in outcomes:
        now = sandbox.store.get(o["organizationId"])
        if o["result"] == done:
            assert o["organizationId"] in sent
            assert (now["status"] == "active") if command == "accept" else (now is None)
        else:
            assert o["organizationId"] not in sent
            assert now["status"] == ("invited" if command == "accept" else "active")
            assert o["error"] == {"message": "terminated before it was sent", "exitCode": 143, "code": None, "status": None}
    not_done = [o["organization"] for o in outcomes if o["result"] == "not-done"]
    assert f"{N - len(not_done)} of {N} done; not done: {', '.join(not_done)}" in err


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM twice", "SIGINT then SIGTERM"])
def test_a_second_signal_stops_waiting_for_answers_in_flight(home, sandbox, first):
    """A CI cancel sends SIGINT, then SIGTERM a few seconds later, then SIGKILL: the second signal
    must not cost the report. Requests in flight are reported as failed, maybe applied."""
    ids = sandbox.store.add_generated(N, "invited")
    for org in ids[4:]:  # the first four go through; after them every answer takes 60 s
        sandbox.add_fault(Fault(status=200, delay=60, method="POST", path=f"{LIST}/{org}"))
    child = Child(home, sandbox, "accept", "--all", "--match", "generated-*", "--json", "--concurrency", "2")
    _wait_for(lambda: len(_sent(sandbox, "POST")) >= 6)  # 4 answered, 2 in flight
    child.signal(first)
    _wait_for(lambda: "Stopping: waiting for the answers to 2 requests already sent" in child.stderr())
    child.signal(signal.SIGTERM)
    code, out, err = child.finish(timeout=30)  # well before the 60 s answers: it did not wait

    assert code == 143, (out, err)
    assert err.endswith("\nTerminated.\n")
    outcomes = json.loads(out)
    results = [o["result"] for o in outcomes]
    assert results == ["accepted"] * 4 + ["failed"] * 2 + ["not-done"] * 6
    stopped = "interrupted" if first == signal.SIGINT else "terminated"
    assert outcomes[4]["error"]["message"] == (
        f"{stopped} while waiting for the answer: it may have been applied; check with `memberships list`")
    assert outcomes[-1]["error"]["message"] == f"{stopped} before it was sent"
    assert set(_sent(sandbox, "POST")) == set(ids[:6])
    assert all(sandbox.store.get(org)["status"] == "active" for org in ids[:4])


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_sigterm_mid_listing_keeps_the_rows_printed(home, sandbox, fmt):
    sandbox.store.add_generated(350, "active")  # 384 memberships: 4 pages of 100
    received = sandbox.store.all()[:200]
    fault_from_third_page(sandbox, Fault(status=200, delay=60, method="GET", path=LIST))
    child = Child(home, sandbox, "list", "--format", fmt)
    _wait_for(lambda: len(sandbox.requests) >= 3)
    child.signal(signal.SIGTERM)
    code, out, err = child.finish()

    assert code == 143, (out, err)
    assert err == "\nTerminated.\n"
    if fmt == "plain":
        assert [line.split("\t")[1] for line in out.splitlines()] == [m["organization"]["slug"] for m in received]
    else:  # begun, never closed
        with pytest.raises(ValueError):
            json.loads(out)
        assert json.loads(out + "\n]") == received


def test_sigterm_before_any_page_leaves_stdout_empty(home, sandbox):
    sandbox.add_fault(Fault(status=200, delay=60, method="GET", path=LIST))
    child = Child(home, sandbox, "list", "--json")
    _wait_for(lambda: len(sandbox.requests) >= 1)
    child.signal(signal.SIGTERM)
    code, out, err = child.finish()
    assert (code, out, err) == (143, "", "\nTerminated.\n")


def test_sigterm_at_the_leave_confirmation_prompt(home, sandbox):
    acme = seed.org_id("acme-logistics")
    master, slave = pty.openpty()
    proc = _popen(home, sandbox, "leave", "acme-logistics", stdin=slave, stdout=slave, stderr=subprocess.PIPE)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    while b"Leave " not in seen:
        assert time.monotonic() < deadline
        seen += proc.stderr.read1(4096)
    proc.send_signal(signal.SIGTERM)
    rest = proc.stderr.read()
    proc.wait(30)
    os.close(master)
    shown = (seen + rest).decode()
    assert proc.returncode == 143, shown
    assert "Traceback" not in shown and shown.endswith("\nTerminated.\n")
    assert [q["method"] for q in sandbox.requests] == ["GET"]  # resolved the name; no DELETE
    assert sandbox.store.get(acme)["status"] == "active"


def test_the_sandbox_server_stops_cleanly_on_sigterm(home, sandbox):
    """`docker stop` on `memberships sandbox serve`: the same goodbye as Ctrl-C, exit 0."""
    child = Child(home, sandbox, "sandbox", "serve", "--port", "0", "--db", str(home / "served.sqlite3"))
    _wait_for(lambda: "Ctrl-C stops it" in child.stderr())
    child.signal(signal.SIGTERM)
    code, out, err = child.finish()
    assert code == 0, (out, err)
    assert out.startswith("export MEMBERSHIPS_API_URL=http://127.0.0.1:")
    assert err.endswith("Sandbox stopped.\n")


def test_143_is_in_the_exit_code_table(cli):
    r = cli("--help")
    assert r.code == 0
    assert "\n    130  interrupted (Ctrl-C)\n    143  terminated (SIGTERM" in r.stdout
