"""Benchmark 5, https: the sandbox served over TLS on loopback (a trustme CA), one request and
10,000 memberships, against the minimal python + httpx script doing the same; wall time, CPU and
peak RSS. Both trust the test CA through SSL_CERT_FILE, pointed at certifi's bundle with the test
CA appended, so each run loads a full CA bundle as a real run against api.bird.com does.
Targets: one request <= 1.2x the script, 10,000 memberships <= 1.15x, memory flat.

Also: the same runs with `click` importable (httpx's import trap: the script pays it, the CLI does
not), and what building a TLS context costs with each CA store (certifi, the system's bundle, the
system's hashed folder read on demand, the test CA alone). truststore is left out: it verifies
through the OS at handshake time, so its cost is not in building the context.

    .venv/bin/python benchmarks/https.py [--quick | --runs N]
"""

from __future__ import annotations

import json
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    HERE,
    MEMBERSHIPS,
    PYTHON,
    Case,
    SandboxProcess,
    cli_env,
    fmt_time,
    heading,
    interleave,
    output_of,
    parse_args,
    table,
    verdict,
)

ONE_TARGET = 1.2
LONG_TARGET = 1.15
FLAT_TARGET = 4.0
COUNT = 10_000
SHORT = 1_000
ONE_COUNT = 10


def bundle_with(ca_file: str, folder: Path) -> str:
    """certifi's bundle plus the test CA: the CA store a real run loads, and the sandbox trusted."""
    import certifi

    path = folder / "bundle.pem"
    path.write_text(Path(certifi.where()).read_text() + Path(ca_file).read_text())
    return str(path)


def items(name: str, text: str) -> int:
    if text.startswith("["):  # a JSON array; JSON Lines otherwise
        body = json.loads(text)
        return len(body["results"]) if isinstance(body, dict) else len(body)
    return len(text.splitlines())


def run_cases(title: str, cases: list[Case], want: dict[str, int], runs: int, rss: bool) -> None:
    for case in cases:
        case.exact_rss = rss
        got = items(case.name, output_of(case.argv, case.env))
        if got != want[case.name]:
            sys.exit(f"{case.name}: expected {want[case.name]} memberships, got {got}")
    heading(title, runs, rss=rss)
    interleave(cases, runs, timeout=300)


def report(cases: list[Case], base_of) -> None:
    rows = []
    for case in cases:
        base = base_of(case)
        low, high = case.quartiles()
        rows.append([case.name, fmt_time(case.median), f"{fmt_time(low)}-{fmt_time(high)}", fmt_time(case.cpu),
                     f"{case.median / base.median:.2f}x", f"{case.cpu / base.cpu:.2f}x",
                     f"{case.rss:.1f} / {case.rss_max:.1f} MiB"])
    print(table(rows, ["command", "median", "p25-p75", "CPU", "/ script", "CPU / script", "peak RSS (median / max)"]))


def ca_store_costs(ca_file: str, rounds: int = 30) -> list[list[str]]:
    """Milliseconds to build a verifying SSL context from each CA store, in this process (median)."""
    import certifi

    ways = {
        "certifi bundle (what httpx loads by default)": lambda: ssl.create_default_context(cafile=certifi.where()),
        "system store (ssl.create_default_context())": lambda: ssl.create_default_context(),
        "the test CA alone": lambda: ssl.create_default_context(cafile=ca_file),
    }
    hashed = ssl.get_default_verify_paths().capath
    if hashed and Path(hashed).is_dir():
        # OpenSSL reads a CA from a hashed folder only when a chain needs it: nothing up front.
        ways[f"system hashed folder {hashed}, on demand (capath)"] = lambda: ssl.create_default_context(capath=hashed)
    rows = []
    for name, make in ways.items():
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            context = make()
            times.append(time.perf_counter() - started)
        count = len(context.get_ca_certs()) if hasattr(context, "get_ca_certs") else "-"
        rows.append([name, f"{statistics.median(times) * 1000:.1f} ms", str(count)])
    return rows


def main() -> None:
    args = parse_args(__doc__)
    script = str(HERE / "baselines" / "minimal_httpx_list.py")
    with tempfile.TemporaryDirectory(prefix="memberships-bench-") as tmp, SandboxProcess(tls=True) as sandbox:
        home = Path(tmp)
        bundle = bundle_with(sandbox.ca_file, home)
        env = cli_env(home, sandbox) | {"SSL_CERT_FILE": bundle}
        env_click = cli_env(home, sandbox, click=True) | {"SSL_CERT_FILE": bundle}

        sandbox.prepare(ONE_COUNT, "active")
        one = [
            Case("script, one GET", [PYTHON, script, "json"], env),
            Case("memberships list --json", [MEMBERSHIPS, "list", "--json"], env),
            Case("script, one GET, click importable", [PYTHON, script, "json"], env_click),
            Case("memberships list --json, click importable", [MEMBERSHIPS, "list", "--json"], env_click),
        ]
        run_cases(f"5a. https, one request: {ONE_COUNT} memberships, one GET over TLS", one,
                  {c.name: ONE_COUNT for c in one}, args.runs, rss=True)
        report(one, lambda case: one[0])
        ratio = one[1].median / one[0].median
        print(f"   target, one request <= {ONE_TARGET:g}x the script: {verdict(ratio, ONE_TARGET)}")
        print(f"   click importable: the script {one[2].median / one[0].median:.2f}x its own time and "
              f"+{one[2].rss - one[0].rss:.1f} MiB; the CLI {one[3].median / one[1].median:.2f}x and "
              f"+{one[3].rss - one[1].rss:.1f} MiB")

        sandbox.prepare(COUNT, "active")
        long = [
            Case("script, jsonl", [PYTHON, script, "jsonl"], env),
            Case("memberships list --format jsonl", [MEMBERSHIPS, "list", "--format", "jsonl"], env),
            Case(f"memberships list --format jsonl --limit {SHORT}",
                 [MEMBERSHIPS, "list", "--format", "jsonl", "--limit", str(SHORT)], env),
        ]
        run_cases(f"5b. https, a long list: {COUNT:,} memberships in pages of 100 over TLS", long,
                  {long[0].name: COUNT, long[1].name: COUNT, long[2].name: SHORT}, args.runs, rss=True)
        report(long, lambda case: long[0])
        print(f"   target, {COUNT:,} memberships <= {LONG_TARGET:g}x the script: "
              f"{verdict(long[1].median / long[0].median, LONG_TARGET)}")
        print(f"   target, flat memory ({COUNT:,} vs {SHORT:,} memberships: <= +{FLAT_TARGET:g} MiB): "
              f"{verdict(long[1].rss - long[2].rss, FLAT_TARGET, ' MiB')}")

        print("\n== 5c. building a verifying TLS context from each CA store (in-process, median of 30) ==")
        print(table(ca_store_costs(sandbox.ca_file), ["CA store", "time", "CA certificates loaded"]))


if __name__ == "__main__":
    main()
