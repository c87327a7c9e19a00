"""login, logout and status through the real entry point, against the sandbox on loopback, with an
explicit keyring backend in every run: a JSON-file keyring (tests/keyring_backends.py), keyring's
own fail backend (headless), a keyring that hangs, and a tripwire for paths that must not touch it."""

from __future__ import annotations

import json
import os
import pty
import select
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memberships_cli.sandbox import SANDBOX_TOKEN, Fault

from harness import FAIL_KEYRING, base_env
from keyring_backends import TRIPWIRE_ENV, FileKeyringState, backend_env

OTHER_TOKEN = "other-token-0123456789"


def host_of(sandbox) -> str:
    return f"127.0.0.1:{sandbox.port}"


def account(sandbox, profile: str = "default") -> str:
    return f"{host_of(sandbox)}:{profile}"


def token_file(home: Path, sandbox, profile: str = "default") -> Path:
    return home / "config" / "memberships-cli" / "tokens" / f"127.0.0.1%3A{sandbox.port}%3A{profile}.token"


@pytest.fixture
def kr(tmp_path) -> FileKeyringState:
    return FileKeyringState(tmp_path / "keyring.json")


@pytest.fixture
def tripwire(tmp_path):
    path = tmp_path / "tripwire.log"
    return path, backend_env("TripwireKeyring", **{TRIPWIRE_ENV: str(path)})


HANG = backend_env("HangingKeyring", MEMBERSHIPS_KEYRING_TIMEOUT="0.5")
NO_RETRY = {"MEMBERSHIPS_RETRIES": "0"}


def login(cli, kr_env: dict, token: str = SANDBOX_TOKEN, *args, env: dict | None = None):
    return cli("login", "--with-token", *args, input=token + "\n", token=None, env={**kr_env, **(env or {})})


def assert_headless_message(stderr: str) -> None:
    assert "no usable OS keyring" in stderr
    assert "MEMBERSHIPS_TOKEN" in stderr and "login --insecure-storage" in stderr


# -- login -----------------------------------------------------------------------------------------


def test_login_with_token_checks_the_token_then_stores_it_in_the_keyring(cli, sandbox, kr, home):
    r = login(cli, kr.env)
    assert r.code == 0, r
    assert r.stdout == ""
    assert "✓ Logged in to 127.0.0.1" in r.stderr and "Sandbox User" in r.stderr and "OS keyring" in r.stderr
    assert kr.entries() == {f"memberships-cli/{account(sandbox)}": SANDBOX_TOKEN}
    assert [(q["method"], q["path"], q["authorization"]) for q in sandbox.requests] == [
        ("GET", "/me", f"Bearer {SANDBOX_TOKEN}"),
        ("GET", "/me/memberships", f"Bearer {SANDBOX_TOKEN}"),  # the pending invitations, counted
    ]
    assert not token_file(home, sandbox).exists()


def test_login_falls_back_to_one_membership_when_the_api_has_no_me(cli, sandbox, kr):
    sandbox.add_fault(Fault(status=404, path="/me", body={"code": "NotFound", "message": "no such route"}))
    r = login(cli, kr.env)
    assert r.code == 0, r
    assert [(q["path"], q["query"], q["status"]) for q in sandbox.requests] == [
        ("/me", {}, 404),
        ("/me/memberships", {"limit": "1"}, 200),
        ("/me/memberships", {"limit": "100", "status": "invited"}, 200),
    ]
    assert kr.entries() == {f"memberships-cli/{account(sandbox)}": SANDBOX_TOKEN}


def test_a_rejected_token_is_not_stored(cli, sandbox, kr, home):
    r = login(cli, kr.env, "not-the-sandbox-token")
    assert r.code == 4, r
    assert "rejected the token" in r.stderr and "nothing was stored" in r.stderr
    assert "not-the-sandbox-token" not in r.stderr + r.stdout
    assert sandbox.requests[0]["status"] == 401
    assert kr.entries() == {}
    assert not token_file(home, sandbox).exists()


