"""The project's copy of the contract (tests/contract/openapi.yaml) against the shared original: only
examples may differ. Quick, no Prism needed, so it runs in the normal suite too."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

COPY = Path(__file__).resolve().parent / "openapi.yaml"
# Outside the project: present on the machine the contract is maintained on, absent elsewhere.
SHARED = COPY.parents[3] / "shared" / "api" / "bird-accounts-memberships.openapi.yaml"


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _without_examples(node):
    if isinstance(node, dict):
        return {key: _without_examples(value) for key, value in node.items() if key not in ("example", "examples")}
    if isinstance(node, list):
        return [_without_examples(item) for item in node]
    return node


def test_copy_differs_from_the_shared_contract_only_in_examples():
    if not SHARED.is_file():
        pytest.skip(f"no shared contract at {SHARED}")
    assert _without_examples(_load(COPY)) == _without_examples(_load(SHARED))


def test_the_list_example_a_mock_serves_first_ends_the_list():
    """Prism's static mode serves the first example and ignores pageToken: if that example had a
    nextPageToken, a client following every page would never stop."""
    content = _load(COPY)["paths"]["/me/memberships"]["get"]["responses"]["200"]["content"]["application/json"]
    first = content["example"] if "example" in content else next(iter(content["examples"].values()))["value"]
    assert not first.get("nextPageToken")
    assert first["results"], "an empty list would leave show/accept/leave by slug nothing to resolve"
