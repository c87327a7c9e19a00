"""Every test is bounded in time (issue 14, section 9): a regression that makes a test loop forever
is a red test, not a stuck run. Proved on a throwaway test file that sleeps forever, run by pytest
in a subprocess with the plugin and a 2 s timeout, alone and under xdist as CI runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

HANGS = """
import time


def test_hangs():
    time.sleep(3600)


def test_passes():
    assert True
"""


def test_the_suite_has_a_default_timeout(pytestconfig):
    assert float(pytestconfig.getini("timeout")) == 300


@pytest.mark.parametrize("workers", [[], ["-n", "1"]], ids=["plain", "xdist"])
def test_a_test_that_hangs_fails_with_the_timeout_message(tmp_path: Path, workers):
    (tmp_path / "test_hang.py").write_text(HANGS)
    (tmp_path / "pytest.ini").write_text("[pytest]\ntimeout = 2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *workers, str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "FAILED test_hang.py::test_hangs - Failed: Timeout (>2.0s) from pytest-timeout." in proc.stdout, proc.stdout
    assert "1 failed, 1 passed" in proc.stdout
