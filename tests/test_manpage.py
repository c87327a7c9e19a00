"""memberships(1): generated from the same command tree as --help, kept in man/man1 and checked for
drift like completions/; it renders, and it names every command and option --help names."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import typer

from harness import ROOT
from memberships_cli.cli import build_app

PAGE = ROOT / "man" / "man1" / "memberships.1"


def test_committed_page_matches_the_cli():
    proc = subprocess.run([sys.executable, str(ROOT / "man" / "generate.py"), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, f"{proc.stderr}run `python man/generate.py`"


def test_the_check_sees_a_drift(tmp_path):
    copy = tmp_path / "man"
    shutil.copytree(ROOT / "man", copy)
    page = copy / "man1" / "memberships.1"
    page.write_text(page.read_text(encoding="utf-8").replace("dry\\-run", "dry\\-runs"), encoding="utf-8")
    proc = subprocess.run([sys.executable, str(copy / "generate.py"), "--check"], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr == "man/man1/memberships.1 drifted from the CLI; run `python man/generate.py`\n"


def _every_command_and_option() -> list[tuple[str, list[str]]]:
    """(command path, its option names) for the root and every command, as --help lists them."""
    found = []

    def walk(command, path, parent):
        ctx = command.make_context(path[-1] if path else "memberships", [], parent=parent, resilient_parsing=True)
        names = [name for param in command.get_params(ctx) if param.get_help_record(ctx) for name in param.opts
                 if name.startswith("-")]
        found.append((" ".join(path), names))
        for name, sub in getattr(command, "commands", {}).items():
            if not sub.hidden:
                walk(sub, [*path, name], ctx)

    walk(typer.main.get_command(build_app()), [], None)
    return found


@pytest.mark.skipif(shutil.which("groff") is None, reason="groff is not installed (.ci/run installs groff-base)")
def test_the_page_renders_every_command_and_option():
    proc = subprocess.run(["groff", "-man", "-Tutf8", "-P-cbou", "-rLL=100n", str(PAGE)], capture_output=True, text=True)
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    text = proc.stdout.replace("\u2010", "-").replace("\u2212", "-")
    assert text.startswith("MEMBERSHIPS(1)")
    for section in ("NAME", "SYNOPSIS", "GLOBAL OPTIONS", "COMMANDS", "EXIT STATUS", "ENVIRONMENT"):
        assert f"\n{section}\n" in text
    commands = _every_command_and_option()
    assert len(commands) > 10
    for path, options in commands:
        if path:
            assert f"memberships {path} [OPTIONS]" in text, path
        for option in options:
            assert option in text, (path, option)
    assert "--jq EXPR" in text
