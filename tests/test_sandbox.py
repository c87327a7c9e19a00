"""The sandbox's /me API over a real loopback socket, every body checked against the contract."""

from __future__ import annotations

import base64
import json
import re
import socket

import httpx
import pytest
from contract_schemas import ValidationError, validate
from sandbox_fixtures import AUTH, anonymous, api, expect, sandbox_db, sandbox_server, sandbox_store

from memberships_cli.sandbox import SANDBOX_TOKEN, SandboxServer, Store, seed

__all__ = ["anonymous", "api", "sandbox_db", "sandbox_server", "sandbox_store"]

SEED = seed.memberships()
SEED_IDS = [m["organization"]["id"] for m in SEED]
INVITED = [m["organization"]["id"] for m in SEED if m["status"] == "invited"]
ACTIVE = [m["organization"]["id"] for m in SEED if m["status"] == "active"]
BANNED = [m["organization"]["id"] for m in SEED if m["status"] == "banned"]
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def collect(client: httpx.Client, **params: object) -> tuple[list[dict], int]:
    """Every membership the listing yields when following nextPageToken, and the page count."""
    results, pages, token = [], 0, None
    while True:
        query = dict(params, **({"pageToken": token} if token else {}))
        body = expect(client.get("/me/memberships", params=query), 200, "MembershipList")
        pages += 1
        results.extend(body["results"])
        token = body["nextPageToken"]
        if token == "":
            return results, pages
        assert pages < 1000, "paging does not terminate"


# --- the contract validator itself -------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "instance"),
    [
        ("Membership", {"status": "active", "createdAt": "2024-01-01T00:00:00.000Z"}),
        ("Membership", {**SEED[0], "roleIds": [42]}),
        ("Membership", {**SEED[0], "createdAt": "last tuesday"}),
        ("Membership", {**SEED[0], "organization": {"id": "not-a-uuid"}}),
        ("MembershipList", {"nextPageToken": ""}),
        ("Error", {"code": "NotFound"}),
        ("ValidationError", {"code": "x", "message": "y", "details": {"limit": "one string"}}),
        ("User", {**seed.user(), "status": "sleeping"}),
    ],
)
def test_contract_validator_rejects_invalid_instances(schema: str, instance: dict) -> None:
    with pytest.raises(ValidationError):
        validate(schema, instance)


def test_seed_data_satisfies_the_contract() -> None:
    for membership in [*SEED, *seed.generated(3, status="active", start=7)]:
        validate("Membership", membership)
    validate("User", seed.user())


# --- auth ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": f"AccessKey {SANDBOX_TOKEN}"},
        {"Authorization": "Bearer"},
        {"Authorization": SANDBOX_TOKEN},
    ],
    ids=["missing", "wrong-token", "wrong-scheme", "empty-bearer", "no-scheme"],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/me"),
        ("GET", "/me/memberships"),
        ("GET", f"/me/memberships/{SEED_IDS[0]}"),
        ("POST", f"/me/memberships/{INVITED[0]}"),
        ("DELETE", f"/me/memberships/{SEED_IDS[0]}"),
    ],
)
def test_requests_without_the_token_get_401_and_change_nothing(
    anonymous: httpx.Client, sandbox_store: Store, method: str, path: str, headers: dict
) -> None:
    body = expect(anonymous.request(method, path, headers=headers), 401, "Error")
    assert body == {"code": "Unauthorized", "message": "unauthorized request"}
    assert sandbox_store.all() == SEED


def test_bearer_scheme_is_case_insensitive(anonymous: httpx.Client) -> None:
    headers = {"Authorization": f"bearer {SANDBOX_TOKEN}"}
    expect(anonymous.get("/me", headers=headers), 200, "User")


def test_a_server_with_another_token_rejects_the_default_one(sandbox_store: Store) -> None:
    with SandboxServer(sandbox_store, token="other") as server, httpx.Client(base_url=server.url) as client:
        expect(client.get("/me", headers=AUTH), 401, "Error")
        expect(client.get("/me", headers={"Authorization": "Bearer other"}), 200, "User")


# --- GET /me --------------------------------------------------------------------------------------


def test_me_returns_the_sandbox_user(api: httpx.Client) -> None:
    assert expect(api.get("/me"), 200, "User") == seed.user()


