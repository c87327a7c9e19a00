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


def table(width: int | None, fields=DEFAULT_FIELDS) -> list[str]:
    return list(
        render_table(
            [FIELDS[f].header for f in fields],
            seed_rows(fields),
            width=width,
            color=False,
            shrink=[FIELDS[f].shrink for f in fields],
            caps=[FIELDS[f].cap for f in fields],
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


def test_a_table_that_cannot_fit_keeps_readable_columns():
    lines = table(20)
    assert lines[0].startswith("ORGANIZATION  SLUG")  # headers stay whole; the line is wider than asked


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


def test_detail_view_with_relative_times():
    text = render_detail(Membership(seed.memberships()[0]), color=False, now=NOW)
    assert text.splitlines()[0] == "Acme Logistics"
    assert "  member since      2022-04-05 09:00 UTC (2 years ago)" in text
    assert "  MFA required      yes" in text
