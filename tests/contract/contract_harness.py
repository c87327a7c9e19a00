"""What the contract tests share: the Prism servers they start, the CLI runs they make and the tally of
what Prism validated. Fixtures and hooks live in conftest.py."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from prism_mock import LogCounts, PrismMock

# The stage runs with --confcutdir=tests/contract, so tests/ is not on sys.path by itself.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from harness import base_env  # noqa: E402

SPEC = Path(__file__).resolve().parent / "openapi.yaml"
TOKEN = "contract-test-token"
DYNAMIC_SEED = 2  # each generated list page holds 5 memberships with this seed and Prism 5.14.2


@dataclass
class Tally:
    """Everything Prism validated over the session, for the summary line."""

    servers: dict[str, LogCounts] = field(default_factory=dict)
    flagged_on_purpose: int = 0
    commands: set[str] = field(default_factory=set)
    cli_runs: int = 0

    def totals(self) -> dict:
        counts = list(self.servers.values())
        return {
            "validated": sum(c.validated for c in counts),
            "passed": sum(c.passed for c in counts),
            "flagged": sum(c.not_passed for c in counts),
            "flagged_on_purpose": self.flagged_on_purpose,
            "unmatched": sum(c.no_route for c in counts),
            "cli_runs": self.cli_runs,
            "commands": sorted(self.commands),
            "servers": {label: {"validated": c.validated, "passed": c.passed, "flagged": c.not_passed}
                        for label, c in self.servers.items()},
        }


class Server(PrismMock):
    """A PrismMock that remembers how many requests the tests sent it, and how many of them the tests
    made invalid on purpose, so that its whole log can be reconciled when it stops."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests_sent = 0
        self.flagged_on_purpose = 0


@dataclass
class CliRun:
    args: list[str]
    code: int
    stdout: str
    stderr: str
    requests: list[str]  # "METHOD URL" of every request the CLI sent, from its --verbose lines
    log: str  # what Prism logged meanwhile
    counts: LogCounts

    def __repr__(self) -> str:  # what pytest shows when an assertion fails
        return (
            f"CliRun(args={self.args}, code={self.code}, requests={self.requests},\n"
            f"stdout={self.stdout[:1500]!r},\nstderr={self.stderr[:1500]!r},\nprism log:\n{self.log[-3000:]})"
        )

    def assert_every_request_valid(self) -> None:
        """Prism saw each request the CLI sent, and every one passed its validation."""
        assert self.counts.received == len(self.requests), self
        assert self.counts.passed == len(self.requests), self
        assert self.counts.clean, self


def cli_env(home: Path, api_url: str | None, token: str | None) -> dict:
    """The main suite's isolated environment (tests/harness.py), pointed at a Prism server."""
    for sub in ("config", "data", "cache"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env = base_env(home)
    if api_url is not None:
        env["MEMBERSHIPS_API_URL"] = api_url
    if token is not None:
        env["MEMBERSHIPS_TOKEN"] = token
    return env


def summary_line(totals: dict) -> str:
    return (
        f"contract: Prism validated {totals['validated']} requests ({totals['passed']} passed, "
        f"{totals['flagged']} flagged, of which {totals['flagged_on_purpose']} sent invalid on purpose by the "
        f"negative tests; {totals['unmatched']} matched no operation); "
        f"{totals['cli_runs']} CLI runs covering: {', '.join(totals['commands']) or 'none'}"
    )
