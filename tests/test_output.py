"""Unit tests of the renderers in memberships_cli.output: escaping, CSV defusing, the table's fitting
rules, fields, relative times and the detail view. Pure functions, no process, no server."""

from __future__ import annotations

import io
import json
import re
import time
from datetime import datetime, timezone

import pytest
from rich.cells import cell_len

from memberships_cli.errors import UsageError
from memberships_cli.models import Membership
from memberships_cli.output.fields import DEFAULT_FIELDS, FIELDS, parse_fields, project, relative_time
from memberships_cli.output.writers import JsonWriter, TableWriter
from memberships_cli.output.escape import csv_safe, escape_control
from memberships_cli.output.detail import render_detail
from memberships_cli.output.table import render_table
from memberships_cli.sandbox import seed


@pytest.mark.parametrize(
    "raw,shown",
    [
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("a\rb", "a\\rb"),
        ("bell\x07", "bell\\x07"),
        ("nul\x00", "nul\\x00"),
        ("tab\tnew\nline", "tab\\tnew\\nline"),
        ("del\x7f", "del\\x7f"),
        ("c1 csi\x9b2J", "c1 csi\\x9b2J"),
        ("rlo\u202eevil", "rlo\\u202eevil"),
        ("isolate\u2066x\u2069", "isolate\\u2066x\\u2069"),
        ("marks\u200e\u200f\u061c", "marks\\u200e\\u200f\\u061c"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("line\u2028sep", "line\\u2028sep"),
        # Ordinary text of every script passes untouched; markup is only text to us.
        ("Zürich Fintech AG", "Zürich Fintech AG"),
        ("東京ロジスティクス", "東京ロジスティクス"),
        ("شركة الرياض للتقنية", "شركة الرياض للتقنية"),
        ("Rocket 🚀 Launchpad", "Rocket 🚀 Launchpad"),
        ("[bold red]Markup[/] Labs", "[bold red]Markup[/] Labs"),
    ],
)
def test_escape_control(raw, shown):
    assert escape_control(raw) == shown


@pytest.mark.parametrize(
    "cell,out",
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@A1", "'@A1"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
     ("Acme", "Acme"), ("", ""), ("a=b", "a=b"), ("2022-01-01", "2022-01-01")],
)
def test_csv_safe_defuses_only_formula_starts(cell, out):
    assert csv_safe(cell) == out


# -- table -----------------------------------------------------------------------------------------


def seed_rows(fields=DEFAULT_FIELDS) -> list[list[str]]:
    from memberships_cli.output.fields import lookup

    return [[escape_control(FIELDS[f].human(lookup(m, f))) for f in fields] for m in seed.memberships()]


def table(width: int | None, fields=DEFAULT_FIELDS, *, drop: bool = True) -> list[str]:
    return list(
        render_table(
            [FIELDS[f].header for f in fields],
            seed_rows(fields),
            width=width,
            color=False,
            shrink=[FIELDS[f].shrink for f in fields],
            caps=[FIELDS[f].cap for f in fields],
            drop=[FIELDS[f].drop for f in fields] if drop else None,
        )
    )


@pytest.mark.parametrize("width", [60, 80, 100, 120, 160])
def test_table_fits_the_width_in_cells(width):
    lines = table(width)
    assert max(cell_len(line) for line in lines) <= width
    assert len(lines) == len(seed.memberships()) + 1


@pytest.mark.parametrize("width", [80, 100])
def test_identifiers_give_way_last(width):
    """Names and role details are cut before slugs and statuses: the slug is what a person types next."""
    lines = table(width)
    for membership, line in zip(seed.memberships(), lines[1:]):
        assert f"  {membership['organization']['slug']}  " in line
        assert f"  {membership['status']}  " in line
    assert any("…" in line.split("  ")[0] for line in lines[1:])  # some names were cut instead


def test_long_names_are_capped_even_with_room():
    lines = table(300)
    name_column = lines[0].index("SLUG")
    assert name_column == 40 + 2
    assert "International Association of Independen…" in "\n".join(lines)


def test_a_table_that_cannot_fit_keeps_identifiers_readable():
    lines = table(20)
    # Optional columns are gone, the name is cut to its last three cells; the slug, status and date
    # keep a readable floor, so the line is wider than asked.
    assert lines[0].split() == ["OR…", "SLUG", "STATUS", "CREATED"]
    assert lines[1].startswith("Ac…  acme-…")


