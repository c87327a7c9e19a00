"""Unit tests of the HTTP layer (client.py) with httpx.MockTransport, a fake clock and a recorded
`sleep`: retries and their limits, Retry-After, jitter, the shared rate-limit gate, DELETE safety,
redirects, error mapping, malformed bodies, pagination and token redaction. No sockets, no waiting."""

from __future__ import annotations

import gzip
import random
import threading
import time
from email.utils import formatdate

import httpx
import pytest

from memberships_cli.client import BirdClient, RetryPolicy, backoff_delay, parse_retry_after
from memberships_cli.errors import (
    ApiError,
    AuthError,
    ConflictError,
    ExitCode,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    UsageError,
)

TOKEN = "tok-SECRET-unit-7f3a9c"
BASE = "https://api.example.test"
ORG = "3a9c1e44-72b0-4d1f-a8e6-0c5d9b2f41a7"
POLICY = RetryPolicy(attempts=4, base_delay=0.5, max_wait=30.0, max_total=60.0)


def membership(org_id: str = ORG, **extra) -> dict:
    return {"organization": {"id": org_id, "name": "Acme", "slug": "acme"}, "status": "invited",
            "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z", **extra}


def page(*items, token=None) -> dict:
    body = {"results": list(items) or [membership()]}
    if token is not None:
        body["nextPageToken"] = token
    return body


class FakeClock:
    """time.monotonic and time.sleep for one client: sleeping advances the clock at once."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


class Server:
    """Answers in order (the last one repeats); an exception instance is raised instead."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append(request)
            answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, int):
            return httpx.Response(answer)
        if isinstance(answer, (dict, list)):
            return httpx.Response(200, json=answer)
        return answer


def make(server, *, policy: RetryPolicy = POLICY, log=None, base: str = BASE, rng=None):
    clock = FakeClock()
    client = BirdClient(base, TOKEN, retry=policy, log=log, transport=httpx.MockTransport(server),
                        sleep=clock.sleep, clock=clock, rng=rng or random.Random(1))
    return client, clock


def status(code: int, retry_after: str | None = None, **kwargs) -> httpx.Response:
    # As bytes, the way a header arrives: latin-1, so "²" can be sent and must be survived.
    headers = [(b"Retry-After", retry_after.encode("latin-1"))] if retry_after is not None else []
    return httpx.Response(code, headers=headers, **kwargs)


# -- retries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [429, 502, 503, 504])
def test_retryable_status_then_success(code):
    server = Server(status(code), status(code), page())
    client, clock = make(server)
    assert len(client.list_page().memberships) == 1
    assert len(server.requests) == 3
    # equal jitter: attempt n waits between half and all of min(max_wait, 0.5 * 2**(n-1))
    assert 0.25 <= clock.sleeps[0] <= 0.5 and 0.5 <= clock.sleeps[1] <= 1.0


@pytest.mark.parametrize("answer, last", [
    (status(503), "last: 503 Service Unavailable"),
    (status(429), "last: 429 Too Many Requests"),
    (status(502), "last: 502 Bad Gateway"),
    (httpx.ConnectError("connection refused"), "last: could not connect (ConnectError: connection refused)"),
    (httpx.ReadTimeout("timed out"), "last: timed out waiting for the server (ReadTimeout)"),
    (httpx.RemoteProtocolError("Server disconnected"), "last: connection failed (RemoteProtocolError"),
])
def test_gives_up_after_every_attempt_with_exit_5_and_what_was_tried(answer, last):
    server = Server(answer)
    client, clock = make(server)
    with pytest.raises(NetworkError) as caught:
        client.list_page()
    assert len(server.requests) == POLICY.attempts
    assert len(clock.sleeps) == POLICY.attempts - 1
    assert caught.value.exit_code == ExitCode.NETWORK
    message = caught.value.message
    assert message.startswith("GET /me/memberships: 4 attempts over ")
    assert f"over {sum(clock.sleeps):.1f} s;" in message  # the fake clock only moves when sleeping
    assert last in message


@pytest.mark.parametrize("code", [400, 401, 403, 404, 409, 422, 500, 501])
def test_other_statuses_are_not_retried(code):
    server = Server(status(code))
    client, clock = make(server)
    with pytest.raises(ApiError if code not in (401, 403) else AuthError):
        client.list_page()
    assert len(server.requests) == 1 and clock.sleeps == []


