"""The `memberships` entry point: the answers that need no typer, before typer is imported.

Importing typer (and the click it bundles) costs ~6x `python -c pass`. Some requests are frequent
and need none of it: a shell asking for completion candidates (every Tab press), a new shell asking
for the completion script, `--version`, `--help` on a terminal 80 columns wide or wider (the texts
are typer's own, generated into completion_table.py and help_table.py), and `config path`.
They are answered here; everything else goes to cli.run(), the typer app.
"""

from __future__ import annotations

import os
import sys

# The root options (cli.root) and whether each takes a value: --version is answered here only when
# every other word is one of these, as typer would answer it (its callback is eager, so it runs
# before any other option's value is checked).
_GLOBAL_FLAGS = frozenset({"--sandbox", "--verbose", "-v", "--no-color"})
_GLOBAL_WITH_VALUE = frozenset({"--api-url", "--timeout", "--profile"})


def _after_global_options(args: list[str]) -> list[str] | None:
    """The words after the leading global options; None when one of those lacks its value."""
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in _GLOBAL_WITH_VALUE:
            index += 2
        elif arg in _GLOBAL_FLAGS or arg.partition("=")[0] in _GLOBAL_WITH_VALUE:
            index += 1
        else:
            return args[index:]
    return [] if index == len(args) else None


def help_request(args: list[str]) -> str | None:
    """The command path whose help typer would print, for `[GLOBAL OPTIONS] [COMMAND...] --help|-h`,
    for no arguments at all, and for a group named alone (`config`); None for anything else."""
    from .help_table import HELP

    if not args:
        return ""
    rest = _after_global_options(args)
    if not rest:  # global options alone run the root callback: typer says "Missing command"
        return None
    if rest[-1] in ("--help", "-h"):
        path = " ".join(rest[:-1])
        if path not in HELP or "--help" in rest[:-1] or "-h" in rest[:-1]:
            return None
    else:
        path = " ".join(rest)
        if path not in ("config", "sandbox"):
            return None
    # A command's help comes after the root's options are converted (the root's own --help is
    # eager and comes first): a value typer would refuse is typer's to report.
    if path and not _root_values_convert(args[: len(args) - len(rest)]):
        return None
    return path


def completion_script_request(args: list[str]) -> str | None:
    """The shell of `memberships [GLOBAL OPTIONS] completion SHELL`: what every new shell runs when
    its rc file has `eval "$(memberships completion bash)"`."""
    rest = _after_global_options(args)
    if rest is None or len(rest) != 2 or rest[0] != "completion":
        return None
    from .completion_table import SCRIPTS

    if rest[1] not in SCRIPTS or not _root_values_convert(args[: len(args) - 2]):
        return None
    return rest[1]


def config_path_request(args: list[str]) -> bool:
    """`memberships [GLOBAL OPTIONS] config path`: where the config file is, read by no setting."""
    rest = _after_global_options(args)
    return rest == ["config", "path"] and _root_values_convert(args[:-2])


_BOOLEANS = ("1", "true", "t", "yes", "y", "on", "0", "false", "f", "no", "n", "off")


def _root_values_convert(options: list[str]) -> bool:
    """Whether click would convert the root's option values: --timeout to a float, and
    MEMBERSHIPS_SANDBOX (the --sandbox flag's environment variable) to a boolean."""
    sandbox = os.environ.get("MEMBERSHIPS_SANDBOX")
    if sandbox and "--sandbox" not in options and sandbox.strip().lower() not in _BOOLEANS:
        return False
    for index, arg in enumerate(options):
        name, eq, value = arg.partition("=")
        if name == "--timeout":
            try:
                float(value if eq else options[index + 1])
            except ValueError:
                return False
    return True


def _help_width_is_the_tables() -> bool:
    """Whether click would wrap help at the width help_table.py was rendered at: it takes
    shutil.get_terminal_size() (COLUMNS, else the terminal of stdout, else 80) up to 80."""
    from .help_table import WIDTH

    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 80
        columns = columns or 80
    return columns >= WIDTH


def is_version_request(args: list[str]) -> bool:
    """`memberships [GLOBAL OPTIONS] --version [GLOBAL OPTIONS]` and nothing else."""
    version = False
    value_next = False
    for arg in args:
        if value_next:
            value_next = False
        elif arg == "--version":
            version = True
        elif arg in _GLOBAL_FLAGS:
            continue
        elif arg in _GLOBAL_WITH_VALUE:
            value_next = True
        elif arg.partition("=")[0] in _GLOBAL_WITH_VALUE:
            continue
        else:
            return False
    return version and not value_next


def _answer(text: str, code: int = 0) -> None:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`memberships --help | head -1`): not an error, as in cli.run().
        # stdout goes to /dev/null so the interpreter's last flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    sys.exit(code)


def run() -> None:
    args = sys.argv[1:]
    if os.environ.get("_MEMBERSHIPS_COMPLETE"):
        from .completer import run_from_environment

        answer = run_from_environment()
        if answer is not None:
            _answer(*answer)
    elif is_version_request(args):
        from . import __version__

        _answer(f"memberships {__version__}\n")
    else:
        shell = completion_script_request(args)
        if shell is not None:
            from .completion_table import SCRIPTS

            _answer(SCRIPTS[shell])
        if config_path_request(args):
            from pathlib import Path

            from .paths import user_dir

            _answer(f"{Path(user_dir('user_config_dir')) / 'config.toml'}\n")  # config.config_file()
        path = help_request(args)
        if path is not None and _help_width_is_the_tables():
            from .help_table import HELP

            _answer(HELP[path])
    from .cli import run as run_cli

    run_cli()


if __name__ == "__main__":
    run()
