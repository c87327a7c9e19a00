"""The thin HTTP layer: the only module that imports httpx.

One `BirdClient` per run (one keep-alive connection pool), one method per endpoint of the contract,
a page iterator, retries, and the mapping of HTTP answers to typed errors. It never prints: verbose
lines go to the `log` callable the caller passes in.
"""

from __future__ import annotations

import math
import random
import sys
import threading
import time
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
from .models import Membership, MembershipPage

USER_AGENT = f"memberships-cli/{__version__}"
PAGE_SIZE = 100  # the API's maximum
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})


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


def _parse_json(response: httpx.Response):
    """The body as JSON; ValueError for anything that is not strict JSON we can print back.

    RecursionError is a hostile body nested too deep to parse: as unusable as any other.
    """
    try:
        return response.json(parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _without_userinfo(url: str) -> str:
    """The URL as it may be shown: any user:password@ replaced."""
    scheme, sep, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if "@" in authority:
        authority = "***@" + authority.rpartition("@")[2]
    return scheme + sep + authority + slash + path


def _describe(response: httpx.Response) -> str:
    return f"{response.status_code} {response.reason_phrase}".strip()


def _error_body(response: httpx.Response) -> tuple[str | None, str | None]:
    """(code, message) from an API error body, tolerating anything that is not one."""
    try:
        body = _parse_json(response)
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
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self._log = log
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock
        # Kept only to scrub it from whatever the server sends back into messages and log lines.
        self._token = token
        self._shown_url = _without_userinfo(self.base_url)
        # Rate limits are shared: a 429 pauses every thread of a bulk run, not just the one that hit it.
        self._gate_lock = threading.Lock()
        self._not_before = 0.0
        self._http = httpx.Client(
            base_url=self.base_url + "/",
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            },
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            follow_redirects=False,  # never carry the Authorization header to another origin
            limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
            transport=transport,
            verify=_unused_tls_context() if self.base_url.startswith("http://") else True,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "BirdClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- endpoints ---------------------------------------------------------------------------

    def get_me(self) -> dict:
        response = self._request("GET", "me")
        body = self._json(response, "GET /me")
        if not isinstance(body, dict):
            raise MalformedResponseError(
                f"malformed response from GET /me (HTTP {response.status_code}): expected an object",
                status=response.status_code,
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
        response = self._request("GET", "me/memberships", params=params)
        return MembershipPage.from_api(
            self._json(response, "GET /me/memberships"), "GET /me/memberships", response.status_code
        )

    def iter_pages(
        self, *, status: str | None = None, reverse: bool = False, limit: int | None = None
    ) -> Iterator[list[Membership]]:
        """Every page in turn (pages of 100), stopping after `limit` memberships if given.

        A nextPageToken that comes back again would make us loop forever: that is an error.
        """
        remaining = limit
        token: str | None = None
        seen: set[str] = set()
        while True:
            size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
            page = self.list_page(limit=size, reverse=reverse, page_token=token, status=status)
            items = page.memberships if remaining is None else page.memberships[:remaining]
            yield items
            if remaining is not None:
                remaining -= len(items)
                if remaining <= 0:
                    return
            token = page.next_page_token
            if not token:
                return
            if token in seen:
                raise MalformedResponseError(
                    "malformed response from GET /me/memberships: nextPageToken repeats a page "
                    "already read; stopped listing instead of looping forever",
                    endpoint="GET /me/memberships",
                )
            seen.add(token)

    def get_membership(self, org_id: str) -> Membership:
        path = self._membership_path(org_id)
        endpoint = f"GET /{path}"
        response = self._request("GET", path, missing=org_id)
        return Membership.from_api(self._json(response, endpoint), endpoint, response.status_code)

    def accept(self, org_id: str) -> Membership | None:
        """Accept the invitation. Returns the membership if the server sent one back."""
        path = self._membership_path(org_id)
        endpoint = f"POST /{path}"
        # A repeated accept is harmless (at worst a 409), so it is retried like a GET.
        response = self._request("POST", path, missing=org_id)
        if not response.content.strip():
            return None
        return Membership.from_api(self._json(response, endpoint), endpoint, response.status_code)

    def leave(self, org_id: str) -> None:
        """Leave the organization. Any 2xx is success; whatever body comes back is ignored."""
        self._request("DELETE", self._membership_path(org_id), missing=org_id, idempotent=False)

    # -- plumbing ----------------------------------------------------------------------------

    @staticmethod
    def _membership_path(org_id: str) -> str:
        return "me/memberships/" + quote(org_id, safe="")

    def _redact(self, text: str) -> str:
        """Text from the server or the network, with the token cut out wherever it was echoed."""
        return text.replace(self._token, "[token]") if self._token else text

    def _emit(self, line: str) -> None:
        if self._log is not None:
            self._log(self._redact(line))

    def _gate_wait(self) -> float:
        """Seconds until the rate-limit gate opens (0 or less: open)."""
        with self._gate_lock:
            return self._not_before - self._clock()

    def _close_gate_for(self, seconds: float) -> None:
        with self._gate_lock:
            self._not_before = max(self._not_before, self._clock() + seconds)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        missing: str | None = None,
        idempotent: bool = True,
    ) -> httpx.Response:
        """Send with retries; return a 2xx response or raise a typed error.

        `missing`: the organization id, when a 404 means "no such membership" (exit 3) rather than
        a wrong API URL. `idempotent=False` (DELETE) retries only when the request certainly never
        reached the server (the connection could not be opened).
        """
        endpoint = f"{method} /{path}"
        policy = self.retry
        started = self._clock()
        waited = 0.0
        attempt = 0
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
                response = self._http.request(method, path, params=params)
            except httpx.DecodingError as exc:
                # Content-Encoding says gzip (say) and the body is not: an unusable answer, not a
                # network failure.
                raise MalformedResponseError(
                    f"malformed response from {endpoint}: the body could not be decoded ({self._redact(str(exc))})",
                    "the server did not answer as Bird's API does; check --api-url, or retry with --verbose",
                    endpoint=endpoint,
                ) from None
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                refused = _certificate_refusal(exc)
                if refused is not None:
                    # Not a passing fault: retrying would only repeat the refusal.
                    raise NetworkError(
                        f"{endpoint}: the TLS certificate of {self._redact(self._http.base_url.host)} is not "
                        f"trusted ({self._redact(refused)})",
                        "check --api-url; behind a proxy that inspects TLS, point SSL_CERT_FILE at its CA bundle",
                    ) from None
                failure = f"could not connect ({exc.__class__.__name__}: {exc})"
                retryable = True
            except httpx.TimeoutException as exc:
                failure = f"timed out waiting for the server ({exc.__class__.__name__})"
                retryable = idempotent
            except httpx.TransportError as exc:
                failure = f"connection failed ({exc.__class__.__name__}: {exc})"
                retryable = idempotent
            else:
                elapsed_ms = (self._clock() - sent_at) * 1000
                self._emit(f"< {_describe(response)} ({elapsed_ms:.0f} ms)")
                if response.status_code not in RETRYABLE_STATUSES:
                    return self._check(response, endpoint, missing)
                failure = _describe(response)
                retryable = idempotent or response.status_code == 429
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                if response.status_code == 429:
                    if retry_after is None:  # the gate and this request's own retry wait alike
                        retry_after = backoff_delay(attempt, policy, self._rng)
                    self._close_gate_for(retry_after)
            failure = self._redact(failure)
            if not retryable:
                # In the message, not a hint: a bulk run reports messages only.
                raise self._gave_up(
                    endpoint, attempt, started, failure,
                    extra="not retried: the request may have reached the server; "
                    "run `memberships list` to see whether it took effect",
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

    def _gave_up(self, endpoint: str, attempts: int, started: float, failure: str, extra: str = "") -> CliError:
        took = self._clock() - started
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        message = f"{endpoint}: {tries} over {took:.1f} s; last: {failure}"
        if extra:
            message += f" ({extra})"
        return NetworkError(message, "check your network and the API URL, or try again later")

    def _check(self, response: httpx.Response, endpoint: str, missing: str | None) -> httpx.Response:
        status = response.status_code
        if 200 <= status < 300:
            return response
        code, message = _error_body(response)
        if message:  # a server may echo the token it rejected
            message = self._redact(message)
        said = f"{status} {response.reason_phrase}".strip()
        detail = f"{said}: {message}" if message else said
        if 300 <= status < 400:
            location = self._redact(response.headers.get("Location", "(no Location header)"))
            raise ApiError(
                f"{endpoint}: the server answered {said} to {location}; redirects are not followed "
                "(the token would go with them)",
                "point --api-url (or MEMBERSHIPS_API_URL) at the final address",
                status=status, code=code, endpoint=endpoint,
            )
        if status in (401, 403):
            raise AuthError(
                f"the API rejected the token ({detail})",
                "run `memberships login` again, or set MEMBERSHIPS_TOKEN to a valid token",
            )
        if status == 404 and missing is not None:
            raise NotFoundError(
                f"no membership or invitation for organization {missing} ({detail})",
                "run `memberships list` to see your organizations",
            )
        if status == 409:
            raise ConflictError(f"{endpoint}: {detail}", status=status, code=code, endpoint=endpoint)
        hint = "check --api-url (or MEMBERSHIPS_API_URL)" if status == 404 else None
        raise ApiError(f"{endpoint}: {detail}", hint, status=status, code=code, endpoint=endpoint)

    def _json(self, response: httpx.Response, endpoint: str):
        try:
            return _parse_json(response)
        except ValueError:  # JSONDecodeError and UnicodeDecodeError included
            kind = self._redact(response.headers.get("Content-Type", "no content type"))
            raise MalformedResponseError(
                f"malformed response from {endpoint} (HTTP {response.status_code}): "
                f"body is not JSON ({kind}, {len(response.content)} bytes)",
                "the server did not answer as Bird's API does; check --api-url, or retry with --verbose",
                status=response.status_code,
                endpoint=endpoint,
            ) from None