def test_retries_can_be_switched_off():
    server = Server(status(503))
    client, _ = make(server, policy=RetryPolicy(attempts=1))
    with pytest.raises(NetworkError, match="1 attempt over"):
        client.get_me()
    assert len(server.requests) == 1


# -- Retry-After -------------------------------------------------------------------------------


def test_retry_after_seconds_is_honoured_exactly():
    server = Server(status(503, "7"), page())
    client, clock = make(server)
    client.list_page()
    assert clock.sleeps == [7.0]


def test_retry_after_http_date_is_honoured():
    server = Server(status(429, formatdate(time.time() + 20, usegmt=True)), page())
    client, clock = make(server)
    client.list_page()
    (slept,) = clock.sleeps
    assert 18.0 <= slept <= 21.0


def test_retry_after_over_the_per_wait_cap_gives_up_at_once():
    server = Server(status(503, "31"), page())
    client, clock = make(server)
    with pytest.raises(NetworkError) as caught:
        client.list_page()
    assert len(server.requests) == 1 and clock.sleeps == []
    assert "1 attempt over 0.0 s; last: 503 Service Unavailable (the next wait (31 s) is over the retry limit)" in caught.value.message


def test_retry_waits_are_capped_in_total():
    server = Server(status(503, "6"))
    client, clock = make(server, policy=RetryPolicy(attempts=10, max_wait=30, max_total=10))
    with pytest.raises(NetworkError, match=r"2 attempts over 6\.0 s; .*over the retry limit"):
        client.list_page()
    assert clock.sleeps == [6.0]


@pytest.mark.parametrize("header", ["soon", "-5", "\u00b2", "1.5", "Thu, 99 Foo 2024 99:00:00 GMT"])
def test_unusable_retry_after_falls_back_to_backoff(header):
    server = Server(status(503, header), page())
    client, clock = make(server)
    client.list_page()
    (slept,) = clock.sleeps
    assert 0.25 <= slept <= 0.5


def test_retry_after_with_a_non_ascii_digit_from_the_wire():
    # Sent as the latin-1 byte 0xB2 ("²"): str.isdigit() says yes, float() says no.
    server = Server(httpx.Response(503, headers=[(b"Retry-After", b"\xb2")]), page())
    client, clock = make(server)
    client.list_page()
    assert len(clock.sleeps) == 1


@pytest.mark.parametrize("value, expected", [
    (None, None), ("", None), ("0", 0.0), (" 120 ", 120.0), ("\u00b2", None), ("\u0661", None), ("-1", None),
    ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: no wait
    ("Wed, 21 Oct 2015 07:28:00 -0000", None),  # no time zone: not an HTTP date
    ("tomorrow", None),
])
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, now=1_700_000_000) == expected


def test_parse_retry_after_http_date_in_the_future():
    assert parse_retry_after("Tue, 14 Nov 2023 22:13:40 GMT", now=1_700_000_000) == 20.0


# -- backoff and jitter ----------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(1, 10))
def test_backoff_is_exponential_with_equal_jitter_and_capped(attempt):
    policy = RetryPolicy(base_delay=0.5, max_wait=30.0)
    ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
    delays = [backoff_delay(attempt, policy, random.Random(seed)) for seed in range(200)]
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(set(delays)) > 150  # actually spread out


class _Extreme(random.Random):
    def __init__(self, pick_high: bool) -> None:
        super().__init__()
        self.pick_high = pick_high

    def uniform(self, a, b):
        return b if self.pick_high else a


def test_jitter_bounds_are_exactly_half_and_whole_ceiling():
    policy = RetryPolicy(base_delay=0.5, max_wait=30.0)
    assert backoff_delay(3, policy, _Extreme(False)) == 1.0
    assert backoff_delay(3, policy, _Extreme(True)) == 2.0
    assert backoff_delay(20, policy, _Extreme(True)) == 30.0


def test_retry_policy_from_environment():
    assert RetryPolicy.from_env({}) == RetryPolicy()
    policy = RetryPolicy.from_env({"MEMBERSHIPS_RETRIES": "0", "MEMBERSHIPS_RETRY_MAX_WAIT": "2",
                                   "MEMBERSHIPS_RETRY_MAX_TOTAL": "5"})
    assert (policy.attempts, policy.max_wait, policy.max_total) == (1, 2.0, 5.0)


