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
FieldsOption = Annotated[
    Optional[str],
    typer.Option(
        "--fields",
        metavar="A,B,...",
        autocompletion=complete_fields,
        help="Columns (table/plain/csv) or keys (json/jsonl) to show, e.g. slug,status,organization.id.",
        show_default=False,
    ),
]


def choose_format(app, fmt: str | None, json_flag: bool) -> str:
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
