"""Error classes, each carrying its exit code and a hint; the one exit-code table of the CLI.

Only `cli.main()` turns these into exit codes and messages. Everything below raises them.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    API = 1  # the API refused or answered something we cannot use; unexpected errors
    USAGE = 2  # bad flag, argument, config or confirmation refused
    NOT_FOUND = 3  # no membership or invitation for that organization
    AUTH = 4  # no token, or the API rejected it (401/403)
    NETWORK = 5  # connection failure, timeout, rate limit or 5xx after retries
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM (128 + 15): `timeout`, a CI cancel, `docker stop`


EXIT_CODE_TABLE = (
    (ExitCode.OK, "success (an empty list too)"),
    (ExitCode.API, "API error or unusable answer (malformed, a redirect, a 500)"),
    (ExitCode.USAGE, "usage error: bad flag, argument or config; confirmation refused"),
    (ExitCode.NOT_FOUND, "no membership or invitation for that organization"),
    (ExitCode.AUTH, "authentication: no token, or the API rejected it (401/403)"),
    (ExitCode.NETWORK, "network: no connection, timeout, 429 or 502/503/504 after retries"),
    (ExitCode.INTERRUPTED, "interrupted (Ctrl-C)"),
    (ExitCode.TERMINATED, "terminated (SIGTERM: timeout, a CI cancel, docker stop)"),
)


class CliError(Exception):
    """An error the user can act on: a one-line message plus an optional hint."""

    exit_code: ExitCode = ExitCode.API

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class UsageError(CliError):
    exit_code = ExitCode.USAGE


class NotFoundError(CliError):
    exit_code = ExitCode.NOT_FOUND


class AuthError(CliError):
    exit_code = ExitCode.AUTH


class NetworkError(CliError):
    exit_code = ExitCode.NETWORK


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread by the handler `cli.run` installs. A KeyboardInterrupt,
    so it takes Ctrl-C's path everywhere: a bulk run reports what it did, a listing keeps its rows.
    `cli.main` ends it with exit 143 and "Terminated."."""


class Interrupted(CliError):
    """Ctrl-C or SIGTERM: for the items of a bulk run that were never sent, or whose answer was
    not waited for."""

    exit_code = ExitCode.INTERRUPTED

    @classmethod
    def by(cls, stop: KeyboardInterrupt, message: str) -> "Interrupted":
        """`message` about an item, worded and coded for what stopped the run."""
        error = cls(message.format(stopped="terminated" if isinstance(stop, Terminated) else "interrupted"))
        if isinstance(stop, Terminated):
            error.exit_code = ExitCode.TERMINATED
        return error


class ApiError(CliError):
    """The API answered with an error status; `status` and `code` come from the response."""

    exit_code = ExitCode.API

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        code: str | None = None,
        endpoint: str | None = None,
    ) -> None:
        super().__init__(message, hint)
        self.status = status
        self.code = code
        self.endpoint = endpoint


class ConflictError(ApiError):
    """409: e.g. there is no pending invitation to accept."""


class MalformedResponseError(ApiError):
    """The server answered 2xx but with a body we cannot understand."""


def most_severe(codes) -> ExitCode:
    """The exit code a bulk run ends with: the most severe of its per-item codes.

    Severity order (worst first): auth, network, API, not found, usage, success. Auth and network
    come first because they usually mean nothing else could work either.
    """
    order = [ExitCode.AUTH, ExitCode.NETWORK, ExitCode.API, ExitCode.NOT_FOUND, ExitCode.USAGE]
    codes = set(codes)
    for code in order:
        if code in codes:
            return code
    return ExitCode.OK