def test_an_unreachable_api_stores_nothing_and_is_exit_5(cli, kr, refused_url):
    r = cli("login", "--with-token", input=SANDBOX_TOKEN, token=None, api_url=refused_url,
            env={**kr.env, **NO_RETRY})
    assert r.code == 5, r
    assert "could not connect" in r.stderr
    assert kr.entries() == {}


@pytest.mark.parametrize("stdin", ["", "   \n", "\n\n"])
def test_an_empty_token_is_a_usage_error(cli, sandbox, kr, stdin):
    r = cli("login", "--with-token", input=stdin, token=None, env=kr.env)
    assert r.code == 2, r
    assert "no token given" in r.stderr
    assert sandbox.requests == [] and kr.entries() == {}


@pytest.mark.parametrize("stdin", ["first-secret-line\nsecond-secret-line\n", "two secret-words", "secret\x00byte"])
def test_something_that_cannot_be_one_token_is_refused_without_echoing_it(cli, sandbox, kr, stdin):
    r = cli("login", "--with-token", input=stdin, token=None, env=kr.env)
    assert r.code == 2, r
    assert "cannot be a token" in r.stderr
    assert "secret" not in (r.stdout + r.stderr).replace("MEMBERSHIPS", "")
    assert sandbox.requests == [] and kr.entries() == {}


def test_without_a_terminal_login_asks_for_with_token(cli, sandbox, kr):
    r = cli("login", input=SANDBOX_TOKEN, token=None, env=kr.env)
    assert r.code == 2, r
    assert "--with-token" in r.stderr and "stdin is not a terminal" in r.stderr
    assert sandbox.requests == [] and kr.entries() == {}


def test_with_token_refuses_a_terminal_on_stdin_where_typing_would_echo(cli, sandbox, kr):
    r = cli("login", "--with-token", tty=True, token=None, env=kr.env)
    assert r.code == 2, r
    assert "stdin is a terminal" in r.stderr
    assert sandbox.requests == []


@pytest.mark.parametrize("args", [["login", "a-secret-token-value"], ["login", "--with-token", "a-secret-token-value"]])
def test_the_token_is_never_taken_as_an_argument_nor_echoed_back(cli, sandbox, kr, args):
    r = cli(*args, input=SANDBOX_TOKEN, token=None, env=kr.env)
    assert r.code == 2, r
    assert "takes no arguments" in r.stderr and "ps" in r.stderr
    assert "a-secret-token-value" not in r.stdout + r.stderr
    assert sandbox.requests == [] and kr.entries() == {}


def test_a_token_option_does_not_exist(cli, sandbox, kr):
    r = cli("login", "--token=a-secret-token-value", token=None, env=kr.env)
    assert r.code == 2, r
    assert r.stderr == "error: unknown option --token; did you mean --with-token?\n"
    assert "a-secret-token-value" not in r.stdout + r.stderr


def test_on_a_terminal_login_prompts_with_echo_off(home, sandbox, kr):
    """A real pseudo-terminal: the prompt appears on stderr, then the typed token must not come
    back on the terminal (echo off), and it is stored."""
    env = base_env(home) | kr.env | {"MEMBERSHIPS_API_URL": sandbox.url}
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "memberships_cli", "login"], stdin=slave, stdout=slave,
                            stderr=subprocess.PIPE, env=env, cwd=home)
    os.close(slave)
    err = b""
    deadline = time.monotonic() + 30
    while b"(input hidden): " not in err:
        assert time.monotonic() < deadline, err
        ready, _, _ = select.select([proc.stderr], [], [], 1)
        if ready:
            chunk = os.read(proc.stderr.fileno(), 4096)
            assert chunk, err
            err += chunk
    os.write(master, (SANDBOX_TOKEN + "\n").encode())
    screen = b""
    while True:
        ready, _, _ = select.select([master], [], [], 30)
        assert ready, "login did not finish"
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the other side closed
            break
        if not data:
            break
        screen += data
    os.close(master)
    err += proc.stderr.read()
    assert proc.wait(30) == 0, err
    assert SANDBOX_TOKEN.encode() not in screen + err
    assert b"Logged in" in err
    assert kr.entries() == {f"memberships-cli/{account(sandbox)}": SANDBOX_TOKEN}


