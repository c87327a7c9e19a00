"""The streaming list writers, one per format: table, plain, json, jsonl and csv. Each receives pages
as they arrive; `close()` finishes the output of a complete list, `abandon()` that of a failed one.

Nothing reaches stdout before the first membership does: a listing that fails before any arrived
(a 401, a refused connection, a malformed first page) leaves stdout empty in every format, so a
script never takes an error for data."""

from __future__ import annotations

import csv
from typing import Callable, TextIO

from ..models import Membership
from .escape import csv_safe, dumps, escape_control, narrow_encoding
from .fields import FIELDS, STATUS_STYLE, lookup, project
from .table import render_table

class ListWriter:
    """Receives pages as they arrive; `close()` finishes the output of a complete list, `abandon()`
    keeps what a failed one had written. Counts what it wrote."""

    def __init__(self, out: TextIO, fields: tuple[str, ...]) -> None:
        self.out = out
        self.fields = fields
        self.count = 0

    def write_page(self, memberships: list[Membership]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.out.flush()

    def abandon(self) -> None:
        """The listing failed: keep the rows already written, add nothing that would make them
        look complete."""
        self.out.flush()


class JsonWriter(ListWriter):
    """A JSON array written item by item: flat memory however long the list. The `[` goes out
    with the first item (or as `[]` on close), never before."""

    def __init__(self, out: TextIO, fields: tuple[str, ...] | None) -> None:
        super().__init__(out, fields or ())
        self._ascii_only = narrow_encoding(out) is not None

    def write_page(self, memberships: list[Membership]) -> None:
        chunks = []
        for m in memberships:
            obj = project(m.raw, self.fields) if self.fields else m.raw
            chunks.append(("[\n  " if self.count == 0 else ",\n  ") + dumps(obj, ascii_only=self._ascii_only))
            self.count += 1
        self.out.write("".join(chunks))
        self.out.flush()

    def close(self) -> None:
        self.out.write("\n]\n" if self.count else "[]\n")
        super().close()

    def abandon(self) -> None:
        """An array already begun is left unclosed on purpose, so `jq` fails loudly instead of
        taking a partial list for the whole one."""
        super().abandon()


class JsonLinesWriter(ListWriter):
    def __init__(self, out: TextIO, fields: tuple[str, ...]) -> None:
        super().__init__(out, fields)
        self._ascii_only = narrow_encoding(out) is not None

    def write_page(self, memberships: list[Membership]) -> None:
        ascii_only = self._ascii_only
        self.out.write(
            "".join(dumps(project(m.raw, self.fields) if self.fields else m.raw, ascii_only=ascii_only) + "\n"
                    for m in memberships)
        )
        self.out.flush()
        self.count += len(memberships)


class PlainWriter(ListWriter):
    """Tab-separated, no header, no colour, no truncation; control characters escaped so one
    membership is always exactly one line."""

    def write_page(self, memberships: list[Membership]) -> None:
        fields = self.fields
        self.out.write(
            "".join(
                "\t".join(escape_control(FIELDS[f].plain(lookup(m.raw, f))) for f in fields) + "\n"
                for m in memberships
            )
        )
        self.out.flush()
        self.count += len(memberships)


class CsvWriter(ListWriter):
    """RFC 4180 with the dotted field paths as header. Cells are exact, except that a formula-like
    start is defused; on a terminal (a person reading, not a file) control characters are escaped
    like in every human format."""

    def __init__(self, out: TextIO, fields: tuple[str, ...], *, escape: bool = False) -> None:
        super().__init__(out, fields)
        self._escape = escape
        self._write_row: Callable[[list[str]], None] | None = None  # the header goes out with the first row

    def _rows(self) -> Callable[[list[str]], None]:
        if self._write_row is None:
            self._write_row = csv_rows(self.out, self.fields, escape=self._escape)
        return self._write_row

    def write_page(self, memberships: list[Membership]) -> None:
        if memberships:
            write_row = self._rows()
            for m in memberships:
                write_row([FIELDS[f].plain(lookup(m.raw, f)) for f in self.fields])
        self.out.flush()
        self.count += len(memberships)

    def close(self) -> None:
        # An empty list still gets its header: a file that names its columns reads as an empty
        # table in a spreadsheet or a csv reader, where an empty file is an error to some (pandas).
        self._rows()
        super().close()


def csv_rows(out: TextIO, header, *, escape: bool = False) -> Callable[[list[str]], None]:
    """Write the header; return a function that writes one row of cells.

    Cells are exact but for a defused formula start; `escape` (a person at a terminal) escapes
    control characters too. With "\n" line ends the csv module quotes a cell holding "\n" but not
    one holding a lone "\r", which every reader takes for a line end: such rows are fully quoted.
    """
    plain = csv.writer(out, lineterminator="\n")
    quoted = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)
    plain.writerow(header)
    cell = (lambda text: csv_safe(escape_control(text))) if escape else csv_safe

    def write(row: list[str]) -> None:
        cells = [cell(c) for c in row]
        (quoted if any("\r" in c for c in cells) else plain).writerow(cells)

    return write


class TableWriter(ListWriter):
    """Collects rows (column widths need them all), prints on close. Columns named with --fields
    (`may_drop=False`) are never left out, only cut."""

    def __init__(self, out: TextIO, fields: tuple[str, ...], *, width: int | None, color: bool, may_drop: bool = True,
                 emit: Callable[[str], None] | None = None) -> None:
        super().__init__(out, fields)
        self._may_drop = may_drop
        self._emit = emit or out.write  # the pager, for a person at a terminal
        self.width = width
        self.color = color
        self.rows: list[list[str]] = []
        self.styles: list[list[str | None]] = []

    def write_page(self, memberships: list[Membership]) -> None:
        for m in memberships:
            self.rows.append([escape_control(FIELDS[f].human(lookup(m.raw, f))) for f in self.fields])
            self.styles.append([STATUS_STYLE.get(m.status) if f == "status" else None for f in self.fields])
        self.count += len(memberships)

    def close(self) -> None:
        if self.rows:
            headers = [FIELDS[f].header for f in self.fields]
            self._emit(
                "\n".join(
                    render_table(
                        headers,
                        self.rows,
                        width=self.width,
                        color=self.color,
                        styles=self.styles,
                        shrink=[FIELDS[f].shrink for f in self.fields],
                        caps=[FIELDS[f].cap for f in self.fields],
                        encoding=narrow_encoding(self.out),
                        drop=[FIELDS[f].drop for f in self.fields] if self._may_drop else None,
                    )
                )
                + "\n"
            )
        super().close()

    def abandon(self) -> None:
        # The rows received before the failure: a table prints nothing until it has them all.
        self.close()


def list_writer(
    fmt: str, out: TextIO, fields: tuple[str, ...], *, width: int | None, color: bool, fields_given: bool, escape_csv: bool,
    emit: Callable[[str], None] | None = None,
) -> ListWriter:
    """`escape_csv`: stdout is a terminal, so CSV is read by a person and escaped like the other human formats."""
    if fmt == "json":
        return JsonWriter(out, fields if fields_given else None)
    if fmt == "jsonl":
        return JsonLinesWriter(out, fields if fields_given else ())
    if fmt == "csv":
        return CsvWriter(out, fields, escape=escape_csv)
    if fmt == "plain":
        return PlainWriter(out, fields)
    return TableWriter(out, fields, width=width, color=color, may_drop=not fields_given, emit=emit)
