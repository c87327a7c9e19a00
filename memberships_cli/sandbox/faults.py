"""Injected failures: what the sandbox does instead of answering, and to which requests."""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from memberships_cli.sandbox.replies import error_code

ACTIONS = ("respond", "close", "truncate")


@dataclass
class Fault:
    """One injected failure, applied to the next `times` API requests that match.

    action "respond" answers with status/body/headers; "close" drops the connection without a
    response; "truncate" sends the headers with the full Content-Length, then half the body, then
    drops the connection. A body of None means an Error-shaped JSON body for statuses >= 400 (and
    for "truncate", which needs something to cut) and an empty body otherwise.

    The hostile server's options: `reason` replaces the status line's reason phrase; `trickle`
    sends the whole response (status line and headers too) one byte at a time, that many seconds
    apart; `fresh_token` (a JSON object body only) sets its nextPageToken to a new random token of
    that many characters on every response, as an endless listing does.
    """

    status: int = 500
    body: str | bytes | dict[str, Any] | list[Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    method: str | None = None
    path: str | None = None
    times: int = 1
    action: str = "respond"
    content_type: str = "application/json"
    reason: str | None = None
    trickle: float = 0.0
    fresh_token: int = 0

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
        if not 100 <= self.status <= 599:
            raise ValueError("status must be between 100 and 599")
        if self.times < 1:
            raise ValueError("times must be at least 1")
        if self.delay < 0:
            raise ValueError("delay must not be negative")
        if self.trickle < 0:
            raise ValueError("trickle must not be negative")
        if self.fresh_token < 0:
            raise ValueError("fresh_token must not be negative")
        if self.fresh_token and not isinstance(self.body, dict):
            raise ValueError("fresh_token needs a JSON object body")
        if self.reason is not None and any(c in self.reason for c in "\r\n"):
            raise ValueError("invalid reason phrase")
        for name, value in self.headers.items():
            # A line break would let a fault smuggle extra headers or a second response.
            if any(c in name for c in "\r\n:") or any(c in value for c in "\r\n"):
                raise ValueError(f"invalid header {name!r}")

    @classmethod
    def from_dict(cls, data: Any) -> Fault:
        """A fault from its JSON form (the field names above); ValueError when malformed."""
        if not isinstance(data, dict):
            raise ValueError("a fault must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(unknown)}")
        checks = {
            "status": int,
            "delay": (int, float),
            "times": int,
            "headers": dict,
            "method": (str, type(None)),
            "path": (str, type(None)),
            "action": str,
            "content_type": str,
            "body": (str, dict, list, type(None)),
            "reason": (str, type(None)),
            "trickle": (int, float),
            "fresh_token": int,
        }
        for name, types in checks.items():
            value = data.get(name)
            # bool is an int in Python but never a meaningful status, delay or count.
            if name in data and (isinstance(value, bool) or not isinstance(value, types)):
                raise ValueError(f"fault field {name!r} has the wrong type")
        headers = data.get("headers", {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise ValueError("fault headers must map strings to strings")
        return cls(**data)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is None:
            return True
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path

    def payload(self) -> bytes:
        """The response body this fault sends (before any truncation)."""
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode("utf-8")
        if self.fresh_token:
            assert isinstance(self.body, dict)
            token = secrets.token_urlsafe(self.fresh_token)[: self.fresh_token]
            return json.dumps({**self.body, "nextPageToken": token}, ensure_ascii=False).encode("utf-8")
        if self.body is not None:
            return json.dumps(self.body, ensure_ascii=False).encode("utf-8")
        if self.status >= 400 or self.action == "truncate":
            error = {"code": error_code(self.status), "message": "injected fault (sandbox)"}
            return json.dumps(error).encode("utf-8")
        return b""


class FaultQueue:
    """Pending faults in FIFO order; taking one uses up one of its `times`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # [fault, remaining] pairs: the caller's Fault is never mutated, so it can be re-added.
        self._pending: list[list[Any]] = []

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._pending.append([fault, fault.times])

    def clear(self) -> int:
        with self._lock:
            cleared = len(self._pending)
            self._pending.clear()
        return cleared

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)

    def take(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for entry in self._pending:
                fault = entry[0]
                if fault.matches(method, path):
                    entry[1] -= 1
                    if entry[1] == 0:
                        self._pending.remove(entry)
                    return fault
        return None
