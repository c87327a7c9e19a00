"""The test harness: a sandbox API on a real loopback socket per test, and the real CLI entry point
run in a subprocess with an isolated home, config, data dir and keyring backend."""

from __future__ import annotations

import os
import pty
import select
import struct
import subprocess
import sys
import termios
import fcntl
from dataclasses import dataclass
from pathlib import Path

import pytest

from memberships_cli.sandbox import SANDBOX_TOKEN, SandboxServer, Store

ROOT = Path(__file__).resolve().parent.parent
# Never the machine's keyring: every CLI run gets this unless a test picks another backend.
FAIL_KEYRING = "keyring.backends.fail.Keyring"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def __repr__(self) -> str:  # shown by pytest when an assert fails
        return f"Result(code={self.code}, stdout={self.stdout[:2000]!r}, stderr={self.stderr[:2000]!r})"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    for sub in ("config", "data", "cache"):
        (path / sub).mkdir(parents=True)
    return path


def base_env(home: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEMBERSHIPS_", "NO_COLOR", "FORCE_COLOR", "PYTHON_KEYRING"))}
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        PYTHON_KEYRING_BACKEND=FAIL_KEYRING,
        COLUMNS="120",
        LINES="40",
        TERM="xterm-256color",
        PYTHONIOENCODING="utf-8",
        # No pager in tests unless a test asks for one (tests/test_pager.py).
        MEMBERSHIPS_PAGER="",
    )
    return env


@pytest.fixture
def sandbox(tmp_path: Path):
    server = SandboxServer(Store(tmp_path / "sandbox.sqlite3"))
    server.start()
    yield server
    server.stop()


def _run(args, env, input_text, tty, timeout, cwd) -> Result:
    cmd = [sys.executable, "-m", "memberships_cli", *args]
    if not tty:
        proc = subprocess.run(cmd, input=input_text if input_text is not None else "", capture_output=True, text=True,
                              env=env, timeout=timeout, cwd=cwd)
        return Result(proc.returncode, proc.stdout, proc.stderr)
    # A real pseudo-terminal on stdin and stdout, width pinned; stderr stays a pipe.
    master, slave = pty.openpty()
    cols = int(env.get("COLUMNS", "120"))
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=subprocess.PIPE, env=env, cwd=cwd)
    os.close(slave)
    if input_text:
        os.write(master, input_text.encode())
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], timeout)
        if not ready:
            proc.kill()
            raise TimeoutError("CLI did not finish")
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    stderr = proc.stderr.read().decode()
    proc.wait(timeout)
    out = b"".join(chunks).decode().replace("\r\n", "\n")
    if input_text:  # the terminal echoes what was typed
        out = out.replace(input_text.replace("\r\n", "\n"), "", 1) if input_text in out else out
    return Result(proc.returncode, out, stderr)


@pytest.fixture
def cli(home: Path, sandbox):
    """Run `python -m memberships_cli ARGS` against the sandbox; assert it never shows a traceback."""

    def run(*args, env: dict | None = None, input: str | None = None, tty: bool = False,
            token: str | None = SANDBOX_TOKEN, api_url: str | None = None, timeout: float = 60) -> Result:
        full_env = base_env(home)
        full_env["MEMBERSHIPS_API_URL"] = api_url or sandbox.url
        if token is not None:
            full_env["MEMBERSHIPS_TOKEN"] = token
        if env:
            full_env.update(env)
        full_env = {k: v for k, v in full_env.items() if v is not None}
        result = _run([str(a) for a in args], full_env, input, tty, timeout, str(home))
        assert "Traceback" not in result.stderr, result
        assert "Traceback" not in result.stdout, result
        return result

    return run


@pytest.fixture
def refused_url():
    """An http://127.0.0.1 URL whose port refuses connections for the whole test: the port stays
    bound (never listening), so no server of a parallel test can be given it meanwhile."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


def fault_from_third_page(sandbox, fault) -> None:
    """Answer the first two GETs of the list endpoint normally and every later one with `fault`:
    a listing that fails (or hangs) on page 3 after two full pages were printed."""
    import threading

    sandbox.add_fault(fault)
    take, seen, lock = sandbox.take_fault, [0], threading.Lock()

    def after_two_pages(method: str, path: str):
        if method == "GET" and path == "/me/memberships":
            with lock:
                seen[0] += 1
                if seen[0] <= 2:
                    return None
        return take(method, path)

    sandbox.take_fault = after_two_pages
