"""The Typer app, its global options, and `main()`: the single place errors become exit codes."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from . import __version__
from .errors import EXIT_CODE_TABLE, CliError, ExitCode

EPILOG = "\b\nExit codes:\n" + "\n".join(f"  {int(code):<4} {text}" for code, text in EXIT_CODE_TABLE)

app = typer.Typer(
    name="memberships",
    help="Manage your own organization memberships on Bird's Accounts API.\n\n"
    "Try it without an account: memberships --sandbox list",
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
    timeout: Annotated[Optional[float], typer.Option("--timeout", metavar="SECONDS", help="Connect/read timeout [env: MEMBERSHIPS_TIMEOUT; default: 30].", show_default=False)] = None,
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

    context = AppContext(load_settings=settings, verbose=verbose, sandbox=sandbox, no_color=no_color)
    ctx.obj = context
    ctx.call_on_close(context.close)


# Which module registers each command. Only the invoked command's module is imported and
# registered: building every command cost 22-26 ms of start-up (~1.3x `python -c pass`, issue 7).
_COMMAND_MODULES = {
    "list": "memberships", "show": "memberships", "accept": "memberships", "leave": "memberships",
    "login": "session", "logout": "session", "status": "session",
    "config": "config_cmd", "sandbox": "sandbox", "completion": "completion",
}
_MODULE_ORDER = ("memberships", "session", "config_cmd", "sandbox", "completion")  # as --help lists them
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


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code; every error ends here as one line on stderr."""
    from typer._click import exceptions as click_exceptions

    command = typer.main.get_command(build_app(sys.argv[1:] if argv is None else argv))
    try:
        code = command.main(args=argv, prog_name="memberships", standalone_mode=False)
        if code == ExitCode.INTERRUPTED:  # typer turns KeyboardInterrupt into Exit(130) by itself
            print("\nInterrupted.", file=sys.stderr)
    except click_exceptions.NoArgsIsHelpError as exc:
        # `memberships` or `memberships sandbox` alone: the help, on stdout, as a success (like gh).
        print(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        code = ExitCode.OK
    except click_exceptions.UsageError as exc:
        where = exc.ctx.command_path if exc.ctx is not None else "memberships"
        print(_error_line(exc.format_message(), f"see `{where} --help`", _stderr_color()), file=sys.stderr)
        code = ExitCode.USAGE
    except click_exceptions.ClickException as exc:
        print(_error_line(exc.format_message(), None, _stderr_color()), file=sys.stderr)
        code = ExitCode.USAGE
    except CliError as exc:
        print(_error_line(exc.message, exc.hint, _stderr_color()), file=sys.stderr)
        code = exc.exit_code
    except (KeyboardInterrupt, typer.Abort):  # Abort: Ctrl-C at a prompt (typer._click has no Abort)
        print("\nInterrupted.", file=sys.stderr)
        code = ExitCode.INTERRUPTED
    except BrokenPipeError:
        code = _reader_gone()
    except SystemExit as exc:
        # typer answers a broken pipe with sys.exit(1) even outside standalone mode.
        if not isinstance(exc.__context__, BrokenPipeError):
            raise
        code = _reader_gone()
    except Exception as exc:  # the last line of defence: one line, no locals, no traceback
        print(
            _error_line(f"unexpected error: {exc.__class__.__name__}: {exc}", "re-run with --verbose and report it", _stderr_color()),
            file=sys.stderr,
        )
        args = sys.argv[1:] if argv is None else argv
        if "--verbose" in args or "-v" in args:
            import traceback

            traceback.print_exc()
        code = ExitCode.API
    if code is None:
        code = ExitCode.OK
    return int(code)


def run() -> None:
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # main() handles the pipe breaking in a command; this, in the last flush
        code = _reader_gone()
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