@pytest.mark.parametrize(
    "width,headers",
    [
        (60, ["ORGANIZATION", "SLUG", "STATUS", "CREATED"]),
        (70, ["ORGANIZATION", "SLUG", "STATUS", "ROLES", "CREATED"]),
        (76, ["ORGANIZATION", "SLUG", "STATUS", "ROLES", "SSO", "CREATED"]),
        (80, ["ORGANIZATION", "SLUG", "STATUS", "ROLES", "SSO", "MFA", "CREATED"]),
        (160, ["ORGANIZATION", "SLUG", "STATUS", "ROLES", "SSO", "MFA", "CREATED"]),
    ],
)
def test_narrow_tables_give_way_in_order(width, headers):
    """Name and roles are cut first, then MFA, SSO and ROLES are left out; slug, status and date stay whole."""
    lines = table(width)
    assert lines[0].split() == headers
    assert max(cell_len(line) for line in lines) <= width
    for membership, line in zip(seed.memberships(), lines[1:]):
        assert f"  {membership['organization']['slug']}  " in line
        assert membership["createdAt"][:10] in line
        assert f"  {membership['status']}  " in line


def test_columns_named_with_fields_are_cut_never_left_out():
    lines = table(60, drop=False)
    assert lines[0].split() == ["OR…", "SLUG", "STATUS", "RO…", "SSO", "MFA", "CREATED"]
    # Name and roles went down to the hard floor before the slug was touched.
    assert lines[1].startswith("Ac…  acme-logistics")


def test_layout_cuts_the_lowest_rank_first_and_drops_in_order():
    from memberships_cli.output.fields import SHRINK, SHRINK_FIRST, SHRINK_LAST
    from memberships_cli.output.table import layout

    natural, headers = [30, 20, 10, 10], [4, 4, 4, 4]
    ranks = [SHRINK_FIRST, SHRINK_LAST, SHRINK, SHRINK]
    # 76 cells: the rank-0 column gives way alone.
    assert layout(natural, headers, 70, shrink=ranks) == ([0, 1, 2, 3], [24, 20, 10, 10])
    # Below the first column's floor, the rank-1 columns give way (widest first) before rank 2.
    assert layout(natural, headers, 50, shrink=ranks) == ([0, 1, 2, 3], [6, 20, 9, 9])
    # With a drop rank, column 3 goes before anything else is cut under its floor.
    assert layout(natural, headers, 40, shrink=ranks, drop=[None, None, None, 1]) == ([0, 1, 2], [6, 20, 10])
    # No width: nothing is cut or left out.
    assert layout(natural, headers, None, shrink=ranks, drop=[1, 1, 1, 1]) == ([0, 1, 2, 3], natural)


def test_roles_mean_the_same_in_table_plain_and_csv():
    import csv as csv_module
    from memberships_cli.output.writers import CsvWriter, PlainWriter

    memberships = [Membership(m) for m in seed.memberships()]
    index = DEFAULT_FIELDS.index("roleRefs")
    out = {name: io.StringIO() for name in ("table", "plain", "csv")}
    writers = [TableWriter(out["table"], DEFAULT_FIELDS, width=None, color=False),
               PlainWriter(out["plain"], DEFAULT_FIELDS), CsvWriter(out["csv"], DEFAULT_FIELDS)]
    for writer in writers:
        writer.write_page(memberships)
        writer.close()
    table_lines = out["table"].getvalue().splitlines()
    assert re.split(r" {2,}", table_lines[0])[index] == "ROLES"
    csv_rows = list(csv_module.reader(io.StringIO(out["csv"].getvalue())))
    assert csv_rows[0][index] == "roleRefs"
    for m, table_line, plain_line, csv_row in zip(seed.memberships(), table_lines[1:], out["plain"].getvalue().splitlines(), csv_rows[1:]):
        ids = ",".join(ref["id"] for ref in m.get("roleRefs") or [])
        assert plain_line.split("\t")[index] == ids
        assert csv_row[index] == ids
        assert re.split(r" {2,}", table_line)[index] == (ids or "-")


@pytest.mark.parametrize("width", [80, 160])
def test_columns_line_up_in_cells_with_wide_characters(width):
    lines = table(width)
    slug_at = cell_len(lines[0][: lines[0].index("SLUG")])
    for membership, line in zip(seed.memberships(), lines[1:]):
        assert cell_len(line[: line.index(membership["organization"]["slug"])]) == slug_at, line


def test_a_huge_cell_is_cut_quickly():
    started = time.perf_counter()
    lines = list(render_table(["NAME", "SLUG"], [["x" * 1_000_000, "slug"]], width=80, color=False))
    assert time.perf_counter() - started < 1
    assert max(cell_len(line) for line in lines) <= 80


def test_table_colours_only_when_asked():
    out = io.StringIO()
    writer = TableWriter(out, DEFAULT_FIELDS, width=120, color=True)
    writer.write_page([Membership(m) for m in seed.memberships()[:2]])
    writer.close()
    assert "\x1b[1mORGANIZATION" in out.getvalue()  # bold header
    assert "\x1b[32mactive" in out.getvalue() and "\x1b[33minvited" in out.getvalue()


def test_empty_table_writes_nothing():
    out = io.StringIO()
    writer = TableWriter(out, DEFAULT_FIELDS, width=80, color=False)
    writer.close()
    assert out.getvalue() == ""


