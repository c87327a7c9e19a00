"""The thin HTTP layer: the only module that imports httpx.

One `BirdClient` per run (one keep-alive connection pool), one method per endpoint of the contract,
a page iterator, retries, and the mapping of HTTP answers to typed errors. It never prints: verbose
lines go to the `log` callable the caller passes in.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import random
import sys
import threading
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Callable, Iterator
from urllib.parse import quote

if "httpx" not in sys.modules:
    # httpx/__init__ runs `from ._main import main` (its own command line) inside try/except
    # ImportError; whenever `click` is installed, that pulls in click, pygments and most of Rich:
    # +120 ms of CPU and +5 MiB on every request we make (issue 12). None in sys.modules is Python's
    # documented way to make an import fail at once; httpx then keeps its stub `main`, which we never
    # call. The entry is removed afterwards, so nothing else in the process is affected.
    sys.modules["httpx._main"] = None  # type: ignore[assignment]
    try:
        import httpx
    finally:
        del sys.modules["httpx._main"]
import httpcore
import httpx

from . import __version__
from .errors import (
    ApiError,
    AuthError,
    CliError,
    ConflictError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
)
from .models import Membership, MembershipPage, is_org_id
from .redact import Scrubber

USER_AGENT = f"memberships-cli/{__version__}"
PAGE_SIZE = 100  # the API's maximum
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})

# -- what one answer, and one listing, may cost --------------------------------------------------
# A page of 100 memberships is ~100 KB. 8 MiB, after decompression, is 80 times that and still
# small next to the tool's own ~30 MiB; anything larger is not an answer this API gives.
MAX_RESPONSE_BYTES = 8 * 1024 * 1024
# Parsed JSON takes up to ~20 times its text (`[{},{},...]`: 3 bytes of text, a 64-byte dict). A
# page of 100 memberships holds ~3,000 values; a body with more than this many separators
# (`,` and `:`, counted before parsing) is refused, which keeps parsing within a few MiB.
MAX_JSON_VALUES = 100_000
# 10,000 pages of 100 is a million memberships: no real account, and a few minutes of requests.
MAX_PAGES = 10_000
# A server that filters may send an empty page with a token now and then; this many in a row is
# a listing that makes no progress.
MAX_EMPTY_PAGES = 20
# Page tokens are opaque cursors, usually well under 1 KB; a longer one is refused so the repeat
# check (one 16-byte digest per page) and each request URL stay small.
MAX_PAGE_TOKEN_CHARS = 4096
_READ_CHUNK = 64 * 1024  # raw bytes per read, and decompressed bytes per step
# Set explicitly: httpx would also offer br/zstd when those packages happen to be installed, and
# only these two are decompressed here with a bound on the output.
ACCEPT_ENCODING = "gzip, deflate"


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up. `attempts` counts the first try."""

    attempts: int = 4
    base_delay: float = 0.5
    max_wait: float = 30.0  # a single wait, Retry-After included
    max_total: float = 60.0  # all waits of one request together

    @classmethod
    def from_env(cls, environ) -> "RetryPolicy":
        """MEMBERSHIPS_RETRIES (retries after the first try), MEMBERSHIPS_RETRY_MAX_WAIT and
        MEMBERSHIPS_RETRY_MAX_TOTAL (seconds)."""
        from .errors import UsageError

        def number(name: str, default: float, low: float, high: float) -> float:
            raw = environ.get(name)
            if raw in (None, ""):
                return default
            try:
                value = float(raw)
            except ValueError:
                value = float("nan")
            if not low <= value <= high:
                raise UsageError(f"invalid {name}={raw!r}: expected a number from {low:g} to {high:g}")
            return value

        return cls(
            attempts=1 + int(number("MEMBERSHIPS_RETRIES", cls.attempts - 1, 0, 10)),
            max_wait=number("MEMBERSHIPS_RETRY_MAX_WAIT", cls.max_wait, 0, 3600),
            max_total=number("MEMBERSHIPS_RETRY_MAX_TOTAL", cls.max_total, 0, 86400),
        )


