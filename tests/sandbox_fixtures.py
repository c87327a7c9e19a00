"""Fixtures and checks for the sandbox's own tests: a fresh store and server per test.

Test modules import what they use (`from sandbox_fixtures import ...`), which keeps these fixtures
out of tests that do not need them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from contract_schemas import validate

from memberships_cli.sandbox import SANDBOX_TOKEN, SandboxServer, Store

AUTH = {"Authorization": f"Bearer {SANDBOX_TOKEN}"}
# The sandbox speaks plain HTTP; verify=False spares each client loading the CA bundle (~40 ms).
CLIENT_OPTIONS: dict[str, Any] = {"timeout": 10, "verify": False}


@pytest.fixture
def sandbox_db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "sandbox.sqlite3"


@pytest.fixture
def sandbox_store(sandbox_db: Path) -> Iterator[Store]:
    store = Store(sandbox_db)
    yield store
    store.close()


@pytest.fixture
def sandbox_server(sandbox_store: Store) -> Iterator[SandboxServer]:
    with SandboxServer(sandbox_store) as server:
        yield server


@pytest.fixture
def api(sandbox_server: SandboxServer) -> Iterator[httpx.Client]:
    """An httpx client on the sandbox that sends the sandbox token."""
    with httpx.Client(base_url=sandbox_server.url, headers=AUTH, **CLIENT_OPTIONS) as client:
        yield client


@pytest.fixture
def anonymous(sandbox_server: SandboxServer) -> Iterator[httpx.Client]:
    """An httpx client on the sandbox without credentials (admin calls, auth tests)."""
    with httpx.Client(base_url=sandbox_server.url, **CLIENT_OPTIONS) as client:
        yield client


def expect(response: httpx.Response, status: int, schema: str | None) -> Any:
    """Assert the status, check the body against the contract schema, return the parsed body.

    `schema=None` means the response must have no body at all.
    """
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-length"] == str(len(response.content))
    if schema is None:
        assert response.content == b""
        return None
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    validate(schema, body)
    return body