# --- listing ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "must be greater than or equal to 1"),
        ("-5", "must be greater than or equal to 1"),
        ("101", "must be less than or equal to 100"),
        ("1000000000000000000000", "must be less than or equal to 100"),
        ("abc", "must be an integer"),
        ("1.5", "must be an integer"),
        ("", "must be an integer"),
    ],
)
def test_limit_out_of_range_or_not_an_integer_is_422(
    api: httpx.Client, value: str, message: str
) -> None:
    body = expect(api.get("/me/memberships", params={"limit": value}), 422, "ValidationError")
    assert body == {
        "code": "InvalidPayload",
        "message": "Request validation failed",
        "details": {"limit": [message]},
    }


@pytest.mark.parametrize("limit", [1, 7, 100])
def test_limit_sets_the_page_size(api: httpx.Client, limit: int) -> None:
    body = expect(api.get("/me/memberships", params={"limit": limit}), 200, "MembershipList")
    assert [m["organization"]["id"] for m in body["results"]] == SEED_IDS[:limit]
    assert (body["nextPageToken"] == "") == (limit >= len(SEED))


def test_default_page_is_ten_in_seed_order(api: httpx.Client) -> None:
    body = expect(api.get("/me/memberships"), 200, "MembershipList")
    assert body["results"] == SEED[:10]
    assert body["nextPageToken"] != ""


def test_paging_yields_every_seeded_membership_once_in_order(api: httpx.Client) -> None:
    results, pages = collect(api, limit=10)
    assert pages == 4
    assert results == SEED


def test_reverse_paging_yields_the_seed_backwards(api: httpx.Client) -> None:
    results, pages = collect(api, limit=10, reverse="true")
    assert pages == 4
    assert results == SEED[::-1]


@pytest.mark.parametrize(("value", "backwards"), [("true", True), ("1", True), ("false", False), ("0", False), ("TRUE", True)])
def test_reverse_accepts_booleans_and_digits(api: httpx.Client, value: str, backwards: bool) -> None:
    body = expect(api.get("/me/memberships", params={"reverse": value, "limit": 1}), 200, "MembershipList")
    assert body["results"][0] == (SEED[-1] if backwards else SEED[0])


@pytest.mark.parametrize("value", ["yes", "", "2", "truthy"])
def test_reverse_that_is_not_a_boolean_is_422(api: httpx.Client, value: str) -> None:
    body = expect(api.get("/me/memberships", params={"reverse": value}), 422, "ValidationError")
    assert list(body["details"]) == ["reverse"]


def test_several_bad_parameters_are_reported_together(api: httpx.Client) -> None:
    response = api.get("/me/memberships", params={"limit": "0", "reverse": "maybe"})
    body = expect(response, 422, "ValidationError")
    assert set(body["details"]) == {"limit", "reverse"}


@pytest.mark.parametrize("status", ["invited", "active", "banned", seed.UNKNOWN_STATUS])
def test_status_filter_returns_exactly_that_status_in_order(api: httpx.Client, status: str) -> None:
    results, _ = collect(api, status=status, limit=3)
    assert results == [m for m in SEED if m["status"] == status]
    assert results


def test_status_nobody_has_matches_nothing_rather_than_failing(api: httpx.Client) -> None:
    body = expect(api.get("/me/memberships", params={"status": "pending"}), 200, "MembershipList")
    assert body == {"nextPageToken": "", "results": []}


def test_empty_status_means_no_filter(api: httpx.Client) -> None:
    body = expect(api.get("/me/memberships", params={"status": "", "limit": 100}), 200, "MembershipList")
    assert body["results"] == SEED


def test_reverse_status_filter_pages_backwards(api: httpx.Client) -> None:
    results, pages = collect(api, status="invited", reverse="1", limit=2)
    assert [m["organization"]["id"] for m in results] == INVITED[::-1]
    assert pages == (len(INVITED) + 1) // 2


def _token(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "token",
    [
        "not a token!",
        "%%%",
        base64.urlsafe_b64encode(b"\xff\xfe binary").decode(),
        _token([1, 2, 3]),
        _token({"v": 1, "p": "3", "r": False, "s": None}),
        _token({"v": 1, "p": True, "r": False, "s": None}),
        _token({"v": 99, "p": 3, "r": False, "s": None}),
    ],
)
def test_invalid_page_token_is_422(api: httpx.Client, token: str) -> None:
    body = expect(api.get("/me/memberships", params={"pageToken": token}), 422, "ValidationError")
    assert body["details"] == {"pageToken": ["is not a valid page token"]}


@pytest.mark.parametrize(
    "changed", [{"reverse": "true"}, {"status": "active"}], ids=["reverse", "status"]
)
def test_page_token_is_bound_to_its_query(api: httpx.Client, changed: dict) -> None:
    first = expect(api.get("/me/memberships", params={"limit": 2}), 200, "MembershipList")
    params = {"limit": 2, "pageToken": first["nextPageToken"], **changed}
    body = expect(api.get("/me/memberships", params=params), 422, "ValidationError")
    assert list(body["details"]) == ["pageToken"]