@pytest.mark.parametrize("name, value", [("MEMBERSHIPS_RETRIES", "many"), ("MEMBERSHIPS_RETRIES", "11"),
                                         ("MEMBERSHIPS_RETRIES", "-1"), ("MEMBERSHIPS_RETRY_MAX_WAIT", "nan"),
                                         ("MEMBERSHIPS_RETRY_MAX_TOTAL", "inf")])
def test_retry_policy_rejects_bad_values(name, value):
    with pytest.raises(UsageError, match=name):
        RetryPolicy.from_env({name: value})


# -- DELETE and accept: what may be repeated ------------------------------------------------------


@pytest.mark.parametrize("failure", [httpx.ReadTimeout("timed out"), httpx.RemoteProtocolError("Server disconnected"),
                                     httpx.WriteError("broken pipe"), status(503), status(502)])
def test_delete_is_not_retried_once_the_request_may_have_arrived(failure):
    server = Server(failure, status(204))
    client, clock = make(server)
    with pytest.raises(NetworkError) as caught:
        client.leave(ORG)
    assert len(server.requests) == 1 and clock.sleeps == []
    assert "not retried: the request may have reached the server; run `memberships list`" in caught.value.message


@pytest.mark.parametrize("failure", [httpx.ConnectError("connection refused"), httpx.ConnectTimeout("connect timed out"),
                                     status(429, "1")])
def test_delete_is_retried_when_it_certainly_did_not_arrive(failure):
    server = Server(failure, failure, status(204))
    client, _ = make(server)
    assert client.leave(ORG) is None
    assert [r.method for r in server.requests] == ["DELETE"] * 3


def test_accept_is_retried_after_a_read_timeout():
    server = Server(httpx.ReadTimeout("timed out"), membership(status="active"))
    client, _ = make(server)
    assert client.accept(ORG).status == "active"
    assert [r.method for r in server.requests] == ["POST", "POST"]


@pytest.mark.parametrize("answer", [status(204), status(200), httpx.Response(200, json={"ignored": True}),
                                    httpx.Response(200, text="<html>ok</html>")])
def test_delete_success_is_any_2xx_whatever_the_body(answer):
    client, _ = make(Server(answer))
    assert client.leave(ORG) is None


def test_accept_without_a_body_returns_none():
    client, _ = make(Server(status(204)))
    assert client.accept(ORG) is None


# -- the shared rate-limit gate -----------------------------------------------------------------


def test_a_429_slows_down_every_thread_of_the_client():
    first = threading.Event()
    answers = {"n": 0}
    lock = threading.Lock()

    def handler(request):
        with lock:
            answers["n"] += 1
            n = answers["n"]
        if n == 1:
            first.set()
            return status(429, "5")
        return httpx.Response(200, json={"id": "me"})

    clock = FakeClock()
    waits: list[tuple[str, float]] = []
    a_waiting, release_a = threading.Event(), threading.Event()

    def sleep(seconds):
        waits.append((threading.current_thread().name, round(seconds, 3)))
        if threading.current_thread().name == "A":
            a_waiting.set()
            release_a.wait(5)  # A is still waiting out its Retry-After while B starts
        else:
            clock.sleep(seconds)

    log: list[str] = []
    client = BirdClient(BASE, TOKEN, retry=POLICY, log=log.append, transport=httpx.MockTransport(handler),
                        sleep=sleep, clock=clock)
    a = threading.Thread(target=client.get_me, name="A")
    a.start()
    assert a_waiting.wait(5)
    b = threading.Thread(target=client.get_me, name="B")
    b.start()
    b.join(5)
    release_a.set()
    a.join(5)
    assert waits == [("A", 5.0), ("B", 5.0)]
    assert answers["n"] == 3
    assert "* waiting 5.0 s: the server asked all requests to slow down" in log


def test_a_429_longer_than_the_cap_fails_the_others_fast_without_sending():
    server = Server(status(429, "3600"), httpx.Response(200, json={"id": "me"}))
    client, clock = make(server)
    with pytest.raises(NetworkError, match="over the retry limit"):
        client.accept(ORG)
    # Every later request of this run (other threads of a bulk accept) gives up at once instead of
    # sleeping an hour at the gate.
    for _ in range(3):
        with pytest.raises(NetworkError, match="not sent: the server rate-limited this run and asked to wait 3600 s more"):
            client.accept(ORG)
    assert len(server.requests) == 1 and clock.sleeps == []


