"""`memberships help [COMMAND | TOPIC]`: a command's help (main() turns `help list` into `list --help`
before this is reached) or a topic that belongs to no single command."""

from __future__ import annotations

from typing import Annotated, List, Optional

import typer

TOPICS = ("environment",)


def help_command(
    ctx: typer.Context,
    words: Annotated[
        Optional[List[str]],
        typer.Argument(metavar="[COMMAND | TOPIC]", help=f"A command, or a topic: {', '.join(TOPICS)}.", show_default=False),
    ] = None,
) -> None:
    """Show help for a command, or a topic: environment."""
    from ..errors import UsageError
    from ..help_text import ENVIRONMENT

    words = words or []
    if words == ["environment"]:
        ctx.obj.stdout.write(ENVIRONMENT)
        return
    from ..command_line import _shown

    raise UsageError(f"no help topic or command {_shown(' '.join(words))}", f"topics: {', '.join(TOPICS)}; commands: see `memberships --help`")


def register(app: typer.Typer) -> None:
    app.command("help")(help_command)
