"""Benchmark 2, one request: `memberships list --json` against the sandbox holding 10 memberships
(one GET), against a minimal python + httpx script doing the same GET and json.dump, and curl.
Target: <= 1.25x the minimal httpx script.

    .venv/bin/python benchmarks/one_request.py [--quick | --runs N]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    HERE,
    MEMBERSHIPS,
    PYTHON,
    SANDBOX_TOKEN,
    Case,
    SandboxProcess,
    cli_env,
    curl,
    fmt_time,
    heading,
    interleave,
    output_of,
    parse_args,
    table,
    verdict,
)

TARGET = 1.25
COUNT = 10


def main() -> None:
    args = parse_args(__doc__)
    with tempfile.TemporaryDirectory(prefix="memberships-bench-") as tmp, SandboxProcess() as sandbox:
        sandbox.prepare(COUNT, "active")
        env = cli_env(Path(tmp), sandbox)
        cases = [
            Case("minimal httpx script", [PYTHON, str(HERE / "baselines" / "minimal_httpx_list.py"), "json"], env),
            Case("memberships list --json", [MEMBERSHIPS, "list", "--json"], env),
        ]
        if curl():
            cases.append(Case("curl", [
                curl(), "-sS", "--fail", "-H", f"Authorization: Bearer {SANDBOX_TOKEN}", "-H", "Accept: application/json",
                f"{sandbox.url}/me/memberships?limit=100",
            ], env))
        for case in cases:
            out = json.loads(output_of(case.argv, case.env))
            got = len(out["results"]) if isinstance(out, dict) else len(out)
            if got != COUNT:
                sys.exit(f"{case.name}: expected {COUNT} memberships, got {got}")
        before = sandbox.stats()["requests"]
        heading(f"2. one request: list of {COUNT} memberships (one GET) from the sandbox", args.runs)
        interleave(cases, args.runs)
        sent = sandbox.stats()["requests"] - before
        rounds = args.runs + 1
        if sent != rounds * len(cases):
            sys.exit(f"expected {rounds * len(cases)} requests at the server, saw {sent}")

    base = cases[0].median
    rows = []
    for case in cases:
        low, high = case.quartiles()
        rows.append([case.name, fmt_time(case.median), f"{fmt_time(low)}-{fmt_time(high)}", fmt_time(case.cpu),
                     f"{case.median / base:.2f}x", f"{case.cpu / cases[0].cpu:.2f}x"])
    print(table(rows, ["command", "median", "p25-p75", "CPU", "/ httpx script", "CPU / script"]))
    print(f"   the server saw {sent} requests for {rounds} rounds of {len(cases)} cases (warm-up included): one per run")
    print(f"   target, list --json <= {TARGET:g}x the minimal httpx script: {verdict(cases[1].median / base, TARGET)}")


if __name__ == "__main__":
    main()
