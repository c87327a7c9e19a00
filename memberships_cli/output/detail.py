"""`show` for a person: every field of one membership, grouped, with relative times."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..models import Membership
from .escape import escape_control, paint
from .fields import STATUS_STYLE, human_bool, plain_value, parse_time, relative_time

_DETAIL_KNOWN = {"organization", "status", "createdAt", "updatedAt", "roleIds", "roleRefs", "requiredSsoAuth",
                 "requiredMfaAuth", "attributes"}
_DETAIL_KNOWN_ORG = {"id", "name", "slug", "status", "statusReason", "verified", "owner", "activeMemberCount",
                     "pendingMemberCount", "avatarUrl", "managedBy", "createdAt", "updatedAt"}


def render_detail(m: Membership, *, color: bool, now: datetime | None = None) -> str:
    """`show` for a person: every field, grouped, with relative times.

    Rows are built from raw text and escaped in one place at the end, so no value (whatever its
    type) can reach the terminal unescaped.
    """
    org = m.organization
    raw = m.raw

    def text(value: Any) -> str:
        return "-" if value in (None, "", [], {}) else plain_value(value)

    def when(value: Any) -> str:
        parsed = parse_time(value)
        if parsed is None:
            return text(value)
        return f"{parsed.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC ({relative_time(value, now)})"

    def count(value: Any) -> str:
        return "?" if value is None else plain_value(value)

    role_lines = []
    roles = raw.get("roleRefs")
    if isinstance(roles, list):
        for ref in roles:
            if isinstance(ref, dict):
                scope = ref.get("workspaces")
                where = f"{len(scope)} workspace(s)" if isinstance(scope, list) and scope else "whole organization"
                role_lines.append(f"{plain_value(ref.get('type', '?'))} role {plain_value(ref.get('id', '?'))} ({where})")
            else:
                role_lines.append(plain_value(ref))
    elif roles is not None:
        role_lines.append(plain_value(roles))

    rows: list[tuple[str, list[str], str | None]] = []

    def row(label: str, value: str | list[str], style: str | None = None) -> None:
        rows.append((label, value if isinstance(value, list) else [value], style))

    row("organization id", m.org_id)
    row("slug", text(org.get("slug")))
    row("status", text(raw.get("status")), STATUS_STYLE.get(m.status))
    row("roles", role_lines or ["-"])
    row("SSO required", human_bool(raw.get("requiredSsoAuth")))
    row("MFA required", human_bool(raw.get("requiredMfaAuth")))
    row("members", f"{count(org.get('activeMemberCount'))} active, {count(org.get('pendingMemberCount'))} pending")
    row("org status", text(org.get("status")))
    if org.get("statusReason"):
        row("org status reason", text(org.get("statusReason")))
    row("verified", human_bool(org.get("verified")))
    row("owner", text(org.get("owner")))
    if "managedBy" in org:
        managers = org["managedBy"]
        if isinstance(managers, list) and managers and all(isinstance(x, dict) for x in managers):
            row("managed by", [f"{plain_value(x.get('Type', '?'))} {plain_value(x.get('ID', '?'))}" for x in managers])
        else:
            row("managed by", text(managers))
    if "avatarUrl" in org:
        row("avatar", text(org.get("avatarUrl")))
    # createdAt is when the membership record was made: for an invitation, when you were invited.
    if m.is_invitation:
        row("invited", when(raw.get("createdAt")))
    elif m.is_active:
        row("member since", when(raw.get("createdAt")))
    else:
        row("created", when(raw.get("createdAt")))
    row("updated", when(raw.get("updatedAt")))
    row("org created", when(org.get("createdAt")))
    row("org updated", when(org.get("updatedAt")))
    attributes = raw.get("attributes")
    if isinstance(attributes, dict) and attributes:
        row("attributes", [f"{k}={plain_value(v)}" for k, v in attributes.items()])
    elif attributes not in (None, {}):
        row("attributes", text(attributes))
    extra = [k for k in raw if k not in _DETAIL_KNOWN] + [f"organization.{k}" for k in org if k not in _DETAIL_KNOWN_ORG]
    if extra:
        row("other fields", ", ".join(extra) + " (see --json)")

    e = escape_control
    indent = " " * 20
    lines = [paint(e(m.name) or e(m.org_id), "bold", color)]
    for label, values, style in rows:
        lines.append(f"  {label:<18}{paint(e(values[0]), style, color)}")
        lines.extend(indent + e(value) for value in values[1:])
    return "\n".join(lines) + "\n"
