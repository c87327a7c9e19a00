"""The borderless table (gh style) every human list and result table is drawn with, and the rules
by which a table too wide for the terminal gives way."""

from __future__ import annotations

from typing import Iterable

from .escape import as_printed, paint
from .fields import SHRINK, SHRINK_LAST

GAP = 2
# The narrowest a column is ever cut to: two characters and the ellipsis.
HARD_FLOOR = 3


def _fit(text: str, width: int, ellipsis: str = "…") -> str:
    """Pad or crop `text` to exactly `width` terminal cells (wide CJK characters count double)."""
    from rich.cells import cell_len, set_cell_size

    length = cell_len(text)
    if length <= width:
        return text + " " * (width - length)
    if width <= 1:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + ellipsis


def _shrink(widths: list[int], floors: list[int], order: list[int], overflow: int, ranks=None) -> int:
    """Narrow columns in place by `overflow` cells: lowest `order` first, the widest of a rank
    first, never below its floor. Returns the overflow left (0 when it fits)."""
    for rank in sorted(set(order)) if ranks is None else ranks:
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
    return max(overflow, 0)


def layout(
    natural: list[int],
    header_cells: list[int],
    width: int | None,
    *,
    shrink: list[int] | None = None,
    drop: list[int | None] | None = None,
) -> tuple[list[int], list[int]]:
    """Which columns a table shows and how wide each is: (kept column indexes, their widths).

    A table too wide gives way in this order, so that what a person types next (the slug) and
    the date stay whole longest:
    1. columns below SHRINK_LAST are cut by rank (`shrink`, SHRINK_FIRST first) down to a readable
       floor (the header, up to 12 cells, at least 6);
    2. columns with a `drop` rank are left out, lowest rank first, one at a time, redoing step 1;
    3. the columns below SHRINK_LAST are cut further, by rank, down to HARD_FLOOR;
    4. only then the SHRINK_LAST columns (slug, id, status, dates) are cut, to the readable floor
       (an identifier cut to three cells would be no use to anyone);
    5. a table that still cannot fit stays wider than asked.
    """
    order = list(shrink) if shrink else [SHRINK] * len(natural)
    drops = list(drop) if drop else [None] * len(natural)
    kept = list(range(len(natural)))
    before_last = sorted({r for r in order if r < SHRINK_LAST})

    def soft_floors(columns: list[int]) -> list[int]:
        return [min(natural[i], max(6, min(header_cells[i], 12))) for i in columns]

    def fit(columns: list[int]) -> tuple[list[int], int]:
        widths = [natural[i] for i in columns]
        if width is None:
            return widths, 0
        overflow = sum(widths) + GAP * (len(widths) - 1) - width
        if overflow <= 0:
            return widths, 0
        return widths, _shrink(widths, soft_floors(columns), [order[i] for i in columns], overflow, before_last)

    widths, overflow = fit(kept)
    droppable = sorted((d, i) for i, d in enumerate(drops) if d is not None)
    while overflow > 0 and droppable:
        kept.remove(droppable.pop(0)[1])
        widths, overflow = fit(kept)
    ranks = [order[i] for i in kept]
    if overflow > 0:
        overflow = _shrink(widths, [min(natural[i], HARD_FLOOR) for i in kept], ranks, overflow, before_last)
    if overflow > 0:
        _shrink(widths, soft_floors(kept), ranks, overflow, [SHRINK_LAST])
    return kept, widths


def render_table(
    headers: list[str],
    rows: list[list[str]],
    *,
    width: int | None,
    color: bool,
    styles: list[list[str | None]] | None = None,
    shrink: list[int] | None = None,
    caps: list[int | None] | None = None,
    drop: list[int | None] | None = None,
    encoding: str | None = None,
) -> Iterable[str]:
    """Lines of a borderless table (gh style) that fits `width` cells.

    Hand-written rather than rich.table.Table: Rich took ~0.8 ms a row here (8 s for 10,000 rows,
    issue 7), this takes a few microseconds; the look (bold header, coloured status) is the same.
    Cells must already be escaped. `shrink` ranks the columns for narrowing and `drop` for leaving
    out (see `layout`); `caps` bounds a column's width even when there is room. `encoding`: the
    stream's, when it cannot encode every character (escape.narrow_encoding); cells are measured as
    it will print them, backslash escapes and all, so the columns still line up.
    """
    from rich.cells import cell_len

    ellipsis = "…"
    if encoding is not None:
        headers = [as_printed(h, encoding) for h in headers]
        rows = [[as_printed(cell, encoding) for cell in row] for row in rows]
        ellipsis = as_printed(ellipsis, encoding)
        if len(ellipsis) > 1:  # "\u2026" would push every cut cell out of line
            ellipsis = "~"

    header_cells = [cell_len(h) for h in headers]
    natural = list(header_cells)
    for row in rows:
        for i, cell in enumerate(row):
            n = cell_len(cell)
            if n > natural[i]:
                natural[i] = n
    if caps:
        natural = [min(w, max(cap, h)) if cap else w for w, cap, h in zip(natural, caps, header_cells)]
    kept, widths = layout(natural, header_cells, width, shrink=shrink, drop=drop)
    last = len(kept) - 1
    sep = " " * GAP

    def line(cells: list[str], cell_styles: list[str | None] | None) -> str:
        parts = []
        for position, i in enumerate(kept):
            fitted = _fit(cells[i], widths[position], ellipsis)
            if position == last:
                fitted = fitted.rstrip()
            parts.append(paint(fitted, cell_styles[i] if cell_styles else None, color))
        return sep.join(parts).rstrip()

    yield line(headers, ["bold"] * len(headers))
    for index, row in enumerate(rows):
        yield line(row, styles[index] if styles else None)
