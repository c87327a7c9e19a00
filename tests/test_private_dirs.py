"""The token file's directory is ours alone (issue 14, section 7), through the real entry point.

Our directories are created 0700. Where a directory on the token file's path can be written by
someone else (group or others, no sticky bit), `login --insecure-storage` refuses to store the
token (exit 2, the directory and the fix), and a token file found there is not used (exit 4): as
ssh does, because whoever can write the directory can replace the file with their own token.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from memberships_cli.sandbox import SANDBOX_TOKEN

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def app_config(home: Path) -> Path:
    return home / "config" / "memberships-cli"


def token_file(home: Path, sandbox, profile: str = "default") -> Path:
    return app_config(home) / "tokens" / f"127.0.0.1%3A{sandbox.port}%3A{profile}.token"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def insecure_login(cli, profile: str = "default"):
    return cli("--profile", profile, "login", "--with-token", "--insecure-storage", input=SANDBOX_TOKEN + "\n", token=None)


def every_file(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# -- storing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "where, unsafe_mode, who, fix",
    [
        ("xdg", 0o777, "other users", "chmod go-w"),  # XDG_CONFIG_HOME itself, not ours: the minimal fix
        ("xdg", 0o775, "its group", "chmod go-w"),
        ("config", 0o777, "other users", "chmod 700"),  # memberships-cli, ours: back to 0700
        ("config", 0o770, "its group", "chmod 700"),
        ("tokens", 0o777, "other users", "chmod 700"),
        ("tokens", 0o722, "other users", "chmod 700"),
    ],
)
def test_login_refuses_to_store_the_token_in_a_directory_others_can_write(cli, sandbox, home, where, unsafe_mode, who, fix):
    unsafe = {"xdg": home / "config", "config": app_config(home), "tokens": app_config(home) / "tokens"}[where]
    unsafe.mkdir(parents=True, exist_ok=True)
    unsafe.chmod(unsafe_mode)
    before = every_file(home / "config")
    r = insecure_login(cli)
    assert r.code == 2, r
    assert r.stdout == ""
    assert r.stderr == (
        f"error: refusing to store the token in {app_config(home) / 'tokens'}: {unsafe} is writable by {who} "
        f"(mode {unsafe_mode:04o}); run `{fix} {unsafe}`\n"
    )
    assert SANDBOX_TOKEN not in r.stderr
    assert every_file(home / "config") == before  # no token file, no directory, nothing
    assert sandbox.requests == []  # refused before the token was asked for or sent anywhere
    assert mode(unsafe) == unsafe_mode  # refused, not silently changed


def test_after_the_suggested_fix_the_login_stores_the_token(cli, sandbox, home):
    (home / "config").chmod(0o777)
    assert insecure_login(cli).code == 2
    (home / "config").chmod(0o755)  # what `chmod go-w` leaves
    r = insecure_login(cli)
    assert r.code == 0, r
    assert token_file(home, sandbox).read_text() == SANDBOX_TOKEN + "\n"


def test_a_world_writable_directory_with_the_sticky_bit_is_accepted_like_tmp(cli, sandbox, home):
    """Like /tmp: others can add entries but cannot rename or remove ours."""
    (home / "config").chmod(0o1777)
    r = insecure_login(cli)
    assert r.code == 0, r
    assert token_file(home, sandbox).exists()


def test_keyring_login_does_not_care_about_the_file_directory(cli, sandbox, home, tmp_path):
    from keyring_backends import FileKeyringState

    kr = FileKeyringState(tmp_path / "keyring.json")
    (home / "config").chmod(0o777)
    r = cli("login", "--with-token", input=SANDBOX_TOKEN + "\n", token=None, env=kr.env)
    assert r.code == 0, r
    assert kr.entries() == {f"memberships-cli/127.0.0.1:{sandbox.port}:default": SANDBOX_TOKEN}
    assert not (app_config(home) / "tokens").exists()


# -- reading --------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["config", "tokens"])
def test_a_token_file_in_a_directory_others_can_write_is_not_used(cli, sandbox, home, where):
    assert insecure_login(cli).code == 0
    sent = len(sandbox.requests)
    unsafe = {"config": app_config(home), "tokens": app_config(home) / "tokens"}[where]
    unsafe.chmod(0o777)
    r = cli("list", token=None)
    assert r.code == 4, r
    assert r.stdout == ""
    assert r.stderr == (
        f"error: refusing to use the token file {token_file(home, sandbox)}: {unsafe} is writable by other users "
        f"(mode 0777), so the token in it may not be yours; run `chmod 700 {unsafe}`, then log in again\n"
    )
    assert len(sandbox.requests) == sent  # the token in it was not sent
    status = cli("status", "--json", token=None)
    assert status.code == 4, status
    assert '"state": "unreadable"' in status.stdout and "may not be yours" in status.stdout
    unsafe.chmod(0o700)
    assert cli("list", token=None).code == 0


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() != 0, reason="only root can give a file away")
def test_a_token_file_that_belongs_to_another_user_is_not_used(cli, sandbox, home):
    assert insecure_login(cli).code == 0
    os.chown(token_file(home, sandbox), 4242, -1)
    r = cli("list", token=None)
    assert r.code == 4, r
    assert "refusing to use the token file" in r.stderr and "belongs to another user (uid 4242)" in r.stderr
    assert r.stderr.count("\n") == 1
    assert cli("logout", token=None).code == 0  # and the way out it names works
    assert not token_file(home, sandbox).exists()


# -- creating -------------------------------------------------------------------------------------


def test_a_fresh_run_creates_our_directories_0700(cli, sandbox, home):
    for base in ("config", "data", "cache"):
        (home / base).rmdir()  # nothing exists yet, not even XDG_*_HOME
    assert insecure_login(cli).code == 0
    assert mode(app_config(home)) == 0o700
    assert mode(app_config(home) / "tokens") == 0o700
    assert mode(token_file(home, sandbox)) == 0o600
    assert mode(home / "config") & 0o022 == 0  # not ours: the usual mode, never writable by others
    assert cli("--profile", "work", "config", "set", "format", "csv").code == 0
    assert mode(app_config(home)) == 0o700
    r = cli("--sandbox", "list", "--format", "json", token=None, api_url="http://127.0.0.1:9")
    assert r.code == 0, r
    assert mode(home / "data" / "memberships-cli") == 0o700
    assert (home / "data" / "memberships-cli" / "sandbox.sqlite3").exists()
    assert cli("list", tty=True).code == 0  # a person at a terminal: the completion cache is filled
    assert mode(home / "cache" / "memberships-cli") == 0o700
    assert (home / "cache" / "memberships-cli" / "org-cache.txt").exists()


def test_config_set_alone_creates_the_config_dir_0700(cli, home):
    r = cli("config", "set", "format", "json")
    assert r.code == 0, r
    assert mode(app_config(home)) == 0o700
    assert mode(app_config(home) / "config.toml") == 0o600
