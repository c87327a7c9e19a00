"""Every renderer of the CLI: table / plain / json / jsonl / csv, the detail view, bulk results.
All terminal escaping lives here.

Rules: stdout carries data only; JSON is printed with `json` (never through Rich) exactly as the API
sent it; every server-supplied string shown to a person goes through `escape_control` and is never
parsed as markup.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, TextIO

from .errors import UsageError
from .models import Membership

FORMATS = ("table", "plain", "json", "jsonl", "csv")

# C0 and C1 controls, DEL, zero-width and bidi-override characters: anything that could move the
# cursor, recolour the terminal, ring the bell or reorder what a person reads.
# Lone surrogates too: they cannot even be encoded for the terminal.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ud800-\udfff\ufeff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x1b": "\\x1b"}


def _escape_one(match: re.Match) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_control(text: str) -> str:
    """Make a server-supplied string safe for a terminal: unsafe characters become visible escapes."""
    return _UNSAFE.sub(_escape_one, text)


# Characters JSON may carry raw but a reader may trip on: C1 controls, the line and paragraph
# separators (they break `splitlines()`, so JSON Lines), and lone surrogates (not encodable as
# UTF-8 at all). JSON only has them inside strings, where a \uXXXX escape means the same.
_JSON_AWKWARD = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def dumps(obj: Any, **kwargs: Any) -> str:
    """JSON as we print it: UTF-8 text kept readable, awkward characters escaped; lossless."""
    text = json.dumps(obj, ensure_ascii=False, **kwargs)
    return _JSON_AWKWARD.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_SURROGATES = re.compile("[\ud800-\udfff]")


# Spreadsheets execute cells starting with these (CSV injection); a leading apostrophe neutralises them.
_CSV_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    if _SURROGATES.search(text):  # not encodable: the one place CSV cannot stay exact
        text = _SURROGATES.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return "'" + text if text.startswith(_CSV_FORMULA_START) else text


# -- fields ------------------------------------------------------------------------------------


def lookup(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def _plain_value(value: Any) -> str:
    """A raw JSON value as one plain cell: exact for strings and numbers, JSON for the rest."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return json.dumps(value)
    return dumps(value, separators=(",", ":"))


