"""The last-resort handler in cli.main (issue 14, section 9): an error nobody planned for ends as
exit 1 and one line on stderr, with the traceback only under --verbose. In-process with a command
made to raise, and through the real entry point with a keyring backend that has a bug of its own."""

from __future__ import annotations

import pytest

from memberships_cli import cli

from harness import _run, base_env
from keyring_backends import backend_env

LINE = "error: unexpected error: RuntimeError: boom from the test; re-run with --verbose and report it\n"


@pytest.fixture
def broken_config_path(monkeypatch, tmp_path):
    """`config path` raises something that is not one of our errors."""
    import memberships_cli.config

    def boom():
        raise RuntimeError("boom from the test")

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.setattr(memberships_cli.config, "config_file", boom)


def test_an_unexpected_error_is_one_line_and_exit_1(broken_config_path, capsys):
    code = cli.main(["config", "path"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    assert err == LINE
    assert "Traceback" not in err


@pytest.mark.parametrize("flag", ["--verbose", "-v"])
def test_with_verbose_the_traceback_follows_the_line(broken_config_path, capsys, flag):
    code = cli.main([flag, "config", "path"])
    out, err = capsys.readouterr()
    assert code == 1
    assert out == ""
    first, rest = err.split("\n", 1)
    assert first + "\n" == LINE
    assert rest.startswith("Traceback (most recent call last):\n")
    assert "in boom\n" in rest  # the frame that raised
    assert rest.endswith("RuntimeError: boom from the test\n")


def test_a_buggy_keyring_backend_reaches_the_handler_through_the_entry_point(home, sandbox):
    env = base_env(home) | backend_env("BuggyKeyring") | {"MEMBERSHIPS_API_URL": sandbox.url}
    line = "error: unexpected error: ValueError: bug in the keyring backend; re-run with --verbose and report it\n"
    quiet = _run(["list"], env, None, False, 60, str(home))
    assert (quiet.code, quiet.stdout, quiet.stderr) == (1, "", line)
    loud = _run(["-v", "list"], env, None, False, 60, str(home))
    assert loud.code == 1 and loud.stdout == ""
    assert line in loud.stderr
    traceback = loud.stderr.split(line, 1)[1]
    assert traceback.startswith("Traceback (most recent call last):\n")
    assert "keyring_backends.py" in traceback and traceback.endswith("ValueError: bug in the keyring backend\n")
    assert sandbox.requests == []  # no token, so nothing was sent
