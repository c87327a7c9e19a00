"""A look at a real terminal: `memberships --sandbox list` in a private tmux pane at 80 and 160
columns (tests/tools/tmux-capture.sh, a copy of ../shared/tools), then the captured screen is read
the way a person sees it: a table that fits, aligned in cells, colours on, slugs whole, and the
hostile names shown as text instead of acted upon.

Skipped when tmux is missing, unless MEMBERSHIPS_REQUIRE_TMUX=1 (CI sets it and installs tmux)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from rich.cells import cell_len

from memberships_cli.sandbox import seed

from harness import ROOT, base_env

CAPTURE = ROOT / "tests" / "tools" / "tmux-capture.sh"
REQUIRED = os.environ.get("MEMBERSHIPS_REQUIRE_TMUX") == "1"
SGR = re.compile(r"\x1b\[[0-9;:]*m")

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None and not REQUIRED,
    reason="tmux is not installed (set MEMBERSHIPS_REQUIRE_TMUX=1 to make this a failure)",
)


def capture(home, tmp_path, width: int, *args: str) -> str:
    """The pane's screen, with colours, after running the CLI in it."""
    assert shutil.which("tmux"), "MEMBERSHIPS_REQUIRE_TMUX=1 but tmux is not installed"
    # The pane decides the size: no COLUMNS/LINES from the test environment, no outer tmux.
    env = {k: v for k, v in base_env(home).items() if k not in ("COLUMNS", "LINES", "TMUX", "TMUX_PANE")}
    out = tmp_path / f"screen-{width}.txt"
    proc = subprocess.run(["bash", str(CAPTURE), str(width), "50", str(out), sys.executable, "-m", "memberships_cli", *args],
                          env=env, capture_output=True, text=True, timeout=90)
    assert proc.returncode == 0, (proc.stdout, proc.stderr, out.read_text() if out.exists() else "")
    assert proc.stdout.strip() == "exit status: 0"
    return out.read_text(encoding="utf-8")


ALL_HEADERS = ["ORGANIZATION", "SLUG", "STATUS", "ROLES", "SSO", "MFA", "CREATED"]
# At 60 columns the optional columns make way, so the slug, status and date stay whole.
HEADERS_AT = {60: ["ORGANIZATION", "SLUG", "STATUS", "CREATED"], 80: ALL_HEADERS, 100: ALL_HEADERS, 160: ALL_HEADERS}


@pytest.mark.parametrize("width", [60, 80, 100, 160])
def test_list_on_a_real_terminal(home, tmp_path, width):
    screen = capture(home, tmp_path, width, "--sandbox", "list")
    lines = [line for line in screen.splitlines() if line.strip()]
    shown = [SGR.sub("", line).rstrip() for line in lines]
    memberships = seed.memberships()

    assert len(shown) == len(memberships) + 1  # the header and one row each; no wrapped lines
    assert shown[0].split() == HEADERS_AT[width]
    assert max(cell_len(line) for line in shown) <= width
    # Columns line up in terminal cells, wide CJK, Arabic and emoji rows included.
    slug_at = cell_len(shown[0][: shown[0].index("SLUG")])
    for membership, line in zip(memberships, shown[1:]):
        slug = membership["organization"]["slug"]
        assert f"{slug}  " in line, f"slug cut or missing: {line!r}"  # identifiers stay whole
        assert line.endswith(membership["createdAt"][:10]), line  # and so does the date
        assert cell_len(line[: line.index(slug)]) == slug_at, line

    # Colours reached the terminal: a bold header and green "active".
    assert "\x1b[1m" in lines[0]
    assert any(re.search(r"\x1b\[[0-9;]*32m\s*active", line) for line in lines)
    # The hostile names are text on the screen: an ESC that reached tmux raw would have been
    # consumed as a colour change, and markup would have disappeared.
    red_alert = next(line for line in shown if "red-alert-industries" in line)
    assert red_alert.startswith("\\x1b[31mRed")
    markup = next(line for line in shown if "markup-labs" in line)
    assert markup.startswith("[bold red]M")
    if width == 160:
        assert "\\x1b[31mRed Alert\\x1b[0m Industries" in red_alert
        assert "[bold red]Markup[/] Labs" in markup
        for name in ("Zürich Fintech AG", "東京ロジスティクス", "Rocket 🚀 Launchpad", "Quiet Harbor Foundation"):
            assert any(line.startswith(name + "  ") for line in shown), name


DRIVE = ROOT / "tests" / "tools" / "tmux-drive.sh"