def _certificate_refusal(exc: BaseException) -> str | None:
    """Why the server's certificate was refused, when that is what ended the connection: httpx
    chains httpcore's error, which chains the ssl module's."""
    import ssl

    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen.verify_message or str(seen)
        seen = seen.__cause__ or seen.__context__
    return None


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, so retries spread out."""
    ceiling = min(policy.max_wait, policy.base_delay * (2 ** (attempt - 1)))
    return ceiling / 2 + rng.uniform(0, ceiling / 2)


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999: would be printed back as Infinity, which is not JSON
        raise ValueError(f"number {text[:20]} is out of range")
    return value


class _TooManyValues(ValueError):
    pass


def _parse_json(body: bytes):
    """The body as JSON; ValueError for anything that is not strict JSON we can print back.

    RecursionError is a hostile body nested too deep to parse: as unusable as any other.
    """
    # Counted before parsing: every value but the first follows a `,` or a `:` (ones inside
    # strings only make the count safer).
    if body.count(b",") + body.count(b":") > MAX_JSON_VALUES:
        raise _TooManyValues(f"over {MAX_JSON_VALUES:,} JSON values in one answer")
    try:
        return json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _without_userinfo(url: str) -> str:
    """The URL as it may be shown: any user:password@ replaced."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return scheme + sep + authority + slash + path


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, its body read (within MAX_RESPONSE_BYTES) and decompressed."""

    status_code: int
    reason_phrase: str
    headers: httpx.Headers
    content: bytes


def _describe(response) -> str:
    return f"{response.status_code} {response.reason_phrase}".strip()


def _error_body(answer: Answer) -> tuple[str | None, str | None]:
    """(code, message) from an API error body, tolerating anything that is not one."""
    try:
        body = _parse_json(answer.content)
    except ValueError:  # JSONDecodeError and UnicodeDecodeError included
        return None, None
    if not isinstance(body, dict):
        return None, None
    code = body.get("code") if isinstance(body.get("code"), str) else None
    message = body.get("message") if isinstance(body.get("message"), str) else None
    details = body.get("details")
    if message and isinstance(details, dict) and details:
        parts = []
        for field, problems in details.items():
            text = ", ".join(map(str, problems)) if isinstance(problems, list) else str(problems)
            parts.append(f"{field}: {text}")
        message = f"{message} ({'; '.join(parts)})"
    return code, message


# -- reading a body within bounds ------------------------------------------------------------------


class _TooLarge(Exception):
    pass


class _Inflater:
    """zlib decompression that never produces more than _READ_CHUNK bytes in one step: httpx's own
    decoders inflate each network chunk whole, and 64 KiB of a gzip bomb is ~64 MiB."""

    def __init__(self, coding: str) -> None:
        self._coding = coding
        # gzip: a gzip header; deflate: the zlib format (RFC 9110), with raw deflate as a fallback
        # for the servers that send that instead, as httpx does.
        self._z = zlib.decompressobj(zlib.MAX_WBITS | 16 if coding != "deflate" else zlib.MAX_WBITS)
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        while True:
            try:
                out = self._z.decompress(data, _READ_CHUNK)
            except zlib.error as exc:
                if self._coding == "deflate" and not self._started:
                    self._z, self._started = zlib.decompressobj(-zlib.MAX_WBITS), True
                    continue
                raise httpx.DecodingError(f"{self._coding}: {exc}") from None
            self._started = True
            data = self._z.unconsumed_tail
            if out:
                yield out
            if not data and len(out) < _READ_CHUNK:
                return

    def flush(self) -> Iterator[bytes]:
        try:
            tail = self._z.flush()
        except zlib.error as exc:
            raise httpx.DecodingError(f"{self._coding}: {exc}") from None
        if tail:
            yield tail


def _inflaters(content_encoding: str) -> list[_Inflater]:
    """The decoders for a Content-Encoding, first to apply first. Codings other than gzip and
    deflate are passed through as httpx does (the JSON parse then says what is wrong)."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    return [_Inflater("deflate" if c == "deflate" else "gzip") for c in reversed(codings)
            if c in ("gzip", "x-gzip", "deflate")]


