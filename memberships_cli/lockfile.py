"""An exclusive lock between our own processes, held on a small file next to what it guards.

Two runs that read, change and write back the same file (`config set` for two profiles at once)
must take turns, or the second write undoes the first. The lock is on a separate file, never on
the guarded one: that one is replaced atomically (os.replace), so a lock on it would be on a file
that no longer has the name. The lock file is never removed: removing it would let a third run
lock a new file while a second still holds the old one.

flock (POSIX) and msvcrt.locking (Windows) are released by the system when the process ends,
however it ends, so a crashed run cannot leave a stale lock. The standard library is enough here;
the `filelock` package would do the same behind one more dependency to install and import.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import CliError

DEFAULT_WAIT = 10.0


class LockError(CliError):
    """The lock file cannot be opened, or another run holds the lock for too long."""


def _timed_out(path: Path, seconds: float) -> LockError:
    return LockError(
        f"another memberships run has held the lock {path} for more than {seconds:g} s",
        "wait for it to finish (or stop it) and try again",
    )


def _try_lock(fd: int) -> bool:
    if os.name == "nt":
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _unlock(fd: int) -> None:
    if os.name == "nt":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def held(path: Path, wait: float = DEFAULT_WAIT) -> Iterator[None]:
    """Hold the lock on `path` (created 0600 if missing) for the `with` block; LockTimeout after
    `wait` seconds. Its directory must exist. LockError when the lock cannot be had."""
    try:
        # O_NOFOLLOW: a symlink planted in our place must not make us create a file elsewhere.
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise LockError(f"cannot open the lock file {path}: {exc.strerror or exc}") from None
    try:
        deadline = time.monotonic() + wait
        pause = 0.005
        # Polling rather than a blocking lock: a holder stopped with Ctrl-Z must cost the others
        # an error after `wait`, not a hang. Holders keep the lock for milliseconds.
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise _timed_out(path, wait)
            time.sleep(pause)
            pause = min(pause * 2, 0.1)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)
