"""Where the token comes from and goes to, and how it is shown (masked).

Precedence: MEMBERSHIPS_TOKEN > OS keyring > the opt-in insecure file. The keyring holds one entry
per API host and profile (service "memberships-cli", account "HOST:PROFILE"); the file, written
only after `login --insecure-storage`, sits in the config dir with mode 0600.

`keyring` is imported only inside the worker thread that calls it: it costs ~140 ms, and `--help`,
`--version` and usage errors must not pay for it. Every keyring call is bounded in time, because a
Secret Service that never answers must not hang the CLI.
"""

from __future__ import annotations

import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote, urlsplit

from .errors import AuthError, CliError, UsageError

TOKEN_ENV = "MEMBERSHIPS_TOKEN"
KEYRING_SERVICE = "memberships-cli"
KEYRING_TIMEOUT_ENV = "MEMBERSHIPS_KEYRING_TIMEOUT"
DEFAULT_KEYRING_TIMEOUT = 5.0
SOURCE_LABELS = {TOKEN_ENV: TOKEN_ENV, "keyring": "OS keyring", "file": "token file", "sandbox": "sandbox"}


def headless_hint(login: str = "memberships login") -> str:
    """What to do without a keyring; `login` is the login command as this run must type it."""
    return (f"set MEMBERSHIPS_TOKEN (scripts, CI, containers), or run `{login} --insecure-storage` "
            "to keep the token in a file only you can read")


HEADLESS_HINT = headless_hint()
# What an Authorization header can carry: visible ASCII, no spaces (RFC 6750 b64token and friends).
_TOKEN_TEXT = re.compile(r"[\x21-\x7e]+")


@dataclass(frozen=True)
class Token:
    value: str = field(repr=False)
    source: str  # "MEMBERSHIPS_TOKEN", "keyring", "file", "sandbox"

    def __repr__(self) -> str:  # tracebacks and debuggers show this, never the value
        return f"Token({mask(self.value)}, source={self.source!r})"


class KeyringUnavailable(AuthError):
    """No usable OS keyring: headless Linux, CI, containers, a backend that cannot start."""

    def __init__(self, reason: str, hint: str | None = HEADLESS_HINT) -> None:
        super().__init__(f"no usable OS keyring: {reason}", hint)
        self.reason = reason


class KeyringTimeout(AuthError):
    """The OS keyring did not answer in time (e.g. a Secret Service waiting on an unlock prompt)."""

    def __init__(self, seconds: float, login: str = "memberships login") -> None:
        self.reason = f"did not answer within {seconds:g} s"
        super().__init__(
            f"the OS keyring {self.reason}",
            "unlock your keyring (or restart its daemon) and try again; or " + headless_hint(login),
        )


def mask(token: str) -> str:
    """Enough to recognise a token, never enough to use it: first 4 characters and the length."""
    return f"{token[:4]}… ({len(token)} characters)" if len(token) > 8 else f"… ({len(token)} characters)"


def clean_token(value: str, source: str) -> str:
    """The token without surrounding whitespace; UsageError (not showing it) if it cannot be one."""
    value = value.strip()
    if not value:
        raise UsageError(f"no token given ({source} is empty)")
    if not _TOKEN_TEXT.fullmatch(value):
        lines = len(value.splitlines())
        what = f"{lines} lines" if lines > 1 else "spaces, control or non-ASCII characters"
        raise UsageError(
            f"the token from {source} cannot be a token: it has {what}",
            "pass exactly one token, e.g. `printf '%s' \"$TOKEN\" | memberships login --with-token`",
        )
    return value


def api_host(api_url: str) -> str:
    """The host of an API URL, with the port when it is not the scheme's default."""
    parts = urlsplit(api_url)
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default_port = {"https": 443, "http": 80}.get(parts.scheme)
    if parts.port is not None and parts.port != default_port:
        host += f":{parts.port}"
    return host


