"""The progress bar of a bulk accept or leave, as a terminal receives it: stdin, stdout and stderr
on one pseudo-terminal (the bar is drawn on stderr only when stderr is a terminal)."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys

import pytest

from harness import base_env, home, sandbox  # noqa: F401  (fixtures)
from memberships_cli.sandbox import SANDBOX_TOKEN


def run_on_a_terminal(home, sandbox, *args: str) -> tuple[int, str]:
    env = base_env(home)
    env.update(MEMBERSHIPS_API_URL=sandbox.url, MEMBERSHIPS_TOKEN=SANDBOX_TOKEN)
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "memberships_cli", *args], stdin=slave, stdout=slave,
                            stderr=slave, env=env, cwd=str(home))
    os.close(slave)
    chunks = []
    while select.select([master], [], [], 60)[0]:
        try:
            data = os.read(master, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(60), b"".join(chunks).decode()


@pytest.mark.parametrize(
    "args, label",
    [
        (("accept", "globex-retail", "cafe-sao-paulo"), "Accepting"),
        (("leave", "acme-logistics", "initech-payments", "--yes"), "Leaving"),
    ],
)
def test_the_bar_names_what_it_does(home, sandbox, args, label):
    code, screen = run_on_a_terminal(home, sandbox, *args)
    assert code == 0, screen
    # The bar is transient (erased when done), but its text went through the terminal.
    assert label in screen, screen
    assert "Leaveing" not in screen
    assert "2/2" in screen