def _through(chain: list[_Inflater], data: bytes) -> Iterator[bytes]:
    if not chain:
        yield data
        return
    for piece in chain[0].feed(data):
        yield from _through(chain[1:], piece)


def _read_body(response: httpx.Response, limit: int) -> bytes:
    """The decompressed body, read as a stream; _TooLarge as soon as it passes `limit` bytes."""
    chain = _inflaters(response.headers.get("Content-Encoding", ""))
    parts: list[bytes] = []
    size = 0

    def pieces() -> Iterator[bytes]:
        try:
            raws = iter(response.iter_raw())
            first = next(raws, b"")
        except httpx.StreamConsumed:
            # A transport that hands over a response already read into memory (httpx's
            # MockTransport, in unit tests): httpx has decoded it; only the cap is left to apply.
            yield response.content
            return
        yield from _through(chain, first)
        for raw in raws:
            yield from _through(chain, raw)
        for i, inflater in enumerate(chain):
            for piece in inflater.flush():
                yield from _through(chain[i + 1:], piece)

    for piece in pieces():
        size += len(piece)
        if size > limit:
            raise _TooLarge()
        parts.append(piece)
    return b"".join(parts)


# -- one deadline per attempt ----------------------------------------------------------------------
#
# httpx's timeouts bound each socket operation, so a server that sends one byte every half second
# keeps a request alive forever. Each attempt gets a deadline (its start + --timeout), and every
# connect, read and write of the network streams below waits at most until then. This is done
# where the socket is used (httpcore's network backend) rather than by checking the clock between
# body chunks, because a server can trickle the status line and headers as well, before httpx
# returns anything to check. The deadline is per thread: the threads of a bulk run share one
# connection pool, and a connection kept alive serves one thread's request, then another's.

OVER_DEADLINE = "no complete answer within the timeout"


class _Deadline(threading.local):
    at: float | None = None

    def bound(self, timeout: float | None, error: type[Exception]) -> tuple[float | None, bool]:
        """(the timeout to use, whether the deadline shortened it); `error` once it has passed."""
        if self.at is None:
            return timeout, False
        left = self.at - time.monotonic()
        if left <= 0:
            raise error(OVER_DEADLINE)
        if timeout is None or left < timeout:
            return left, True
        return timeout, False


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        timeout, shortened = self._deadline.bound(timeout, httpcore.ReadTimeout)
        try:
            return self._stream.read(max_bytes, timeout)
        except httpcore.ReadTimeout:
            if shortened:
                raise httpcore.ReadTimeout(OVER_DEADLINE) from None
            raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        timeout, shortened = self._deadline.bound(timeout, httpcore.WriteTimeout)
        try:
            self._stream.write(buffer, timeout)
        except httpcore.WriteTimeout:
            if shortened:
                raise httpcore.WriteTimeout(OVER_DEADLINE) from None
            raise

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context, server_hostname=None, timeout=None) -> httpcore.NetworkStream:
        timeout, _ = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, timeout), self._deadline)

    def get_extra_info(self, info: str):
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend, deadline: _Deadline) -> None:
        self._backend = backend
        self._deadline = deadline

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        timeout, _ = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(self, path, timeout=None, socket_options=None):
        timeout, _ = self._deadline.bound(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options), self._deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _bound_by(client: httpx.Client, deadline: _Deadline) -> None:
    """Route every connection of `client` through the deadline. httpx has no public way to hand
    httpcore a network backend, so this sets the pools' one attribute for it; a test (the
    trickling server of tests/test_faults.py) fails if an httpx upgrade moves it."""
    transports = [client._transport, *client._mounts.values()]
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if pool is not None:
            pool._network_backend = _DeadlineBackend(pool._network_backend, deadline)


