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


@pytest.mark.parametrize("width", [80, 160])
def test_list_on_a_real_terminal(home, tmp_path, width):
    screen = capture(home, tmp_path, width, "--sandbox", "list")
    lines = [line for line in screen.splitlines() if line.strip()]
    shown = [SGR.sub("", line).rstrip() for line in lines]
    memberships = seed.memberships()

    assert len(shown) == len(memberships) + 1  # the header and one row each; no wrapped lines
    assert shown[0].split() == ["ORGANIZATION", "SLUG", "STATUS", "ROLES", "SSO", "MFA", "CREATED"]
    assert max(cell_len(line) for line in shown) <= width
    # Columns line up in terminal cells, wide CJK, Arabic and emoji rows included.
    slug_at = cell_len(shown[0][: shown[0].index("SLUG")])
    for membership, line in zip(memberships, shown[1:]):
        slug = membership["organization"]["slug"]
        assert f"{slug}  " in line, f"slug cut or missing: {line!r}"  # identifiers stay whole
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
