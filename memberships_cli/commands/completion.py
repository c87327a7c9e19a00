"""`memberships completion SHELL`: print the shell's completion script.

The scripts are Typer's: each calls `memberships` back with _MEMBERSHIPS_COMPLETE set, and the CLI
answers with candidates (commands, options, and ORG slugs from the completion cache, never the
network). The same scripts are kept in completions/ (see completions/generate.py).
"""

from __future__ import annotations

import os
from enum import Enum
from typing import Annotated

import typer

PROG_NAME = "memberships"
COMPLETE_VAR = "_MEMBERSHIPS_COMPLETE"


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"
    powershell = "powershell"


# Where each shell's script goes; also the file names in completions/.
SCRIPT_FILES = {
    Shell.bash: "memberships.bash",
    Shell.zsh: "_memberships",
    Shell.fish: "memberships.fish",
    Shell.powershell: "memberships.ps1",
}


def script(shell: Shell | str) -> str:
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name=PROG_NAME, complete_var=COMPLETE_VAR, shell=Shell(shell).value) + "\n"


def completion(
    shell: Annotated[Shell, typer.Argument(metavar="SHELL", help="bash, zsh, fish or powershell.", show_default=False)],
) -> None:
    """Print the shell completion script for SHELL.

    \b
    Load it when your shell starts. bash, in ~/.bashrc:
        eval "$(memberships completion bash)"
    zsh, in ~/.zshrc after compinit:
        eval "$(memberships completion zsh)"
    fish, once:
        memberships completion fish > ~/.config/fish/completions/memberships.fish
    PowerShell, in $PROFILE:
        memberships completion powershell | Out-String | Invoke-Expression

    Organization arguments complete from the slugs of your last full
    `memberships list` (kept for 10 minutes): completion never calls the API.
    """
    typer.echo(script(shell), nl=False)


def register(app: typer.Typer) -> None:
    app.command("completion")(completion)
    # The app is built with add_completion=False (no --install-completion clutter in --help), so
    # Typer never registers its shell classes. Do it only when a shell asks for candidates:
    # normal start-up stays free of the import.
    if os.environ.get(COMPLETE_VAR):
        from typer import _completion_classes

        _completion_classes.completion_init()
        # zsh, fish and PowerShell show help next to candidates, which Typer first strips of Rich
        # markup by rendering it with Rich: +0.3 s on every Tab. Our help is plain text
        # (rich_markup_mode=None), so there is nothing to strip.
        _completion_classes._sanitize_help_text = lambda text: text
