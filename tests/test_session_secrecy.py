"""The token is radioactive: no command prints it, --verbose included, and it lands in no file but
the one place it was asked to go. The sandbox here accepts only a distinctive secret token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from memberships_cli.sandbox import SandboxServer, Store

from harness import FAIL_KEYRING
from keyring_backends import FileKeyringState

SECRET = "s3cr3t-T0KEN-b1rd-0123456789abcdef"


def account(sandbox) -> str:
    return f"127.0.0.1:{sandbox.port}:default"


@pytest.fixture
def sandbox(tmp_path: Path):
    """Replaces the harness's sandbox for this module: the API accepts SECRET only."""
    server = SandboxServer(Store(tmp_path / "sandbox.sqlite3"), token=SECRET)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def kr(tmp_path) -> FileKeyringState:
    return FileKeyringState(tmp_path / "keyring.json")


COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["list"],
    ["list", "--json"],
    ["show", "acme-logistics"],
    ["accept", "globex-retail", "--dry-run"],
    ["leave", "acme-logistics", "--dry-run"],
    ["config", "list"],
    ["logout"],
]


def assert_no_secret(result) -> None:
    for text in (result.stdout, result.stderr):
        assert SECRET not in text
        assert SECRET[4:] not in text  # not even the part that masking drops
        assert SECRET.encode().hex() not in text


@pytest.mark.parametrize("verbose", [[], ["--verbose"]], ids=["quiet", "verbose"])
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
@pytest.mark.parametrize("where", ["keyring", "env"])
def test_no_command_prints_the_token(cli, sandbox, kr, args, verbose, where):
    if where == "keyring":
        kr.put(account(sandbox), SECRET)
    r = cli(*verbose, *args, token=SECRET if where == "env" else None, env=kr.env)
    assert r.code == 0, r
    assert_no_secret(r)
    if verbose and args[0] in ("status", "list", "show"):
        assert "> GET http://127.0.0.1" in r.stderr  # the verbose log ran and showed the requests
    if args[0] not in ("config", "logout"):
        assert all(q["authorization"] == f"Bearer {SECRET}" for q in sandbox.requests) and sandbox.requests


@pytest.mark.parametrize("verbose", [[], ["--verbose"]], ids=["quiet", "verbose"])
@pytest.mark.parametrize("storage", [[], ["--insecure-storage"]], ids=["keyring", "file"])
def test_login_prints_no_token_and_writes_it_only_where_asked(cli, sandbox, kr, home, verbose, storage):
    env = kr.env if not storage else {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING}
    r = cli(*verbose, "login", "--with-token", *storage, input=SECRET + "\n", token=None, env=env)
    assert r.code == 0, r
    assert_no_secret(r)
    holders = sorted(str(p.relative_to(home)) for p in home.rglob("*") if p.is_file() and SECRET.encode() in p.read_bytes())
    if storage:
        assert holders == [f"config/memberships-cli/tokens/127.0.0.1%3A{sandbox.port}%3Adefault.token"]
    else:
        assert holders == []
        assert json.loads(kr.path.read_text()) == {f"memberships-cli/{account(sandbox)}": SECRET}


@pytest.mark.parametrize("verbose", [[], ["--verbose"]], ids=["quiet", "verbose"])
def test_a_rejected_token_is_not_printed_either(cli, sandbox, kr, verbose):
    wrong = SECRET[::-1]
    for args in (["login", "--with-token"], ["status"], ["list"]):
        r = cli(*verbose, *args, input=wrong, token=None if args[0] == "login" else wrong, env=kr.env)
        assert r.code == 4, r
        assert wrong not in r.stdout + r.stderr and wrong[4:] not in r.stdout + r.stderr
