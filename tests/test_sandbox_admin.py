"""The /_sandbox/ admin endpoints, recorded requests, latency, and run_in_background."""

from __future__ import annotations

import io
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from contract_schemas import validate
from sandbox_fixtures import AUTH, CLIENT_OPTIONS, anonymous, api, expect, sandbox_db, sandbox_server, sandbox_store

from memberships_cli.sandbox import SANDBOX_TOKEN, SandboxServer, Store, seed
from memberships_cli.sandbox.server import run_in_background
from memberships_cli.sandbox.store import DB_ENV_VAR

__all__ = ["anonymous", "api", "sandbox_db", "sandbox_server", "sandbox_store"]

SEED = seed.memberships()
INVITED = seed.org_id("globex-retail")


def admin_json(response: httpx.Response, status: int = 200) -> object:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_state_lists_every_membership_in_order(anonymous: httpx.Client) -> None:
    state = admin_json(anonymous.get("/_sandbox/state"))
    assert state == SEED
    for membership in state:
        validate("Membership", membership)


def test_reset_restores_the_seed(api: httpx.Client, anonymous: httpx.Client) -> None:
    expect(api.post(f"/me/memberships/{INVITED}"), 200, "Membership")
    expect(api.delete(f"/me/memberships/{seed.org_id('acme-logistics')}"), 200, None)
    assert admin_json(anonymous.get("/_sandbox/state")) != SEED
    assert admin_json(anonymous.post("/_sandbox/reset")) == {"count": len(SEED)}
    assert admin_json(anonymous.get("/_sandbox/state")) == SEED


def test_recorded_requests_describe_each_api_call(api: httpx.Client, sandbox_server: SandboxServer, anonymous: httpx.Client) -> None:
    api.get("/me/memberships", params={"limit": "5", "status": "invited"}, headers={"Accept": "application/json", "User-Agent": "probe/1.0"})
    api.post(f"/me/memberships/{INVITED}")
    anonymous.get("/me")
    anonymous.get("/_sandbox/state")
    anonymous.get("/not-api")
    expected = [
        {
            "method": "GET",
            "path": "/me/memberships",
            "query": {"limit": "5", "status": "invited"},
            "authorization": f"Bearer {SANDBOX_TOKEN}",
            "user_agent": "probe/1.0",
            "accept": "application/json",
            "status": 200,
        },
        {
            "method": "POST",
            "path": f"/me/memberships/{INVITED}",
            "query": {},
            "authorization": f"Bearer {SANDBOX_TOKEN}",
            "user_agent": f"python-httpx/{httpx.__version__}",
            "accept": "*/*",
            "status": 200,
        },
        {
            "method": "GET",
            "path": "/me",
            "query": {},
            "authorization": None,
            "user_agent": f"python-httpx/{httpx.__version__}",
            "accept": "*/*",
            "status": 401,
        },
    ]
    assert sandbox_server.requests == expected
    assert admin_json(anonymous.get("/_sandbox/requests")) == expected
    assert admin_json(anonymous.delete("/_sandbox/requests")) == {"cleared": 3}
    assert sandbox_server.requests == []
    api.get("/me")
    assert sandbox_server.clear_requests() == 1