def test_json_writer_is_a_valid_array_for_0_1_and_many():
    for n in (0, 1, 5):
        out = io.StringIO()
        writer = JsonWriter(out, None)
        writer.write_page([Membership(m) for m in seed.memberships()[:n]])
        writer.close()
        assert json.loads(out.getvalue()) == seed.memberships()[:n]
    assert out.getvalue().startswith("[\n  {")


# -- fields ----------------------------------------------------------------------------------------


def test_parse_fields_aliases_dotted_paths_and_duplicates():
    assert parse_fields(None) == DEFAULT_FIELDS
    assert parse_fields("slug, status ,organization.slug,name") == ("organization.slug", "status", "organization.name")


@pytest.mark.parametrize("spec,message", [("nope", "unknown field 'nope'"), (" , ", "--fields is empty"),
                                          ("organization", "unknown field 'organization'")])
def test_parse_fields_rejects(spec, message):
    with pytest.raises(UsageError) as caught:
        parse_fields(spec)
    assert message in caught.value.message


def test_project_keeps_nesting_and_skips_missing_keys():
    raw = {"organization": {"slug": "a", "name": "A"}, "status": "active"}
    assert project(raw, ("organization.slug", "status", "organization.avatarUrl")) == {
        "organization": {"slug": "a"},
        "status": "active",
    }


# -- times and the detail view ---------------------------------------------------------------------

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "value,text",
    [("2024-06-01T11:59:30.000Z", "just now"), ("2024-06-01T11:00:00Z", "1 hour ago"),
     ("2024-05-30T12:00:00Z", "2 days ago"), ("2022-06-01T12:00:00Z", "2 years ago"),
     ("2024-06-03T12:00:00Z", "in 2 days"), ("not a time", ""), (None, "")],
)
def test_relative_time(value, text):
    assert relative_time(value, NOW) == text


def test_detail_view_escapes_every_value_whatever_its_type():
    evil = "\x1b[2J\r\u202e"
    raw = {
        "organization": {"id": "id-1", "name": evil, "slug": evil, "status": evil, "owner": {"x": evil},
                         "activeMemberCount": evil, "verified": evil, "managedBy": [{"Type": evil, "ID": 1}]},
        "status": evil,
        "roleRefs": [evil, {"id": evil, "type": evil}],
        "requiredSsoAuth": evil,
        "createdAt": evil,
        "attributes": {evil: [evil]},
        evil: 1,
    }
    text = render_detail(Membership(raw), color=True, now=NOW)
    leftover = re.sub(r"\x1b\[[0-9;]*m", "", text)
    assert "\x1b" not in leftover and "\r" not in leftover and "\u202e" not in leftover
    assert "\\x1b[2J\\r\\u202e" in text


@pytest.mark.parametrize("status,label", [("active", "member since"), ("invited", "invited"), ("pending", "invited"),
                                          ("banned", "created"), ("suspended", "created")])
def test_detail_view_names_the_date_by_status(status, label):
    raw = dict(seed.memberships()[0], status=status)
    text = render_detail(Membership(raw), color=False, now=NOW)
    dated = [line for line in text.splitlines() if "2022-04-05 09:00 UTC" in line]
    assert dated == [f"  {label:<18}2022-04-05 09:00 UTC (2 years ago)"]


def test_detail_view_with_relative_times():
    text = render_detail(Membership(seed.memberships()[0]), color=False, now=NOW)
    assert text.splitlines()[0] == "Acme Logistics"
    assert "  member since      2022-04-05 09:00 UTC (2 years ago)" in text
    assert "  MFA required      yes" in text


def test_result_tables_leave_out_empty_columns_and_keep_ids_whole():
    from memberships_cli.errors import NotFoundError
    from memberships_cli.operations import Outcome
    from memberships_cli.output.outcomes import result_table

    ids = ["4abc1513-78ec-5ec6-a8ca-eb95cb45ffe2", "97aec265-736e-5f88-8e79-ad49605d7993"]
    by_id = [Outcome(i, "left", i) for i in ids]
    lines = result_table(by_id, width=100, color=False)
    assert lines == ["ID                                    RESULT", f"{ids[0]}  left", f"{ids[1]}  left"]

    named = [Outcome("acme-logistics", "left", ids[0], Membership(seed.memberships()[0])),
             Outcome("nope", "not-found", None, None, NotFoundError("no membership or invitation matches 'nope'"))]
    lines = result_table(named, width=100, color=False)
    assert lines[0].split() == ["ORGANIZATION", "SLUG", "ID", "RESULT", "DETAIL"]
    assert lines[1].split() == ["Acme", "Logistics", "acme-logistics", seed.memberships()[0]["organization"]["id"], "left", "-"]
    assert lines[2].split()[:4] == ["-", "nope", "-", "not-found"]
