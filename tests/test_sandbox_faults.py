"""Fault injection: respond, delay, close and truncate, and which requests a fault applies to."""

from __future__ import annotations

import time

import httpx
import pytest
from contract_schemas import validate
from sandbox_fixtures import AUTH, CLIENT_OPTIONS, anonymous, api, expect, sandbox_db, sandbox_server, sandbox_store

from memberships_cli.sandbox import Fault, SandboxServer, seed

__all__ = ["anonymous", "api", "sandbox_db", "sandbox_server", "sandbox_store"]

INVITED = seed.org_id("globex-retail")


def test_respond_fault_sends_status_headers_and_a_default_error_body(
    api: httpx.Client, sandbox_server: SandboxServer
) -> None:
    sandbox_server.add_fault(Fault(status=429, headers={"Retry-After": "3"}))
    response = api.get("/me/memberships")
    body = expect(response, 429, "Error")
    assert response.headers["retry-after"] == "3"
    assert body == {"code": "TooManyRequests", "message": "injected fault (sandbox)"}
    expect(api.get("/me/memberships"), 200, "MembershipList")


@pytest.mark.parametrize(
    ("fault", "content", "content_type"),
    [
        (Fault(status=503, body={"code": "Busy", "message": "later"}), b'{"code": "Busy", "message": "later"}', "application/json"),
        (Fault(status=502, body="<html>bad gateway</html>", content_type="text/html"), b"<html>bad gateway</html>", "text/html"),
        (Fault(status=500, body=b"\xff\x00"), b"\xff\x00", "application/json"),
        (Fault(status=204), b"", None),
        (Fault(status=200, body=""), b"", None),
    ],
    ids=["dict", "html", "bytes", "empty-204", "empty-200"],
)
def test_respond_fault_sends_the_given_body(
    api: httpx.Client, sandbox_server: SandboxServer, fault: Fault, content: bytes, content_type: str | None
) -> None:
    sandbox_server.add_fault(fault)
    response = api.get("/me")
    assert response.status_code == fault.status
    assert response.content == content
    assert response.headers.get("content-type") == content_type
    assert response.headers["content-length"] == str(len(content))


def test_faults_apply_before_auth_and_are_recorded(anonymous: httpx.Client, sandbox_server: SandboxServer) -> None:
    sandbox_server.add_fault(Fault(status=500))
    expect(anonymous.get("/me"), 500, "Error")
    expect(anonymous.get("/me"), 401, "Error")
    assert [r["status"] for r in sandbox_server.requests] == [500, 401]


