"""The one object that carries streams, terminal facts, settings, the token and the API client into
commands. Built once per run by the root callback; tests build their own by running the CLI."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, TextIO

from .config import Settings

if TYPE_CHECKING:
    from .client import BirdClient


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def colour_wanted(isatty: bool, no_color_flag: bool, environ, platform: str = sys.platform) -> bool:
    """NO_COLOR and --no-color switch colour off; FORCE_COLOR switches it on without a terminal."""
    if no_color_flag or environ.get("NO_COLOR"):
        return False
    wanted = bool(environ.get("FORCE_COLOR")) or (isatty and environ.get("TERM") != "dumb")
    if wanted and isatty and platform == "win32":
        return windows_console_colour()
    return wanted


def windows_console_colour() -> bool:
    """Our colour is raw SGR codes (output/escape.py paint(), the error prefix), which a Windows
    console shows as text unless its VT processing is on. colorama, a dependency on Windows only,
    turns it on (Windows 10 and later); without colorama, no colour. Rich's progress bar needs none
    of this: Rich drives a legacy console through the Win32 API itself."""
    try:
        import colorama
    except ImportError:
        return False
    colorama.just_fix_windows_console()
    return True


@dataclass
class AppContext:
    # Settings load on first use: `--help` of a command never pays for reading the config file.
    load_settings: Callable[[], Settings] = Settings
    verbose: bool = False
    sandbox: bool = False
    no_color: bool = False
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    environ: dict = field(default_factory=lambda: os.environ)
    # The global options as the user gave them that choose the API and account (--sandbox,
    # --profile, --api-url): every hint that suggests a command repeats them (`command_hint`).
    global_args: tuple[str, ...] = ()
    _client: "BirdClient | None" = None
    _sandbox_server: object = None
    _token: object = None
    _settings: Settings | None = None
    jq_output: object = None  # --jq: collects stdout; prints the filtered JSON on close()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = self.load_settings()
        return self._settings

    # -- terminal facts ------------------------------------------------------------------------

    @property
    def stdout_isatty(self) -> bool:
        return _isatty(self.stdout)

    @property
    def stderr_isatty(self) -> bool:
        return _isatty(self.stderr)

    @property
    def stdin_isatty(self) -> bool:
        return _isatty(self.stdin)

    @property
    def color_out(self) -> bool:
        return colour_wanted(self.stdout_isatty, self.no_color, self.environ)

    @property
    def color_err(self) -> bool:
        return colour_wanted(self.stderr_isatty, self.no_color, self.environ)

    @property
    def width(self) -> int:
        return shutil.get_terminal_size((100, 24)).columns

    def command_hint(self, command: str) -> str:
        """`memberships COMMAND` as this run would have to be typed: with its global options."""
        import shlex

        return " ".join(["memberships", *(shlex.quote(a) for a in self.global_args), command])

    # -- messages (stderr) ---------------------------------------------------------------------

    def say(self, message: str) -> None:
        print(message, file=self.stderr, flush=True)

    def log(self, line: str) -> None:
        """A --verbose line. Callers never pass the token; the client redacts headers."""
        if self.verbose:
            print(line, file=self.stderr, flush=True)

    # -- API -----------------------------------------------------------------------------------

    def _start_sandbox(self) -> None:
        from .sandbox import SANDBOX_TOKEN, run_in_background

        server = run_in_background()
        self._sandbox_server = server
        self.settings.api_url = server.url
        self.settings.api_url_source = "--sandbox"
        from .auth import Token

        self._token = Token(SANDBOX_TOKEN, "sandbox")
        self.log(f"* sandbox API at {server.url} (state in {server.store.path})")

    def token_store(self):
        """Where this host and profile's token is stored. Never used under --sandbox."""
        if self.sandbox:
            raise RuntimeError("the sandbox never reads or writes the stored token")
        from .auth import TokenStore, keyring_timeout
        from .config import config_dir

        return TokenStore(
            self.settings.api_url,
            self.settings.profile,
            directory=config_dir() / "tokens",
            timeout=keyring_timeout(self.environ),
            warn=self.say,
            log=self.log,
            login=self.command_hint("login"),
        )

    def token(self):
        if self.sandbox and self._sandbox_server is None:
            self._start_sandbox()
        if self._token is None:
            from .auth import require_token

            self._token = require_token(self.environ, self.token_store())
        return self._token

    def secrets(self) -> list[str]:
        """The token of this run, once loaded: what main() scrubs from any error it prints."""
        value = getattr(self._token, "value", None)
        return [value] if value else []

    def use_token(self, token) -> None:
        """Send this token instead of looking one up: `login` checks the one it was given."""
        if self._client is not None:
            raise RuntimeError("the API client already has a token")
        self._token = token

    def client(self, max_connections: int = 20) -> "BirdClient":
        if self._client is None:
            token = self.token()
            from .client import BirdClient, RetryPolicy

            self._client = BirdClient(
                self.settings.api_url,
                token.value,
                timeout=self.settings.timeout,
                retry=RetryPolicy.from_env(self.environ),
                log=self.log if self.verbose else None,
                max_connections=max_connections,
                command_hint=self.command_hint,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._sandbox_server is not None:
            self._sandbox_server.stop()
            self._sandbox_server = None
        if self.jq_output is not None:
            output, self.jq_output = self.jq_output, None
            output.finish()