def _human_bool(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return "-" if value is None else _plain_value(value)


def _human_roles(value: Any) -> str:
    if not isinstance(value, list) or not value:
        return "-" if not value else _plain_value(value)
    scoped = sum(1 for ref in value if isinstance(ref, dict) and ref.get("workspaces"))
    text = f"{len(value)}"
    return text + (f" ({scoped} in workspaces)" if scoped else "")


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _human_date(value: Any) -> str:
    parsed = parse_time(value)
    if parsed is None:
        return "-" if value in (None, "") else _plain_value(value)
    return parsed.astimezone(timezone.utc).strftime("%Y-%m-%d")


def relative_time(value: Any, now: datetime | None = None) -> str:
    parsed = parse_time(value)
    if parsed is None:
        return ""
    now = now or datetime.now(timezone.utc)
    seconds = (now - parsed).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    for unit, size in (("year", 31536000), ("month", 2592000), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = int(seconds // size)
            text = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"in {text}" if future else f"{text} ago"
    return "just now"


def _plain_roles(value: Any) -> str:
    """Role ids, comma-separated: what a script acting on roles needs (JSON has the whole object)."""
    if isinstance(value, list) and all(isinstance(ref, dict) for ref in value):
        return ",".join(str(ref.get("id", "")) for ref in value)
    return _plain_value(value)


# When a table is too wide, columns give way in this order: descriptions first, identifiers (what a
# person copies into the next command) last.
SHRINK_FIRST, SHRINK, SHRINK_LAST = 0, 1, 2


@dataclass(frozen=True)
class Field:
    path: str  # dotted path into the API object; also the key in JSON output
    header: str
    human: Callable[[Any], str] = _plain_value  # how a table shows it
    plain: Callable[[Any], str] = _plain_value  # how plain and csv cells show it
    shrink: int = SHRINK
    cap: int | None = None  # widest a table column gets, however wide the terminal


FIELDS: dict[str, Field] = {
    f.path: f
    for f in (
        Field("organization.id", "ORGANIZATION ID", shrink=SHRINK_LAST),
        Field("organization.name", "ORGANIZATION", shrink=SHRINK_FIRST, cap=40),
        Field("organization.slug", "SLUG", shrink=SHRINK_LAST),
        Field("status", "STATUS", shrink=SHRINK_LAST),
        Field("roleRefs", "ROLES", _human_roles, _plain_roles, shrink=SHRINK_FIRST),
        Field("requiredSsoAuth", "SSO", _human_bool),
        Field("requiredMfaAuth", "MFA", _human_bool),
        Field("createdAt", "CREATED", _human_date),
        Field("updatedAt", "UPDATED", _human_date),
        Field("roleIds", "ROLE IDS"),
        Field("attributes", "ATTRIBUTES", shrink=SHRINK_FIRST, cap=40),
        Field("organization.status", "ORG STATUS"),
        Field("organization.statusReason", "ORG STATUS REASON", shrink=SHRINK_FIRST, cap=40),
        Field("organization.verified", "VERIFIED", _human_bool),
        Field("organization.activeMemberCount", "ACTIVE MEMBERS"),
        Field("organization.pendingMemberCount", "PENDING MEMBERS"),
        Field("organization.owner", "OWNER"),
        Field("organization.avatarUrl", "AVATAR URL", shrink=SHRINK_FIRST, cap=40),
        Field("organization.managedBy", "MANAGED BY", shrink=SHRINK_FIRST, cap=40),
        Field("organization.createdAt", "ORG CREATED", _human_date),
        Field("organization.updatedAt", "ORG UPDATED", _human_date),
    )
}
ALIASES = {
    "id": "organization.id",
    "name": "organization.name",
    "slug": "organization.slug",
    "roles": "roleRefs",
    "sso": "requiredSsoAuth",
    "mfa": "requiredMfaAuth",
    "created": "createdAt",
    "updated": "updatedAt",
}
DEFAULT_FIELDS = (
    "organization.name",
    "organization.slug",
    "status",
    "roleRefs",
    "requiredSsoAuth",
    "requiredMfaAuth",
    "createdAt",
)


def parse_fields(spec: str | None) -> tuple[str, ...]:
    if spec is None:
        return DEFAULT_FIELDS
    chosen = []
    for name in (part.strip() for part in spec.split(",")):
        if not name:
            continue
        path = ALIASES.get(name, name)
        if path not in FIELDS:
            valid = ", ".join(list(ALIASES) + list(FIELDS))
            raise UsageError(f"unknown field {name!r} in --fields", f"valid fields: {valid}")
        if path not in chosen:
            chosen.append(path)
    if not chosen:
        raise UsageError("--fields is empty", "name at least one field, e.g. --fields slug,status")
    return tuple(chosen)


def project(raw: dict, paths: tuple[str, ...]) -> dict:
    """The raw object cut down to the chosen paths, nesting kept (`organization.slug` stays nested)."""
    out: dict = {}
    for path in paths:
        parts = path.split(".")
        source: Any = raw
        for part in parts:
            if not isinstance(source, dict) or part not in source:
                break
            source = source[part]
        else:
            target = out
            for part in parts[:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = source
    return out


# -- colour and streams ------------------------------------------------------------------------

_SGR = {"bold": "1", "dim": "2", "green": "32", "yellow": "33", "red": "31", "cyan": "36"}
STATUS_STYLE = {"active": "green", "invited": "yellow", "pending": "yellow", "banned": "red"}


def paint(text: str, style: str | None, enabled: bool) -> str:
    if not enabled or not style or not text:
        return text
    codes = ";".join(_SGR[s] for s in style.split())
    return f"\x1b[{codes}m{text}\x1b[0m"


# -- table -------------------------------------------------------------------------------------


def _fit(text: str, width: int) -> str:
    """Pad or crop `text` to exactly `width` terminal cells (wide CJK characters count double)."""
    from rich.cells import cell_len, set_cell_size

    length = cell_len(text)
    if length <= width:
        return text + " " * (width - length)
    if width <= 1:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


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
) -> Iterable[str]:
    """Lines of a borderless table (gh style) that fits `width` cells.

    Hand-written rather than rich.table.Table: Rich took ~0.8 ms a row here (8 s for 10,000 rows,
    issue 7), this takes a few microseconds; the look (bold header, coloured status) is the same.
    Cells must already be escaped. `shrink` ranks the columns for narrowing (see SHRINK_FIRST);
    `caps` bounds a column's width even when there is room.
    """
    from rich.cells import cell_len

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
            fitted = _fit(cell, widths[i])
            if i == last:
                fitted = fitted.rstrip()
            parts.append(paint(fitted, cell_styles[i] if cell_styles else None, color))
        return sep.join(parts).rstrip()

    yield line(headers, ["bold"] * len(headers))
    for index, row in enumerate(rows):
        yield line(row, styles[index] if styles else None)


# -- list writers (streaming) ------------------------------------------------------------------



class ListWriter:
    """Receives pages as they arrive; `close()` finishes the output. Counts what it wrote."""

    def __init__(self, out: TextIO, fields: tuple[str, ...]) -> None:
        self.out = out
        self.fields = fields
        self.count = 0

    def write_page(self, memberships: list[Membership]) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.out.flush()


class JsonWriter(ListWriter):
    """A JSON array written item by item: flat memory however long the list."""

    def __init__(self, out: TextIO, fields: tuple[str, ...] | None) -> None:
        super().__init__(out, fields or ())
        self.out.write("[")

    def write_page(self, memberships: list[Membership]) -> None:
        chunks = []
        for m in memberships:
            obj = project(m.raw, self.fields) if self.fields else m.raw
            chunks.append(("\n  " if self.count == 0 else ",\n  ") + dumps(obj))
            self.count += 1
        self.out.write("".join(chunks))
        self.out.flush()

    def close(self) -> None:
        self.out.write("\n]\n" if self.count else "]\n")
        super().close()


class JsonLinesWriter(ListWriter):
    def write_page(self, memberships: list[Membership]) -> None:
        self.out.write(
            "".join(dumps(project(m.raw, self.fields) if self.fields else m.raw) + "\n" for m in memberships)
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
        self._write_row = csv_rows(out, fields, escape=escape)

    def write_page(self, memberships: list[Membership]) -> None:
        for m in memberships:
            self._write_row([FIELDS[f].plain(lookup(m.raw, f)) for f in self.fields])
        self.out.flush()
        self.count += len(memberships)


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


# -- bulk results (accept / leave) -------------------------------------------------------------

RESULT_COLUMNS = ("organization", "organizationId", "result", "error")


def write_outcomes(fmt: str, out: TextIO, outcomes, *, width: int | None, color: bool, escape_csv: bool) -> None:
    """One row per organization of an accept/leave run, in the chosen format. For `table`, a
    single organization needs no table: the message on stderr says it all."""
    if fmt in ("json", "jsonl"):
        objs = [o.to_json() for o in outcomes]
        if fmt == "json":
            # One result per line, like `list --json`: json's indent= falls back to its pure-Python
            # encoder, 135 ms for 500 results.
            out.write("[\n  " + ",\n  ".join(dumps(obj) for obj in objs) + "\n]\n" if objs else "[]\n")
        else:
            out.write("".join(dumps(obj) + "\n" for obj in objs))
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
        out.write("\n".join(render_table(["ORGANIZATION", "ID", "RESULT", "DETAIL"], cells, width=width, color=color, styles=styles)) + "\n")


class TableWriter(ListWriter):
    """Collects rows (column widths need them all), prints on close."""

    def __init__(self, out: TextIO, fields: tuple[str, ...], *, width: int | None, color: bool) -> None:
        super().__init__(out, fields)
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
            self.out.write(
                "\n".join(
                    render_table(
                        headers,
                        self.rows,
                        width=self.width,
                        color=self.color,
                        styles=self.styles,
                        shrink=[FIELDS[f].shrink for f in self.fields],
                        caps=[FIELDS[f].cap for f in self.fields],
                    )
                )
                + "\n"
            )
        super().close()


def list_writer(
    fmt: str, out: TextIO, fields: tuple[str, ...], *, width: int | None, color: bool, fields_given: bool, escape_csv: bool
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
    return TableWriter(out, fields, width=width, color=color)


# -- detail view -------------------------------------------------------------------------------


_DETAIL_KNOWN = {"organization", "status", "createdAt", "updatedAt", "roleIds", "roleRefs", "requiredSsoAuth",
                 "requiredMfaAuth", "attributes"}
_DETAIL_KNOWN_ORG = {"id", "name", "slug", "status", "statusReason", "verified", "owner", "activeMemberCount",
                     "pendingMemberCount", "avatarUrl", "managedBy", "createdAt", "updatedAt"}


def render_detail(m: Membership, *, color: bool, now: datetime | None = None) -> str:
    """`show` for a person: every field, grouped, with relative times.

    Rows are built from raw text and escaped in one place at the end, so no value (whatever its
    type) can reach the terminal unescaped.
    """
    org = m.organization
    raw = m.raw

    def text(value: Any) -> str:
        return "-" if value in (None, "", [], {}) else _plain_value(value)

    def when(value: Any) -> str:
        parsed = parse_time(value)
        if parsed is None:
            return text(value)
        return f"{parsed.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC ({relative_time(value, now)})"

    def count(value: Any) -> str:
        return "?" if value is None else _plain_value(value)

    role_lines = []
    roles = raw.get("roleRefs")
    if isinstance(roles, list):
        for ref in roles:
            if isinstance(ref, dict):
                scope = ref.get("workspaces")
                where = f"{len(scope)} workspace(s)" if isinstance(scope, list) and scope else "whole organization"
                role_lines.append(f"{_plain_value(ref.get('type', '?'))} role {_plain_value(ref.get('id', '?'))} ({where})")
            else:
                role_lines.append(_plain_value(ref))
    elif roles is not None:
        role_lines.append(_plain_value(roles))

    rows: list[tuple[str, list[str], str | None]] = []

    def row(label: str, value: str | list[str], style: str | None = None) -> None:
        rows.append((label, value if isinstance(value, list) else [value], style))

    row("organization id", m.org_id)
    row("slug", text(org.get("slug")))
    row("status", text(raw.get("status")), STATUS_STYLE.get(m.status))
    row("roles", role_lines or ["-"])
    row("SSO required", _human_bool(raw.get("requiredSsoAuth")))
    row("MFA required", _human_bool(raw.get("requiredMfaAuth")))
    row("members", f"{count(org.get('activeMemberCount'))} active, {count(org.get('pendingMemberCount'))} pending")
    row("org status", text(org.get("status")))
    if org.get("statusReason"):
        row("org status reason", text(org.get("statusReason")))
    row("verified", _human_bool(org.get("verified")))
    row("owner", text(org.get("owner")))
    if "managedBy" in org:
        managers = org["managedBy"]
        if isinstance(managers, list) and managers and all(isinstance(x, dict) for x in managers):
            row("managed by", [f"{_plain_value(x.get('Type', '?'))} {_plain_value(x.get('ID', '?'))}" for x in managers])
        else:
            row("managed by", text(managers))
    if "avatarUrl" in org:
        row("avatar", text(org.get("avatarUrl")))
    row("member since", when(raw.get("createdAt")))
    row("updated", when(raw.get("updatedAt")))
    row("org created", when(org.get("createdAt")))
    row("org updated", when(org.get("updatedAt")))
    attributes = raw.get("attributes")
    if isinstance(attributes, dict) and attributes:
        row("attributes", [f"{k}={_plain_value(v)}" for k, v in attributes.items()])
    elif attributes not in (None, {}):
        row("attributes", text(attributes))
    extra = [k for k in raw if k not in _DETAIL_KNOWN] + [f"organization.{k}" for k in org if k not in _DETAIL_KNOWN_ORG]
    if extra:
        row("other fields", ", ".join(extra) + " (see --json)")

    e = escape_control
    indent = " " * 20
    lines = [paint(e(m.name) or e(m.org_id), "bold", color)]
    for label, values, style in rows:
        lines.append(f"  {label:<18}{paint(e(values[0]), style, color)}")
        lines.extend(indent + e(value) for value in values[1:])
    return "\n".join(lines) + "\n"
