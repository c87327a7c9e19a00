"""A Stoplight Prism mock server on 127.0.0.1, run as a child process, and the reading of its log.

Prism validates every request it receives against the contract and says so in its log, one block per
request: "Request received", then either "The request passed the validation rules" or "Request did not
pass the validation rules" with one "Violation: request..." line per problem; "Violation: response..."
when the answer it serves breaks the contract's own schema; "Request terminated with error" when no path
or method of the contract matches. Prism writes a block after it has replied, so a reader waits for it.
"""

from __future__ import annotations

import re
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

RECEIVED = "Request received"
PASSED = "The request passed the validation rules"
NOT_PASSED = "Request did not pass the validation rules"
NO_ROUTE = "Request terminated with error"
RESPONDED = "> Responding with"
# Prism marks every error with this sign; violations and unmatched routes carry it too.
ERROR_MARK = "✖"

_VIOLATION = re.compile(r"Violation: (request|response)\S*\s.*")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class LogCounts:
    """What Prism said about a stretch of its log."""

    received: int = 0
    passed: int = 0
    not_passed: int = 0
    no_route: int = 0
    responded: int = 0
    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # every line with Prism's error mark

    @classmethod
    def of(cls, text: str) -> "LogCounts":
        counts = cls()
        for line in text.splitlines():
            if RECEIVED in line:
                counts.received += 1
            elif PASSED in line:
                counts.passed += 1
            elif NOT_PASSED in line:
                counts.not_passed += 1
            elif RESPONDED in line:
                counts.responded += 1
            if NO_ROUTE in line:
                counts.no_route += 1
            match = _VIOLATION.search(line)
            if match:
                counts.violations.append(match.group(0).strip())
            if ERROR_MARK in line:
                counts.errors.append(line.strip())
        return counts

    @property
    def validated(self) -> int:
        """Requests Prism checked against the contract (whatever the verdict)."""
        return self.passed + self.not_passed

    @property
    def finished(self) -> int:
        return self.responded + self.no_route

    @property
    def clean(self) -> bool:
        return not (self.not_passed or self.no_route or self.violations or self.errors)


class PrismMock:
    """`prism mock` on a free loopback port; `url` is what MEMBERSHIPS_API_URL points at."""

    def __init__(self, prism_bin: str, spec: Path, log_path: Path, *, dynamic: bool = False, seed: int | None = None):
        self.prism_bin = prism_bin
        self.spec = spec
        self.log_path = log_path
        self.dynamic = dynamic
        self.seed = seed
        self.port = 0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def label(self) -> str:
        return f"prism mock -d --seed {self.seed}" if self.dynamic else "prism mock (static)"

    def command(self) -> list[str]:
        cmd = [self.prism_bin, "mock", "-h", "127.0.0.1", "-p", str(self.port)]
        if self.dynamic:
            cmd += ["-d", "--seed", str(self.seed), "--json-schema-faker-fillProperties=false"]
        return cmd + [str(self.spec)]

    def start(self, timeout: float = 30.0) -> None:
        # The port is picked before Prism binds it; another process may take it in between, so try again.
        for _ in range(3):
            self.port = free_port()
            with self.log_path.open("wb") as log:
                # The binary itself, not npx, so the PID we hold is the server's.
                self.process = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            if self._wait_for_port(timeout):
                return
            self.stop()
        raise RuntimeError(f"{self.label} did not start; its log:\n{self.log_text()[-3000:]}")

    def _wait_for_port(self, timeout: float) -> bool:
        # A TCP probe, not HTTP: Prism would log every HTTP probe as an unmatched request.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return True
            except OSError:
                time.sleep(0.1)
        return False

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    # -- the log ------------------------------------------------------------------------------------

    def log_size(self) -> int:
        return self.log_path.stat().st_size

    def log_text(self, offset: int = 0) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")

    def wait_for(self, offset: int, requests: int, timeout: float = 10.0, settle: float = 0.1) -> tuple[str, LogCounts]:
        """The log written since `offset`, once Prism has finished `requests` requests.

        Prism writes a request's violation lines just after its reply, so after the last reply we wait
        `settle` seconds more before reading.
        """
        deadline = time.monotonic() + timeout
        while True:
            counts = LogCounts.of(self.log_text(offset))
            if counts.received >= requests and counts.finished >= requests:
                break
            if time.monotonic() > deadline:
                break  # the caller's assertions say what is missing
            time.sleep(0.02)
        time.sleep(settle)
        text = self.log_text(offset)
        return text, LogCounts.of(text)