def test_requests_snapshot_cannot_change_the_record(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    api.get("/me", params={"a": "1"})
    snapshot = sandbox_server.requests
    snapshot[0]["status"] = 999
    snapshot[0]["query"]["a"] = "changed"
    assert sandbox_server.requests[0]["status"] == 200
    assert sandbox_server.requests[0]["query"] == {"a": "1"}


def test_faults_over_http(anonymous: httpx.Client, api: httpx.Client) -> None:
    one = {"status": 503, "headers": {"Retry-After": "2"}, "path": "/me"}
    assert admin_json(anonymous.post("/_sandbox/faults", json=one)) == {"added": 1, "pending": 1}
    several = [{"status": 500, "method": "POST"}, {"action": "close", "path": "/me/memberships"}]
    assert admin_json(anonymous.post("/_sandbox/faults", json=several)) == {"added": 2, "pending": 3}
    response = api.get("/me")
    expect(response, 503, "Error")
    assert response.headers["retry-after"] == "2"
    expect(api.post(f"/me/memberships/{INVITED}"), 500, "Error")
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/me/memberships")
    anonymous.post("/_sandbox/faults", json={"status": 500})
    assert admin_json(anonymous.delete("/_sandbox/faults")) == {"cleared": 1}
    expect(api.get("/me"), 200, "User")


@pytest.mark.parametrize(
    "payload",
    [b"not json", b'{"status": "bad"}', b'{"action": "explode"}', b'[{"status": 500}, {"nope": 1}]', b"42"],
)
def test_malformed_faults_are_422_and_none_is_added(
    anonymous: httpx.Client, sandbox_server: SandboxServer, payload: bytes
) -> None:
    body = admin_json(anonymous.post("/_sandbox/faults", content=payload), 422)
    validate("ValidationError", body)
    assert sandbox_server.pending_faults == 0


def test_add_a_membership_over_http(anonymous: httpx.Client, api: httpx.Client) -> None:
    extra = {**seed.generated(1, start=77777)[0], "x-extra": [1, 2]}
    assert admin_json(anonymous.post("/_sandbox/memberships", json=extra), 201) == extra
    body = expect(api.get("/me/memberships", params={"reverse": "true", "limit": 1}), 200, "MembershipList")
    assert body["results"] == [extra]
    conflict = admin_json(anonymous.post("/_sandbox/memberships", json=extra), 409)
    validate("Error", conflict)


@pytest.mark.parametrize("payload", [{"status": "active"}, [], {"generated": -1}, {"generated": "5"}, {"generated": 2, "status": 3}])
def test_invalid_memberships_are_422(anonymous: httpx.Client, sandbox_store: Store, payload: object) -> None:
    validate("ValidationError", admin_json(anonymous.post("/_sandbox/memberships", json=payload), 422))
    assert sandbox_store.count() == len(SEED)


def test_generate_memberships_over_http(anonymous: httpx.Client, api: httpx.Client) -> None:
    reply = admin_json(anonymous.post("/_sandbox/memberships", json={"generated": 25}), 201)
    assert reply == {"added": 25, "count": len(SEED) + 25}
    reply = admin_json(anonymous.post("/_sandbox/memberships", json={"generated": 5, "status": "active"}), 201)
    assert reply == {"added": 5, "count": len(SEED) + 30}
    invited = expect(api.get("/me/memberships", params={"status": "invited", "limit": 100}), 200, "MembershipList")
    names = [m["organization"]["name"] for m in invited["results"]]
    assert names[-1] == "Generated Org 00024"
    assert "Generated Org 00025" not in names


def test_latency_slows_api_calls_but_not_admin_calls(anonymous: httpx.Client, api: httpx.Client, sandbox_server: SandboxServer) -> None:
    assert admin_json(anonymous.post("/_sandbox/latency", json={"seconds": 0.3})) == {"seconds": 0.3}
    assert sandbox_server.latency == 0.3
    started = time.perf_counter()
    expect(api.get("/me"), 200, "User")
    assert time.perf_counter() - started >= 0.3
    sandbox_server.latency = 30
    # Were latency applied to admin calls, this would time out (structural, not a speed check).
    assert anonymous.get("/_sandbox/state", timeout=10).status_code == 200
    admin_json(anonymous.post("/_sandbox/latency", json={"seconds": 0}))
    assert sandbox_server.latency == 0


@pytest.mark.parametrize("payload", [{}, {"seconds": -1}, {"seconds": "1"}, {"seconds": True}, [0.1]])
def test_invalid_latency_is_422(anonymous: httpx.Client, payload: object) -> None:
    validate("ValidationError", admin_json(anonymous.post("/_sandbox/latency", json=payload), 422))


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/_sandbox/unknown", 404),
        ("GET", "/_sandbox/", 404),
        ("GET", "/_sandbox/reset", 405),
        ("POST", "/_sandbox/state", 405),
        ("PUT", "/_sandbox/faults", 405),
    ],
)
def test_admin_routing_errors_have_error_bodies(anonymous: httpx.Client, method: str, path: str, status: int) -> None:
    validate("Error", admin_json(anonymous.request(method, path), status))


def test_admin_calls_ignore_a_bad_token(sandbox_server: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox_server.url, headers={"Authorization": "Bearer nope"}, **CLIENT_OPTIONS) as client:
        assert client.get("/_sandbox/state").status_code == 200
    assert sandbox_server.requests == []


def test_access_log_gets_one_line_per_request(sandbox_store: Store) -> None:
    log = io.StringIO()
    with SandboxServer(sandbox_store, access_log=log) as server, httpx.Client(base_url=server.url, headers=AUTH, **CLIENT_OPTIONS) as client:
        client.get("/me/memberships?limit=2")
        client.post("/_sandbox/reset")
    assert log.getvalue().splitlines() == ["GET /me/memberships?limit=2 200", "POST /_sandbox/reset 200"]


def test_run_in_background_uses_the_env_db_and_closes_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    db = tmp_path / "env" / "sandbox.sqlite3"
    monkeypatch.setenv(DB_ENV_VAR, str(db))
    server = run_in_background()
    try:
        assert server.url == f"http://127.0.0.1:{server.port}"
        with httpx.Client(base_url=server.url, headers=AUTH, **CLIENT_OPTIONS) as client:
            expect(client.post(f"/me/memberships/{INVITED}"), 200, "Membership")
    finally:
        server.stop()
    assert db.exists()
    reopened = Store(db)
    try:
        assert reopened.get(INVITED)["status"] == "active"
    finally:
        reopened.close()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{server.url}/me", headers=AUTH, timeout=1)


def test_run_in_background_with_an_explicit_path_and_token(tmp_path: Path) -> None:
    server = run_in_background(tmp_path / "explicit.sqlite3", token="custom-token")
    try:
        with httpx.Client(base_url=server.url, **CLIENT_OPTIONS) as client:
            expect(client.get("/me", headers=AUTH), 401, "Error")
            expect(client.get("/me", headers={"Authorization": "Bearer custom-token"}), 200, "User")
    finally:
        server.stop()
    assert (tmp_path / "explicit.sqlite3").exists()


def test_package_exports_load_lazily() -> None:
    code = (
        "import sys, memberships_cli.sandbox as sandbox\n"
        "heavy = ['sqlite3', 'http.server', 'memberships_cli.sandbox.server']\n"
        "print(sandbox.SANDBOX_TOKEN, [m for m in heavy if m in sys.modules])\n"
        "names = [getattr(sandbox, name).__name__ for name in sandbox.__all__ if name != 'SANDBOX_TOKEN']\n"
        "print(names, [m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == [
        "sandbox-token-not-a-secret []",
        "['Fault', 'SandboxServer', 'run_in_background', 'Store', 'default_db_path'] "
        "['sqlite3', 'http.server', 'memberships_cli.sandbox.server']",
    ]
    import memberships_cli.sandbox as sandbox

    with pytest.raises(AttributeError):
        sandbox.NoSuchThing  # noqa: B018