def keyring_timeout(environ) -> float:
    raw = environ.get(KEYRING_TIMEOUT_ENV)
    if not raw:
        return DEFAULT_KEYRING_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        raise UsageError(f"invalid {KEYRING_TIMEOUT_ENV} {raw!r}: expected seconds, e.g. 5") from None
    if not 0 < seconds <= 600:
        raise UsageError(f"invalid {KEYRING_TIMEOUT_ENV} {raw!r}: expected more than 0 and at most 600 seconds")
    return seconds


def _classify_keyring_error(exc: BaseException, method: str) -> str:
    """"not stored", "headless" (this machine's keyring cannot be used) or "bug" (ours or a
    backend's: not to be hidden).

    RuntimeError is what keyring raises when a backend cannot start (Secret Service without
    D-Bus); NoKeyringError is one too. secretstorage and jeepney (the D-Bus layer) leak their own
    errors from some calls: recognised by module, so that neither has to be imported here.
    """
    try:
        from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError
    except ImportError:
        return "headless"
    if method == "delete_password" and isinstance(exc, PasswordDeleteError):
        return "not stored"  # what backends raise when there is nothing to delete
    if isinstance(exc, NoKeyringError):
        return "none found"
    if isinstance(exc, (KeyringError, RuntimeError, OSError, ImportError)):
        return "headless"
    if any(cls.__module__.split(".")[0] in ("secretstorage", "jeepney") for cls in type(exc).__mro__):
        return "headless"
    return "bug"


@dataclass
class SourceState:
    """What one place holds for this host and profile, as `status` shows it."""

    source: str  # "MEMBERSHIPS_TOKEN", "keyring", "file"
    state: str  # "set", "not set", "stored", "none", "unavailable", "timed out", "unreadable", "not read"
    detail: str | None = None

    def to_json(self) -> dict:
        return {"source": self.source, "state": self.state, "detail": self.detail}


@dataclass
class Lookup:
    token: Token | None
    sources: list[SourceState]
    problem: AuthError | None = None  # why there is no token, when it is more than "none stored"


_NOT_STORED = object()


