"""Options shared by the commands that print data, the choice of output format, and the shell
completion of ORG arguments."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from ..errors import UsageError

FORMATS = ("table", "plain", "json", "jsonl", "csv")
# The membership statuses `--status` completes: those the contract names (MembershipStatus) and
# "pending", which models.INVITATION_STATUSES accepts as an invitation. The API may use others.
STATUSES = ("active", "invited", "pending", "banned")


def _completion(kind: str):
    """A typer autocompletion function offering the values of `kind` (see completer.values_for).
    The fast completer answers Tab without typer from the same kind, recorded in completion_table.py
    by its name (`completion_kind`); this is the typer path, which tests compare it with."""

    def complete(ctx: typer.Context, incomplete: str) -> list[str]:
        import os

        from ..completer import values_for

        return values_for(kind, incomplete, ctx.params, ctx.find_root().params, os.environ)

    complete.completion_kind = kind  # type: ignore[attr-defined]
    complete.__name__ = f"complete_{kind.replace('-', '_')}"
    return complete


complete_format = _completion("format")
complete_status = _completion("status")
complete_fields = _completion("fields")
complete_config_key = _completion("config-key")
complete_config_value = _completion("config-value")
# ORG arguments: slugs from the cache that `list` fills, never the network (a Tab that waits on an
# API would hang the shell); organizations already on the line are left out. `accept` offers only
# invitations, `leave` only what can be left (not a ban, not an unknown status).
complete_org = _completion("org")
complete_invitation = _completion("org-invited")
complete_leavable = _completion("org-leavable")

FormatOption = Annotated[
    Optional[str],
    typer.Option(
        "--format",
        "-F",
        metavar="FORMAT",
        autocompletion=complete_format,
        help="Output format: table, plain, json, jsonl or csv. Default: the profile's format if set, else "
        "table on a terminal and plain when piped.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Shorthand for --format json.")]
JqOption = Annotated[
    Optional[str],
    typer.Option(
        "--jq",
        metavar="EXPR",
        help="Filter the JSON output with a jq expression (implies --json); strings print raw, e.g. "
        "--jq '.[].organization.slug'.",
        show_default=False,
    ),
]

FIELDS_HELP = "Columns (table/plain/csv) or keys (json/jsonl) to show, comma-separated, e.g. slug,status."


def fields_help() -> str:
    """--fields help with the field names output knows: short names, then the paths without one.
    Written only when the help is shown (help_text.fill_costly_help): importing the field table
    costs ~10 ms, which every `--help` would pay otherwise."""
    from ..output.fields import ALIASES, FIELDS

    named = set(ALIASES.values())
    names = [*ALIASES, *(path for path in FIELDS if path not in named)]
    return f"{FIELDS_HELP} Fields: {', '.join(names)}."


FieldsOption = Annotated[
    Optional[str],
    typer.Option("--fields", metavar="A,B,...", autocompletion=complete_fields, help=FIELDS_HELP, show_default=False),
]


def use_jq(app, expression: str | None) -> bool:
    """--jq: compile the expression now (a bad one is exit 2 before any request), collect stdout,
    and filter it when the command ends (AppContext.close). jq is imported only here."""
    if expression is None:
        return False
    from ..jq_filter import JqOutput

    app.jq_output = app.stdout = JqOutput(expression, app.stdout)
    return True


def choose_format(app, fmt: str | None, json_flag: bool, jq: str | None = None) -> str:
    if jq is not None:
        if fmt is not None and fmt.strip().lower() != "json":
            raise UsageError(f"--jq conflicts with --format {fmt.strip()}", "--jq filters JSON: drop --format")
        use_jq(app, jq)
        return "json"
    if fmt is not None:
        fmt = fmt.strip().lower()
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}", f"use one of: {', '.join(FORMATS)}")
        if json_flag and fmt != "json":
            raise UsageError(f"--json conflicts with --format {fmt}", "pass one of them")
        return fmt
    if json_flag:
        return "json"
    if app.settings.default_format:
        return app.settings.default_format
    return "table" if app.stdout_isatty else "plain"