def test_headless_login_fails_with_both_ways_forward_and_writes_no_file(cli, sandbox, home):
    r = login(cli, {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING})
    assert r.code == 4, r
    assert_headless_message(r.stderr)
    assert r.stderr.startswith("error: no place to store the token (it was not read): no usable OS keyring: none found")
    assert not (home / "config" / "memberships-cli" / "tokens").exists()
    assert sandbox.requests == []  # found out before the token was read or checked


def test_on_a_terminal_a_headless_keyring_is_found_out_before_the_token_is_asked_for(cli, sandbox):
    # Input is waiting, so a regression would read it (and fail on the prompt check) instead of hanging.
    r = cli("login", tty=True, token=None, input="typed-token-0123\n", env={"PYTHON_KEYRING_BACKEND": FAIL_KEYRING})
    assert r.code == 4, r
    assert "Paste your Bird token" not in r.stderr + r.stdout
    assert "no place to store the token" in r.stderr and "--insecure-storage" in r.stderr
    assert sandbox.requests == []


def test_insecure_storage_needs_no_keyring_and_is_not_refused(cli, sandbox, home):
    r = login(cli, {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING}, SANDBOX_TOKEN, "--insecure-storage")
    assert r.code == 0, r
    assert token_file(home, sandbox).read_text().strip() == SANDBOX_TOKEN


def test_login_says_how_many_invitations_are_pending_and_how_to_accept_them(cli, sandbox, kr):
    from memberships_cli.sandbox import seed

    invited = sum(m["status"] == "invited" for m in seed.memberships())
    r = login(cli, kr.env, env={"MEMBERSHIPS_PROFILE": "work"})
    assert r.code == 0, r
    assert r.stdout == ""
    last = r.stderr.splitlines()[-1]
    assert last == (f"{invited} pending invitations: accept them with `memberships accept` (choose) "
                    "or `memberships accept --all`.")
    # The hint repeats the global options given on the command line (not those from the environment).
    r = cli("--profile", "work", "login", "--with-token", input=SANDBOX_TOKEN, token=None, env=kr.env)
    assert r.code == 0, r
    assert "`memberships --profile work accept --all`" in r.stderr.splitlines()[-1]


def test_login_with_no_invitations_says_so(cli, sandbox, kr):
    cli("accept", "--all")
    r = login(cli, kr.env)
    assert r.code == 0, r
    assert r.stderr.splitlines()[-1] == "No pending invitations."


def test_a_failing_count_of_invitations_does_not_fail_the_login(cli, sandbox, kr):
    sandbox.add_fault(Fault(status=500, path="/me/memberships", times=10))
    r = login(cli, kr.env, env=NO_RETRY)
    assert r.code == 0, r
    assert "✓ Logged in" in r.stderr.splitlines()[-1]
    assert "pending" not in r.stderr
    assert kr.entries() == {f"memberships-cli/{account(sandbox)}": SANDBOX_TOKEN}


@pytest.mark.parametrize("bus, error", [(None, "RuntimeError"), ("unix:path={home}/no-such-bus", "FileNotFoundError")])
def test_a_secret_service_without_d_bus_is_headless_too(cli, sandbox, home, bus, error):
    r = login(cli, {"PYTHON_KEYRING_BACKEND": "keyring.backends.SecretService.Keyring",
                    "DBUS_SESSION_BUS_ADDRESS": bus.format(home=home) if bus else None})
    assert r.code == 4, r
    assert_headless_message(r.stderr)
    assert error in r.stderr
    assert not (home / "config" / "memberships-cli" / "tokens").exists()


