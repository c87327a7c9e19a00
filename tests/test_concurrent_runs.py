"""Concurrent runs lose nothing (issue 14, section 6): many `memberships` processes started at once,
through the real entry point, each changing its own part of a shared file; afterwards every change
is there. Before the config file had a lock, 4 to 6 of 10 concurrent `config set` were lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from memberships_cli.config import read_config
from memberships_cli.lockfile import LockError, held
from memberships_cli.sandbox import SANDBOX_TOKEN

from harness import base_env

WRITERS = 16
FORMATS = ("table", "plain", "json", "jsonl", "csv")


def start(args: list[str], env: dict, stdin: str = "") -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "memberships_cli", *args],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    proc.stdin.write(stdin)
    proc.stdin.close()
    return proc


def finish(procs: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    results = []
    for proc in procs:
        code = proc.wait(timeout=120)
        results.append((code, proc.stdout.read(), proc.stderr.read()))
        proc.stdout.close()
        proc.stderr.close()
    return results


def config_path(home: Path) -> Path:
    return home / "config" / "memberships-cli" / "config.toml"


def test_concurrent_config_set_for_different_profiles_keeps_every_setting(home):
    env = base_env(home)
    expected = {f"p{i}": {"format": FORMATS[i % len(FORMATS)]} for i in range(WRITERS)}
    procs = [start(["--profile", name, "config", "set", "format", table["format"]], env) for name, table in expected.items()]
    results = finish(procs)
    assert [code for code, _, _ in results] == [0] * WRITERS, results
    for (code, out, err), name in zip(results, expected):
        assert out == "" and err.startswith(f"Set format={expected[name]['format']} for profile {name} in "), (out, err)
    assert read_config(config_path(home)) == expected


def test_concurrent_set_and_unset_on_one_profile_each_apply(home, cli):
    """Half the runs add api_url to their profile, the other half remove format from theirs: the
    file ends with exactly the union of both, whatever order they ran in."""
    path = config_path(home)
    names = [f"p{i}" for i in range(WRITERS)]
    seeded = "".join(f'[profiles.{name}]\nformat = "csv"\n' for name in names)
    path.parent.mkdir(parents=True)
    path.write_text(seeded)
    env = base_env(home)
    procs = [
        start(["--profile", name, "config", *(("set", "api_url", f"https://{name}.example.com") if i % 2 else ("unset", "format"))], env)
        for i, name in enumerate(names)
    ]
    results = finish(procs)
    assert [code for code, _, _ in results] == [0] * WRITERS, results
    expected = {name: {"format": "csv", "api_url": f"https://{name}.example.com"} for i, name in enumerate(names) if i % 2}
    assert read_config(path) == expected


def test_concurrent_insecure_logins_to_different_profiles_and_hosts_each_store_their_token(home, sandbox):
    """One token file per host and profile, each written whole by an atomic rename, all under the
    tokens lock: every login ends with its own token in its own file, mode 0600."""
    ports = [sandbox.port]
    hosts = [f"http://127.0.0.1:{sandbox.port}", f"http://localhost:{sandbox.port}"]
    runs = [(host, f"p{i}") for i in range(WRITERS // 2) for host in hosts]
    procs = []
    for host, profile in runs:
        env = base_env(home)
        env["MEMBERSHIPS_API_URL"] = host
        procs.append(start(["--profile", profile, "login", "--with-token", "--insecure-storage"], env, SANDBOX_TOKEN))
    results = finish(procs)
    assert [code for code, _, _ in results] == [0] * len(runs), results
    tokens = home / "config" / "memberships-cli" / "tokens"
    expected = sorted(
        f"{'127.0.0.1' if '127.0.0.1' in host else 'localhost'}%3A{ports[0]}%3A{profile}.token" for host, profile in runs
    )
    stored = sorted(p.name for p in tokens.iterdir() if p.name.endswith(".token"))
    assert stored == expected
    for name in stored:
        assert (tokens / name).read_text() == SANDBOX_TOKEN + "\n"
        assert (tokens / name).stat().st_mode & 0o777 == 0o600
    assert not [p.name for p in tokens.iterdir() if p.name.endswith(".tmp")]


def test_concurrent_logouts_and_logins_leave_exactly_the_logged_in_profiles(home, sandbox):
    """Logouts of half the profiles run at the same time as fresh logins to the other half."""
    tokens = home / "config" / "memberships-cli" / "tokens"
    env = base_env(home)
    env["MEMBERSHIPS_API_URL"] = sandbox.url
    first = finish([start(["--profile", f"p{i}", "login", "--with-token", "--insecure-storage"], env, SANDBOX_TOKEN)
                    for i in range(0, WRITERS, 2)])
    assert [code for code, _, _ in first] == [0] * (WRITERS // 2), first
    procs = [
        start(["--profile", f"p{i}", "logout"], env) if i % 2 == 0
        else start(["--profile", f"p{i}", "login", "--with-token", "--insecure-storage"], env, SANDBOX_TOKEN)
        for i in range(WRITERS)
    ]
    results = finish(procs)
    assert [code for code, _, _ in results] == [0] * WRITERS, results
    stored = sorted(p.name for p in tokens.iterdir() if p.name.endswith(".token"))
    assert stored == sorted(f"127.0.0.1%3A{sandbox.port}%3Ap{i}.token" for i in range(1, WRITERS, 2))


# -- the lock itself -------------------------------------------------------------------------------


HOLDER = """
import sys, time
from pathlib import Path
from memberships_cli.lockfile import held
with held(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes our stdin
"""


def test_a_lock_held_by_another_process_times_out_with_a_clear_error_then_frees_when_it_exits(tmp_path):
    lock = tmp_path / ".config.toml.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(LockError) as caught:
            with held(lock, wait=0.2):
                pass
        assert str(lock) in caught.value.message and "more than 0.2 s" in caught.value.message
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    with held(lock, wait=5):  # the system released it when the holder ended
        assert lock.stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="needs O_NOFOLLOW")
def test_a_symlink_in_place_of_the_lock_file_is_not_followed(tmp_path):
    target = tmp_path / "elsewhere"
    lock = tmp_path / ".lock"
    lock.symlink_to(target)
    with pytest.raises(LockError) as caught:
        with held(lock, wait=0.2):
            pass
    assert caught.value.message.startswith(f"cannot open the lock file {lock}: ")
    assert not target.exists()


def test_config_set_through_a_held_lock_waits_for_it(home, cli):
    """A run that finds the lock taken waits for it rather than writing over the holder's change."""
    path = config_path(home)
    path.parent.mkdir(parents=True)
    lock = path.parent / ".config.toml.lock"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        waiting = start(["--profile", "work", "config", "set", "format", "csv"], base_env(home))
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=1)  # bounded: it must still be waiting while the lock is held
        assert not path.exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    ((code, out, err),) = finish([waiting])
    assert code == 0, err
    assert read_config(path) == {"work": {"format": "csv"}}


def test_login_waits_for_the_tokens_lock(home, sandbox):
    """Storing a token is two steps (the file, the keyring entry that would shadow it): a login
    finding another login or logout in the middle of them waits for it to finish."""
    config = home / "config" / "memberships-cli"
    config.mkdir(mode=0o700)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(config / ".tokens.lock")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    env = base_env(home)
    env["MEMBERSHIPS_API_URL"] = sandbox.url
    token = config / "tokens" / f"127.0.0.1%3A{sandbox.port}%3Adefault.token"
    try:
        assert holder.stdout.readline() == "held\n"
        waiting = start(["login", "--with-token", "--insecure-storage"], env, SANDBOX_TOKEN)
        with pytest.raises(subprocess.TimeoutExpired):
            waiting.wait(timeout=1)  # bounded: it must still be waiting while the lock is held
        assert not token.exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
        holder.stdout.close()
    ((code, out, err),) = finish([waiting])
    assert code == 0, err
    assert token.read_text() == SANDBOX_TOKEN + "\n"
