"""What the membership commands do, apart from parsing and printing: resolve ORG references,
accept and leave, and report one outcome per organization. No printing here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from .errors import CliError, ConflictError, ExitCode, MalformedResponseError, NotFoundError, UsageError
from .models import Membership, is_org_id

if TYPE_CHECKING:
    from .client import BirdClient


def looks_like_id(ref: str) -> bool:
    return is_org_id(ref)


@dataclass
class Resolution:
    ref: str
    org_id: str | None = None
    membership: Membership | None = None  # known when the list endpoint was read
    error: CliError | None = None


def _candidates(matches: list[Membership]) -> str:
    from .output.escape import escape_control

    return ", ".join(f"{escape_control(m.slug or '-')} ({m.org_id})" for m in matches)


def close_matches(ref: str, memberships: list[Membership], limit: int = 3) -> list[Membership]:
    """Memberships whose slug or name looks like `ref` (case-insensitive): a slug or name that
    contains it, then difflib's close matches (ratio 0.8: a typo or two, not a shared word such as
    acme-logistics and tokyo-logistics). For "did you mean"."""
    from difflib import get_close_matches

    needle = ref.lower()
    keys: dict[str, Membership] = {}
    for m in memberships:
        for key in (m.slug.lower(), m.name.lower()):
            if key:
                keys.setdefault(key, m)
    chosen: list[Membership] = []
    contained = [k for k in keys if len(needle) >= 3 and needle in k]
    for key in contained + get_close_matches(needle, list(keys), n=limit, cutoff=0.8):
        if keys[key] not in chosen:
            chosen.append(keys[key])
    return chosen[:limit]


def _suggestion(matches: list[Membership]) -> str:
    from .output.escape import escape_control

    names = [f"`{escape_control(m.slug or m.org_id)}`" for m in matches]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def resolve(
    client: "BirdClient",
    refs: Iterable[str],
    memberships: list[Membership] | None = None,
    *,
    list_command: str = "memberships list",
) -> list[Resolution]:
    """Turn what the user typed (id, slug or name) into organization ids.

    UUIDs go straight to the API; anything else is looked up in one pass over the list endpoint:
    an id, a slug (any case), an exact name, or else a name in any case if only one matches. A
    ref that matches nothing gets a not-found error with "did you mean" candidates; one that
    matches several gets a usage error naming them. `list_command` is how the hint says to list.
    """
    return [_checked(res) for res in _resolve(client, list(refs), memberships, list_command)]


def _checked(res: Resolution) -> Resolution:
    """A resolution whose id the server gave is used only when it is a UUID: anything else (`..`,
    `a/b`, an id with a newline) would send the request somewhere else. The client refuses it
    too; this names the organization and keeps the run going for the others."""
    if res.error is not None or res.org_id is None or is_org_id(res.org_id):
        return res
    who = res.membership.label if res.membership is not None else res.ref
    res.error = MalformedResponseError(
        f"malformed response from GET /me/memberships: organization {who} has the id "
        f"{res.org_id!r}, which is not a UUID; nothing was sent for it",
        "the server did not answer as Bird's API does; check --api-url",
        endpoint="GET /me/memberships",
    )
    return res


def _resolve(
    client: "BirdClient", refs: list[str], memberships: list[Membership] | None, list_command: str
) -> list[Resolution]:
    if memberships is None and all(looks_like_id(r) for r in refs):
        return [Resolution(r, org_id=r) for r in refs]
    if memberships is None:
        memberships = [m for page in client.iter_pages() for m in page]
    by_id = {m.org_id: m for m in memberships}
    by_slug: dict[str, list[Membership]] = {}
    by_name: dict[str, list[Membership]] = {}
    by_folded_name: dict[str, list[Membership]] = {}
    for m in memberships:
        if m.slug:
            by_slug.setdefault(m.slug.lower(), []).append(m)
        if m.name:
            by_name.setdefault(m.name, []).append(m)
            by_folded_name.setdefault(m.name.casefold(), []).append(m)
    out = []
    for ref in refs:
        if ref in by_id:
            out.append(Resolution(ref, ref, by_id[ref]))
            continue
        if looks_like_id(ref):
            out.append(Resolution(ref, org_id=ref))
            continue
        matches = by_slug.get(ref.lower()) or by_name.get(ref) or by_folded_name.get(ref.casefold()) or []
        if len(matches) == 1:
            out.append(Resolution(ref, matches[0].org_id, matches[0]))
        elif matches:
            out.append(Resolution(ref, error=UsageError(
                f"{ref!r} matches {len(matches)} organizations: {_candidates(matches)}",
                "name one by its slug or id",
            )))
        else:
            near = close_matches(ref, memberships)
            hint = f"run `{list_command}` to see your organizations"
            if near:
                hint = f"did you mean {_suggestion(near)}? ({hint})"
            out.append(Resolution(ref, error=NotFoundError(
                f"no membership or invitation matches {ref!r} (by id, slug or name)", hint,
            )))
    return out


@dataclass
class Outcome:
    """What happened to one organization in accept/leave. `result` is one of RESULTS."""

    ref: str
    result: str
    org_id: str | None = None
    membership: Membership | None = None
    error: CliError | None = None

    @property
    def exit_code(self) -> ExitCode:
        return self.error.exit_code if self.error is not None else ExitCode.OK

    def to_json(self) -> dict:
        return {
            "organization": self.ref,
            "organizationId": self.org_id,
            "result": self.result,
            "membership": self.membership.raw if self.membership is not None else None,
            "error": None if self.error is None else {
                "message": self.error.message,
                "exitCode": int(self.error.exit_code),
                "code": getattr(self.error, "code", None),
                "status": getattr(self.error, "status", None),
            },
        }


RESULTS = ("accepted", "already-active", "left", "not-a-member", "would-accept", "would-leave", "not-found", "failed",
           "not-done")

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: str) -> float:
    """Seconds from `90`, `30s`, `5m`, `1m30s`, `1h`, `500ms` (Go-style; a bare number is seconds).

    Written by hand: the grammar is one regex, and a parsing library would cost start-up time.
    """
    text = text.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    pos, total = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if pos != len(text) or not text:
        raise UsageError(f"invalid duration {text!r}", "use e.g. 30s, 5m, 1m30s or a number of seconds")
    return total


def pending_invitations(memberships: Iterable[Membership], patterns: list[str]) -> list[Membership]:
    """Invitations to accept for `accept --all`, restricted to `patterns` (globs on slug or name).

    Only statuses in INVITATION_STATUSES count: an unknown status is never taken for an invitation.
    """
    from fnmatch import fnmatchcase

    chosen = []
    for m in memberships:
        if not m.is_invitation:
            continue
        if patterns and not any(fnmatchcase(m.slug, p) or fnmatchcase(m.name, p) for p in patterns):
            continue
        chosen.append(m)
    return chosen


def not_done(res: Resolution, why: CliError) -> Outcome:
    return Outcome(res.ref, "not-done", res.org_id, res.membership, why)


def _failed(res: Resolution, error: CliError, membership: Membership | None = None) -> Outcome:
    result = "not-found" if error.exit_code == ExitCode.NOT_FOUND else "failed"
    return Outcome(res.ref, result, res.org_id, membership or res.membership, error)


def _current(client: "BirdClient", res: Resolution) -> Membership:
    """The membership as the listing showed it, or as the API says now (an id was given)."""
    return res.membership if res.membership is not None else client.get_membership(res.org_id)


def accept_one(client: "BirdClient", res: Resolution, dry_run: bool = False) -> Outcome:
    """Accept one invitation; an already active membership is success, so re-runs are safe."""
    res = _checked(res)  # `accept --all` builds its resolutions from the listing itself
    if res.error is not None:
        return _failed(res, res.error)
    assert res.org_id is not None
    if res.membership is not None and res.membership.is_active:
        return Outcome(res.ref, "already-active", res.org_id, res.membership)
    if dry_run:
        try:
            membership = _current(client, res)
        except CliError as exc:
            return _failed(res, exc)
        result = "already-active" if membership.is_active else "would-accept"
        return Outcome(res.ref, result, res.org_id, membership)
    try:
        membership = client.accept(res.org_id)
        if membership is None:  # a 2xx without a body: read the result back
            membership = client.get_membership(res.org_id)
        return Outcome(res.ref, "accepted", res.org_id, membership)
    except ConflictError as conflict:
        # 409: nothing to accept. Already active (someone accepted it, or a re-run) is success.
        try:
            membership = client.get_membership(res.org_id)
        except CliError as exc:
            return _failed(res, exc)
        if membership.is_active:
            return Outcome(res.ref, "already-active", res.org_id, membership)
        return _failed(res, CliError(
            f"cannot accept {membership.label}: membership status is {membership.status or 'unknown'!r} "
            f"({conflict.message})",
        ), membership)
    except CliError as exc:
        return _failed(res, exc)


def leave_one(client: "BirdClient", res: Resolution, dry_run: bool = False, *, missing_ok: bool = False) -> Outcome:
    """Leave one organization. With `missing_ok`, not being a member counts as done (result
    `not-a-member`), as `accept` counts an active membership: a 404 from DELETE (or from GET in a
    dry run), and a name or slug that matches nothing in the list. The list cannot tell a slug
    you left from one that never existed, so both count: a re-run after leaving must succeed."""
    res = _checked(res)
    if res.error is not None:
        if missing_ok and isinstance(res.error, NotFoundError):
            return Outcome(res.ref, "not-a-member", res.org_id, res.membership)
        return _failed(res, res.error)
    assert res.org_id is not None
    if dry_run:
        try:
            return Outcome(res.ref, "would-leave", res.org_id, _current(client, res))
        except NotFoundError as exc:
            return Outcome(res.ref, "not-a-member", res.org_id) if missing_ok else _failed(res, exc)
        except CliError as exc:
            return _failed(res, exc)
    try:
        client.leave(res.org_id)
    except NotFoundError as exc:
        return Outcome(res.ref, "not-a-member", res.org_id, res.membership) if missing_ok else _failed(res, exc)
    except CliError as exc:
        return _failed(res, exc)
    return Outcome(res.ref, "left", res.org_id, res.membership)
