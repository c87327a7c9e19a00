"""The per-organization results of accept and leave, in every format."""

from __future__ import annotations

from typing import TextIO

from .escape import dumps, escape_control, narrow_encoding
from .table import render_table
from .writers import csv_rows

RESULT_COLUMNS = ("organization", "organizationId", "result", "error")


def write_outcomes(fmt: str, out: TextIO, outcomes, *, width: int | None, color: bool, escape_csv: bool) -> None:
    """One row per organization of an accept/leave run, in the chosen format. For `table`, a
    single organization needs no table: the message on stderr says it all."""
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
    elif len(outcomes) > 1:
        labels = [o.membership.label if o.membership is not None else o.ref for o in outcomes]
        cells = [[escape_control(label), escape_control(row[1] or "-"), row[2], escape_control(row[3])]
                 for label, row in zip(labels, rows)]
        styles = [[None, None, "green" if o.error is None else "red", None] for o in outcomes]
        out.write("\n".join(render_table(["ORGANIZATION", "ID", "RESULT", "DETAIL"], cells, width=width, color=color, styles=styles,
                                         encoding=narrow_encoding(out))) + "\n")