def test_page_size_may_change_between_pages(api: httpx.Client) -> None:
    first = expect(api.get("/me/memberships", params={"limit": 3}), 200, "MembershipList")
    second = api.get("/me/memberships", params={"limit": 5, "pageToken": first["nextPageToken"]})
    assert expect(second, 200, "MembershipList")["results"] == SEED[3:8]


def test_listing_is_lossless(api: httpx.Client) -> None:
    results, _ = collect(api, limit=100)
    noted = [m for m in results if seed.UNKNOWN_FIELD in m]
    assert len(noted) == 1
    names = {m["organization"]["name"] for m in results}
    assert {seed.ANSI_NAME, seed.MARKUP_NAME} <= names
    assert any(m.get("roleIds", []) is None for m in results)


# --- one membership -----------------------------------------------------------------------------


def test_show_returns_each_stored_membership_exactly(api: httpx.Client) -> None:
    shown = [expect(api.get(f"/me/memberships/{org_id}"), 200, "Membership") for org_id in SEED_IDS]
    assert shown == SEED


@pytest.mark.parametrize("org_id", [UNKNOWN_ID, "not-a-uuid", "%2Fme"])
def test_show_unknown_membership_is_404(api: httpx.Client, org_id: str) -> None:
    body = expect(api.get(f"/me/memberships/{org_id}"), 404, "Error")
    assert body == {"code": "NotFound", "message": "Resource not found"}


def test_accept_turns_an_invitation_active_and_persists(api: httpx.Client, sandbox_db) -> None:
    org_id = INVITED[0]
    before = next(m for m in SEED if m["organization"]["id"] == org_id)
    body = expect(api.post(f"/me/memberships/{org_id}"), 200, "Membership")
    assert body["status"] == "active"
    assert body["updatedAt"] > before["updatedAt"]
    assert body["createdAt"] == before["createdAt"]
    assert body["organization"]["activeMemberCount"] == before["organization"]["activeMemberCount"] + 1
    assert expect(api.get(f"/me/memberships/{org_id}"), 200, "Membership") == body
    reopened = Store(sandbox_db)
    try:
        assert reopened.get(org_id) == body
        assert reopened.count("invited") == len(INVITED) - 1
    finally:
        reopened.close()


@pytest.mark.parametrize("org_id", [ACTIVE[0], BANNED[0], seed.org_id("stark-analytics")])
def test_accept_without_a_pending_invitation_is_409(
    api: httpx.Client, sandbox_store: Store, org_id: str
) -> None:
    body = expect(api.post(f"/me/memberships/{org_id}"), 409, "Error")
    assert body == {"code": "Conflict", "message": "no pending invitation for this organization"}
    assert sandbox_store.get(org_id) == next(m for m in SEED if m["organization"]["id"] == org_id)


def test_accepting_twice_conflicts_the_second_time(api: httpx.Client) -> None:
    expect(api.post(f"/me/memberships/{INVITED[1]}"), 200, "Membership")
    expect(api.post(f"/me/memberships/{INVITED[1]}"), 409, "Error")


def test_accept_unknown_membership_is_404(api: httpx.Client) -> None:
    expect(api.post(f"/me/memberships/{UNKNOWN_ID}"), 404, "Error")


def test_leave_removes_the_membership(api: httpx.Client, sandbox_store: Store) -> None:
    org_id = ACTIVE[3]
    response = api.delete(f"/me/memberships/{org_id}")
    expect(response, 200, None)
    assert response.headers["content-length"] == "0"
    expect(api.get(f"/me/memberships/{org_id}"), 404, "Error")
    expect(api.delete(f"/me/memberships/{org_id}"), 404, "Error")
    results, _ = collect(api, limit=100)
    assert org_id not in [m["organization"]["id"] for m in results]
    assert len(results) == len(SEED) - 1 == sandbox_store.count()


def test_leave_unknown_membership_is_404(api: httpx.Client) -> None:
    expect(api.delete(f"/me/memberships/{UNKNOWN_ID}"), 404, "Error")


