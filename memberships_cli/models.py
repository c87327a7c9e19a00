"""Typed views of the API's objects. Each keeps the raw dict it was built from, so JSON output is
lossless: unknown fields, unknown status values and nulls survive untouched.

Validation here is deliberately shallow: we reject only what makes an object unusable (not an
object, no organization id), and read every other field defensively.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .errors import MalformedResponseError

# Statuses that mean "an invitation is waiting for you". The contract only infers `invited`;
# anything unknown is treated as NOT an invitation, so bulk accept never acts on a status it does
# not understand.
INVITATION_STATUSES = frozenset({"invited", "pending"})
ACTIVE_STATUS = "active"
KNOWN_STATUSES = ("active", "invited", "banned")
_ORG_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def is_org_id(value: object) -> bool:
    """A well-formed organization id: a UUID and nothing else. fullmatch, not `^...$`: `$` also
    matches before a trailing newline, and such an id would end up in a request path."""
    return isinstance(value, str) and _ORG_ID.fullmatch(value) is not None


def _malformed(endpoint: str, status: int | None, what: str) -> MalformedResponseError:
    where = f"{endpoint} (HTTP {status})" if status is not None else endpoint
    return MalformedResponseError(
        f"malformed response from {where}: {what}",
        "the server did not answer as Bird's API does; check --api-url, or retry with --verbose",
        status=status,
        endpoint=endpoint,
    )


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class Membership:
    raw: dict

    @classmethod
    def from_api(cls, obj: Any, endpoint: str, status: int | None = None) -> "Membership":
        if not isinstance(obj, dict):
            raise _malformed(endpoint, status, f"expected a membership object, got {type(obj).__name__}")
        org = obj.get("organization")
        if not isinstance(org, dict):
            raise _malformed(endpoint, status, "membership has no organization object")
        org_id = org.get("id")
        if not isinstance(org_id, str) or not org_id:
            raise _malformed(endpoint, status, "membership's organization has no id")
        return cls(obj)

    @property
    def organization(self) -> dict:
        return self.raw["organization"]

    @property
    def org_id(self) -> str:
        return self.organization["id"]

    @property
    def name(self) -> str:
        return _str(self.organization.get("name"))

    @property
    def slug(self) -> str:
        return _str(self.organization.get("slug"))

    @property
    def status(self) -> str:
        return _str(self.raw.get("status"))

    @property
    def is_active(self) -> bool:
        return self.status == ACTIVE_STATUS

    @property
    def is_invitation(self) -> bool:
        return self.status in INVITATION_STATUSES

    @property
    def label(self) -> str:
        """How to name this organization to a person: name and slug, or the id."""
        if self.name and self.slug:
            return f"{self.name} ({self.slug})"
        return self.name or self.slug or self.org_id


@dataclass(frozen=True)
class MembershipPage:
    memberships: list[Membership]
    next_page_token: str | None

    @classmethod
    def from_api(cls, body: Any, endpoint: str, status: int | None = None) -> "MembershipPage":
        if not isinstance(body, dict):
            raise _malformed(endpoint, status, f"expected an object with results, got {type(body).__name__}")
        results = body.get("results")
        if not isinstance(results, list):
            raise _malformed(endpoint, status, "`results` is missing or not a list")
        token = body.get("nextPageToken")
        if token is not None and not isinstance(token, str):
            raise _malformed(endpoint, status, "`nextPageToken` is not a string")
        return cls(
            [Membership.from_api(item, endpoint, status) for item in results],
            token or None,
        )