def test_a_keyring_that_drops_the_token_is_not_reported_as_storing_it(cli, sandbox):
    r = login(cli, {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"})
    assert r.code == 4, r
    assert "does not give it back" in r.stderr
    assert "Logged in" not in r.stderr


def test_a_hanging_keyring_times_out_with_a_clear_error(cli, sandbox):
    started = time.monotonic()
    r = login(cli, HANG)
    assert r.code == 4, r
    assert time.monotonic() - started < 15
    assert "the OS keyring did not answer within 0.5 s" in r.stderr
    assert "unlock your keyring" in r.stderr


def test_insecure_storage_writes_a_0600_file_from_the_start_and_warns(home, sandbox):
    """umask 000 would make any file created with default permissions world-readable: the token
    file must be 0600 anyway, because it is created so (not chmod-ed afterwards)."""
    env = base_env(home) | {"MEMBERSHIPS_API_URL": sandbox.url, "PYTHON_KEYRING_BACKEND": FAIL_KEYRING}
    proc = subprocess.run([sys.executable, "-m", "memberships_cli", "login", "--with-token", "--insecure-storage"],
                          input=SANDBOX_TOKEN + "\n", capture_output=True, text=True, env=env, cwd=home, umask=0, timeout=60)
    assert proc.returncode == 0, proc.stderr
    path = token_file(home, sandbox)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    assert path.read_text() == SANDBOX_TOKEN + "\n"
    assert "warning: the token is stored unencrypted in" in proc.stderr and str(path) in proc.stderr
    assert proc.stdout == ""
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left over


def test_insecure_storage_drops_an_older_keyring_entry_that_would_shadow_the_file(cli, sandbox, kr, home):
    kr.put(account(sandbox), "stale-token")
    r = login(cli, kr.env, SANDBOX_TOKEN, "--insecure-storage")
    assert r.code == 0, r
    assert kr.entries() == {}
    assert token_file(home, sandbox).read_text().strip() == SANDBOX_TOKEN


def test_a_keyring_login_removes_an_older_token_file(cli, sandbox, kr, home):
    assert login(cli, {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING}, SANDBOX_TOKEN, "--insecure-storage").code == 0
    r = login(cli, kr.env)
    assert r.code == 0, r
    assert "removed the older token file" in r.stderr
    assert not token_file(home, sandbox).exists()
    assert kr.entries() == {f"memberships-cli/{account(sandbox)}": SANDBOX_TOKEN}


def test_login_says_when_memberships_token_overrides_it(cli, sandbox, kr):
    r = login(cli, kr.env, env={"MEMBERSHIPS_TOKEN": OTHER_TOKEN})
    assert r.code == 0, r
    assert "MEMBERSHIPS_TOKEN is set and overrides the stored token" in r.stderr
    # The token checked and stored is the one given, not the environment's.
    assert sandbox.requests[0]["authorization"] == f"Bearer {SANDBOX_TOKEN}"
    assert kr.entries() == {f"memberships-cli/{account(sandbox)}": SANDBOX_TOKEN}
    assert OTHER_TOKEN not in r.stderr


def test_each_profile_and_host_has_its_own_keyring_entry(cli, sandbox, kr):
    assert login(cli, kr.env).code == 0
    assert login(cli, kr.env, SANDBOX_TOKEN, env={"MEMBERSHIPS_PROFILE": "work"}).code == 0
    assert kr.entries() == {
        f"memberships-cli/{account(sandbox)}": SANDBOX_TOKEN,
        f"memberships-cli/{account(sandbox, 'work')}": SANDBOX_TOKEN,
    }
    r = cli("logout", token=None, env={**kr.env, "MEMBERSHIPS_PROFILE": "work"})
    assert r.code == 0
    assert kr.entries() == {f"memberships-cli/{account(sandbox)}": SANDBOX_TOKEN}


def test_login_with_the_sandbox_flag_refuses_and_never_touches_the_keyring(cli, sandbox, tripwire):
    path, env = tripwire
    r = cli("--sandbox", "login", "--with-token", input="whatever-token", token=None, env=env)
    assert r.code == 2, r
    assert "--sandbox uses its own token" in r.stderr
    assert not path.exists()


# -- logout ----------------------------------------------------------------------------------------


def test_logout_removes_the_keyring_entry(cli, sandbox, kr):
    kr.put(account(sandbox), SANDBOX_TOKEN)
    r = cli("logout", token=None, env=kr.env)
    assert r.code == 0, r
    assert r.stdout == ""
    assert "✓ Logged out of 127.0.0.1" in r.stderr and "OS keyring" in r.stderr
    assert kr.entries() == {}
    assert sandbox.requests == []


def test_logout_removes_the_token_file_too(cli, sandbox, kr, home):
    assert login(cli, {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING}, SANDBOX_TOKEN, "--insecure-storage").code == 0
    kr.put(account(sandbox), SANDBOX_TOKEN)
    r = cli("logout", token=None, env=kr.env)
    assert r.code == 0, r
    assert "the OS keyring and the token file" in r.stderr
    assert not token_file(home, sandbox).exists() and kr.entries() == {}


@pytest.mark.parametrize("backend", ["file", "fail"])
def test_logout_when_not_logged_in_is_success_with_a_message(cli, sandbox, kr, backend):
    env = kr.env if backend == "file" else {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING}
    r = cli("logout", token=None, env=env)
    assert r.code == 0, r
    assert "Not logged in to 127.0.0.1" in r.stderr and "no stored token" in r.stderr


def test_logout_says_when_memberships_token_still_overrides(cli, sandbox, kr):
    kr.put(account(sandbox), SANDBOX_TOKEN)
    r = cli("logout", token=OTHER_TOKEN, env=kr.env)
    assert r.code == 0, r
    assert "MEMBERSHIPS_TOKEN is set and still overrides" in r.stderr
    assert kr.entries() == {}


def test_logout_with_a_hanging_keyring_still_removes_the_file_and_fails(cli, sandbox, home):
    assert login(cli, {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING}, SANDBOX_TOKEN, "--insecure-storage").code == 0
    r = cli("logout", token=None, env=HANG)
    assert r.code == 4, r
    assert "did not answer within 0.5 s" in r.stderr
    assert not token_file(home, sandbox).exists()


def test_logout_with_the_sandbox_flag_is_a_no_op(cli, sandbox, tripwire):
    path, env = tripwire
    r = cli("--sandbox", "logout", token=None, env=env)
    assert r.code == 0, r
    assert "Nothing to log out of" in r.stderr
    assert not path.exists()


# -- status ----------------------------------------------------------------------------------------


def status(cli, *args, **kwargs):
    r = cli("status", *args, **kwargs)
    data = json.loads(r.stdout) if "--json" in args else None
    return r, data


def test_status_not_logged_in_is_exit_4_with_the_hint(cli, sandbox, kr):
    r, _ = status(cli, token=None, env=kr.env)
    assert r.code == 4, r
    assert "Token:    none" in r.stdout
    assert "API:      not asked (no token)" in r.stdout
    assert "run `memberships login` or set MEMBERSHIPS_TOKEN" in r.stderr
    assert sandbox.requests == []


def test_status_json_not_logged_in(cli, sandbox, kr):
    r, data = status(cli, "--json", token=None, env=kr.env)
    assert r.code == 4, r
    assert data["tokenSource"] is None and data["token"] is None and data["valid"] is None
    assert data["apiUrl"] == sandbox.url and data["profile"] == "default"
    assert [s["state"] for s in data["sources"]] == ["not set", "none", "none"]
    assert "not logged in" in data["error"]


@pytest.mark.parametrize("where", ["env", "keyring", "file"])
def test_status_shows_where_the_token_comes_from_masked_and_checks_it(cli, sandbox, kr, home, where):
    if where == "file":
        assert login(cli, {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING}, SANDBOX_TOKEN, "--insecure-storage").code == 0
    elif where == "keyring":
        kr.put(account(sandbox), SANDBOX_TOKEN)
    sandbox.clear_requests()
    env_token = SANDBOX_TOKEN if where == "env" else None
    r, data = status(cli, "--json", token=env_token, env=kr.env)
    assert r.code == 0, r
    source = {"env": "MEMBERSHIPS_TOKEN", "keyring": "keyring", "file": "file"}[where]
    assert data["tokenSource"] == source
    assert data["token"] == "sand… (26 characters)"
    assert data["valid"] is True and data["error"] is None
    assert data["user"]["name"] == "Sandbox User"
    assert [(q["path"], q["authorization"]) for q in sandbox.requests] == [("/me", f"Bearer {SANDBOX_TOKEN}")]
    r = cli("status", token=env_token, env=kr.env)
    assert r.code == 0, r
    label = {"env": "MEMBERSHIPS_TOKEN", "keyring": "OS keyring", "file": "token file"}[where]
    assert f"Token:    sand… (26 characters), from {label}" in r.stdout
    assert "API:      ✓ accepts the token; signed in as Sandbox User (" in r.stdout
    assert SANDBOX_TOKEN not in r.stdout + r.stderr


def test_status_precedence_env_over_keyring_over_file(cli, sandbox, kr, home):
    # Tokens the sandbox rejects (login would not store them): planted as login would write them.
    path = token_file(home, sandbox)
    path.parent.mkdir(parents=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"file-token-is-not-valid\n")
    os.close(fd)
    kr.put(account(sandbox), "keyring-token-not-valid")
    _, data = status(cli, "--json", token=SANDBOX_TOKEN, env=kr.env)
    assert data["tokenSource"] == "MEMBERSHIPS_TOKEN"
    assert [(s["source"], s["state"]) for s in data["sources"]] == [
        ("MEMBERSHIPS_TOKEN", "set"), ("keyring", "stored"), ("file", "stored")]
    _, data = status(cli, "--json", token=None, env=kr.env)
    assert data["tokenSource"] == "keyring" and data["valid"] is False
    kr.path.unlink()
    _, data = status(cli, "--json", token=None, env=kr.env)
    assert data["tokenSource"] == "file" and data["valid"] is False
    auths = [q["authorization"] for q in sandbox.requests]
    assert auths[-3:] == [f"Bearer {SANDBOX_TOKEN}", "Bearer keyring-token-not-valid", "Bearer file-token-is-not-valid"]


def test_status_with_a_rejected_token_is_exit_4(cli, sandbox, kr):
    r, data = status(cli, "--json", token="rejected-token-value", env=kr.env)
    assert r.code == 4, r
    assert data["valid"] is False and data["tokenSource"] == "MEMBERSHIPS_TOKEN"
    assert data["token"] == "reje… (20 characters)"
    assert "rejected the token" in r.stderr and "memberships login" in r.stderr
    r = cli("status", token="rejected-token-value", env=kr.env)
    assert r.code == 4
    assert "API:      ✗ the API rejected the token (401 Unauthorized" in r.stdout
    assert "rejected-token-value" not in r.stdout + r.stderr


def test_status_with_an_unreachable_api_is_exit_5(cli, kr, refused_url):
    url = refused_url
    r, data = status(cli, "--json", api_url=url, env={**kr.env, **NO_RETRY})
    assert r.code == 5, r
    assert data["valid"] is None and data["tokenSource"] == "MEMBERSHIPS_TOKEN"
    assert "could not connect" in data["error"] and "could not connect" in r.stderr
    r = cli("status", api_url=url, env={**kr.env, **NO_RETRY})
    assert r.code == 5
    assert "API:      ✗ could not check the token: GET /me: " in r.stdout


def test_status_with_a_server_error_is_exit_1(cli, sandbox, kr):
    sandbox.add_fault(Fault(status=500, path="/me"))
    r, data = status(cli, "--json", env=kr.env)
    assert r.code == 1, r
    assert data["valid"] is None and "500" in data["error"]


def test_status_falls_back_to_one_membership_when_the_api_has_no_me(cli, sandbox, kr):
    sandbox.add_fault(Fault(status=404, path="/me"))
    r, data = status(cli, "--json", env=kr.env)
    assert r.code == 0, r
    assert data["valid"] is True and data["user"] is None
    assert [q["path"] for q in sandbox.requests] == ["/me", "/me/memberships"]


@pytest.mark.parametrize("args", [["--sandbox", "status"], ["--sandbox", "status", "--json"]])
def test_status_in_the_sandbox_uses_its_token_and_never_touches_the_keyring(cli, sandbox, tripwire, args):
    path, env = tripwire
    r = cli(*args, token=None, env={**env, "MEMBERSHIPS_API_URL": None})
    assert r.code == 0, r
    assert not path.exists()
    if "--json" in args:
        data = json.loads(r.stdout)
        assert data["tokenSource"] == "sandbox" and data["valid"] is True and data["sources"] is None
    else:
        assert "from sandbox" in r.stdout and "stored tokens are not read" in r.stdout
    assert SANDBOX_TOKEN not in r.stdout


def test_the_sandbox_flag_ignores_a_stored_and_an_env_token(cli, sandbox, tripwire):
    """MEMBERSHIPS_TOKEN set to something else: the sandbox still sends its own token."""
    path, env = tripwire
    r = cli("--sandbox", "list", "--json", token=OTHER_TOKEN, env={**env, "MEMBERSHIPS_API_URL": None})
    assert r.code == 0, r
    assert not path.exists()


def test_status_with_a_hanging_keyring_times_out(cli, sandbox):
    started = time.monotonic()
    r, data = status(cli, "--json", token=None, env=HANG)
    assert r.code == 4, r
    assert time.monotonic() - started < 15
    assert data["sources"][1] == {"source": "keyring", "state": "timed out", "detail": "did not answer within 0.5 s"}
    assert "did not answer within 0.5 s" in r.stderr


def test_a_hanging_keyring_does_not_block_a_token_file(cli, sandbox, home):
    assert login(cli, {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING}, SANDBOX_TOKEN, "--insecure-storage").code == 0
    r = cli("list", "--json", token=None, env=HANG)
    assert r.code == 0, r
    assert "did not answer within 0.5 s; using the token file" in r.stderr


def test_a_token_file_readable_by_others_is_used_with_a_warning(cli, sandbox, home):
    assert login(cli, {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING}, SANDBOX_TOKEN, "--insecure-storage").code == 0
    path = token_file(home, sandbox)
    path.chmod(0o644)
    r, data = status(cli, "--json", token=None, env={"PYTHON_KEYRING_BACKEND": FAIL_KEYRING})
    assert r.code == 0, r
    assert data["tokenSource"] == "file"
    assert f"can be read by other users (mode 0644); run `chmod 600 {path}`" in r.stderr


def test_a_headless_machine_shows_the_keyring_as_unavailable(cli, sandbox):
    r = cli("status", env={"PYTHON_KEYRING_BACKEND": FAIL_KEYRING})
    assert r.code == 0, r
    assert "OS keyring         unavailable (none found" in r.stdout


# -- other commands use the same token ----------------------------------------------------------------


def test_list_uses_the_keyring_token(cli, sandbox, kr):
    kr.put(account(sandbox), SANDBOX_TOKEN)
    r = cli("list", "--json", token=None, env=kr.env)
    assert r.code == 0, r
    assert sandbox.requests[0]["authorization"] == f"Bearer {SANDBOX_TOKEN}"


def test_list_prefers_memberships_token_over_the_keyring(cli, sandbox, kr):
    kr.put(account(sandbox), "stored-but-overridden")
    r = cli("list", "--json", token=SANDBOX_TOKEN, env=kr.env)
    assert r.code == 0, r
    assert {q["authorization"] for q in sandbox.requests} == {f"Bearer {SANDBOX_TOKEN}"}


def test_list_reads_the_token_file_on_a_headless_machine(cli, sandbox, home):
    assert login(cli, {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING}, SANDBOX_TOKEN, "--insecure-storage").code == 0
    sandbox.clear_requests()
    r = cli("list", "--json", token=None, env={"PYTHON_KEYRING_BACKEND": FAIL_KEYRING})
    assert r.code == 0, r
    assert sandbox.requests[0]["authorization"] == f"Bearer {SANDBOX_TOKEN}"


@pytest.mark.parametrize("args", [["list"], ["show", "acme-logistics"], ["accept", "acme-logistics"], ["leave", "acme-logistics", "--yes"]])
def test_every_command_without_a_token_is_exit_4_with_the_hint(cli, sandbox, kr, args):
    r = cli(*args, token=None, env=kr.env)
    assert r.code == 4, r
    assert "run `memberships login` or set MEMBERSHIPS_TOKEN" in r.stderr
    assert sandbox.requests == []


def test_without_a_token_for_a_profile_the_hint_names_it(cli, sandbox, kr):
    r = cli("--profile", "work", "list", token=None, env=kr.env)
    assert r.code == 4, r
    assert "(profile work)" in r.stderr and "memberships --profile work login" in r.stderr


def test_a_stored_token_the_api_rejects_is_exit_4_with_a_hint_to_log_in_again(cli, sandbox, kr):
    kr.put(account(sandbox), "revoked-token-value")
    r = cli("list", token=None, env=kr.env)
    assert r.code == 4, r
    assert "rejected the token" in r.stderr and "memberships login` again" in r.stderr
    assert "revoked-token-value" not in r.stdout + r.stderr


def test_an_env_token_with_a_space_is_a_usage_error_that_does_not_show_it(cli, sandbox, kr):
    r = cli("list", token="secret with space", env=kr.env)
    assert r.code == 2, r
    assert "MEMBERSHIPS_TOKEN cannot be a token" in r.stderr
    assert "secret" not in r.stderr.replace("MEMBERSHIPS", "")
    assert sandbox.requests == []


def test_an_invalid_keyring_timeout_is_a_usage_error(cli, sandbox, kr):
    r = cli("list", token=None, env={**kr.env, "MEMBERSHIPS_KEYRING_TIMEOUT": "soon"})
    assert r.code == 2, r
    assert "MEMBERSHIPS_KEYRING_TIMEOUT" in r.stderr


def test_help_and_usage_errors_do_not_import_keyring_nor_httpx(home):
    """`--sandbox` runs must not even import keyring; --help and usage errors import neither."""
    code = (
        "import sys; from memberships_cli.cli import main; main(sys.argv[1:]);"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'keyring', 'httpx'}))"
    )
    cases = {
        ("login", "--help"): "[]", ("status", "--help"): "[]", ("config", "--help"): "[]",
        ("login", "--bogus"): "[]", ("--sandbox", "status"): "['httpx']", ("--sandbox", "logout"): "[]",
    }
    for args, expected in cases.items():
        env = base_env(home) | {"PYTHON_KEYRING_BACKEND": FAIL_KEYRING}
        proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=60, cwd=home)
        assert proc.stdout.strip().splitlines()[-1] == expected, (args, proc.stdout, proc.stderr)