# --- routing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/", "/nothing", "/me/other", "/me/memberships/", "/me/memberships/a/b", "/merch", "/_sandbox"]
)
def test_unknown_paths_are_404_with_an_error_body(api: httpx.Client, path: str) -> None:
    expect(api.get(path), 404, "Error")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("POST", "/me", "GET"),
        ("DELETE", "/me/memberships", "GET"),
        ("PUT", f"/me/memberships/{SEED_IDS[0]}", "GET, POST, DELETE"),
        ("PATCH", f"/me/memberships/{SEED_IDS[0]}", "GET, POST, DELETE"),
    ],
)
def test_wrong_method_is_405_with_an_error_body(
    api: httpx.Client, method: str, path: str, allowed: str
) -> None:
    response = api.request(method, path)
    body = expect(response, 405, "Error")
    assert body["code"] == "MethodNotAllowed"
    assert response.headers["allow"] == allowed


def test_head_gets_headers_without_a_body(api: httpx.Client) -> None:
    response = api.head("/me")
    assert response.status_code == 405
    assert response.content == b""
    expect(api.get("/me"), 200, "User")


# --- connections -------------------------------------------------------------------------------


def test_keep_alive_reuses_one_connection(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    for org_id in INVITED[:3]:
        expect(api.post(f"/me/memberships/{org_id}", content=b'{"ignored": true}'), 200, "Membership")
        expect(api.get(f"/me/memberships/{org_id}"), 200, "Membership")
    expect(api.delete(f"/me/memberships/{ACTIVE[0]}", headers={"Content-Length": "0"}), 200, None)
    assert sandbox_server.connection_count == 1


def test_a_reused_connection_answers_without_stalls(api: httpx.Client) -> None:
    api.get("/me")
    times = []
    for org_id in [*INVITED, *ACTIVE[:13]]:
        response = api.post(f"/me/memberships/{org_id}", content=b"{}")
        assert response.status_code in (200, 409)
        times.append(response.elapsed.total_seconds())
    times.sort()
    # A delayed-ACK stall adds ~40 ms to every request, so even the quicker quarter would show it;
    # looking at that quarter keeps a busy machine's slow moments from failing the test.
    assert times[len(times) // 4] < 0.03, times


def _raw_exchange(server: SandboxServer, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_request_bodies_are_consumed_so_the_next_request_parses(sandbox_server: SandboxServer) -> None:
    body = b'{"pad": "' + b"x" * 5000 + b'"}'
    auth = f"Authorization: Bearer {SANDBOX_TOKEN}\r\n".encode()
    post = (
        f"POST /me/memberships/{INVITED[0]} HTTP/1.1\r\nHost: x\r\n".encode()
        + auth
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    chunked = (
        f"DELETE /me/memberships/{ACTIVE[0]} HTTP/1.1\r\nHost: x\r\n".encode()
        + auth
        + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    )
    get = b"GET /me HTTP/1.1\r\nHost: x\r\n" + auth + b"Connection: close\r\n\r\n"
    reply = _raw_exchange(sandbox_server, post + chunked + get)
    # Bodies have no trailing newline, so status lines are found by pattern, not by line.
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", reply) == [b"200", b"200", b"200"]
    assert sandbox_server.connection_count == 1


@pytest.mark.parametrize(
    "payload",
    [
        b"garbage\r\n\r\n",
        b"GET /me HTTP/9.9\r\n\r\n",
        b"GET /me HTTP/1.1\r\nContent-Length: nope\r\n\r\n",
        b"POST /me HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\n\r\n",
        b"BREW /me HTTP/1.1\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
        b"GET /me HTTP/1.1\r\n" + b"X-Many: y\r\n" * 200 + b"\r\n",
    ],
    ids=["no-version", "bad-version", "bad-length", "bad-chunk", "long-line", "unknown-method", "tls", "headers"],
)
def test_malformed_requests_get_an_error_and_the_server_survives(
    sandbox_server: SandboxServer, api: httpx.Client, payload: bytes
) -> None:
    reply = _raw_exchange(sandbox_server, payload)
    status_line, _, rest = reply.partition(b"\r\n")
    assert int(status_line.split(b" ")[1]) >= 400
    headers, _, body = rest.partition(b"\r\n\r\n")
    assert b"Connection: close" in headers
    validate("Error", json.loads(body))
    expect(api.get("/me"), 200, "User")


def test_ipv6_loopback(sandbox_store: Store) -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6 support")
    try:
        server = SandboxServer(sandbox_store, host="::1")
    except OSError as error:
        pytest.skip(f"cannot bind ::1: {error}")
    with server, httpx.Client(base_url=server.url, headers=AUTH) as client:
        assert server.url == f"http://[::1]:{server.port}"
        expect(client.get("/me/memberships"), 200, "MembershipList")
        state = client.get("/_sandbox/state")
        assert state.status_code == 200
        assert len(state.json()) == len(SEED)
