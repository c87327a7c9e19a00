"""CI installs exactly the versions in ci/constraints.txt: the file must pin every dependency the
project declares (else that one floats), and .ci/run must use it for the README's command."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def pinned() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "ci" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line!r}"
            pins[canonicalize_name(name)] = version
    return pins


def test_constraints_pin_every_declared_dependency_that_applies_here():
    pins = pinned()
    declared = [Requirement(r) for r in PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"]]
    applicable = [r for r in declared if r.marker is None or r.marker.evaluate({"extra": "test"})]
    missing = [str(r) for r in applicable if canonicalize_name(r.name) not in pins]
    assert not missing, f"not in ci/constraints.txt: {missing}; run `ci/refresh-constraints`"
    outside = [f"{r.name}=={pins[canonicalize_name(r.name)]}" for r in applicable
               if not r.specifier.contains(pins[canonicalize_name(r.name)], prereleases=True)]
    assert not outside, f"pins outside pyproject's ranges: {outside}; run `ci/refresh-constraints`"


def test_ci_installs_with_the_constraints():
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    export = lines.index('export PIP_CONSTRAINT="$PWD/ci/constraints.txt"')
    command = next(i for i, line in enumerate(lines) if "pip install -e '.[test]'" in line)
    assert export < command
