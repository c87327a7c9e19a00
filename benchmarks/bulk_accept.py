"""Benchmark 4, bulk work: `memberships accept --all` of 500 invitations with 20 ms of latency
injected into every sandbox answer, sequential (--concurrency 1), at the default concurrency (8)
and at 16, against the ideal time (list pages x 20 ms + 500 x 20 ms / K) and against
`curl --parallel --parallel-max K` POSTing the same 500 URLs (its ideal: 500 x 20 ms / K).
Target: <= 1.6x the ideal at the same concurrency.

    .venv/bin/python benchmarks/bulk_accept.py [--quick | --runs N]
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    MEMBERSHIPS,
    SANDBOX_TOKEN,
    Case,
    SandboxProcess,
    cli_env,
    curl,
    fmt_time,
    heading,
    interleave,
    measure,
    parse_args,
    table,
    verdict,
)

COUNT = 500
LATENCY = 0.020
PAGE = 100
CONCURRENCY = (1, 8, 16)
CURL_CONCURRENCY = (8, 16)
TARGET = 1.6


def curl_config(path: Path, url: str, ids: list[str]) -> None:
    """One POST per invitation, as a curl config file (500 URLs do not fit a readable argv)."""
    lines = ["silent", "fail", "request = POST", f'header = "Authorization: Bearer {SANDBOX_TOKEN}"',
             'header = "Accept: application/json"']
    for org_id in ids:
        lines += [f'url = "{url}/me/memberships/{org_id}"', 'output = "/dev/null"']
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    args = parse_args(__doc__)
    pages = math.ceil(COUNT / PAGE)
    with tempfile.TemporaryDirectory(prefix="memberships-bench-") as tmp, SandboxProcess() as sandbox:
        env = cli_env(Path(tmp), sandbox)
        ids = sandbox.prepare(COUNT, "invited")
        sandbox.latency(LATENCY)

        def fresh_invitations() -> None:
            if sandbox.prepare(COUNT, "invited") != ids:
                sys.exit("the sandbox generated different organizations between runs")

        cases = []
        for k in CONCURRENCY:
            cases.append(Case(f"memberships accept --all --concurrency {k}",
                              [MEMBERSHIPS, "accept", "--all", "--concurrency", str(k)], env, fresh_invitations))
        if curl():
            config = Path(tmp) / "curl.cfg"
            curl_config(config, sandbox.url, ids)
            for k in CURL_CONCURRENCY:
                cases.append(Case(f"curl --parallel --parallel-max {k}",
                                  [curl(), "--parallel", "--parallel-max", str(k), "--config", str(config)], env, fresh_invitations))
        for case in cases:
            case.exact_rss = True
            # Each case works before it is timed: every invitation accepted, and no extra request.
            fresh_invitations()
            measure(case.argv, case.env, timeout=300)
            stats = sandbox.stats()
            want = COUNT + (pages if case.name.startswith("memberships") else 0)
            if stats["invited"] != 0 or stats["requests"] != want:
                sys.exit(f"{case.name}: {stats['invited']} invitations left, {stats['requests']} requests (expected 0, {want})")
        heading(f"4. bulk accept: {COUNT} invitations, {LATENCY * 1000:.0f} ms latency per request "
                f"({pages} list pages first for memberships)", args.runs, rss=True, warmup=0)
        # No warm-up round: start-up is a rounding error against runs of one to ten seconds.
        interleave(cases, args.runs, warmup=0, timeout=300)

    rows = []
    verdicts = []
    for case in cases:
        k = int(case.argv[case.argv.index("--concurrency") + 1] if "--concurrency" in case.argv else case.argv[3])
        ours = case.name.startswith("memberships")
        ideal = (pages if ours else 0) * LATENCY + COUNT * LATENCY / k
        low, high = case.quartiles()
        ratio = case.median / ideal
        peer = next((c for c in cases if c.name.endswith(f"--parallel-max {k}")), None) if ours else None
        rows.append([
            case.name,
            fmt_time(case.median),
            f"{fmt_time(low)}-{fmt_time(high)}",
            fmt_time(case.cpu),
            fmt_time(ideal),
            f"{ratio:.2f}x",
            f"{ratio / (peer.median / (COUNT * LATENCY / k)):.2f}x" if peer else "",
            f"{case.rss:.1f} MiB",
        ])
        if ours:
            verdicts.append(f"   target, --concurrency {k} <= {TARGET:g}x the ideal: {verdict(ratio, TARGET)}")
    print(table(rows, ["command", "median", "p25-p75", "CPU", "ideal", "/ ideal", "/ curl's ratio", "peak RSS"]))
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
