"""The borderless table (gh style) every human list and result table is drawn with."""

from __future__ import annotations

from typing import Iterable

from .escape import as_printed, paint
from .fields import SHRINK

def _fit(text: str, width: int, ellipsis: str = "…") -> str:
    """Pad or crop `text` to exactly `width` terminal cells (wide CJK characters count double)."""
    from rich.cells import cell_len, set_cell_size

    length = cell_len(text)
    if length <= width:
        return text + " " * (width - length)
    if width <= 1:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + ellipsis


def _shrink(widths: list[int], floors: list[int], order: list[int], overflow: int) -> None:
    """Narrow columns in place by `overflow` cells: lowest `order` first, the widest of a rank
    first, never below its floor. A table that cannot fit stays wider than asked."""
    for rank in sorted(set(order)):
        while overflow > 0:
            movable = [i for i in range(len(widths)) if order[i] == rank and widths[i] > floors[i]]
            if not movable:
                break
            widest = max(movable, key=lambda i: widths[i])
            # Down to the next widest of the rank in one step (a 1 MB cell must not mean 1 M turns).
            runner_up = max((widths[i] for i in movable if i != widest), default=0)
            target = max(floors[widest], runner_up, widths[widest] - overflow)
            cut = max(1, widths[widest] - target)
            widths[widest] -= cut
            overflow -= cut


def render_table(
    headers: list[str],
    rows: list[list[str]],
    *,
    width: int | None,
    color: bool,
    styles: list[list[str | None]] | None = None,
    shrink: list[int] | None = None,
    caps: list[int | None] | None = None,
    encoding: str | None = None,
) -> Iterable[str]:
    """Lines of a borderless table (gh style) that fits `width` cells.

    Hand-written rather than rich.table.Table: Rich took ~0.8 ms a row here (8 s for 10,000 rows,
    issue 7), this takes a few microseconds; the look (bold header, coloured status) is the same.
    Cells must already be escaped. `shrink` ranks the columns for narrowing (see SHRINK_FIRST);
    `caps` bounds a column's width even when there is room. `encoding`: the stream's, when it
    cannot encode every character (escape.narrow_encoding); cells are measured as it will print
    them, backslash escapes and all, so the columns still line up.
    """
    from rich.cells import cell_len

    ellipsis = "…"
    if encoding is not None:
        headers = [as_printed(h, encoding) for h in headers]
        rows = [[as_printed(cell, encoding) for cell in row] for row in rows]
        ellipsis = as_printed(ellipsis, encoding)
        if len(ellipsis) > 1:  # "\u2026" would push every cut cell out of line
            ellipsis = "~"

    gap = 2
    widths = [cell_len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            n = cell_len(cell)
            if n > widths[i]:
                widths[i] = n
    if caps:
        widths = [min(w, max(cap, cell_len(h))) if cap else w for w, cap, h in zip(widths, caps, headers)]
    if width is not None:
        overflow = sum(widths) + gap * (len(widths) - 1) - width
        if overflow > 0:
            # A column keeps its header readable (up to 12 cells) and never drops below 6.
            floors = [max(6, min(cell_len(h), 12)) for h in headers]
            _shrink(widths, floors, shrink or [SHRINK] * len(widths), overflow)
    last = len(widths) - 1
    sep = " " * gap

    def line(cells: list[str], cell_styles: list[str | None] | None) -> str:
        parts = []
        for i, cell in enumerate(cells):
            fitted = _fit(cell, widths[i], ellipsis)
            if i == last:
                fitted = fitted.rstrip()
            parts.append(paint(fitted, cell_styles[i] if cell_styles else None, color))
        return sep.join(parts).rstrip()

    yield line(headers, ["bold"] * len(headers))
    for index, row in enumerate(rows):
        yield line(row, styles[index] if styles else None)