def test_the_gate_opens_again_once_the_wait_is_over():
    server = Server(status(429, "2"), page(), page())
    client, clock = make(server)
    client.list_page()
    client.list_page()
    assert clock.sleeps == [2.0] and len(server.requests) == 3


# -- redirects ---------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirects_are_reported_not_followed(code):
    server = Server(httpx.Response(code, headers={"Location": "https://elsewhere.example/me/memberships"}))
    client, _ = make(server)
    with pytest.raises(ApiError) as caught:
        client.list_page()
    assert len(server.requests) == 1
    assert caught.value.exit_code == ExitCode.API and caught.value.status == code
    assert "redirects are not followed" in caught.value.message
    assert "https://elsewhere.example/me/memberships" in caught.value.message


# -- error bodies ------------------------------------------------------------------------------


ERROR_CASES = [
    (401, {"code": "Unauthorized", "message": "unauthorized request"}, None, AuthError,
     "the API rejected the token (401 Unauthorized: unauthorized request)"),
    (403, {"code": "Forbidden", "message": "no"}, None, AuthError, "(403 Forbidden: no)"),
    (404, {"code": "NotFound", "message": "Resource not found"}, ORG, NotFoundError,
     f"no membership or invitation for organization {ORG} (404 Not Found: Resource not found)"),
    (404, {"code": "NotFound", "message": "Resource not found"}, None, ApiError,
     "GET /me/memberships: 404 Not Found: Resource not found"),
    (409, {"code": "Conflict", "message": "no pending invitation"}, ORG, ConflictError, "409 Conflict: no pending invitation"),
    (422, {"code": "InvalidPayload", "message": "Request validation failed", "details": {"limit": ["must be <= 100"]}},
     None, ApiError, "422 Unprocessable Entity: Request validation failed (limit: must be <= 100)"),
    (500, "<html><h1>Internal Server Error</h1></html>", None, ApiError, "GET /me/memberships: 500 Internal Server Error"),
    (400, ["not", "an", "error"], None, ApiError, "GET /me/memberships: 400 Bad Request"),
    (400, {"code": 7, "message": ["x"]}, None, ApiError, "GET /me/memberships: 400 Bad Request"),
    (400, "[" * 100_000, None, ApiError, "GET /me/memberships: 400 Bad Request"),
]


@pytest.mark.parametrize("code, body, missing, error, text", ERROR_CASES)
def test_error_bodies_map_to_typed_errors(code, body, missing, error, text):
    response = httpx.Response(code, text=body) if isinstance(body, str) else httpx.Response(code, json=body)
    client, _ = make(Server(response))
    with pytest.raises(error) as caught:
        if missing:
            client.get_membership(missing)
        else:
            client.list_page()
    assert type(caught.value) is error
    assert text in caught.value.message
    if code == 404 and missing is None:
        assert "--api-url" in caught.value.hint


# -- malformed answers -------------------------------------------------------------------------


def raw(body: bytes, **headers) -> httpx.Response:
    # A stream, not content=: httpx decodes content= at once, and the client must meet it when reading.
    return httpx.Response(200, stream=httpx.ByteStream(body), headers={"Content-Type": "application/json", **headers})


MALFORMED = {
    "html": (httpx.Response(200, text="<html>hi</html>", headers={"Content-Type": "text/html"}), "body is not JSON (text/html"),
    "empty body": (raw(b""), "body is not JSON"),
    "truncated json": (raw(b'{"results": [{"organization": {"id": "x"'), "body is not JSON"),
    "invalid utf-8": (raw(b'{"results": ["\xff\xfe"]}'), "body is not JSON"),
    "a list": (raw(b"[]"), "expected an object with results, got list"),
    "a string": (raw(b'"results"'), "expected an object with results, got str"),
    "null": (raw(b"null"), "expected an object with results, got NoneType"),
    "results an object": (raw(b'{"results": {"a": 1}}'), "`results` is missing or not a list"),
    "results missing": (raw(b'{"items": []}'), "`results` is missing or not a list"),
    "item not an object": (raw(b'{"results": [1]}'), "expected a membership object, got int"),
    "no organization": (raw(b'{"results": [{"status": "active"}]}'), "membership has no organization object"),
    "organization without id": (raw(b'{"results": [{"organization": {"id": 5}}]}'), "organization has no id"),
    "token not a string": (raw(b'{"results": [], "nextPageToken": 5}'), "`nextPageToken` is not a string"),
    "NaN": (raw(b'{"results": [{"organization": {"id": "x"}, "n": NaN}]}'), "body is not JSON"),
    "Infinity": (raw(b'{"results": [], "n": -Infinity}'), "body is not JSON"),
    "overflowing number": (raw(b'{"results": [], "n": 1e999}'), "body is not JSON"),
    "huge integer": (raw(b'{"results": [], "n": ' + b"9" * 5000 + b"}"), "body is not JSON"),
    "nested too deep": (raw(b"[" * 100_000), "body is not JSON"),
    "gzip that is not": (raw(b"not gzip", **{"Content-Encoding": "gzip"}), "the body could not be decoded"),
}


