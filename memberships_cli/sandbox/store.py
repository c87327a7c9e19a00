"""The sandbox's state: memberships in an SQLite file, kept as the exact JSON the API returns.

Each row holds the membership's JSON text plus the few columns the API filters and orders by. The
text is what gets served, so unknown fields survive and listing never has to decode rows.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from memberships_cli.sandbox import seed

DB_ENV_VAR = "MEMBERSHIPS_SANDBOX_DB"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS memberships (
    position INTEGER PRIMARY KEY,
    org_id TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS memberships_by_status ON memberships (status, position);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class StoreError(Exception):
    """A membership operation the current state does not allow."""


class MembershipNotFound(StoreError):
    pass


class NoPendingInvitation(StoreError):
    pass


class DuplicateMembership(StoreError):
    pass


def default_db_path() -> Path:
    """Where the sandbox keeps its state: $MEMBERSHIPS_SANDBOX_DB, else the user data dir."""
    override = os.environ.get(DB_ENV_VAR)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("memberships-cli")) / "sandbox.sqlite3"


# One encoder for all rows: json.dumps with options builds a new encoder on every call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def encode(membership: dict[str, Any]) -> str:
    """The JSON text a membership is stored and served as."""
    return _ENCODER.encode(membership)


@lru_cache(maxsize=1)
def _seed_rows() -> list[tuple[str, str, str]]:
    # Building the seed costs milliseconds (uuid5, date formatting); every test opens a fresh
    # store, so it is built once per process. Rows are tuples of strings, safe to share.
    return [(*_columns(m), encode(m)) for m in seed.memberships()]


def _now() -> str:
    return seed.timestamp(datetime.now(timezone.utc))


def _columns(membership: Any) -> tuple[str, str]:
    """(org id, status) of a membership, or ValueError when it lacks what the API relies on."""
    if not isinstance(membership, dict):
        raise ValueError("a membership must be a JSON object")
    organization = membership.get("organization")
    if not isinstance(organization, dict) or not isinstance(organization.get("id"), str):
        raise ValueError("a membership needs organization.id (a string)")
    status = membership.get("status")
    if not isinstance(status, str):
        raise ValueError("a membership needs status (a string)")
    return organization["id"], status


class Store:
    """Thread-safe membership storage; one connection shared behind a lock."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            from ..config import private_dir

            private_dir(self.path.parent)
        self._lock = threading.Lock()
        # Autocommit mode: transactions are opened explicitly, so each one is visibly scoped.
        self._conn = sqlite3.connect(
            str(self.path), check_same_thread=False, isolation_level=None, timeout=10
        )
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL stays consistent after a crash and avoids an fsync per accept.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            with self._transaction():
                seeded = self._conn.execute("SELECT 1 FROM meta WHERE key = 'seeded'").fetchone()
                if seeded is None:
                    self._reseed()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front, so two processes opening a fresh file cannot
        # both decide to seed it.
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _reseed(self) -> None:
        self._conn.execute("DELETE FROM memberships")
        self._insert_rows(_seed_rows())
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('seeded', '1')")
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('generated_next', '0')")

    def _insert(self, memberships: list[dict[str, Any]]) -> None:
        self._insert_rows([(*_columns(m), encode(m)) for m in memberships])

    def _insert_rows(self, rows: list[tuple[str, str, str]]) -> None:
        """Append (org id, status, JSON text) rows after the current last position."""
        (last,) = self._conn.execute("SELECT COALESCE(MAX(position), 0) FROM memberships").fetchone()
        numbered = [(last + offset, *row) for offset, row in enumerate(rows, start=1)]
        try:
            self._conn.executemany("INSERT INTO memberships VALUES (?, ?, ?, ?)", numbered)
        except sqlite3.IntegrityError as error:
            raise DuplicateMembership("a membership for this organization already exists") from error

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def reset(self) -> None:
        """Throw away every change and restore the seed."""
        with self._lock, self._transaction():
            self._reseed()

    def count(self, status: str | None = None) -> int:
        with self._lock:
            if status is None:
                row = self._conn.execute("SELECT COUNT(*) FROM memberships").fetchone()
            else:
                row = self._conn.execute(
                    "SELECT COUNT(*) FROM memberships WHERE status = ?", (status,)
                ).fetchone()
        return row[0]

    def list_page_raw(
        self, status: str | None, reverse: bool, after: int | None, limit: int
    ) -> tuple[list[str], int | None]:
        """One page as JSON texts, and the cursor for the next page (None on the last page).

        `after` is the position of the last row already seen, in the direction being read.
        """
        clauses, params = [], []
        if status is not None:
            clauses.append("status = ?")
            params.append(status)
        if after is not None:
            clauses.append("position < ?" if reverse else "position > ?")
            params.append(after)
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        order = "DESC" if reverse else "ASC"
        # One row more than asked tells whether another page exists without a COUNT.
        sql = f"SELECT position, body FROM memberships {where} ORDER BY position {order} LIMIT ?"
        with self._lock:
            rows = self._conn.execute(sql, (*params, limit + 1)).fetchall()
        page = rows[:limit]
        next_after = page[-1][0] if len(rows) > limit else None
        return [body for _, body in page], next_after

    def list_page(
        self, status: str | None, reverse: bool, after: int | None, limit: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        bodies, next_after = self.list_page_raw(status, reverse, after, limit)
        return [json.loads(body) for body in bodies], next_after

    def get_raw(self, org_id: str) -> str | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT body FROM memberships WHERE org_id = ?", (org_id,)
            ).fetchone()
        return None if row is None else row[0]

    def get(self, org_id: str) -> dict[str, Any] | None:
        body = self.get_raw(org_id)
        return None if body is None else json.loads(body)

    def all_raw(self) -> list[str]:
        """Every membership's JSON text, in listing order."""
        with self._lock:
            rows = self._conn.execute("SELECT body FROM memberships ORDER BY position").fetchall()
        return [body for (body,) in rows]

    def all(self) -> list[dict[str, Any]]:
        return [json.loads(body) for body in self.all_raw()]

    def accept(self, org_id: str) -> dict[str, Any]:
        """Turn a pending invitation into an active membership and return the updated record."""
        with self._lock, self._transaction():
            row = self._conn.execute(
                "SELECT status, body FROM memberships WHERE org_id = ?", (org_id,)
            ).fetchone()
            if row is None:
                raise MembershipNotFound(org_id)
            if row[0] != "invited":
                raise NoPendingInvitation(org_id)
            membership = json.loads(row[1])
            now = _now()
            membership["status"] = "active"
            membership["updatedAt"] = now
            _move_member_to_active(membership.get("organization"), now)
            self._conn.execute(
                "UPDATE memberships SET status = 'active', body = ? WHERE org_id = ?",
                (encode(membership), org_id),
            )
        return membership

    def leave(self, org_id: str) -> None:
        with self._lock, self._transaction():
            deleted = self._conn.execute("DELETE FROM memberships WHERE org_id = ?", (org_id,))
            if deleted.rowcount == 0:
                raise MembershipNotFound(org_id)

    def add(self, membership: dict[str, Any]) -> None:
        """Append a membership at the end of the listing order, stored exactly as given."""
        with self._lock, self._transaction():
            self._insert([membership])

    def add_generated(self, n: int, status: str = "invited") -> list[str]:
        """Append `n` synthetic memberships (see seed.generated); returns their organization ids."""
        if n < 0:
            raise ValueError("n must not be negative")
        with self._lock, self._transaction():
            (start,) = self._conn.execute(
                "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'generated_next'"
            ).fetchone()
            memberships = seed.generated(n, status=status, start=start)
            self._insert(memberships)
            self._conn.execute(
                "UPDATE meta SET value = ? WHERE key = 'generated_next'", (str(start + n),)
            )
        return [membership["organization"]["id"] for membership in memberships]


def _move_member_to_active(organization: Any, now: str) -> None:
    # The organization's counters move with the member, as in the API's own accept example.
    if not isinstance(organization, dict):
        return
    pending = organization.get("pendingMemberCount")
    active = organization.get("activeMemberCount")
    if isinstance(pending, int) and pending > 0:
        organization["pendingMemberCount"] = pending - 1
    if isinstance(active, int):
        organization["activeMemberCount"] = active + 1
    organization["updatedAt"] = now
