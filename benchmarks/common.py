"""What every benchmark shares: how a child process is timed, how runs are interleaved, how the
figures are printed, and the sandbox API server that runs in a process of its own.

Rules the figures depend on:
- every command is a fresh process, timed from spawn to exit, and its peak RSS read from its own
  rusage (`os.wait4`); RUSAGE_CHILDREN would be the maximum over all children so far;
- the runs of all cases of a benchmark are interleaved (round-robin, the order rotating each round),
  so a noisy moment of the machine hits every case alike; the ratio of medians is what we compare;
- the python that runs the benchmark is the one that runs the CLI (`.venv/bin/python`), never a
  pyenv shim, which adds ~200 ms to every start;
- the sandbox serves from another process, so the CLI's figures do not include the server's share
  of one GIL; all traffic stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
MEMBERSHIPS = str(BIN / "memberships")
DEFAULT_RUNS = 15
QUICK_RUNS = 5
SANDBOX_TOKEN = "sandbox-token-not-a-secret"  # memberships_cli.sandbox.SANDBOX_TOKEN, not imported here


def check_interpreter() -> None:
    if "shims" in Path(PYTHON).parts or not Path(MEMBERSHIPS).exists():
        sys.exit(
            f"run the benchmarks with the venv's python (e.g. .venv/bin/python benchmarks/run_all.py): "
            f"{PYTHON} is a shim or has no `memberships` next to it"
        )


def parse_args(description: str, extra: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--runs", type=int, default=None, help=f"interleaved runs of each case (default {DEFAULT_RUNS})")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs: for development, not for figures")
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    if args.runs is None:
        args.runs = QUICK_RUNS if args.quick else DEFAULT_RUNS
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    check_interpreter()
    return args


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of every child: an isolated home, no user settings, no keyring lookups."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEMBERSHIPS_", "NO_COLOR", "FORCE_COLOR", "PYTHON"))}
    for sub in ("config", "data", "cache"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        COLUMNS="120",
        LANG="C.UTF-8",
    )
    env.update(extra)
    return env


# -- one timed child ---------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    rss_mib: float
    cpu: float  # user + system seconds of the process (and of GNU time, ~1 ms, when it starts it)


GNU_TIME = "/usr/bin/time"


def exact_rss_available() -> bool:
    return os.path.exists(GNU_TIME)


def measure(argv: Sequence[str], env: dict[str, str], *, timeout: float = 120.0, exact_rss: bool = False) -> Sample:
    """Spawn, wait, and return wall time and the child's peak RSS. A failing child is fatal:
    a figure for a command that did not do its work would be a lie.

    A child's ru_maxrss starts at the size of the process that spawned it (Linux carries the
    spawner's peak across fork and exec), so from here it is never below this benchmark's own
    ~15 MiB. With `exact_rss`, the child is started by GNU time, a 2 MiB process, which reports
    the child's true peak; it adds ~1 ms to the wall time, so only the list and bulk benchmarks
    (runs of 0.3 s and more) use it.
    """
    import threading

    errors = tempfile.TemporaryFile()  # a file, not a pipe: a chatty child cannot block on it
    rss_file = None
    if exact_rss and exact_rss_available():
        rss_file = tempfile.NamedTemporaryFile(prefix="memberships-bench-rss-", delete=False)
        rss_file.close()
        argv = [GNU_TIME, "-f", "%M", "-o", rss_file.name, *argv]
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=errors, env=env)
    # A blocking wait keeps the measuring process off the CPU; a timer ends a child that hangs.
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timer.cancel()
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    errors.seek(0)
    err = errors.read().decode("utf-8", "replace")
    errors.close()
    rss_kib = usage.ru_maxrss  # KiB on Linux
    if rss_file is not None:
        text = Path(rss_file.name).read_text().strip()
        os.unlink(rss_file.name)
        if text.splitlines() and text.splitlines()[-1].isdigit():
            rss_kib = int(text.splitlines()[-1])
    if proc.returncode != 0:
        why = f"timed out after {timeout:.0f} s" if elapsed >= timeout else f"exit {proc.returncode}"
        sys.exit(f"{why} from {' '.join(argv)}:\n{err[-2000:]}")
    return Sample(elapsed, rss_kib / 1024, usage.ru_utime + usage.ru_stime)


def output_of(argv: Sequence[str], env: dict[str, str], timeout: float = 120.0) -> str:
    """Run once, untimed, for the output: each case is checked to do its work before it is timed."""
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        sys.exit(f"exit {proc.returncode} from {' '.join(argv)}:\n{proc.stderr[-2000:]}")
    return proc.stdout


# -- interleaved runs ------------------------------------------------------------------------


@dataclass
class Case:
    name: str
    argv: list[str]
    env: dict[str, str]
    before: Callable[[], None] | None = None  # untimed preparation before each run
    exact_rss: bool = False  # see measure()
    samples: list[Sample] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(s.seconds for s in self.samples)

    @property
    def cpu(self) -> float:
        return statistics.median(s.cpu for s in self.samples)

    @property
    def rss(self) -> float:
        return statistics.median(s.rss_mib for s in self.samples)

    @property
    def rss_max(self) -> float:
        return max(s.rss_mib for s in self.samples)

    def quartiles(self) -> tuple[float, float]:
        times = sorted(s.seconds for s in self.samples)
        if len(times) < 4:
            return times[0], times[-1]
        q = statistics.quantiles(times, n=4)
        return q[0], q[2]


def interleave(cases: list[Case], runs: int, *, warmup: int = 1, timeout: float = 120.0) -> None:
    """`warmup` untimed rounds (page cache, .pyc files), then `runs` rounds of every case; each
    round starts one case later than the last, so no case always follows the same neighbour."""
    for _ in range(warmup):
        for case in cases:
            if case.before:
                case.before()
            measure(case.argv, case.env, timeout=timeout, exact_rss=case.exact_rss)
    for round_ in range(runs):
        for offset in range(len(cases)):
            case = cases[(round_ + offset) % len(cases)]
            if case.before:
                case.before()
            case.samples.append(measure(case.argv, case.env, timeout=timeout, exact_rss=case.exact_rss))
        print(f"  round {round_ + 1}/{runs}", end="\r", file=sys.stderr, flush=True)
    print(" " * 20, end="\r", file=sys.stderr, flush=True)


def fmt_time(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms" if seconds < 10 else f"{seconds:.2f} s"


def table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(widths[i]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(row)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join("  " + line for line in lines)


def verdict(value: float, limit: float, unit: str = "x") -> str:
    return f"{'met' if value <= limit else 'MISSED'}: {value:.3g}{unit}"


def heading(title: str, runs: int, rss: bool = False, warmup: int = 1) -> None:
    print(f"\n== {title} ==")
    extra = ""
    if rss:
        extra = "; peak RSS of the process (median, max)" + ("" if exact_rss_available() else
                " [no GNU time: RSS includes the benchmark's own ~15 MiB]")
    after = f", after {warmup} warm-up round{'s' if warmup > 1 else ''}" if warmup else ""
    print(f"   {runs} interleaved runs per case{after}; median wall time, p25-p75, median CPU (user+sys){extra}")
    print(f"   load average at start: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")


def machine_line() -> str:
    import platform

    return (f"python {platform.python_version()} ({PYTHON}), {os.cpu_count()} CPUs, "
            f"{platform.system()} {platform.release()}, load {os.getloadavg()[0]:.2f}")


# -- the sandbox, in its own process ---------------------------------------------------------


class SandboxProcess:
    """`benchmarks/sandbox_server.py` in a child process, driven over its stdin/stdout."""

    def __init__(self, tls: bool = False) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="memberships-bench-")
        db = Path(self._dir.name) / "sandbox.sqlite3"
        self._proc = subprocess.Popen(
            [PYTHON, str(HERE / "sandbox_server.py"), str(db), *(["--tls", self._dir.name] if tls else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        hello = self._read()
        self.url: str = hello["url"]
        # With tls: the test CA's certificate, for SSL_CERT_FILE.
        self.ca_file = str(Path(self._dir.name) / "ca.pem") if tls else None

    def _read(self) -> dict:
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError("the sandbox server process ended")
        return json.loads(line)

    def call(self, op: str, **args) -> dict:
        self._proc.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self._proc.stdin.flush()
        reply = self._read()
        if "error" in reply:
            raise RuntimeError(f"sandbox {op}: {reply['error']}")
        return reply

    def prepare(self, count: int, status: str) -> list[str]:
        """Exactly `count` memberships in `status` (the seed data removed); returns their org ids."""
        return self.call("prepare", count=count, status=status)["ids"]

    def latency(self, seconds: float) -> None:
        self.call("latency", seconds=seconds)

    def stats(self) -> dict:
        return self.call("stats")

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc.stdout.close()
        self._dir.cleanup()

    def __enter__(self) -> "SandboxProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def cli_env(home: Path, sandbox: SandboxProcess, click: bool = False) -> dict[str, str]:
    """The environment of a network run. `click` hidden unless asked for: the test extra installs
    it, and httpx imports its own CLI (click, pygments, Rich) whenever click is importable, a cost
    the CLI avoids (client.py) and a minimal script does not: hidden, the comparison stays fair."""
    env = clean_env(home, MEMBERSHIPS_API_URL=sandbox.url, MEMBERSHIPS_TOKEN=SANDBOX_TOKEN)
    if not click:
        env["PYTHONPATH"] = hide_click(home)
    return env


def hide_click(folder: Path) -> str:
    """A folder to put first on PYTHONPATH in which `import click` fails as if it were not installed."""
    package = folder / "no-click" / "click"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text('raise ImportError("click is hidden for this benchmark")\n')
    return str(package.parent)


def curl() -> str | None:
    return shutil.which("curl")