@pytest.mark.parametrize("name", MALFORMED)
def test_malformed_answers_are_exit_1_naming_endpoint_and_status(name):
    response, text = MALFORMED[name]
    server = Server(response)
    client, _ = make(server)
    with pytest.raises(MalformedResponseError) as caught:
        client.list_page()
    assert caught.value.exit_code == ExitCode.API
    assert caught.value.message.startswith("malformed response from GET /me/memberships")
    if name != "gzip that is not":  # the status line was read, the body could not be
        assert "(HTTP 200)" in caught.value.message
    assert text in caught.value.message
    assert len(server.requests) == 1  # a broken answer is not retried


def test_gzip_that_is_gzip_is_fine():
    body = gzip.compress(b'{"results": []}')
    client, _ = make(Server(raw(body, **{"Content-Encoding": "gzip"})))
    assert client.list_page().memberships == []


def test_membership_objects_keep_nulls_unknown_fields_and_unknown_statuses():
    obj = membership(status="suspended-by-robots", roleIds=None, futureField={"nested": [1, None, "ü"]},
                     requiredSsoAuth=None)
    obj["organization"]["brandNewField"] = None
    client, _ = make(Server(page(obj, token=""), obj))
    (got,) = client.list_page().memberships
    assert got.raw == obj
    shown = client.get_membership(ORG)
    assert shown.raw == obj and shown.status == "suspended-by-robots"
    assert not shown.is_invitation and not shown.is_active


# -- pagination --------------------------------------------------------------------------------


def test_a_repeating_page_token_stops_the_listing_with_an_error():
    server = Server(page(token="A"), page(token="B"), page(token="A"), page(token="C"))
    client, _ = make(server)
    pages = []
    with pytest.raises(MalformedResponseError, match="nextPageToken repeats a page already read"):
        for items in client.iter_pages():
            pages.append(items)
    assert len(pages) == 3  # what was read is handed over before the error
    assert [r.url.params.get("pageToken") for r in server.requests] == [None, "A", "B"]


def test_a_page_token_that_repeats_at_once_is_caught_on_the_second_page():
    server = Server(page(token="same"))
    client, _ = make(server)
    with pytest.raises(MalformedResponseError):
        list(client.iter_pages())
    assert len(server.requests) == 2


@pytest.mark.parametrize("last", [page(), page(token=""), {"results": [membership()], "nextPageToken": None}])
def test_an_empty_absent_or_null_page_token_ends_the_listing(last):
    server = Server(page(token="next"), last, status(500))
    client, _ = make(server)
    assert sum(len(p) for p in client.iter_pages()) == 2
    assert len(server.requests) == 2


def test_limit_shrinks_the_last_page_request_and_stops():
    items = [membership(f"00000000-0000-0000-0000-{i:012d}") for i in range(100)]
    server = Server(page(*items, token="t1"), page(*items[:50], token="t2"), status(500))
    client, _ = make(server)
    got = [m for p in client.iter_pages(limit=150) for m in p]
    assert len(got) == 150
    assert [r.url.params["limit"] for r in server.requests] == ["100", "50"]


def test_list_parameters_are_sent():
    server = Server(page())
    client, _ = make(server)
    client.list_page(limit=7, reverse=True, page_token="tok+/=", status="invited")
    params = server.requests[0].url.params
    assert dict(params) == {"limit": "7", "reverse": "true", "pageToken": "tok+/=", "status": "invited"}


