"""The README's quick tour and Usage lines paste into a shell as they are: each runs through the real
entry point on a terminal (a confirmation answered yes), in its own home, on the bundled sandbox."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from harness import cli, home, sandbox  # noqa: F401  (fixtures)

ROOT = Path(__file__).resolve().parent.parent


def section_commands(title: str) -> list[str]:
    """The command lines of the first ```sh block under the README heading `title`."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip().startswith("memberships ")]


LINES = section_commands("A quick tour on the sandbox") + section_commands("Usage")


def test_the_sections_are_found_and_use_the_sandbox():
    assert len(LINES) >= 15
    def command(line: str) -> str:
        return [word for word in line.split() if not word.startswith("-")][1]

    api_lines = [line for line in LINES if command(line) in ("list", "show", "accept", "leave", "status")]
    assert api_lines and all("--sandbox" in line for line in api_lines)


@pytest.mark.parametrize("line", LINES)
def test_readme_line_runs_as_printed(cli, line):
    words = shlex.split(line, comments=True)
    assert words[0] == "memberships"
    result = cli(*words[1:], tty=True, input="y\n")
    assert result.code == 0, result


def test_the_lines_run_one_after_another_as_pasted(cli):
    # A reader pastes the tour, then Usage, top to bottom, into one shell: each line sees what the
    # lines before it did (an organization left is gone for the next line).
    for line in LINES:
        result = cli(*shlex.split(line, comments=True)[1:], tty=True, input="y\n")
        assert result.code == 0, (line, result)
