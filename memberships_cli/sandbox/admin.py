"""The /_sandbox/ endpoints, so scripts and other processes can drive a running sandbox.

They need no token: the sandbox is a loopback development server and the server refuses admin
calls from any other address.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, Protocol

from memberships_cli.sandbox.faults import Fault
from memberships_cli.sandbox.replies import (
    Reply,
    error_reply,
    json_reply,
    method_not_allowed,
    not_found,
    raw_json_reply,
    validation_reply,
)
from memberships_cli.sandbox.store import DuplicateMembership, Store

PREFIX = "/_sandbox/"


class BadPayload(ValueError):
    pass


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8")) if body.strip() else None
    except (UnicodeDecodeError, ValueError) as error:
        raise BadPayload("is not valid JSON") from error


class Controls(Protocol):
    """What the admin endpoints drive: the server passes itself in. Named here rather than imported
    from server.py, which imports this module: the two would otherwise import each other."""

    store: Store
    latency: float

    @property
    def requests(self) -> list[dict[str, Any]]: ...

    @property
    def pending_faults(self) -> int: ...

    def clear_requests(self) -> int: ...

    def add_fault(self, fault: Fault) -> None: ...

    def clear_faults(self) -> int: ...


class Admin:
    def __init__(self, sandbox: Controls) -> None:
        self.sandbox = sandbox
        self._routes: dict[str, dict[str, Callable[[Any], Reply]]] = {
            "reset": {"POST": self._reset},
            "requests": {"GET": self._requests, "DELETE": self._clear_requests},
            "faults": {"POST": self._add_faults, "DELETE": self._clear_faults},
            "memberships": {"POST": self._add_memberships},
            "latency": {"POST": self._set_latency},
            "state": {"GET": self._state},
        }

    def handle(self, method: str, path: str, body: bytes) -> Reply:
        methods = self._routes.get(path[len(PREFIX) :]) if path.startswith(PREFIX) else None
        if methods is None:
            return not_found()
        handler = methods.get(method)
        if handler is None:
            return method_not_allowed(tuple(methods))
        try:
            return handler(_json_body(body))
        except BadPayload as error:
            return validation_reply({"body": [str(error)]})

    def _reset(self, _: Any) -> Reply:
        self.sandbox.store.reset()
        return json_reply(200, {"count": self.sandbox.store.count()})

    def _requests(self, _: Any) -> Reply:
        return json_reply(200, self.sandbox.requests)

    def _clear_requests(self, _: Any) -> Reply:
        return json_reply(200, {"cleared": self.sandbox.clear_requests()})

    def _add_faults(self, payload: Any) -> Reply:
        items = payload if isinstance(payload, list) else [payload]
        try:
            faults = [Fault.from_dict(item) for item in items]
        except (TypeError, ValueError) as error:
            raise BadPayload(str(error)) from error
        for fault in faults:
            self.sandbox.add_fault(fault)
        return json_reply(200, {"added": len(faults), "pending": self.sandbox.pending_faults})

    def _clear_faults(self, _: Any) -> Reply:
        return json_reply(200, {"cleared": self.sandbox.clear_faults()})

    def _add_memberships(self, payload: Any) -> Reply:
        store = self.sandbox.store
        if isinstance(payload, dict) and "generated" in payload:
            n, status = payload["generated"], payload.get("status", "invited")
            if type(n) is not int or n < 0 or not isinstance(status, str):
                raise BadPayload("generated must be a non-negative integer and status a string")
            store.add_generated(n, status)
            return json_reply(201, {"added": n, "count": store.count()})
        try:
            store.add(payload)
        except ValueError as error:
            raise BadPayload(str(error)) from error
        except DuplicateMembership:
            return error_reply(409, "Conflict", "a membership for this organization already exists")
        return json_reply(201, payload)

    def _set_latency(self, payload: Any) -> Reply:
        seconds = payload.get("seconds") if isinstance(payload, dict) else None
        valid = isinstance(seconds, (int, float)) and not isinstance(seconds, bool)
        if not valid or not math.isfinite(seconds) or seconds < 0:
            raise BadPayload('expected {"seconds": <non-negative number>}')
        self.sandbox.latency = float(seconds)
        return json_reply(200, {"seconds": self.sandbox.latency})

    def _state(self, _: Any) -> Reply:
        return raw_json_reply(200, "[" + ",".join(self.sandbox.store.all_raw()) + "]")
