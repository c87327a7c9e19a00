"""Deterministic seed data for the sandbox: one user and the memberships shown on first run.

Every id comes from uuid5 over a fixed namespace and every timestamp from a fixed base date, so two
fresh sandboxes (and two test runs) serve byte-identical data. The set is chosen to exercise the
client, not to look tidy: unknown statuses and fields, unicode, right-to-left text, a raw ANSI
escape and Rich markup in names.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

NAMESPACE = uuid.UUID("6f1d2c3b-8a4e-5f60-9b7c-0d1e2f3a4b5c")
_NAMESPACE_BYTES = NAMESPACE.bytes

# Kept in one place so tests and docs can name the special organizations without repeating strings.
ANSI_NAME = "\x1b[31mRed Alert\x1b[0m Industries"
MARKUP_NAME = "[bold red]Markup[/] Labs"
UNKNOWN_STATUS = "suspended"
UNKNOWN_FIELD = "x-sandboxNote"

_BASE = datetime(2021, 3, 1, 9, 0, 0, tzinfo=timezone.utc)

# (name, slug, membership status). Order here is listing order.
_ORGANIZATIONS: list[tuple[str, str, str]] = [
    ("Acme Logistics", "acme-logistics", "active"),
    ("Globex Retail", "globex-retail", "invited"),
    ("Initech Payments", "initech-payments", "active"),
    ("Zürich Fintech AG", "zurich-fintech-ag", "active"),
    ("東京ロジスティクス", "tokyo-logistics", "active"),
    ("Café São Paulo", "cafe-sao-paulo", "invited"),
    ("شركة الرياض للتقنية", "riyadh-technology", "active"),
    (ANSI_NAME, "red-alert-industries", "active"),
    (MARKUP_NAME, "markup-labs", "active"),
    ("Umbrella Health", "umbrella-health", "banned"),
    ("Stark Analytics", "stark-analytics", UNKNOWN_STATUS),
    ("Wayne Freight", "wayne-freight", "invited"),
    ("Hooli Cloud", "hooli-cloud", "active"),
    ("Pied Piper Compression", "pied-piper-compression", "active"),
    ("Soylent Foods", "soylent-foods", "active"),
    ("Tyrell Biotech", "tyrell-biotech", "banned"),
    ("Cyberdyne Robotics", "cyberdyne-robotics", "active"),
    ("Oscorp Materials", "oscorp-materials", "invited"),
    ("Vandelay Imports", "vandelay-imports", "active"),
    ("Nordlicht Energie GmbH", "nordlicht-energie", "active"),
    ("Kraków Software Sp. z o.o.", "krakow-software", "active"),
    ("Ελληνική Ναυτιλία", "hellenic-shipping", "active"),
    ("Москва Телеком", "moskva-telecom", "invited"),
    ("서울 커머스", "seoul-commerce", "active"),
    ("Mumbai Spice Traders", "mumbai-spice-traders", "active"),
    ("Lagos Mobile Money", "lagos-mobile-money", "active"),
    ("Brightwater Travel", "brightwater-travel", "invited"),
    ("Northwind Traders", "northwind-traders", "active"),
    ("Contoso Support", "contoso-support", "active"),
    ("Fabrikam Manufacturing", "fabrikam-manufacturing", "active"),
    ("Rocket 🚀 Launchpad", "rocket-launchpad", "active"),
    (
        "International Association of Independent Messaging and Customer Engagement Professionals",
        "iaimcep",
        "active",
    ),
    ("Blue Sky Media", "blue-sky-media", "invited"),
    ("Quiet Harbor Foundation", "quiet-harbor-foundation", "active"),
]


def stable_id(kind: str, key: str) -> str:
    """The sandbox's UUID for `kind:key`: uuid.uuid5(NAMESPACE, f"{kind}:{key}") as a string."""
    # Computed by hand because uuid.uuid5 is ~4x slower, which shows when generating 10,000.
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{kind}:{key}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def org_id(slug: str) -> str:
    """Organization id of a seeded (or generated) organization, by slug."""
    return stable_id("organization", slug)