@pytest.mark.parametrize("org_id", ["..", ".", "", "a/b", f"{ORG}\n", "%2e%2e", "../me?x=1#y", f" {ORG}", ORG.replace("-", "")])
@pytest.mark.parametrize("call", ["get_membership", "accept", "leave"])
def test_only_a_uuid_becomes_a_path_segment_and_nothing_else_is_sent(call, org_id):
    server = Server(membership())
    client, _ = make(server)
    with pytest.raises(MalformedResponseError) as caught:
        getattr(client, call)(org_id)
    assert caught.value.exit_code == ExitCode.API
    assert caught.value.message.startswith("not sent: ") and "must be a UUID" in caught.value.message
    assert "\n" not in caught.value.message  # shown escaped, on one line
    assert server.requests == []


def test_a_uuid_in_either_case_is_one_path_segment():
    server = Server(membership())
    client, _ = make(server)
    client.get_membership(ORG.upper())
    assert server.requests[0].url.raw_path == f"/me/memberships/{ORG.upper()}".encode()


# -- the token ---------------------------------------------------------------------------------


def test_the_token_goes_only_in_the_authorization_header():
    server = Server(page())
    client, _ = make(server)
    client.list_page()
    request = server.requests[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in str(request.url)
    assert request.headers["User-Agent"].startswith("memberships-cli/")


def test_verbose_lines_show_requests_responses_timing_and_retries_but_never_the_token():
    log: list[str] = []
    server = Server(status(503, "1"), httpx.ReadTimeout(f"timed out talking to {TOKEN}"), page(token=""))
    client, _ = make(server, log=log.append)
    client.list_page()
    assert log[0] == f"> GET {BASE}/me/memberships?limit=100"
    assert log[1] == "< 503 Service Unavailable (0 ms)"
    assert log[2] == "* retrying in 1.0 s (attempt 2 of 4): 503 Service Unavailable"
    assert log[-1] == "< 200 OK (0 ms)"
    assert any("timed out waiting for the server" in line for line in log)
    assert not any(TOKEN in line for line in log)
    assert not any("authorization" in line.lower() for line in log)


@pytest.mark.parametrize("response", [
    httpx.Response(401, json={"code": "Unauthorized", "message": f"token {TOKEN} is expired"}),
    httpx.Response(400, json={"code": "Bad", "message": f"Bearer {TOKEN}", "details": {"why": [TOKEN]}}),
    httpx.Response(302, headers={"Location": f"https://evil.example/?t={TOKEN}"}),
    httpx.Response(200, content=b"<html>", headers={"Content-Type": f"text/html; x={TOKEN}"}),
])
def test_a_server_echoing_the_token_does_not_get_it_printed(response):
    log: list[str] = []
    client, _ = make(Server(response), log=log.append)
    with pytest.raises((ApiError, AuthError)) as caught:
        client.list_page()
    assert TOKEN not in caught.value.message + (caught.value.hint or "")
    assert "[token]" in caught.value.message
    assert not any(TOKEN in line for line in log)


def test_an_exception_text_echoing_the_token_is_redacted():
    client, _ = make(Server(httpx.ConnectError(f"cannot reach {TOKEN}")), policy=RetryPolicy(attempts=1))
    with pytest.raises(NetworkError) as caught:
        client.list_page()
    assert TOKEN not in caught.value.message and "[token]" in caught.value.message


def test_credentials_in_the_api_url_are_not_logged():
    log: list[str] = []
    client, _ = make(Server(page()), log=log.append, base="https://user:pw-SECRET@api.example.test/v1")
    client.list_page()
    assert log[0] == "> GET https://***@api.example.test/v1/me/memberships?limit=100"


def test_the_tls_context_of_a_plain_http_client_loads_nothing_and_fails_closed():
    import ssl

    from memberships_cli.client import _unused_tls_context

    context = _unused_tls_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0  # nothing trusted: any TLS use would fail


# -- bounds: pages, bytes, time (issue 14, part 3) --------------------------------------------------


def fresh_pages(items_per_page: int):
    """A server whose every page has a new nextPageToken: a listing that never ends."""
    count = [0]

    def answer(request: httpx.Request) -> httpx.Response:
        count[0] += 1
        items = [membership(f"{count[0]:08x}-0000-4000-8000-000000000000")] * items_per_page
        return httpx.Response(200, json={"results": items, "nextPageToken": f"t{count[0]}"})

    return answer, count


def test_a_listing_stops_at_the_page_cap(monkeypatch):
    import memberships_cli.client as client_module

    monkeypatch.setattr(client_module, "MAX_PAGES", 30)
    answer, count = fresh_pages(1)
    client, _ = make(answer)
    pages = []
    with pytest.raises(MalformedResponseError, match="more than 30 pages; stopped listing"):
        for items in client.iter_pages():
            pages.append(items)
    assert count[0] == 30 and len(pages) == 30


def test_empty_pages_stop_a_listing_only_when_they_come_in_a_row():
    from memberships_cli.client import MAX_EMPTY_PAGES

    answers = [page(token="a0")]
    for n in range(1, 3 * MAX_EMPTY_PAGES):
        answers.append({"results": [membership()] if n == MAX_EMPTY_PAGES - 1 else [], "nextPageToken": f"a{n}"})
    answers.append(page(token=None))
    client, _ = make(Server(*answers))
    with pytest.raises(MalformedResponseError, match=f"{MAX_EMPTY_PAGES} empty pages in a row"):
        list(client.iter_pages())
    empty = MAX_EMPTY_PAGES
    answers = [page(token="b0"), *({"results": [], "nextPageToken": f"b{n}"} for n in range(1, empty)), page(token=None)]
    client, _ = make(Server(*answers))
    assert sum(len(p) for p in client.iter_pages()) == 2  # empty - 1 empty pages in a row are fine


def test_the_repeat_check_keeps_digests_not_tokens():
    """16 KB tokens: what the listing remembers per page is 16 bytes, and a repeat is still caught."""
    long = "x" * 4000
    client, _ = make(Server(page(token=long + "1"), page(token=long + "2"), page(token=long + "1")))
    with pytest.raises(MalformedResponseError, match="repeats a page already read"):
        list(client.iter_pages())


def test_a_page_token_over_the_limit_is_refused():
    client, _ = make(Server(page(token="y" * 4097)))
    with pytest.raises(MalformedResponseError, match="nextPageToken is 4,097 characters long, over the limit of 4,096"):
        client.list_page()


def test_more_results_than_asked_for_are_kept_except_past_the_users_limit():
    """Cutting a page to the requested size would skip rows (the next page starts after them);
    only the user's --limit cuts."""
    many = [membership(f"{n:08x}-0000-4000-8000-000000000000") for n in range(150)]
    client, _ = make(Server({"results": many}))
    assert sum(len(p) for p in client.iter_pages()) == 150
    client, _ = make(Server({"results": many}))
    assert sum(len(p) for p in client.iter_pages(limit=5)) == 5


def _streamed(body: bytes, **headers) -> httpx.Response:
    """A response read from its stream, as from the network (not preloaded like content=)."""
    return httpx.Response(200, headers={"Content-Type": "application/json", **headers}, stream=httpx.ByteStream(body))


def _padded(size: int) -> bytes:
    return b'{"results": [], "pad": "' + b"x" * size + b'"}'


@pytest.mark.parametrize("make_response", [
    lambda: httpx.Response(200, content=_padded(9 * 2**20)),
    lambda: _streamed(_padded(9 * 2**20)),
    lambda: _streamed(gzip.compress(_padded(64 * 2**20), 9), **{"Content-Encoding": "gzip"}),
    lambda: _streamed(gzip.compress(gzip.compress(_padded(64 * 2**20), 9)), **{"Content-Encoding": "gzip, gzip"}),
], ids=["preloaded", "streamed", "gzip bomb", "gzip of a gzip bomb"])
def test_a_body_over_the_cap_is_an_error_naming_the_endpoint_and_the_cap(make_response):
    client, _ = make(Server(make_response()))
    with pytest.raises(MalformedResponseError) as caught:
        client.list_page()
    assert caught.value.exit_code == ExitCode.API
    assert caught.value.message == ("malformed response from GET /me/memberships (HTTP 200): the body is over the "
                                    "8 MiB limit (after decompression); stopped reading it")


def test_decompression_never_makes_more_than_one_step_at_a_time():
    from memberships_cli.client import _READ_CHUNK, _inflaters, _through

    bomb = gzip.compress(b"0" * (32 * 2**20), 9)
    pieces = _through(_inflaters("gzip"), bomb)
    sizes = [len(next(pieces)) for _ in range(10)]
    assert max(sizes) <= _READ_CHUNK


@pytest.mark.parametrize("encoding, encode", [
    ("gzip", lambda b: gzip.compress(b)),
    ("x-gzip", lambda b: gzip.compress(b)),
    ("deflate", lambda b: __import__("zlib").compress(b)),
    ("deflate", lambda b: (lambda z: z.compress(b) + z.flush())(__import__("zlib").compressobj(wbits=-15))),
    ("gzip, deflate", lambda b: __import__("zlib").compress(gzip.compress(b))),
    ("identity", lambda b: b),
    ("br", lambda b: b),  # unknown codings pass through, as in httpx
], ids=["gzip", "x-gzip", "deflate (zlib)", "deflate (raw)", "gzip then deflate", "identity", "unknown"])
def test_compressed_bodies_are_read(encoding, encode):
    item = membership()
    item["organization"]["name"] = "Café " * 1000
    raw = json_bytes(page(item))
    client, _ = make(Server(_streamed(encode(raw), **{"Content-Encoding": encoding})))
    assert client.list_page().memberships[0].name == "Café " * 1000


def json_bytes(value) -> bytes:
    import json

    return json.dumps(value).encode()


def test_too_many_json_values_are_refused_before_parsing():
    client, _ = make(Server(httpx.Response(200, content=b'{"results": [], "n": [' + b"0," * 100_000 + b"0]}")))
    with pytest.raises(MalformedResponseError, match=r"over 100,000 JSON values in one answer"):
        client.list_page()


def test_an_error_status_with_a_body_over_the_cap_keeps_its_meaning():
    client, _ = make(Server(httpx.Response(401, content=b"x" * (9 * 2**20))))
    with pytest.raises(AuthError, match=r"the API rejected the token \(401 Unauthorized\)"):
        client.list_page()


def test_the_deadline_shortens_each_wait_and_then_ends_the_attempt():
    import httpcore

    from memberships_cli.client import OVER_DEADLINE, _Deadline

    deadline = _Deadline()
    assert deadline.bound(5.0, httpcore.ReadTimeout) == (5.0, False)  # no attempt running
    deadline.at = time.monotonic() + 1000
    assert deadline.bound(5.0, httpcore.ReadTimeout) == (5.0, False)
    timeout, shortened = deadline.bound(None, httpcore.ReadTimeout)
    assert shortened and 990 < timeout <= 1000
    deadline.at = time.monotonic() + 2
    timeout, shortened = deadline.bound(5.0, httpcore.ReadTimeout)
    assert shortened and timeout <= 2
    deadline.at = time.monotonic() - 1
    with pytest.raises(httpcore.ReadTimeout, match=OVER_DEADLINE):
        deadline.bound(5.0, httpcore.ReadTimeout)
    seen = []
    thread = threading.Thread(target=lambda: seen.append(deadline.at))
    thread.start()
    thread.join()
    assert seen == [None]  # each thread has its own


def test_every_connection_of_the_client_goes_through_the_deadline():
    from memberships_cli.client import _DeadlineBackend

    client = BirdClient("http://127.0.0.1:9", TOKEN)
    try:
        assert isinstance(client._http._transport._pool._network_backend, _DeadlineBackend)
    finally:
        client.close()


def test_a_trickling_server_is_given_up_on_after_the_timeout():
    """A real socket that sends a byte every 0.1 s: the attempt ends at its deadline (0.5 s) with
    a timeout, although no single read ever waited that long."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    stop = threading.Event()

    def serve():
        conn, _ = listener.accept()
        conn.recv(65536)
        try:
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b" " * 100000:
                if stop.is_set():
                    break
                conn.send(bytes([byte]))
                time.sleep(0.1)
        except OSError:
            pass
        conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    client = BirdClient(f"http://127.0.0.1:{listener.getsockname()[1]}", TOKEN, timeout=0.5, retry=RetryPolicy(attempts=1))
    try:
        with pytest.raises(NetworkError, match=r"timed out waiting for the server \(ReadTimeout: no complete answer within 0.5 s\)"):
            client.list_page()
    finally:
        stop.set()
        client.close()
        listener.close()
        thread.join(5)
