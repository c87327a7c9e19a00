"""The Bird-compatible /me endpoints: auth, parameter validation, paging and the store calls."""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import unquote

from memberships_cli.sandbox import seed
from memberships_cli.sandbox.replies import (
    Reply,
    error_reply,
    json_reply,
    method_not_allowed,
    not_found,
    raw_json_reply,
    validation_reply,
)
from memberships_cli.sandbox.store import MembershipNotFound, NoPendingInvitation, Store

DEFAULT_LIMIT = 10
MAX_LIMIT = 100

_TOKEN_VERSION = 1
_INTEGER = re.compile(r"-?[0-9]+")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}
_MEMBERSHIP_PATH = re.compile(r"/me/memberships/([^/]+)")


class PageTokenError(ValueError):
    pass


def encode_page_token(position: int, reverse: bool, status: str | None) -> str:
    """An opaque cursor; it remembers the query it belongs to so it cannot be replayed on another."""
    payload = {"v": _TOKEN_VERSION, "p": position, "r": reverse, "s": status}
    raw = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_page_token(token: str, reverse: bool, status: str | None) -> int:
    """The position a page token continues after; PageTokenError when it is not one of ours."""
    try:
        raw = base64.b64decode(token + "=" * (-len(token) % 4), altchars=b"-_", validate=True)
        payload = json.loads(raw)
    except (binascii.Error, ValueError) as error:
        raise PageTokenError("is not a valid page token") from error
    if (
        not isinstance(payload, dict)
        or payload.get("v") != _TOKEN_VERSION
        or type(payload.get("p")) is not int
        or type(payload.get("r")) is not bool
        or not isinstance(payload.get("s"), (str, type(None)))
    ):
        raise PageTokenError("is not a valid page token")
    if payload["r"] != reverse or payload["s"] != status:
        raise PageTokenError("was issued for a different reverse/status query")
    return payload["p"]


def _limit(value: str | None, problems: dict[str, list[str]]) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not _INTEGER.fullmatch(value):
        problems["limit"] = ["must be an integer"]
        return DEFAULT_LIMIT
    limit = int(value)
    if limit < 1:
        problems["limit"] = ["must be greater than or equal to 1"]
    elif limit > MAX_LIMIT:
        problems["limit"] = [f"must be less than or equal to {MAX_LIMIT}"]
    return limit


def _reverse(value: str | None, problems: dict[str, list[str]]) -> bool:
    if value is None:
        return False
    parsed = _BOOLEANS.get(value.lower())
    if parsed is None:
        problems["reverse"] = ["must be a boolean (true or false)"]
        return False
    return parsed


class Api:
    """Answers /me requests from a Store, for one bearer token."""

    def __init__(self, store: Store, token: str) -> None:
        self.store = store
        self.token = token
        self._user = json.dumps(seed.user(), ensure_ascii=False).encode("utf-8")

    def authorized(self, authorization: str | None) -> bool:
        if not authorization:
            return False
        scheme, _, credentials = authorization.partition(" ")
        # The scheme is case-insensitive (RFC 9110); the token itself is compared exactly.
        return scheme.lower() == "bearer" and credentials.strip() == self.token

    def handle(
        self, method: str, path: str, query: dict[str, str], authorization: str | None
    ) -> Reply:
        if not self.authorized(authorization):
            return error_reply(
                401, "Unauthorized", "unauthorized request", {"WWW-Authenticate": "Bearer"}
            )
        if path == "/me":
            if method != "GET":
                return method_not_allowed(("GET",))
            return Reply(200, self._user)
        if path == "/me/memberships":
            if method != "GET":
                return method_not_allowed(("GET",))
            return self._list(query)
        match = _MEMBERSHIP_PATH.fullmatch(path)
        if match is None:
            return not_found()
        org_id = unquote(match.group(1))
        if method == "GET":
            return self._show(org_id)
        if method == "POST":
            return self._accept(org_id)
        if method == "DELETE":
            return self._leave(org_id)
        return method_not_allowed(("GET", "POST", "DELETE"))

    def _list(self, query: dict[str, str]) -> Reply:
        problems: dict[str, list[str]] = {}
        limit = _limit(query.get("limit"), problems)
        reverse = _reverse(query.get("reverse"), problems)
        # An empty value means "not given": clients that echo an empty nextPageToken back, or
        # build `?status=` from an unset option, still get a sensible answer.
        status = query.get("status") or None
        after = None
        page_token = query.get("pageToken")
        if page_token and "reverse" not in problems:
            try:
                after = decode_page_token(page_token, reverse, status)
            except PageTokenError as error:
                problems["pageToken"] = [str(error)]
        if problems:
            return validation_reply(problems)
        bodies, next_after = self.store.list_page_raw(status, reverse, after, limit)
        next_token = "" if next_after is None else encode_page_token(next_after, reverse, status)
        # Stored rows are already JSON; splicing them in avoids a decode/encode per row.
        text = '{"nextPageToken":%s,"results":[%s]}' % (json.dumps(next_token), ",".join(bodies))
        return raw_json_reply(200, text)

    def _show(self, org_id: str) -> Reply:
        body = self.store.get_raw(org_id)
        return not_found() if body is None else raw_json_reply(200, body)

    def _accept(self, org_id: str) -> Reply:
        try:
            return json_reply(200, self.store.accept(org_id))
        except MembershipNotFound:
            return not_found()
        except NoPendingInvitation:
            return error_reply(409, "Conflict", "no pending invitation for this organization")

    def _leave(self, org_id: str) -> Reply:
        try:
            self.store.leave(org_id)
        except MembershipNotFound:
            return not_found()
        return Reply(200, b"", content_type=None)