class TokenStore:
    """The stored token of one API host and profile: the OS keyring, and the opt-in file."""

    def __init__(
        self,
        api_url: str,
        profile: str,
        *,
        directory: Path,
        timeout: float = DEFAULT_KEYRING_TIMEOUT,
        warn: Callable[[str], None] = lambda line: None,
        log: Callable[[str], None] = lambda line: None,
        login: str | None = None,
    ) -> None:
        self.host = api_host(api_url)
        self.profile = profile
        # The login command the hints suggest: the caller's, with the global options given
        # (AppContext.command_hint); a token stored without --api-url would be another host's.
        self.login = login or login_command(profile)
        self.account = f"{self.host}:{profile}"
        # quote() is one-to-one, so no two accounts share a file; ':' becomes %3A.
        self.path = directory / (quote(self.account, safe="._-") + ".token")
        self.timeout = timeout
        self.warn = warn
        self._log = log
        self._keyring_timed_out: KeyringTimeout | None = None

    # -- OS keyring ------------------------------------------------------------------------------

    def _keyring(self, method: str, *args: str, secret: str | None = None):
        """Call `method` of the keyring backend on a daemon thread; give up after `timeout`.

        Once the keyring has timed out, later calls of this run fail at once instead of waiting
        again (and a thread stuck in D-Bus must not hold up the exit: hence daemon).
        """
        if self._keyring_timed_out is not None:
            raise self._keyring_timed_out
        outcome: dict = {}

        def work() -> None:
            try:
                import keyring

                backend = keyring.get_keyring()
                outcome["backend"] = f"{type(backend).__module__}.{type(backend).__qualname__}"
                outcome["value"] = getattr(backend, method)(KEYRING_SERVICE, *args)
            except BaseException as exc:  # handed to the calling thread, which decides below
                outcome["error"], outcome["kind"] = exc, _classify_keyring_error(exc, method)

        self._log(f"* keyring: {method}(service={KEYRING_SERVICE!r}, account={self.account!r})")
        worker = threading.Thread(target=work, name="memberships-keyring", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            self._keyring_timed_out = KeyringTimeout(self.timeout, self.login)
            raise self._keyring_timed_out
        if "backend" in outcome:
            self._log(f"* keyring backend: {outcome['backend']}")
        error, kind = outcome.get("error"), outcome.get("kind")
        if error is None:
            return outcome.get("value")
        if kind == "not stored":
            return _NOT_STORED
        if kind == "none found":  # keyring's own text recommends plain-file backends: not ours
            raise KeyringUnavailable("none found, as is usual on headless machines, in CI and in containers", headless_hint(self.login))
        text = f"{type(error).__name__}: {error}"
        if secret and secret in text:
            text = text.replace(secret, "***")
            if kind == "bug":  # its message must not reach the last-resort handler as it is
                raise CliError(f"unexpected error from the keyring backend: {text}", "report it") from None
        if kind == "headless":
            raise KeyringUnavailable(text, headless_hint(self.login)) from None
        raise error

    def keyring_get(self) -> str | None:
        value = self._keyring("get_password", self.account)
        return value or None

    def keyring_set(self, value: str) -> None:
        """Store the token, then read it back: a backend that accepts and drops it (the null
        keyring) must not let `login` say it stored anything."""
        self._keyring("set_password", self.account, value, secret=value)
        if self._keyring("get_password", self.account) != value:
            raise KeyringUnavailable("it accepted the token but does not give it back", headless_hint(self.login))

    def keyring_delete(self) -> bool:
        """Remove the keyring entry; False when there was none."""
        return self._keyring("delete_password", self.account) is not _NOT_STORED

    # -- the insecure file -----------------------------------------------------------------------

    def _directory_problem(self) -> tuple[str, str] | None:
        """Why another user could put a token file of theirs in our place (see unsafe_directory)."""
        from .config import unsafe_directory

        directory = self.path.parent
        return unsafe_directory(directory, ours=(directory, directory.parent))

    def check_file_directory(self) -> None:
        """Refuse (exit 2) to keep the token where another user could replace or remove it, as ssh
        does; before anything is written, and before `login` asks for the token."""
        problem = self._directory_problem()
        if problem is not None:
            raise UsageError(f"refusing to store the token in {self.path.parent}: {problem[0]}", problem[1])

    @contextmanager
    def locked(self) -> Iterator[None]:
        """One login or logout at a time: storing is two steps (the file, then the keyring entry
        that would shadow it, or the other way round), and two runs interleaving them could each
        remove what the other stored, leaving nothing while both say they stored a token."""
        from .config import private_dir
        from .lockfile import held

        config = self.path.parent.parent
        try:
            private_dir(config)
        except OSError as exc:
            raise AuthError(f"cannot create the config dir {config}: {exc.strerror or exc}") from None
        with held(config / ".tokens.lock", wait=3 * self.timeout + 10):
            yield

    def file_get(self) -> str | None:
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "r", encoding="utf-8", errors="replace") as handle:
                info = os.fstat(handle.fileno())
                mode = info.st_mode & 0o777
                text = handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:  # a symlink (O_NOFOLLOW), a directory, no permission
            raise AuthError(
                f"cannot read the token file {self.path}: {exc.strerror or exc}",
                "fix it, or remove it with `memberships logout`",
            ) from None
        # A file another user could have put there may hold their token, not ours: every request
        # would then act on their account. Refused like ssh refuses keys in such places.
        problem = self._directory_problem()
        if problem is None and os.name == "posix" and info.st_uid not in (os.getuid(), 0):
            problem = (f"the file belongs to another user (uid {info.st_uid})", "remove it with `memberships logout`")
        if problem is not None:
            raise AuthError(
                f"refusing to use the token file {self.path}: {problem[0]}, so the token in it may not be yours",
                f"{problem[1]}, then log in again",
            )
        if mode & 0o077:
            self.warn(
                f"warning: the token file {self.path} can be read by other users (mode {mode:04o}); "
                f"run `chmod 600 {self.path}`"
            )
        return text.strip() or None

    def file_set(self, value: str) -> Path:
        """Write the token with mode 0600 from the first byte (never chmod after writing), then
        move it into place, so that no reader ever sees half a token or a wider mode."""
        import secrets

        from .config import private_dir

        self.check_file_directory()
        directory = self.path.parent
        temporary = directory / f".{self.path.name}.{secrets.token_hex(6)}.tmp"
        try:
            private_dir(directory.parent)
            private_dir(directory)
            self.check_file_directory()  # what we just created, or found created meanwhile
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(value + "\n")
            os.replace(temporary, self.path)
        except OSError as exc:
            temporary.unlink(missing_ok=True)
            raise AuthError(f"cannot write the token file {self.path}: {exc.strerror or exc}") from None
        return self.path

    def file_delete(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise AuthError(f"cannot remove the token file {self.path}: {exc.strerror or exc}") from None
        return True


def find_token(environ, store: TokenStore, *, every_source: bool = False) -> Lookup:
    """The token to use, in precedence order. `every_source`: also look at the places that the
    winner overrides (for `status`); otherwise stop at the first token found.

    A keyring that cannot be used is passed over for the file; one that timed out too, with a
    warning when the file has a token, and is the `problem` when nothing else has one.
    """
    sources: list[SourceState] = []
    found: Token | None = None
    raw = environ.get(TOKEN_ENV, "")
    if raw.strip():
        found = Token(clean_token(raw, TOKEN_ENV), TOKEN_ENV)
        sources.append(SourceState(TOKEN_ENV, "set"))
    else:
        sources.append(SourceState(TOKEN_ENV, "not set"))
    keyring_timeout_error: KeyringTimeout | None = None
    where = f"service {KEYRING_SERVICE}, account {store.account}"
    if found is not None and not every_source:
        return Lookup(found, sources)
    try:
        value = store.keyring_get()
    except KeyringTimeout as exc:
        keyring_timeout_error = exc
        sources.append(SourceState("keyring", "timed out", exc.reason))
    except KeyringUnavailable as exc:
        sources.append(SourceState("keyring", "unavailable", exc.reason))
    else:
        sources.append(SourceState("keyring", "stored" if value else "none", where))
        if value and found is None:
            found = Token(clean_token(value, "the OS keyring"), "keyring")
    if found is not None and not every_source:
        return Lookup(found, sources)
    try:
        value = store.file_get()
    except AuthError as exc:
        sources.append(SourceState("file", "unreadable", exc.message))
        if found is None:
            return Lookup(None, sources, exc)
    else:
        sources.append(SourceState("file", "stored" if value else "none", str(store.path)))
        if value and found is None:
            found = Token(clean_token(value, f"the token file {store.path}"), "file")
            if keyring_timeout_error is not None:
                store.warn(f"warning: {keyring_timeout_error.message}; using the token file {store.path}")
    return Lookup(found, sources, keyring_timeout_error if found is None else None)


def login_command(profile: str) -> str:
    return "memberships login" if profile == "default" else f"memberships --profile {profile} login"


def not_logged_in(store: TokenStore) -> AuthError:
    return AuthError(
        f"not logged in: no token for {store.host} (profile {store.profile})",
        f"run `{store.login}` or set MEMBERSHIPS_TOKEN; "
        "no account? try `memberships --sandbox list`",
    )


def require_token(environ, store: TokenStore) -> Token:
    lookup = find_token(environ, store)
    if lookup.token is None:
        raise lookup.problem or not_logged_in(store)
    return lookup.token
