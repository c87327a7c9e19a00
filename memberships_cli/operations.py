"""What the membership commands do, apart from parsing and printing: resolve ORG references,
accept and leave, and report one outcome per organization. No printing here."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator

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


class _Near:
    """The "did you mean" candidates for one ref, kept while a listing streams by: the first
    memberships whose slug or name contains it, and the best few difflib matches. What
    close_matches returns, in memory that does not grow with the listing."""

    def __init__(self, ref: str, limit: int = 3) -> None:
        from difflib import SequenceMatcher

        self.needle = ref.lower()
        self.limit = limit
        # key -> the first membership with that key, as close_matches' dict of keys keeps it.
        self.contained: dict[str, Membership] = {}
        self.best: list[tuple[float, str]] = []  # at most `limit`, distinct keys
        self.best_of: dict[str, Membership] = {}
        self._matcher = SequenceMatcher()
        self._matcher.set_seq2(self.needle)  # as difflib.get_close_matches does

    def see(self, m: Membership) -> None:
        for key in (m.slug.lower(), m.name.lower()):
            if key:
                self._contains(key, m)
                self._close(key, m)

    def _contains(self, key: str, m: Membership) -> None:
        if len(self.needle) < 3 or self.needle not in key or key in self.contained:
            return
        # Once `limit` distinct memberships contain the ref, later ones can never be chosen.
        if len(self._distinct(self.contained.values())) < self.limit:
            self.contained[key] = m

    def _close(self, key: str, m: Membership) -> None:
        # get_close_matches: the `limit` largest (ratio, key) at or over 0.8. A key seen again is
        # the same candidate (its first membership counts), and one pushed out never comes back.
        if key in self.best_of:
            return
        s = self._matcher
        s.set_seq1(key)
        if s.real_quick_ratio() < 0.8 or s.quick_ratio() < 0.8:
            return
        score = s.ratio()
        if score < 0.8:
            return
        if len(self.best) == self.limit:
            lowest = min(self.best)
            if (score, key) <= lowest:
                return
            self.best.remove(lowest)
            del self.best_of[lowest[1]]
        self.best.append((score, key))
        self.best_of[key] = m

    def _distinct(self, memberships: Iterable[Membership]) -> list[Membership]:
        chosen: list[Membership] = []
        for m in memberships:
            if m not in chosen:
                chosen.append(m)
        return chosen

    def result(self) -> list[Membership]:
        ordered = list(self.contained.values()) + [self.best_of[key] for _, key in sorted(self.best, reverse=True)]
        return self._distinct(ordered)[: self.limit]


def close_matches(ref: str, memberships: Iterable[Membership], limit: int = 3) -> list[Membership]:
    """Memberships whose slug or name looks like `ref` (case-insensitive): a slug or name that
    contains it, then difflib's close matches (ratio 0.8: a typo or two, not a shared word such as
    acme-logistics and tokyo-logistics). For "did you mean"."""
    near = _Near(ref, limit)
    for m in memberships:
        near.see(m)
    return near.result()


def _suggestion(matches: list[Membership]) -> str:
    from .output.escape import escape_control

    names = [f"`{escape_control(m.slug or m.org_id)}`" for m in matches]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def resolve(
    client: "BirdClient",
    refs: Iterable[str],
    pages: Iterable[list[Membership]] | None = None,
    *,
    list_command: str = "memberships list",
) -> list[Resolution]:
    """Turn what the user typed (id, slug or name) into organization ids.

    UUIDs go straight to the API; anything else is looked up in one pass over the list endpoint
    (or over `pages`, which are read even when every ref is a UUID): an id, a slug (as typed, else
    in any case), an exact name, or else a name in any case if only one matches. A ref that matches nothing gets
    a not-found error with "did you mean" candidates; one that matches several gets a usage error
    naming them. `list_command` is how the hint says to list.

    The listing is read page by page and only each ref's matches are kept, so memory does not
    grow with it; it stops early once every ref is settled (see _Lookup.settled).
    """
    return [_checked(res) for res in _resolve(client, list(refs), pages, list_command)]


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


# An ambiguous ref's error names this many of its matches, then how many more there are.
_NAMED = 10


class _Lookup:
    """What one ref has matched so far in a listing read page by page.

    Matches rank: an id, a slug as typed, a slug in another case, the exact name, the name in any
    case. An id or a slug as typed settles the ref, and once every ref is settled the
    rest of the listing is not read: ids are unique, and so are slugs (they name organizations in
    URLs). A name settles nothing: another organization further on may have it too, which must be
    reported as ambiguous, and a slug further on outranks it. Each rank keeps its first _NAMED
    matches and a count, and the "did you mean" candidates are kept only while nothing matched.
    """

    def __init__(self, ref: str) -> None:
        self.ref = ref
        self.lower = ref.lower()
        self.folded = ref.casefold()
        self.is_id = looks_like_id(ref)
        self.by_id: Membership | None = None
        self.exact_slug: Membership | None = None
        # rank -> (first matches, how many); ranks: slug in another case, exact name, folded name
        self.ranks: list[tuple[list[Membership], list[int]]] = [([], [0]) for _ in range(3)]
        self.near = None if self.is_id else _Near(ref)

    @property
    def settled(self) -> bool:
        return self.by_id is not None or self.exact_slug is not None

    def see(self, m: Membership, slug: str, name: str) -> None:
        if self.settled:
            return
        if m.org_id == self.ref:
            self.by_id = m
            return
        if self.is_id:
            return
        if slug and slug == self.ref:
            self.exact_slug = m
            self.near = None
            return
        if slug and slug.lower() == self.lower:
            self._add(0, m)
        if name:
            if name == self.ref:
                self._add(1, m)
            if name.casefold() == self.folded:
                self._add(2, m)
        if self.near is not None:
            self.near.see(m)

    def _add(self, rank: int, m: Membership) -> None:
        kept, count = self.ranks[rank]
        if len(kept) < _NAMED:
            kept.append(m)
        count[0] += 1
        self.near = None  # it matched: no "did you mean"

    def resolution(self, list_command: str) -> Resolution:
        ref = self.ref
        if self.by_id is not None:
            return Resolution(ref, ref, self.by_id)
        if self.is_id:
            return Resolution(ref, org_id=ref)
        if self.exact_slug is not None:
            return Resolution(ref, self.exact_slug.org_id, self.exact_slug)
        matches, count = next(((kept, n) for kept, (n,) in self.ranks if n), ([], 0))
        if count == 1:
            return Resolution(ref, matches[0].org_id, matches[0])
        if count:
            more = f" and {count - len(matches)} more" if count > len(matches) else ""
            return Resolution(ref, error=UsageError(
                f"{ref!r} matches {count} organizations: {_candidates(matches)}{more}",
                "name one by its slug or id",
            ))
        near = self.near.result() if self.near is not None else []
        hint = f"run `{list_command}` to see your organizations"
        if near:
            hint = f"did you mean {_suggestion(near)}? ({hint})"
        return Resolution(ref, error=NotFoundError(
            f"no membership or invitation matches {ref!r} (by id, slug or name)", hint,
        ))


def _resolve(
    client: "BirdClient", refs: list[str], pages: Iterable[list[Membership]] | None, list_command: str
) -> list[Resolution]:
    if pages is None and all(looks_like_id(r) for r in refs):
        return [Resolution(r, org_id=r) for r in refs]
    lookups = [_Lookup(ref) for ref in refs]
    for page in client.iter_pages() if pages is None else pages:
        for m in page:
            slug, name = m.slug, m.name
            for lookup in lookups:
                lookup.see(m, slug, name)
        if all(lookup.settled for lookup in lookups):
            break  # the rest of the listing cannot change any answer
    return [lookup.resolution(list_command) for lookup in lookups]


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


# `accept --all` keeps the invitations it will accept (and reports each), not the listing; past
# this many it accepts none and asks for --match, so a listing of a million invitations costs a
# few MiB, not gigabytes.
MAX_ACCEPT_ALL = 1_000


def members(pages: Iterable[list[Membership]]) -> Iterator[Membership]:
    """The memberships of `pages`, one at a time (each page is let go once read)."""
    for page in pages:
        yield from page


def pending_invitations(memberships: Iterable[Membership], patterns: list[str], *,
                        limit: int = MAX_ACCEPT_ALL) -> list[Membership]:
    """Invitations to accept for `accept --all`, restricted to `patterns` (globs on slug or name).

    Only statuses in INVITATION_STATUSES count: an unknown status is never taken for an invitation.
    Only the invitations are kept; over `limit` of them is a usage error, raised as soon as the
    one over it is read (the rest of the listing is not).
    """
    from fnmatch import fnmatchcase

    chosen = []
    for m in memberships:
        if not m.is_invitation:
            continue
        if patterns and not any(fnmatchcase(m.slug, p) or fnmatchcase(m.name, p) for p in patterns):
            continue
        if len(chosen) == limit:
            matching = f" matching {', '.join(patterns)}" if patterns else ""
            raise UsageError(
                f"more than {limit:,} pending invitations{matching}; nothing was accepted",
                f"accept them in parts of at most {limit:,} with --match GLOB (e.g. --match 'a*'), or name them",
            )
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
