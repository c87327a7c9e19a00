"""The fields a membership is shown by: their paths into the API object, headers, how a person and a
script each see a value, the aliases `--fields` accepts, and projection of raw objects onto them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from ..errors import UsageError
from .escape import dumps

def lookup(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def plain_value(value: Any) -> str:
    """A raw JSON value as one plain cell: exact for strings and numbers, JSON for the rest."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return dumps(value, separators=(",", ":"))


def human_bool(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "-" if value is None else plain_value(value)


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _human_date(value: Any) -> str:
    parsed = parse_time(value)
    if parsed is None:
        return "-" if value in (None, "") else plain_value(value)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%d")


def relative_time(value: Any, now: datetime | None = None) -> str:
    parsed = parse_time(value)
    if parsed is None:
        return ""
    now = now or datetime.now(timezone.utc)
    seconds = (now - parsed).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("year", 31536000), ("month", 2592000), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def _plain_roles(value: Any) -> str:
    """Role ids, comma-separated: what a script acting on roles needs (JSON has the whole object).
    The table shows the same ids, so ROLES means one thing in every format."""
    if isinstance(value, list) and all(isinstance(ref, dict) for ref in value):
        return ",".join(str(ref.get("id", "")) for ref in value)
    return plain_value(value)


def _human_roles(value: Any) -> str:
    return _plain_roles(value) or "-"


# How a membership's status is coloured in tables and the detail view.
STATUS_STYLE = {"active": "green", "invited": "yellow", "pending": "yellow", "banned": "red"}


# When a table is too wide, columns give way in this order: descriptions first, identifiers (what a
# person copies into the next command) and dates last. See output.table.layout.
SHRINK_FIRST, SHRINK, SHRINK_LAST = 0, 1, 2


@dataclass(frozen=True)
class Field:
    path: str  # dotted path into the API object; also the key in JSON output
    header: str
    human: Callable[[Any], str] = plain_value  # how a table shows it
    plain: Callable[[Any], str] = plain_value  # how plain and csv cells show it
    shrink: int = SHRINK
    cap: int | None = None  # widest a table column gets, however wide the terminal
    drop: int | None = None  # a table too narrow leaves this column out, lowest first (None: never)


FIELDS: dict[str, Field] = {
    f.path: f
    for f in (
        Field("organization.id", "ORGANIZATION ID", shrink=SHRINK_LAST),
        Field("organization.name", "ORGANIZATION", shrink=SHRINK_FIRST, cap=40),
        Field("organization.slug", "SLUG", shrink=SHRINK_LAST),
        Field("status", "STATUS", shrink=SHRINK_LAST),
        Field("roleRefs", "ROLES", _human_roles, _plain_roles, shrink=SHRINK_FIRST, drop=3),
        Field("requiredSsoAuth", "SSO", human_bool, drop=2),
        Field("requiredMfaAuth", "MFA", human_bool, drop=1),
        Field("createdAt", "CREATED", _human_date, shrink=SHRINK_LAST),
        Field("updatedAt", "UPDATED", _human_date, shrink=SHRINK_LAST),
        Field("roleIds", "ROLE IDS"),
        Field("attributes", "ATTRIBUTES", shrink=SHRINK_FIRST, cap=40),
        Field("organization.status", "ORG STATUS"),
        Field("organization.statusReason", "ORG STATUS REASON", shrink=SHRINK_FIRST, cap=40),
        Field("organization.verified", "VERIFIED", human_bool),
        Field("organization.activeMemberCount", "ACTIVE MEMBERS"),
        Field("organization.pendingMemberCount", "PENDING MEMBERS"),
        Field("organization.owner", "OWNER"),
        Field("organization.avatarUrl", "AVATAR URL", shrink=SHRINK_FIRST, cap=40),
        Field("organization.managedBy", "MANAGED BY", shrink=SHRINK_FIRST, cap=40),
        Field("organization.createdAt", "ORG CREATED", _human_date),
        Field("organization.updatedAt", "ORG UPDATED", _human_date),
    )
}
ALIASES = {
    "id": "organization.id",
    "name": "organization.name",
    "slug": "organization.slug",
    "roles": "roleRefs",
    "sso": "requiredSsoAuth",
    "mfa": "requiredMfaAuth",
    "created": "createdAt",
    "updated": "updatedAt",
}
DEFAULT_FIELDS = (
    "organization.name",
    "organization.slug",
    "status",
    "roleRefs",
    "requiredSsoAuth",
    "requiredMfaAuth",
    "createdAt",
)


def parse_fields(spec: str | None) -> tuple[str, ...]:
    if spec is None:
        return DEFAULT_FIELDS
    chosen = []
    for name in (part.strip() for part in spec.split(",")):
        if not name:
            continue
        path = ALIASES.get(name, name)
        if path not in FIELDS:
            valid = ", ".join(list(ALIASES) + list(FIELDS))
            raise UsageError(f"unknown field {name!r} in --fields", f"valid fields: {valid}")
        if path not in chosen:
            chosen.append(path)
    if not chosen:
        raise UsageError("--fields is empty", "name at least one field, e.g. --fields slug,status")
    return tuple(chosen)


def project(raw: dict, paths: tuple[str, ...]) -> dict:
    """The raw object cut down to the chosen paths, nesting kept (`organization.slug` stays nested)."""
    out: dict = {}
    for path in paths:
        parts = path.split(".")
        source: Any = raw
        for part in parts:
            if not isinstance(source, dict) or part not in source:
                break
            source = source[part]
        else:
            target = out
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = source
    return out
