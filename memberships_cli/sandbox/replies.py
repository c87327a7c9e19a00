"""What a sandbox handler answers with, independent of the socket it is written to."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

JSON = "application/json"


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = JSON


def error_code(status: int) -> str:
    """An Error `code` for a status without a more specific one: its phrase in CamelCase."""
    try:
        return HTTPStatus(status).phrase.replace(" ", "").replace("-", "").replace("'", "")
    except ValueError:
        return "Error"


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Reply(status, body, headers or {})


def raw_json_reply(status: int, text: str) -> Reply:
    """A reply whose JSON text is already encoded, as stored rows are."""
    return Reply(status, text.encode("utf-8"))


def error_reply(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Reply:
    return json_reply(status, {"code": code, "message": message}, headers)


def validation_reply(details: dict[str, list[str]]) -> Reply:
    payload = {"code": "InvalidPayload", "message": "Request validation failed", "details": details}
    return json_reply(422, payload)


def not_found() -> Reply:
    return error_reply(404, "NotFound", "Resource not found")


def method_not_allowed(allowed: tuple[str, ...]) -> Reply:
    return error_reply(
        405, "MethodNotAllowed", "method not allowed", {"Allow": ", ".join(allowed)}
    )
