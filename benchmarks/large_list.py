"""Benchmark 3, a long list: 10,000 memberships (100 pages of 100) from the sandbox, as JSON Lines,
as one JSON array and as a table, against a minimal keep-alive httpx script; wall time and peak RSS.
Targets: jsonl <= 1.2x the minimal script's time; peak RSS <= 64 MiB and flat in list length (the
run limited to 1,000 memberships is there to show it); the table never takes seconds.

    .venv/bin/python benchmarks/large_list.py [--quick | --runs N]
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

COUNT = 10_000
SHORT = 1_000
TIME_TARGET = 1.2
RSS_TARGET = 64.0
# "Flat": ten times the memberships may cost a few MiB of interpreter arenas, not ten times the memory.
FLAT_TARGET = 4.0


def items_in(name: str, text: str) -> int:
    if "--json" in name or "json array" in name:
        return len(json.loads(text))
    lines = text.splitlines()
    return len(lines) - 1 if "table" in name else len(lines)


def main() -> None:
    args = parse_args(__doc__)
    script = str(HERE / "baselines" / "minimal_httpx_list.py")
    with tempfile.TemporaryDirectory(prefix="memberships-bench-") as tmp, SandboxProcess() as sandbox:
        sandbox.prepare(COUNT, "active")
        env = cli_env(Path(tmp), sandbox)
        cases = [
            Case("minimal httpx script, jsonl", [PYTHON, script, "jsonl"], env),
            Case("memberships list --format jsonl", [MEMBERSHIPS, "list", "--format", "jsonl"], env),
            Case("minimal httpx script, json array", [PYTHON, script, "json"], env),
            Case("memberships list --json", [MEMBERSHIPS, "list", "--json"], env),
            Case("memberships list --format table", [MEMBERSHIPS, "list", "--format", "table"], env),
            Case(f"memberships list --format jsonl --limit {SHORT}", [MEMBERSHIPS, "list", "--format", "jsonl", "--limit", str(SHORT)], env),
        ]
        for case in cases:
            case.exact_rss = True
            want = SHORT if "--limit" in case.name else COUNT
            got = items_in(case.name, output_of(case.argv, case.env))
            if got != want:
                sys.exit(f"{case.name}: expected {want} memberships, got {got}")
        heading(f"3. a long list: {COUNT:,} memberships in pages of 100 from the sandbox", args.runs, rss=True)
        interleave(cases, args.runs, timeout=300)

    rows = []
    for index, case in enumerate(cases):
        base = cases[2] if "json" in case.name and "jsonl" not in case.name else cases[0]
        low, high = case.quartiles()
        rows.append([
            case.name,
            fmt_time(case.median),
            f"{fmt_time(low)}-{fmt_time(high)}",
            fmt_time(case.cpu),
            f"{case.median / base.median:.2f}x" if index not in (0, 2) else "1.00x",
            f"{case.cpu / base.cpu:.2f}x" if index not in (0, 2) else "1.00x",
            f"{case.rss:.1f} / {case.rss_max:.1f} MiB",
        ])
    print(table(rows, ["command", "median", "p25-p75", "CPU", "/ script", "CPU / script", "peak RSS (median / max)"]))
    print("   (--json is compared with the script's json array, the others with its jsonl)")
    jsonl, short, table_case = cases[1], cases[5], cases[4]
    print(f"   target, jsonl <= {TIME_TARGET:g}x the minimal script: {verdict(jsonl.median / cases[0].median, TIME_TARGET)}")
    peak = max(c.rss_max for c in cases if c.name.startswith("memberships") and "table" not in c.name)
    print(f"   target, peak RSS of jsonl/json <= {RSS_TARGET:g} MiB: {verdict(peak, RSS_TARGET, ' MiB')}")
    growth = jsonl.rss - short.rss
    print(f"   target, flat memory (jsonl, {COUNT:,} vs {SHORT:,} memberships: <= +{FLAT_TARGET:g} MiB): "
          f"{verdict(growth, FLAT_TARGET, ' MiB')}")
    print(f"   table: {COUNT:,} rows in {fmt_time(table_case.median)} "
          f"({table_case.median / jsonl.median:.2f}x jsonl; rows are kept for column widths: {table_case.rss:.1f} MiB)")


if __name__ == "__main__":
    main()