def _unused_tls_context():
    """For a plain-http base URL (loopback only: config refuses any other), the TLS context is
    never used, yet httpx builds one per client by loading the CA bundle: ~45 ms of every sandbox
    run. This one loads nothing and still verifies, so it could only ever fail closed."""
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class BirdClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        log: Callable[[str], None] | None = None,
        max_connections: int = 20,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
        command_hint: Callable[[str], str] = lambda command: f"memberships {command}",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        # `memberships COMMAND` as the run's hints must spell it: with the global options given
        # (AppContext.command_hint), or another API or profile would be listed.
        self._command_hint = command_hint
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._log = log
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        # The one boundary for what the server sends back: every message, log line and JSON body
        # of this client crosses it, so an echoed token (in any encoding) is shown as [token].
        self.scrub = Scrubber(token)
        self._shown_url = _without_userinfo(self.base_url)
        # Rate limits are shared: a 429 pauses every thread of a bulk run, not just the one that hit it.
        self._gate_lock = threading.Lock()
        self._not_before = 0.0
        self._deadline = _Deadline()
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "Accept-Encoding": ACCEPT_ENCODING,
                "User-Agent": USER_AGENT,
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,  # never carry the Authorization header to another origin
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
            verify=_unused_tls_context() if self.base_url.startswith("http://") else True,
        )
        _bound_by(self._http, self._deadline)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "BirdClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- endpoints ---------------------------------------------------------------------------

    def get_me(self) -> dict:
        with self._scrubbing():
            answer = self._request("GET", "me")
            body = self._json(answer, "GET /me")
            if not isinstance(body, dict):
                raise MalformedResponseError(
                    f"malformed response from GET /me (HTTP {answer.status_code}): expected an object",
                    status=answer.status_code,
                    endpoint="GET /me",
                )
            return body

    def list_page(
        self,
        *,
        limit: int = PAGE_SIZE,
        reverse: bool = False,
        page_token: str | None = None,
        status: str | None = None,
    ) -> MembershipPage:
        params: dict[str, str] = {"limit": str(limit)}
        if reverse:
            params["reverse"] = "true"
        if page_token:
            params["pageToken"] = page_token
        if status:
            params["status"] = status
        endpoint = "GET /me/memberships"
        with self._scrubbing():
            answer = self._request("GET", "me/memberships", params=params)
            raw = self._parsed(answer, endpoint)
            page = MembershipPage.from_api(self._scrubbed(raw, answer), endpoint, answer.status_code)
            # The page token goes back to the server as it came; only what is shown is scrubbed.
            token = raw.get("nextPageToken") or None
            if token is not None and len(token) > MAX_PAGE_TOKEN_CHARS:
                raise MalformedResponseError(
                    f"malformed response from {endpoint} (HTTP {answer.status_code}): nextPageToken is "
                    f"{len(token):,} characters long, over the limit of {MAX_PAGE_TOKEN_CHARS:,}",
                    "the server did not answer as Bird's API does; check --api-url, or retry with --verbose",
                    status=answer.status_code, endpoint=endpoint,
                )
            return dataclasses.replace(page, next_page_token=token)

    def iter_pages(
        self, *, status: str | None = None, reverse: bool = False, limit: int | None = None
    ) -> Iterator[list[Membership]]:
        """Every page in turn (pages of 100), stopping after `limit` memberships if given.

        A listing must end: a nextPageToken that comes back again, MAX_EMPTY_PAGES empty pages in
        a row, or more than MAX_PAGES pages is an error. Tokens seen are kept as 16-byte digests,
        so the repeat check costs ~1 MiB at most whatever length the tokens have.

        A page with more results than asked for keeps them all (the next page starts after them,
        so cutting would skip rows), except that `limit` is honoured; the byte cap bounds them.
        """
        remaining = limit
        token: str | None = None
        seen: set[bytes] = set()
        pages = empty = 0
        while True:
            size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
            page = self.list_page(limit=size, reverse=reverse, page_token=token, status=status)
            pages += 1
            items = page.memberships if remaining is None else page.memberships[:remaining]
            yield items
            if remaining is not None:
                remaining -= len(items)
                if remaining <= 0:
                    return
            token = page.next_page_token
            if not token:
                return
            empty = 0 if page.memberships else empty + 1
            digest = hashlib.blake2b(token.encode("utf-8", "surrogatepass"), digest_size=16).digest()
            if digest in seen:
                raise self._endless("nextPageToken repeats a page already read")
            if empty >= MAX_EMPTY_PAGES:
                raise self._endless(f"{empty} empty pages in a row, each with a new nextPageToken")
            if pages >= MAX_PAGES:
                raise self._endless(f"more than {MAX_PAGES:,} pages")
            seen.add(digest)

    @staticmethod
    def _endless(what: str) -> MalformedResponseError:
        return MalformedResponseError(
            f"malformed response from GET /me/memberships: {what}; stopped listing instead of "
            "going on forever",
            "the server did not answer as Bird's API does; check --api-url, or retry with --verbose",
            endpoint="GET /me/memberships",
        )

    def get_membership(self, org_id: str) -> Membership:
        with self._scrubbing():
            path = self._membership_path("GET", org_id)
            endpoint = f"GET /{path}"
            answer = self._request("GET", path, missing=org_id)
            return Membership.from_api(self._json(answer, endpoint), endpoint, answer.status_code)

    def accept(self, org_id: str) -> Membership | None:
        """Accept the invitation. Returns the membership if the server sent one back."""
        with self._scrubbing():
            path = self._membership_path("POST", org_id)
            endpoint = f"POST /{path}"
            # A repeated accept is harmless (at worst a 409), so it is retried like a GET.
            answer = self._request("POST", path, missing=org_id)
            if not answer.content.strip():
                return None
            return Membership.from_api(self._json(answer, endpoint), endpoint, answer.status_code)

    def leave(self, org_id: str) -> None:
        """Leave the organization. Any 2xx is success; whatever body comes back is ignored (read to
        its end, up to the cap: a transfer cut short is still a network failure)."""
        with self._scrubbing():
            path = self._membership_path("DELETE", org_id)
            self._request("DELETE", path, missing=org_id, idempotent=False, body_used=False)

    # -- plumbing ----------------------------------------------------------------------------

    def _membership_path(self, method: str, org_id: str) -> str:
        """The path of one membership: the last gate before a request is sent. Only a UUID may
        become a path segment (`..` would turn a DELETE of a membership into a DELETE of /me)."""
        if not is_org_id(org_id):
            raise MalformedResponseError(
                f"not sent: {method} of membership {org_id!r}: an organization id "
                "must be a UUID",
                f"the id came from the server or a bug; run `{self._command_hint('list')}` to see your organizations",
                endpoint=f"{method} /me/memberships/{{organizationId}}",
            )
        return "me/memberships/" + quote(org_id, safe="")

    @contextmanager
    def _scrubbing(self):
        """Every error leaving the client crosses this: message, hint and API code, scrubbed."""
        try:
            yield
        except CliError as exc:
            exc.message = self.scrub.text(exc.message)
            exc.args = (exc.message,)
            exc.hint = self.scrub.optional(exc.hint)
            if isinstance(exc, ApiError):
                exc.code = self.scrub.optional(exc.code)
            raise

    def _emit(self, line: str) -> None:
        if self._log is not None:
            self._log(self.scrub.text(line))

    def _gate_wait(self) -> float:
        """Seconds until the rate-limit gate opens (0 or less: open)."""
        with self._gate_lock:
            return self._not_before - self._clock()

    def _close_gate_for(self, seconds: float) -> None:
        with self._gate_lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    def _exchange(self, method: str, path: str, params: dict | None, read_body: Callable[[int], bool]):
        """One attempt within its deadline: send, then read the body when `read_body(status)`
        says so. Returns (Answer, the body was over MAX_RESPONSE_BYTES). A body over the cap is
        left unread (empty in the Answer): an error status is then mapped by its status alone."""
        request = self._http.build_request(method, path, params=params)
        self._deadline.at = time.monotonic() + self.timeout
        try:
            response = self._http.send(request, stream=True)
            try:
                content, too_large = b"", False
                if read_body(response.status_code):
                    try:
                        content = _read_body(response, MAX_RESPONSE_BYTES)
                    except _TooLarge:
                        too_large = True
            finally:
                response.close()
        finally:
            self._deadline.at = None
        answer = Answer(response.status_code, response.reason_phrase, response.headers, content)
        return answer, too_large

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        missing: str | None = None,
        idempotent: bool = True,
        body_used: bool = True,
    ) -> Answer:
        """Send with retries; return a 2xx answer or raise a typed error.

        `missing`: the organization id, when a 404 means "no such membership" (exit 3) rather than
        a wrong API URL. `idempotent=False` (DELETE) retries only when the request certainly never
        reached the server (the connection could not be opened). `body_used=False`: a 2xx body
        over the cap is no error, since nothing of it is used.
        """
        endpoint = f"{method} /{path}"
        policy = self.retry
        started = self._clock()
        waited = 0.0
        attempt = 0

        def read_body(status: int) -> bool:
            return status not in RETRYABLE_STATUSES  # a retry needs the status, not the body

        while True:
            attempt += 1
            gate = self._gate_wait()
            if gate > 0:
                # Another request of this run was told to slow down. Waiting longer than the retry
                # limits allow would only stall a bulk run: fail now, without sending.
                if gate > policy.max_wait or waited + gate > policy.max_total:
                    raise NetworkError(
                        f"{endpoint}: not sent: the server rate-limited this run and asked to wait "
                        f"{gate:.0f} s more, over the retry limit",
                        "try again later (MEMBERSHIPS_RETRY_MAX_WAIT and MEMBERSHIPS_RETRY_MAX_TOTAL set the limits)",
                    )
                self._emit(f"* waiting {gate:.1f} s: the server asked all requests to slow down")
                waited += gate
                self._sleep(gate)
            self._emit(f"> {method} {self._shown_url}/{path}" + (f"?{httpx.QueryParams(params)}" if params else ""))
            sent_at = self._clock()
            retry_after: float | None = None
            try:
                answer, too_large = self._exchange(method, path, params, read_body)
            except httpx.DecodingError as exc:
                # Content-Encoding says gzip (say) and the body is not: an unusable answer, not a
                # network failure.
                raise MalformedResponseError(
                    f"malformed response from {endpoint}: the body could not be decoded ({exc})",
                    "the server did not answer as Bird's API does; check --api-url, or retry with --verbose",
                    endpoint=endpoint,
                ) from None
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                refused = _certificate_refusal(exc)
                if refused is not None:
                    # Not a passing fault: retrying would only repeat the refusal.
                    raise NetworkError(
                        f"{endpoint}: the TLS certificate of {self.scrub.text(self._http.base_url.host)} is not "
                        f"trusted ({self.scrub.text(refused)})",
                        "check --api-url; behind a proxy that inspects TLS, point SSL_CERT_FILE at its CA bundle",
                    ) from None
                failure = f"could not connect ({exc.__class__.__name__}: {exc})"
                retryable = True
            except httpx.TimeoutException as exc:
                why = f": no complete answer within {self.timeout:g} s" if str(exc) == OVER_DEADLINE else ""
                failure = f"timed out waiting for the server ({exc.__class__.__name__}{why})"
                retryable = idempotent
            except httpx.TransportError as exc:
                failure = f"connection failed ({exc.__class__.__name__}: {exc})"
                retryable = idempotent
            else:
                elapsed_ms = (self._clock() - sent_at) * 1000
                self._emit(f"< {_describe(answer)} ({elapsed_ms:.0f} ms)")
                if too_large and body_used and 200 <= answer.status_code < 300:
                    raise self._too_large(endpoint, answer)
                if answer.status_code not in RETRYABLE_STATUSES:
                    return self._check(answer, endpoint, missing)
                failure = _describe(answer)
                retryable = idempotent or answer.status_code == 429
                retry_after = parse_retry_after(answer.headers.get("Retry-After"))
                if answer.status_code == 429:
                    if retry_after is None:  # the gate and this request's own retry wait alike
                        retry_after = backoff_delay(attempt, policy, self._rng)
                    self._close_gate_for(retry_after)
            if not retryable:
                # In the message, not a hint: a bulk run reports messages only.
                raise self._gave_up(
                    endpoint, attempt, started, failure,
                    extra="not retried: the request may have reached the server; "
                    f"run `{self._command_hint('list')}` to see whether it took effect",
                )
            if attempt >= policy.attempts:
                raise self._gave_up(endpoint, attempt, started, failure)
            delay = retry_after if retry_after is not None else backoff_delay(attempt, policy, self._rng)
            if delay > policy.max_wait or waited + delay > policy.max_total:
                raise self._gave_up(
                    endpoint, attempt, started, failure,
                    extra=f"the next wait ({delay:.0f} s) is over the retry limit",
                )
            self._emit(f"* retrying in {delay:.1f} s (attempt {attempt + 1} of {policy.attempts}): {failure}")
            waited += delay
            self._sleep(delay)

    @staticmethod
    def _too_large(endpoint: str, answer: Answer) -> CliError:
        return MalformedResponseError(
            f"malformed response from {endpoint} (HTTP {answer.status_code}): the body is over the "
            f"{MAX_RESPONSE_BYTES // 2**20} MiB limit (after decompression); stopped reading it",
            "the server did not answer as Bird's API does; check --api-url, or retry with --verbose",
            status=answer.status_code, endpoint=endpoint,
        )

    def _gave_up(self, endpoint: str, attempts: int, started: float, failure: str, extra: str = "") -> CliError:
        took = self._clock() - started
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        message = f"{endpoint}: {tries} over {took:.1f} s; last: {failure}"
        if extra:
            message += f" ({extra})"
        return NetworkError(message, "check your network and the API URL, or try again later")

    def _check(self, answer: Answer, endpoint: str, missing: str | None) -> Answer:
        status = answer.status_code
        if 200 <= status < 300:
            return answer
        code, message = _error_body(answer)
        said = _describe(answer)
        detail = f"{said}: {message}" if message else said
        if 300 <= status < 400:
            location = answer.headers.get("Location", "(no Location header)")
            raise ApiError(
                f"{endpoint}: the server answered {said} to {location}; redirects are not followed "
                "(the token would go with them)",
                "point --api-url (or MEMBERSHIPS_API_URL) at the final address",
                status=status, code=code, endpoint=endpoint,
            )
        if status in (401, 403):
            raise AuthError(
                f"the API rejected the token ({detail})",
                f"run `{self._command_hint('login')}` again, or set MEMBERSHIPS_TOKEN to a valid token",
            )
        if status == 404 and missing is not None:
            raise NotFoundError(
                f"no membership or invitation for organization {missing} ({detail})",
                f"run `{self._command_hint('list')}` to see your organizations",
            )
        if status == 409:
            raise ConflictError(f"{endpoint}: {detail}", status=status, code=code, endpoint=endpoint)
        hint = "check --api-url (or MEMBERSHIPS_API_URL)" if status == 404 else None
        raise ApiError(f"{endpoint}: {detail}", hint, status=status, code=code, endpoint=endpoint)

    def _parsed(self, answer: Answer, endpoint: str):
        """The body as JSON, as the server sent it (not scrubbed: see _scrubbed)."""
        try:
            return _parse_json(answer.content)
        except _TooManyValues as exc:
            raise MalformedResponseError(
                f"malformed response from {endpoint} (HTTP {answer.status_code}): {exc}",
                "the server did not answer as Bird's API does; check --api-url, or retry with --verbose",
                status=answer.status_code,
                endpoint=endpoint,
            ) from None
        except ValueError:  # JSONDecodeError and UnicodeDecodeError included
            kind = answer.headers.get("Content-Type", "no content type")
            raise MalformedResponseError(
                f"malformed response from {endpoint} (HTTP {answer.status_code}): "
                f"body is not JSON ({kind}, {len(answer.content)} bytes)",
                "the server did not answer as Bird's API does; check --api-url, or retry with --verbose",
                status=answer.status_code,
                endpoint=endpoint,
            ) from None

    def _scrubbed(self, value, answer: Answer):
        """A parsed body as it may be shown (JSON output included): the token cut out of every
        string. Walked only when the raw bytes may hold a form of it, so an ordinary page costs a
        few byte searches."""
        if self.scrub.may_hold(answer.content):
            return self.scrub.json(value)
        return value

    def _json(self, answer: Answer, endpoint: str):
        return self._scrubbed(self._parsed(answer, endpoint), answer)