def test_times_applies_the_fault_that_many_times(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    sandbox_server.add_fault(Fault(status=503, times=3))
    statuses = [api.get("/me").status_code for _ in range(5)]
    assert statuses == [503, 503, 503, 200, 200]
    assert sandbox_server.pending_faults == 0


def test_faults_are_applied_in_fifo_order(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    sandbox_server.add_fault(Fault(status=500))
    sandbox_server.add_fault(Fault(status=502, times=2))
    sandbox_server.add_fault(Fault(status=503))
    assert [api.get("/me").status_code for _ in range(5)] == [500, 502, 502, 503, 200]


def test_method_filter(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    sandbox_server.add_fault(Fault(status=500, method="post"))
    expect(api.get(f"/me/memberships/{INVITED}"), 200, "Membership")
    expect(api.post(f"/me/memberships/{INVITED}"), 500, "Error")
    assert expect(api.get(f"/me/memberships/{INVITED}"), 200, "Membership")["status"] == "invited"


@pytest.mark.parametrize(
    ("pattern", "hit", "miss"),
    [
        ("/me/memberships", "/me/memberships", f"/me/memberships/{INVITED}"),
        ("/me/memberships/*", f"/me/memberships/{INVITED}", "/me/memberships"),
        ("/me*", "/me", "/_sandbox/state"),
        ("/me", "/me", "/me/memberships"),
    ],
)
def test_path_filter_exact_or_prefix(
    api: httpx.Client, sandbox_server: SandboxServer, pattern: str, hit: str, miss: str
) -> None:
    sandbox_server.add_fault(Fault(status=418, path=pattern))
    assert api.get(miss).status_code == 200
    assert api.get(hit).status_code == 418
    assert api.get(hit).status_code == 200


def test_faults_never_touch_admin_or_unknown_paths(anonymous: httpx.Client, sandbox_server: SandboxServer) -> None:
    sandbox_server.add_fault(Fault(status=500))
    assert anonymous.get("/_sandbox/state").status_code == 200
    expect(anonymous.get("/elsewhere"), 404, "Error")
    assert sandbox_server.pending_faults == 1


def test_delay_makes_the_client_time_out_and_the_server_carries_on(
    api: httpx.Client, sandbox_server: SandboxServer
) -> None:
    sandbox_server.add_fault(Fault(status=200, delay=1.5, body={"late": True}))
    with pytest.raises(httpx.ReadTimeout):
        api.get("/me", timeout=0.15)
    assert sandbox_server.requests[-1]["status"] == 200
    expect(api.get("/me"), 200, "User")


def test_delay_then_respond(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    sandbox_server.add_fault(Fault(status=503, delay=0.2))
    started = time.perf_counter()
    expect(api.get("/me"), 503, "Error")
    assert time.perf_counter() - started >= 0.2


def test_close_drops_the_connection_without_a_response(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    sandbox_server.add_fault(Fault(action="close", method="POST"))
    with pytest.raises(httpx.RemoteProtocolError):
        api.post(f"/me/memberships/{INVITED}")
    assert sandbox_server.requests[-1]["status"] == 0
    assert sandbox_server.requests[-1]["method"] == "POST"
    assert sandbox_server.store.get(INVITED)["status"] == "invited"
    expect(api.post(f"/me/memberships/{INVITED}"), 200, "Membership")


def test_truncate_sends_half_the_body_then_closes(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    full = {"nextPageToken": "", "results": seed.memberships()}
    sandbox_server.add_fault(Fault(status=200, body=full, action="truncate"))
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/me/memberships")
    assert sandbox_server.requests[-1]["status"] == 200
    expect(api.get("/me/memberships"), 200, "MembershipList")


def test_truncate_with_default_body_is_still_incomplete(sandbox_server: SandboxServer) -> None:
    sandbox_server.add_fault(Fault(status=500, action="truncate"))
    with httpx.Client(base_url=sandbox_server.url, headers=AUTH, **CLIENT_OPTIONS) as client:
        with client.stream("GET", "/me") as response:
            assert response.status_code == 500
            declared = int(response.headers["content-length"])
            with pytest.raises(httpx.RemoteProtocolError):
                response.read()
    assert declared > 0


def test_clear_faults(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    sandbox_server.add_fault(Fault(status=500, times=10))
    assert sandbox_server.clear_faults() == 1
    expect(api.get("/me"), 200, "User")


def test_a_fault_object_can_be_reused(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    fault = Fault(status=500, times=1)
    sandbox_server.add_fault(fault)
    sandbox_server.add_fault(fault)
    assert [api.get("/me").status_code for _ in range(3)] == [500, 500, 200]
    assert fault.times == 1


@pytest.mark.parametrize(
    "kwargs",
    [
        {"action": "explode"},
        {"status": 99},
        {"status": 600},
        {"times": 0},
        {"delay": -1},
        {"headers": {"X-A": "1\r\nX-Injected: 1"}},
        {"headers": {"X-A:": "1"}},
    ],
)
def test_invalid_faults_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Fault(**kwargs)


@pytest.mark.parametrize(
    "data",
    [
        {"bogus": 1},
        {"status": "500"},
        {"status": True},
        {"headers": {"Retry-After": 3}},
        {"delay": "1"},
        [],
    ],
)
def test_fault_from_dict_refuses_malformed_input(data: object) -> None:
    with pytest.raises(ValueError):
        Fault.from_dict(data)


def test_fault_from_dict_reads_every_field() -> None:
    data = {
        "status": 503,
        "body": {"code": "X", "message": "y"},
        "headers": {"Retry-After": "1"},
        "delay": 0.5,
        "method": "GET",
        "path": "/me*",
        "times": 2,
        "action": "truncate",
        "content_type": "application/problem+json",
    }
    fault = Fault.from_dict(data)
    assert fault == Fault(**data)
    validate("Error", fault.body)


# -- the hostile server's options: reason phrase, trickle, fresh page tokens ---------------------------


def test_reason_replaces_the_reason_phrase(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    sandbox_server.add_fault(Fault(status=401, reason="Unauthorized Bearer abc"))
    response = api.get("/me/memberships")
    assert (response.status_code, response.reason_phrase) == (401, "Unauthorized Bearer abc")


def test_trickle_sends_one_byte_at_a_time(sandbox_server: SandboxServer) -> None:
    """Every read of the client gets one byte: the whole answer arrives, in as many pieces as bytes."""
    import socket

    sandbox_server.add_fault(Fault(status=200, body="{}", trickle=0.001))
    with socket.create_connection((sandbox_server.host, sandbox_server.port), timeout=10) as conn:
        conn.sendall(b"GET /me HTTP/1.1\r\nHost: x\r\n\r\n")
        pieces = []
        while True:
            piece = conn.recv(65536)
            if not piece:
                break
            pieces.append(piece)
    data = b"".join(pieces)
    assert data.startswith(b"HTTP/1.1 200 OK\r\n") and data.endswith(b"\r\n\r\n{}")
    assert len(pieces) > len(data) // 2  # a byte (rarely two) per read, never the answer at once


def test_fresh_token_gives_every_answer_a_new_page_token(api: httpx.Client, sandbox_server: SandboxServer) -> None:
    sandbox_server.add_fault(Fault(status=200, body={"results": []}, fresh_token=40, times=3))
    tokens = [api.get("/me/memberships").json()["nextPageToken"] for _ in range(3)]
    assert len(set(tokens)) == 3 and all(len(t) == 40 for t in tokens)


@pytest.mark.parametrize("kwargs", [{"trickle": -1}, {"fresh_token": -1}, {"fresh_token": 8, "body": "x"},
                                    {"reason": "OK\r\nX-Evil: 1"}])
def test_invalid_hostile_options_are_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Fault(**kwargs)


def test_fault_from_dict_reads_the_hostile_options() -> None:
    data = {"status": 200, "body": {"results": []}, "reason": "Fine", "trickle": 0.5, "fresh_token": 16}
    assert Fault.from_dict(data) == Fault(**data)
