"""The Typer app, its global options, and `main()`: the single place errors become exit codes."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from . import __version__
from .command_line import number
from .errors import EXIT_CODE_TABLE, CliError, ExitCode, Terminated
from .help_text import examples

EPILOG = (
    examples("")
    + "\n\nEnvironment variables: memberships help environment"
    + "\n\n\b\nExit codes:\n" + "\n".join(f"  {int(code):<4} {text}" for code, text in EXIT_CODE_TABLE)
)

app = typer.Typer(
    name="memberships",
    help="Manage your own organization memberships on Bird's Accounts API.\n\n"
    "Try it without an account: memberships --sandbox list\n\n"
    "The options below are global: they may come before or after the command.",
    epilog=EPILOG,
    no_args_is_help=True,
    add_completion=False,
    # Plain help: Rich-rendered help measured ~15x `python -c pass` against ~7x for plain (issue 7).
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(ctx: typer.Context, value: bool) -> None:
    if value and not ctx.resilient_parsing:  # shell completion parses resiliently: print nothing then
        print(f"memberships {__version__}")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    api_url: Annotated[Optional[str], typer.Option("--api-url", metavar="URL", help="API base URL [env: MEMBERSHIPS_API_URL; default: https://api.bird.com].", show_default=False)] = None,
    timeout: Annotated[Optional[float], typer.Option("--timeout", metavar="SECONDS", click_type=number(whole=False), help="Time limit of each try of a request, from connecting to the last byte of the answer (connect alone at most 10) [env: MEMBERSHIPS_TIMEOUT; default: 30].", show_default=False)] = None,
    profile: Annotated[Optional[str], typer.Option("--profile", metavar="NAME", help="Settings profile [env: MEMBERSHIPS_PROFILE].", show_default=False)] = None,
    sandbox: Annotated[bool, typer.Option("--sandbox", envvar="MEMBERSHIPS_SANDBOX", help="Run against the bundled local sandbox API (its own token; yours is never read) [env: MEMBERSHIPS_SANDBOX=1].", show_envvar=False)] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each request, response and retry to stderr (token redacted).")] = False,
    no_color: Annotated[bool, typer.Option("--no-color", help="No colour [env: NO_COLOR].")] = False,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    from .context import AppContext

    def settings():
        from .config import Settings, load_settings

        if ctx.invoked_subcommand in ("completion", "sandbox"):
            # They never talk to the API: a broken config file or API URL must not break them (a
            # failing `eval "$(memberships completion bash)"` would greet every new shell).
            return Settings()
        # `config` reads the config file itself, so that `config path` still finds a broken one.
        return load_settings(
            api_url=api_url, timeout=timeout, profile=profile, use_config_file=ctx.invoked_subcommand != "config"
        )

    context = AppContext(load_settings=settings, verbose=verbose, sandbox=sandbox, no_color=no_color,
                         global_args=_given_globals(ctx, sandbox=sandbox, profile=profile, api_url=api_url))
    if isinstance(ctx.obj, dict):  # main()'s note of this run's context, for its last-resort scrubbing
        ctx.obj["app"] = context
    ctx.obj = context
    ctx.call_on_close(context.close)


def _given_globals(ctx: typer.Context, *, sandbox: bool, profile: str | None, api_url: str | None) -> tuple[str, ...]:
    """The options that choose the API and account, as given on the command line (not from the
    environment, which a suggested command inherits anyway)."""
    from typer._click.core import ParameterSource

    args: list[str] = []
    if sandbox and ctx.get_parameter_source("sandbox") == ParameterSource.COMMANDLINE:
        args.append("--sandbox")
    if profile is not None:
        args += ["--profile", profile]
    if api_url is not None:
        args += ["--api-url", api_url]
    return tuple(args)


# Which module registers each command. Only the invoked command's module is imported and
# registered: building every command cost 22-26 ms of start-up (~1.3x `python -c pass`, issue 7).
_COMMAND_MODULES = {
    "list": "memberships", "show": "memberships", "accept": "memberships", "leave": "memberships",
    "login": "session", "logout": "session", "status": "session",
    "config": "config_cmd", "sandbox": "sandbox", "completion": "completion", "help": "help_cmd",
}
_MODULE_ORDER = ("memberships", "session", "config_cmd", "sandbox", "completion", "help_cmd")  # as --help lists them
_GLOBAL_OPTIONS_WITH_VALUE = frozenset({"--api-url", "--timeout", "--profile"})
_registered: list[str] = []


def _command_named(args: list[str]) -> str | None:
    """The command on the command line, found the way click finds it: the first word that is
    neither a global option nor the value of one."""
    value_next = False
    for arg in args:
        if value_next:
            value_next = False
        elif arg == "--":
            return None
        elif arg.startswith("-"):
            value_next = arg in _GLOBAL_OPTIONS_WITH_VALUE
        else:
            return arg
    return None


def build_app(args: list[str] | None = None) -> typer.Typer:
    """The app with the commands `args` need: just the invoked one, or every one (no args, the
    root --help, shell completion, an unknown command)."""
    import importlib
    import os

    wanted = None
    if args is not None and not os.environ.get("_MEMBERSHIPS_COMPLETE"):
        wanted = _COMMAND_MODULES.get(_command_named(args) or "")
    if wanted is None and args is not None and "--version" in args and _command_named(args) is None:
        modules = []  # --version answers before any command is looked at
    else:
        modules = [wanted] if wanted else list(_MODULE_ORDER)
    if wanted is None and _registered and _registered != list(_MODULE_ORDER)[: len(_registered)]:
        # A partial registration from an earlier call in this process: start again in help order.
        app.registered_commands.clear()
        app.registered_groups.clear()
        _registered.clear()
    for name in modules:
        if name not in _registered:
            importlib.import_module(f".commands.{name}", __package__).register(app)
            _registered.append(name)
    from .help_text import attach

    attach(app)
    return app


def _error_line(message: str, hint: str | None, color: bool) -> str:
    from .output.escape import escape_control

    prefix = "\x1b[31merror:\x1b[0m" if color else "error:"
    line = f"{prefix} {escape_control(message)}"
    if hint:
        line = line.rstrip(".")
        line += f"; {escape_control(hint)}"
    return line


def _stderr_color() -> bool:
    import os

    from .context import colour_wanted

    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return colour_wanted(tty, "--no-color" in sys.argv, os.environ)


def _scrubbed(text: str, run: dict) -> str:
    """The last safety net for the token: whatever main() prints about an error, with every form
    of the token this run used (or that MEMBERSHIPS_TOKEN holds) cut out, wherever the error came
    from. The client scrubs what it raises; this catches errors raised before or outside it."""
    import os

    from .redact import scrub_all

    app = run.get("app")
    return scrub_all(text, [*(app.secrets() if app is not None else ()), os.environ.get("MEMBERSHIPS_TOKEN")])


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error ends here as one line on stderr."""
    from typer._click import exceptions as click_exceptions

    from .command_line import describe, normalise, rewrite_help

    args = list(sys.argv[1:] if argv is None else argv)
    args = rewrite_help(args, _command_named(args), _COMMAND_MODULES)
    command = typer.main.get_command(build_app(args))
    line = None
    run: dict = {}  # the root callback puts the AppContext here

    def error(message: str, hint: str | None) -> None:
        print(_scrubbed(_error_line(message, hint, _stderr_color()), run), file=sys.stderr)

    try:
        line = normalise(args, command)
        if line.wants_help:
            from .help_text import fill_costly_help

            fill_costly_help(line.command)
        code = command.main(args=line.args, prog_name="memberships", standalone_mode=False, obj=run)
        if code == ExitCode.INTERRUPTED:  # typer turns KeyboardInterrupt into Exit(130) by itself
            code = _stopped()
    except click_exceptions.NoArgsIsHelpError as exc:
        # `memberships` or `memberships sandbox` alone: the help, on stdout, as a success (like gh).
        print(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        code = ExitCode.OK
    except click_exceptions.UsageError as exc:
        error(*describe(exc, line))
        code = ExitCode.USAGE
    except click_exceptions.ClickException as exc:
        error(exc.format_message(), None)
        code = ExitCode.USAGE
    except CliError as exc:
        error(exc.message, exc.hint)
        code = exc.exit_code
    except (KeyboardInterrupt, typer.Abort):  # Abort: Ctrl-C at a prompt (typer._click has no Abort)
        code = _stopped()
    except BrokenPipeError:
        code = _reader_gone()
    except SystemExit as exc:
        # typer answers a broken pipe with sys.exit(1) even outside standalone mode.
        if not isinstance(exc.__context__, BrokenPipeError):
            raise
        code = _reader_gone()
    except Exception as exc:  # the last line of defence: one line, no locals, no traceback
        error(f"unexpected error: {exc.__class__.__name__}: {exc}", "re-run with --verbose and report it")
        if "--verbose" in args or "-v" in args:
            import traceback

            print(_scrubbed(traceback.format_exc(), run), end="", file=sys.stderr)
        code = ExitCode.API
    if code is None:
        code = ExitCode.OK
    return int(code)


class _Sigterm:
    """SIGTERM (`timeout`, a CI cancel, `docker stop`) takes Ctrl-C's path: the handler raises
    errors.Terminated, a KeyboardInterrupt, in the main thread, and main() ends with exit 143.
    Process-wide state, as the signal disposition itself is."""

    received = False

    @classmethod
    def install(cls) -> None:
        import signal

        signal.signal(signal.SIGTERM, cls._handle)

    @classmethod
    def _handle(cls, signum, frame) -> None:
        cls.received = True
        raise Terminated()


def _stopped() -> ExitCode:
    """The end of a run stopped by Ctrl-C (130) or SIGTERM (143): one line on stderr."""
    if _Sigterm.received:
        print("\nTerminated.", file=sys.stderr)
        return ExitCode.TERMINATED
    print("\nInterrupted.", file=sys.stderr)
    return ExitCode.INTERRUPTED


def _never_fail_to_encode() -> None:
    """Print what a narrow stdout or stderr cannot encode (`PYTHONIOENCODING=ascii`, latin-1, a
    legacy locale, Windows output to a file) as backslash escapes instead of failing with
    UnicodeEncodeError. JSON output escapes as \\uXXXX by itself for such a stream, so it stays
    lossless (output.escape.narrow_encoding)."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", None) in ("strict", "surrogateescape"):
            reconfigure(errors="backslashreplace")


def _utf8_args(args: list[str]) -> list[str]:
    """Arguments as UTF-8 text under a locale that is not (the C locale with UTF-8 mode and locale
    coercion off): Python hands over their non-ASCII bytes as lone surrogates, which cannot go into
    a URL, a config file or a message. Bytes that are not UTF-8 either become U+FFFD."""
    import os

    return [arg if arg.isascii() else os.fsencode(arg).decode("utf-8", "replace") for arg in args]


def run() -> None:
    import os
    import signal

    _never_fail_to_encode()
    sys.argv[1:] = _utf8_args(sys.argv[1:])
    _Sigterm.install()
    try:
        code = main()
        # The run is over: a signal now ends the process as usual, never as a traceback from here.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        sys.stdout.flush()
    except BrokenPipeError:  # main() handles the pipe breaking in a command; this, in the last flush
        code = _reader_gone()
    if code in (ExitCode.INTERRUPTED, ExitCode.TERMINATED):
        # A bulk run told to stop waiting leaves requests in flight on worker threads, which the
        # interpreter would wait for at exit. The report is out: leave now.
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def _reader_gone() -> int:
    """The reader of stdout went away (`memberships list | head`): not an error of ours. Point
    stdout at /dev/null so the interpreter's final flush does not complain either."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return ExitCode.OK


if __name__ == "__main__":
    run()
