"""The `memberships` entry point: the answers that need no typer, before typer is imported.

Importing typer (and the click it bundles) costs ~5x `python -c pass`. Two requests are frequent and
need none of it: a shell asking for completion candidates (every Tab press) and `--version`. Both
are answered here; everything else goes to cli.run(), the typer app.
"""

from __future__ import annotations

import os
import sys

# The root options (cli.root) and whether each takes a value: --version is answered here only when
# every other word is one of these, as typer would answer it (its callback is eager, so it runs
# before any other option's value is checked).
_GLOBAL_FLAGS = frozenset({"--sandbox", "--verbose", "-v", "--no-color"})
_GLOBAL_WITH_VALUE = frozenset({"--api-url", "--timeout", "--profile"})


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


def run() -> None:
    if os.environ.get("_MEMBERSHIPS_COMPLETE"):
        from .completer import run_from_environment

        code = run_from_environment()
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    elif is_version_request(sys.argv[1:]):
        from . import __version__

        sys.stdout.write(f"memberships {__version__}\n")
        sys.stdout.flush()
        sys.exit(0)
    from .cli import run as run_cli

    run_cli()


if __name__ == "__main__":
    run()
