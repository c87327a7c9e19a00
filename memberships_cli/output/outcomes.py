"""The per-organization results of accept and leave, in every format."""

from __future__ import annotations

from typing import Callable, TextIO

from .escape import dumps, escape_control, narrow_encoding
from .table import render_table
from .writers import csv_rows

RESULT_COLUMNS = ("organization", "organizationId", "result", "error")


def write_outcomes(fmt: str, out: TextIO, outcomes, *, width: int | None, color: bool, escape_csv: bool,
                   emit: Callable[[str], None] | None = None) -> None:
    """One row per organization of an accept/leave run, in the chosen format. `emit` writes the
    table (the pager, for a person at a terminal)."""
    if fmt in ("json", "jsonl"):
        objs = [o.to_json() for o in outcomes]
        ascii_only = narrow_encoding(out) is not None
        if fmt == "json":
            # One result per line, like `list --json`: json's indent= falls back to its pure-Python
            # encoder, 135 ms for 500 results.
            out.write("[\n  " + ",\n  ".join(dumps(obj, ascii_only=ascii_only) for obj in objs) + "\n]\n" if objs else "[]\n")
        else:
            out.write("".join(dumps(obj, ascii_only=ascii_only) + "\n" for obj in objs))
        return
    rows = [[o.ref, o.org_id or "", o.result, o.error.message if o.error else ""] for o in outcomes]
    if fmt == "plain":
        out.write("".join("\t".join(escape_control(c) for c in row) + "\n" for row in rows))
    elif fmt == "csv":
        write_row = csv_rows(out, RESULT_COLUMNS, escape=escape_csv)
        for row in rows:
            write_row(row)
    elif outcomes:
        (emit or out.write)("\n".join(result_table(outcomes, width=width, color=color, encoding=narrow_encoding(out))) + "\n")


def result_table(outcomes, *, width: int | None, color: bool, encoding: str | None = None) -> list[str]:
    """The table of an accept/leave run: the slug (or what was typed) and the id give way last,
    so both stay whole at 100 columns; a column with nothing in it is left out."""
    from .fields import SHRINK_FIRST, SHRINK_LAST

    columns = [  # header, cell of an outcome, shrink rank, cap
        ("ORGANIZATION", lambda o: o.membership.name if o.membership is not None else "", SHRINK_FIRST, 40),
        ("SLUG", _slug, SHRINK_LAST, None),
        ("ID", lambda o: o.org_id or "", SHRINK_LAST, None),
        ("RESULT", lambda o: o.result, SHRINK_LAST, None),
        ("DETAIL", lambda o: o.error.message if o.error is not None else "", SHRINK_FIRST, None),
    ]
    cells = [[escape_control(cell(o)) for _, cell, _, _ in columns] for o in outcomes]
    shown = [i for i in range(len(columns)) if any(row[i] for row in cells)]
    result_style = lambda o: "green" if o.error is None else "red"  # noqa: E731
    styles = [[result_style(o) if columns[i][0] == "RESULT" else None for i in shown] for o in outcomes]
    return list(render_table(
        [columns[i][0] for i in shown],
        [[row[i] or "-" for i in shown] for row in cells],
        width=width, color=color, styles=styles,
        shrink=[columns[i][2] for i in shown], caps=[columns[i][3] for i in shown], encoding=encoding,
    ))


def _slug(outcome) -> str:
    """The slug, else what was typed unless that was the id (the ID column has it already)."""
    if outcome.membership is not None and outcome.membership.slug:
        return outcome.membership.slug
    return "" if outcome.ref == outcome.org_id else outcome.ref
