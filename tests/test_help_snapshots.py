"""`--help` of every command, as a person reads it at 80 columns, against the snapshots in
tests/snapshots/help/. A change to any help text fails here with a diff until it is looked at and
the snapshots are regenerated:

    UPDATE_SNAPSHOTS=1 pytest tests/test_help_snapshots.py

New commands are picked up from the CLI itself; a snapshot whose command is gone fails too.
Every `--help` goes through the real `main()` at COLUMNS=80, all in one fresh interpreter (one
process per command would cost ~0.3 s each for nothing: help has no state to leak)."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from memberships_cli.cli import build_app

from harness import base_env

app = build_app()  # every command: the tree to walk

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots" / "help"
UPDATE = os.environ.get("UPDATE_SNAPSHOTS") == "1"
REGENERATE = "UPDATE_SNAPSHOTS=1 pytest tests/test_help_snapshots.py"


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of the CLI, root first, as the words that reach it."""
    paths: list[tuple[str, ...]] = []

    def walk(command, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            if not sub.hidden:
                walk(sub, path + (name,))

    walk(typer.main.get_command(app), ())
    return paths


def snapshot_file(path: tuple[str, ...]) -> Path:
    return SNAPSHOTS / ("_".join(("memberships",) + path) + ".txt")


PATHS = command_paths()
RUN_ALL = """
import contextlib, io, json, sys
from memberships_cli.cli import main

results = {}
for path in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*path, "--help"])
    results[" ".join(path)] = [code, out.getvalue(), err.getvalue()]
sys.__stdout__.write(json.dumps(results))
"""


@pytest.fixture(scope="module")
def helps(tmp_path_factory) -> dict:
    home = tmp_path_factory.mktemp("home")
    env = base_env(home) | {"COLUMNS": "80"}
    proc = subprocess.run([sys.executable, "-c", RUN_ALL, json.dumps(PATHS)], env=env, capture_output=True,
                          text=True, timeout=120, cwd=home)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "memberships")
def test_help_matches_its_snapshot(helps, path):
    code, stdout, stderr = helps[" ".join(path)]
    assert code == 0, stderr
    assert stderr == ""
    assert stdout.startswith(f"Usage: memberships {' '.join(path)}".rstrip() + " ")
    snapshot = snapshot_file(path)
    if UPDATE:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(stdout, encoding="utf-8")
        return
    assert snapshot.is_file(), f"no snapshot for `memberships {' '.join(path)} --help`; create it: {REGENERATE}"
    expected = snapshot.read_text(encoding="utf-8")
    if stdout != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), stdout.splitlines(True),
                                            f"snapshot {snapshot.name}", "memberships --help now"))
        pytest.fail(f"`memberships {' '.join(path)} --help` changed:\n{diff}\nIf intended: {REGENERATE}", pytrace=False)


def test_every_snapshot_belongs_to_a_command():
    wanted = {snapshot_file(path).name for path in PATHS}
    stale = sorted(p.name for p in SNAPSHOTS.glob("*.txt") if p.name not in wanted)
    if UPDATE:
        for name in stale:
            (SNAPSHOTS / name).unlink()
        return
    assert not stale, f"snapshots of commands that no longer exist: {stale}; {REGENERATE}"


def test_help_fits_80_columns():
    for snapshot in SNAPSHOTS.glob("*.txt"):
        for line in snapshot.read_text(encoding="utf-8").splitlines():
            assert len(line) <= 80, f"{snapshot.name}: {line!r}"