def test_login_hints_repeat_the_global_options_given_after_the_command(cli, sandbox, kr):
    # A token is stored per API host and profile: `memberships login` alone would store it for
    # another one than the command that failed.
    r = cli("list", "--api-url", sandbox.url, "--profile", "work", token=None, env=kr.env)
    assert r.code == 4, r
    login = f"memberships --profile work --api-url {sandbox.url} login"
    assert f"run `{login}` or set MEMBERSHIPS_TOKEN" in r.stderr
    assert sandbox.requests == []


def test_the_no_keyring_hint_repeats_the_profile(cli, sandbox):
    r = cli("login", "--with-token", "--profile", "work", token=None, input="a-token-never-read\n", env={"PYTHON_KEYRING_BACKEND": FAIL_KEYRING})
    assert r.code == 4, r
    assert "run `memberships --profile work login --insecure-storage` to keep the token in a file" in r.stderr
    assert "`memberships login --insecure-storage`" not in r.stderr
    assert sandbox.requests == []


def test_the_insecure_storage_warning_names_the_logout_of_that_profile(cli, sandbox):
    r = cli("login", "--insecure-storage", "--with-token", "--profile", "work", token=None, input=SANDBOX_TOKEN + "\n",
            env={"PYTHON_KEYRING_BACKEND": FAIL_KEYRING})
    assert r.code == 0, r
    assert "`memberships --profile work logout` removes it." in r.stderr
