"""A numbered menu on stderr for a person at a terminal who named no organization: `accept`,
`leave` and `show` without ORG. typer.prompt and a parser of "1,3-5": no picker library (each costs
start-up time), and a numbered menu works in any terminal and over any ssh."""

from __future__ import annotations

from ..errors import UsageError


def parse_choice(answer: str, count: int, *, several: bool) -> list[int]:
    """Zero-based indexes from "1,3-5", "2 4", "all" (several) or "3"; [] for an empty answer."""
    text = answer.strip().lower()
    if not text or text == "none":
        return []
    if text == "all":
        if not several:
            raise UsageError("pick one number")
        return list(range(count))
    chosen: list[int] = []
    for part in text.replace(",", " ").split():
        first, dash, last = part.partition("-")
        try:
            low, high = int(first), int(last) if dash else int(first)
        except ValueError:
            raise UsageError(f"{part!r} is not a number or a range like 3-5") from None
        if low > high:
            low, high = high, low
        if low < 1 or high > count:
            raise UsageError(f"{part} is not on the list (1-{count})")
        chosen.extend(i - 1 for i in range(low, high + 1) if i - 1 not in chosen)
    if not several and len(chosen) != 1:
        raise UsageError("pick one number")
    return chosen


def render_menu(memberships, *, width: int, color: bool) -> str:
    from .escape import escape_control
    from .fields import SHRINK_FIRST, SHRINK_LAST, STATUS_STYLE
    from .table import render_table

    rows = [[str(n), escape_control(m.name or "-"), escape_control(m.slug or m.org_id), escape_control(m.status or "-")]
            for n, m in enumerate(memberships, 1)]
    styles = [[None, None, None, STATUS_STYLE.get(m.status)] for m in memberships]
    lines = render_table(["#", "ORGANIZATION", "SLUG", "STATUS"], rows, width=width - 2, color=color, styles=styles,
                         shrink=[SHRINK_LAST, SHRINK_FIRST, SHRINK_LAST, SHRINK_LAST], caps=[None, 40, None, None])
    return "\n".join("  " + line for line in lines) + "\n"


def pick(app, memberships, question: str, *, several: bool = True, note: str | None = None) -> list:
    """Ask which of `memberships` to act on; the chosen ones ([] for none). Asks again after an
    answer it cannot read. Ctrl-C or end of input interrupts the command (exit 130). `note` is
    said between the menu and the question."""
    import typer

    app.stderr.write(render_menu(memberships, width=app.width, color=app.color_err))
    app.stderr.flush()
    if note:
        app.say(note)
    how = 'numbers like 1,3-5, "all", or Enter for none' if several else "a number, or Enter for none"
    while True:
        answer = typer.prompt(f"{question} ({how})", default="", show_default=False, err=True)
        try:
            return [memberships[i] for i in parse_choice(answer, len(memberships), several=several)]
        except UsageError as exc:
            app.say(f"  {exc.message}; try again")