def timestamp(moment: datetime) -> str:
    """ISO-8601 in UTC with milliseconds and a Z, the way the API writes times."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _at(days: float, index: int) -> str:
    # The index feeds the milliseconds so that no two seeded timestamps are equal.
    return timestamp(_BASE + timedelta(days=days, milliseconds=index * 137 % 1000))


def _organization(index: int, name: str, slug: str) -> dict[str, Any]:
    organization: dict[str, Any] = {
        "id": org_id(slug),
        "name": name,
        "slug": slug,
        "status": "active",
        "pendingMemberCount": index % 4,
        "activeMemberCount": 3 + (index * 7) % 50,
        "owner": stable_id("owner", slug),
        "createdAt": _at(index * 11, index),
        "updatedAt": _at(index * 11 + 300, index),
        "verified": index % 3 != 1,
    }
    if index % 2 == 0:
        organization["avatarUrl"] = f"https://media.sandbox.invalid/orgs/{slug}.png"
    if index % 5 == 0:
        organization["managedBy"] = []
    if index % 7 == 3:
        organization["managedBy"] = [{"Type": "partner", "ID": stable_id("partner", slug)}]
    if index % 6 == 0:
        organization["statusReason"] = ""
    return organization


def _role_refs(index: int, slug: str) -> list[dict[str, Any]]:
    if index % 9 == 4:
        return []
    role = {"id": stable_id("role", slug), "type": "organization", "workspaces": []}
    if index % 8 == 5:
        role["workspaces"] = [stable_id("workspace", slug)]
    return [role]


def _membership(index: int, name: str, slug: str, status: str) -> dict[str, Any]:
    membership: dict[str, Any] = {
        "organization": _organization(index, name, slug),
        "status": status,
        "createdAt": _at(index * 11 + 400, index),
        "updatedAt": _at(index * 11 + 500, index),
    }
    # roleIds is deprecated: real responses send null, a list, or leave it out.
    if index % 3 == 0:
        membership["roleIds"] = None
    elif index % 3 == 1:
        membership["roleIds"] = [stable_id("iam-role", slug)]
    membership["roleRefs"] = _role_refs(index, slug)
    membership["requiredSsoAuth"] = index % 4 == 2
    membership["requiredMfaAuth"] = index % 3 == 0
    if index % 4 == 0:
        membership["attributes"] = {"department": ["engineering", "support", "sales"][index % 3]}
    return membership


def memberships() -> list[dict[str, Any]]:
    """The seeded memberships in listing order; a fresh copy on every call."""
    result = [
        _membership(index, name, slug, status)
        for index, (name, slug, status) in enumerate(_ORGANIZATIONS)
    ]
    # One unknown field, so lossless JSON output has something to keep.
    result[2][UNKNOWN_FIELD] = "unknown fields must survive"
    return result


def generated(n: int, status: str = "invited", start: int = 0) -> list[dict[str, Any]]:
    """`n` synthetic memberships numbered from `start`, for load tests and benchmarks."""
    # Generated organizations share one owner and one role: fewer ids to compute per record.
    owner, role = stable_id("owner", "generated"), stable_id("role", "generated")
    result = []
    for number in range(start, start + n):
        slug = f"generated-org-{number:05d}"
        created = timestamp(_BASE + timedelta(days=1000, seconds=number))
        result.append(
            {
                "organization": {
                    "id": org_id(slug),
                    "name": f"Generated Org {number:05d}",
                    "slug": slug,
                    "status": "active",
                    "pendingMemberCount": 1,
                    "activeMemberCount": 1,
                    "owner": owner,
                    "createdAt": created,
                    "updatedAt": created,
                    "verified": False,
                },
                "status": status,
                "createdAt": created,
                "updatedAt": created,
                "roleRefs": [{"id": role, "type": "organization", "workspaces": []}],
                "requiredSsoAuth": False,
                "requiredMfaAuth": False,
            }
        )
    return result


def user() -> dict[str, Any]:
    """The sandbox's signed-in user, returned by GET /me."""
    user_id = stable_id("user", "sandbox")
    email = "sandbox.user@example.com"
    return {
        "id": user_id,
        "status": "active",
        "name": "Sandbox User",
        "bio": "A local account for trying memberships without a Bird token",
        "activeSessions": 1,
        "createdAt": _at(0, 1),
        "updatedAt": _at(1000, 2),
        "emails": [
            {
                "id": stable_id("email", email),
                "userId": user_id,
                "email": email,
                "verified": True,
                "passwordSet": True,
                "tokenSet": False,
                "createdAt": _at(0, 1),
                "updatedAt": _at(0, 3),
            }
        ],
        "defaultEmail": email,
        "identities": [],
        "phoneNumbers": [],
        "locale": "en-GB",
        "timezone": "Europe/Amsterdam",
        "badges": [],
    }