def drive(home, tmp_path, width: int, steps: str, *args: str, height: int = 40,
          unset: tuple[str, ...] = ()) -> tuple[str, str]:
    """Run the CLI in a private tmux pane, typing as a person would (tests/tools/tmux-drive.sh);
    returns the screen as text (colours removed) and the exit status ("running" if it never ended)."""
    assert shutil.which("tmux"), "MEMBERSHIPS_REQUIRE_TMUX=1 but tmux is not installed"
    drop = ("COLUMNS", "LINES", "TMUX", "TMUX_PANE", *unset)
    env = {k: v for k, v in base_env(home).items() if k not in drop}
    out = tmp_path / f"drive-{width}x{height}.txt"
    proc = subprocess.run(["bash", str(DRIVE), str(width), str(height), str(out), steps, "--", sys.executable, "-m",
                           "memberships_cli", *args], env=env, capture_output=True, text=True, timeout=90)
    assert "timed out" not in proc.stderr, (proc.stderr, out.read_text() if out.exists() else "")
    screen = "\n".join(SGR.sub("", line).rstrip() for line in out.read_text(encoding="utf-8").splitlines())
    return screen.strip("\n"), proc.stdout.strip().removeprefix("exit status: ")


def test_an_interactive_accept_pick(home, tmp_path):
    screen, status = drive(home, tmp_path, 100, "wait:Accept which invitations?;send:1,3 Enter;wait:Summary",
                           "--sandbox", "accept")
    assert status == "0", screen
    lines = screen.splitlines()
    assert lines[0].split() == ["#", "ORGANIZATION", "SLUG", "STATUS"]
    invited = [m for m in seed.memberships() if m["status"] == "invited"]
    for n, membership in enumerate(invited, 1):
        assert lines[n].split()[0] == str(n) and membership["organization"]["slug"] in lines[n]
    assert lines[len(invited) + 1].endswith("(numbers like 1,3-5, \"all\", or Enter for none): 1,3")
    assert lines[len(invited) + 2:] == [
        "✓ Accepted the invitation to Globex Retail (globex-retail)",
        "✓ Accepted the invitation to Wayne Freight (wayne-freight)",
        "Summary: 2 accepted.",
    ]


def test_a_bulk_accept_at_a_terminal_names_each_organization_once(home, tmp_path):
    screen, status = drive(home, tmp_path, 80, "wait:Summary", "--sandbox", "accept", "globex-retail",
                           "cafe-sao-paulo", "acme-logistics", "no-such-org")
    assert status == "3", screen
    lines = screen.splitlines()
    assert lines[:3] == [
        "✓ Accepted the invitation to Globex Retail (globex-retail)",
        "✓ Accepted the invitation to Café São Paulo (cafe-sao-paulo)",
        "✓ Already a member of Acme Logistics (acme-logistics): nothing to accept",
    ]
    assert lines[3].startswith("✗ no-such-org: no membership or invitation matches 'no-such-org'")
    assert " ".join(lines[4:]) == "Summary: 2 accepted, 1 already-active, 1 not-found. Not done: no-such-org."
    for slug in ("globex-retail", "cafe-sao-paulo", "acme-logistics"):
        assert screen.count(slug) == 1


def test_did_you_mean_at_a_terminal(home, tmp_path):
    screen, status = drive(home, tmp_path, 100, "wait:did you mean", "--sandbox", "show", "globex-retial")
    assert status == "3", screen
    assert screen.startswith("error: no membership or invitation matches 'globex-retial' (by id, slug or name); "
                             "did you mean `globex-retail`? (run `memberships --sandbox list` to see your organizations)")


def test_declining_a_leave_at_a_terminal(home, tmp_path):
    screen, status = drive(home, tmp_path, 80, "wait:[y/N];send:n Enter;wait:Nothing was left", "--sandbox", "leave",
                           "acme-logistics")
    assert status == "2", screen
    assert screen.splitlines() == ["Leave Acme Logistics (acme-logistics)? [y/N]: n",
                                   "Nothing was left. (`--yes` skips this question.)"]



@pytest.mark.skipif(shutil.which("less") is None, reason="less is not installed")
def test_a_long_list_goes_through_less_and_q_ends_it(home, tmp_path):
    """No pager settings at all, a pane shorter than the list: less -FRX shows one screenful and
    its prompt; q ends it, and the command with it (exit 0)."""
    screen, status = drive(home, tmp_path, 80, "wait:ORGANIZATION;sleep:0.5;send:q", "--sandbox", "list",
                           height=12, unset=("MEMBERSHIPS_PAGER", "PAGER", "LESS"))
    assert status == "0", screen
    assert screen.splitlines()[0].split()[:2] == ["ORGANIZATION", "SLUG"]
    assert "acme-logistics" in screen
    assert "quiet-harbor-foundation" not in screen  # the last row was never shown: q ended it first
