"""Organization slugs remembered for shell completion.

Completing `memberships show <TAB>` must never wait on the network (a shell that hangs on Tab is
worse than one that completes nothing), so ORG arguments complete only from this cache: the slugs
seen by the last full, unfiltered `memberships list`, for ten minutes. The file lives in the user
cache directory and is replaced atomically, so a completion running next to a `list` reads the old
list or the new one, never half of one. Anything wrong with the file reads as "nothing cached".
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Iterable, Iterator, Sequence

TTL_SECONDS = 600
FILE_NAME = "org-slugs.json"
# Slugs are server-supplied and end up in the shell's input line: only keep those that are plainly
# one word, so a hostile slug cannot add a newline (a second candidate), a quote or an escape.
_SAFE_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_MAX_SLUGS = 10_000


def cache_file() -> Path:
    from .config import cache_dir

    return cache_dir() / FILE_NAME


def remember(pages: Iterable[Sequence], *, unfiltered: bool = True) -> Iterable[Sequence]:
    """Pass pages of memberships through unchanged; once the caller has consumed the last page of
    an `unfiltered` listing (every membership), save their slugs. A filtered listing is passed
    through untouched: it would make the cache forget the organizations it left out."""
    return _remembering(pages) if unfiltered else pages


def _remembering(pages: Iterable[Sequence]) -> Iterator[Sequence]:
    # Only slugs are kept while the list streams by, so memory stays small however long the list;
    # a listing that stops early (an error, Ctrl-C, a closed pipe) saves nothing.
    slugs: list[str] = []
    for page in pages:
        for membership in page:
            slug = membership.slug
            if len(slugs) < _MAX_SLUGS and _SAFE_SLUG.fullmatch(slug):
                slugs.append(slug)
        yield page
    save(slugs)


def save(slugs: Iterable[str], now: float | None = None) -> None:
    """Replace the cache; best effort: a read-only or full disk never fails the command."""
    import tempfile

    path = cache_file()
    data = {"savedAt": time.time() if now is None else now, "slugs": sorted(set(slugs))}
    temporary = None
    try:
        from .config import private_dir

        private_dir(path.parent)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(json.dumps(data))  # json.dump writes chunk by chunk: ~10x slower here
        os.replace(temporary, path)
    except OSError:
        if temporary is not None:
            try:
                os.unlink(temporary)
            except OSError:
                pass


def cached_slugs(now: float | None = None) -> list[str]:
    """The remembered slugs, or [] when there are none, they are stale, or the file is unreadable."""
    try:
        data = json.loads(cache_file().read_text(encoding="utf-8"))
        saved_at = float(data["savedAt"])
        slugs = data["slugs"]
    except (OSError, ValueError, TypeError, KeyError):
        return []
    age = (time.time() if now is None else now) - saved_at
    if not 0 <= age <= TTL_SECONDS or not isinstance(slugs, list):
        return []
    return [slug for slug in slugs if isinstance(slug, str) and _SAFE_SLUG.fullmatch(slug)]
