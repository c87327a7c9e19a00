"""The README's "Using memberships in scripts" recipes run as printed, in bash, against the sandbox
on a loopback socket with the exports `memberships sandbox serve` prints (its URL and token): jq,
--jq, JSON Lines, CSV, exit codes and completion, each block in order in one shell home."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from harness import ROOT, base_env, home, sandbox  # noqa: F401  (fixtures)
from memberships_cli.sandbox import SANDBOX_TOKEN


def section_blocks(title: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]
    return [part.split("```", 1)[0] for part in section.split("```sh\n")[1:]]


BLOCKS = section_blocks("Using memberships in scripts")


@pytest.mark.skipif(shutil.which("jq") is None, reason="the recipes pipe into jq, which is not installed")
def test_the_script_recipes_run_as_printed(home, sandbox, tmp_path):
    assert len(BLOCKS) >= 7
    env = base_env(home) | {"MEMBERSHIPS_API_URL": sandbox.url, "MEMBERSHIPS_TOKEN": SANDBOX_TOKEN}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env["PATH"]  # where pip put `memberships`
    (home / ".config" / "fish" / "completions").mkdir(parents=True)
    for block in BLOCKS:
        proc = subprocess.run(["bash", "--norc", "--noprofile", "-e", "-o", "pipefail", "-c", block],
                              cwd=home, env=env, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, (block, proc.stdout, proc.stderr)
        assert "error:" not in proc.stderr and "Traceback" not in proc.stderr, (block, proc.stderr)
    assert (home / "memberships.csv").read_text(encoding="utf-8").startswith("organization.name,organization.slug,status,createdAt\n")
    assert (home / "acme.json").exists()
    accepted = [q for q in sandbox.requests if q["method"] == "POST"]
    assert len(accepted) == 7  # the seed's invitations, accepted once: the second `accept --all` found none
