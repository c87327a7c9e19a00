"""Organizations remembered for shell completion: slug and membership status, per API and profile.

Completing `memberships show <TAB>` must never wait on the network (a shell that hangs on Tab is
worse than one that completes nothing), so ORG arguments complete only from this cache: what the
last full, unfiltered `memberships list` saw, for ten minutes. Each listing is kept under its scope
(the API URL and profile, or the sandbox), so the sandbox's slugs are never offered against the
real API. Statuses let `accept <TAB>` offer only invitations and `leave <TAB>` only what can be left.

The file lives in the user cache directory and is replaced atomically, so a completion running next
to a `list` reads the old file or the new one, never half of one. Anything wrong with it reads as
"nothing cached". It is plain text, not JSON: the completer reads it on every Tab press, and
`json` (with the `re` it imports) costs more than the whole read.

    memberships completion cache 2
    @SAVED_AT<TAB>SCOPE
    SLUG<TAB>STATUS
    ...
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False  # `typing` alone costs ~0.5x `python -c pass`, which Tab must not pay
if TYPE_CHECKING:
    from typing import Iterable, Iterator, Sequence

TTL_SECONDS = 600
FILE_NAME = "org-cache.txt"
HEADER = "memberships completion cache 2"
SANDBOX_SCOPE = "sandbox"
_MAX_SLUGS = 10_000
# Slugs are server-supplied and end up in the shell's input line: only keep those that are plainly
# one word, so a hostile slug cannot add a newline (a second candidate), a quote or an escape.
# Statuses get the same rule (else they are kept as unknown, ""). Checked without `re`, see above.
_SAFE_FIRST = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_SAFE_REST = _SAFE_FIRST | frozenset("._-")
# What `accept` and `leave` can act on (models.INVITATION_STATUSES and ACTIVE_STATUS, repeated here
# so the completer imports no model code; tests/test_completion.py checks they agree). A banned
# membership or an unknown status is offered by neither.
INVITATION_STATUSES = ("invited", "pending")
LEAVABLE_STATUSES = ("active", "invited", "pending")


def is_safe_word(text: str) -> bool:
    return 0 < len(text) <= 128 and text[0] in _SAFE_FIRST and _SAFE_REST.issuperset(text)


def scope_of(*, sandbox: bool, api_url: str, profile: str) -> str:
    """The key a listing is kept under: the sandbox (its URL changes every run), or API URL + profile."""
    return SANDBOX_SCOPE if sandbox else f"{api_url.rstrip('/')} {profile}"


def cache_path() -> str:
    from .paths import user_dir

    return os.path.join(user_dir("user_cache_dir"), FILE_NAME)


def config_path() -> str:
    """config.config_file(), without importing config.py."""
    from .paths import user_dir

    return os.path.join(user_dir("user_config_dir"), "config.toml")


# -- writing (by `list`) ---------------------------------------------------------------------------


def remember(pages: Iterable[Sequence], *, unfiltered: bool = True, scope: str) -> Iterable[Sequence]:
    """Pass pages of memberships through unchanged; once the caller has consumed the last page of
    an `unfiltered` listing (every membership), save their slugs and statuses under `scope`. A
    filtered listing is passed through untouched: it would make the cache forget the
    organizations it left out."""
    return _remembering(pages, scope) if unfiltered else pages


def _remembering(pages: Iterable[Sequence], scope: str) -> Iterator[Sequence]:
    # Only slugs and statuses are kept while the list streams by, so memory stays small however long
    # the list; a listing that stops early (an error, Ctrl-C, a closed pipe) saves nothing.
    orgs: list[tuple[str, str]] = []
    for page in pages:
        for membership in page:
            slug = membership.slug
            if len(orgs) < _MAX_SLUGS and is_safe_word(slug):
                orgs.append((slug, membership.status))
        yield page
    save(orgs, scope=scope)


def save(orgs: Iterable[tuple[str, str] | str], now: float | None = None, *, scope: str) -> None:
    """Replace `scope`'s entry (organizations as (slug, status), or bare slugs of unknown status),
    keeping the other scopes' fresh entries. Best effort: a read-only or full disk never fails the
    command."""
    import tempfile

    now = time.time() if now is None else now
    if "\t" in scope or "\n" in scope or "\r" in scope:
        return
    entries = {key: value for key, value in _read().items() if key != scope and _fresh(value[0], now)}
    kept = {}
    for org in orgs:
        slug, status = (org, "") if isinstance(org, str) else org
        if is_safe_word(slug):
            kept[slug] = status if is_safe_word(status) else ""
    entries[scope] = (now, sorted(kept.items()))
    lines = [HEADER]
    for key, (saved_at, pairs) in entries.items():
        lines.append(f"@{saved_at!r}\t{key}")
        lines.extend(f"{slug}\t{status}" for slug, status in pairs)
    path = cache_path()
    temporary = None
    try:
        from pathlib import Path

        from .config import private_dir

        private_dir(Path(os.path.dirname(path)))
        handle, temporary = tempfile.mkstemp(prefix=f".{FILE_NAME}.", suffix=".tmp", dir=os.path.dirname(path))
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write("\n".join(lines) + "\n")
        os.replace(temporary, path)
    except OSError:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass


# -- reading (by the completer) --------------------------------------------------------------------


def _fresh(saved_at: float, now: float) -> bool:
    return 0 <= now - saved_at <= TTL_SECONDS  # saved "in the future": a clock jumped; distrust it


def _read() -> dict[str, tuple[float, list[tuple[str, str]]]]:
    try:
        with open(cache_path(), encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, ValueError):
        return {}
    lines = text.split("\n")
    if lines[0] != HEADER:
        return {}
    entries: dict[str, tuple[float, list[tuple[str, str]]]] = {}
    current: list[tuple[str, str]] | None = None
    for line in lines[1:]:
        if line.startswith("@"):
            saved_at, _, key = line[1:].partition("\t")
            try:
                entries[key] = (float(saved_at), [])
            except ValueError:
                return {}
            current = entries[key][1]
        elif line and current is not None:
            slug, _, status = line.partition("\t")
            if is_safe_word(slug):
                current.append((slug, status if is_safe_word(status) else ""))
    return entries


def cached(scope: str, now: float | None = None) -> list[tuple[str, str]]:
    """(slug, status) of every organization remembered for `scope`, or [] when there are none,
    they are stale, or the file is unreadable."""
    saved_at, orgs = _read().get(scope, (0.0, []))
    return orgs if _fresh(saved_at, time.time() if now is None else now) else []


def cached_slugs(scope: str, now: float | None = None, statuses: Sequence[str] | None = None) -> list[str]:
    """The remembered slugs of `scope` (only those in `statuses`, when given)."""
    return [slug for slug, status in cached(scope, now) if statuses is None or status in statuses]
