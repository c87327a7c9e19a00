"""Every output format of `list`, on a terminal and piped, with no, one and many memberships; then
`show` in every format, --fields, colour switches and the format defaults. Through the real entry
point against the sandbox, terminal width pinned."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
import time

import pytest
from rich.cells import cell_len

from memberships_cli.output.fields import DEFAULT_FIELDS
from memberships_cli.output.escape import escape_control
from memberships_cli.sandbox import SANDBOX_TOKEN, seed

from harness import base_env

WIDTH = 100
# Our own colour codes (memberships_cli.output.escape.paint); anything else starting with ESC is a leak.
SGR = re.compile(r"\x1b\[[0-9;]*m")
SIZES = {"empty": 0, "one": 1, "many": 134}  # many: two pages of 100, so streaming is exercised
FORMATS = ["table", "plain", "json", "jsonl", "csv"]


def shape(store, size: str) -> list[dict]:
    """Make the sandbox hold `size` memberships and return them in listing order."""
    everything = store.all()
    keep = {"empty": 0, "one": 1, "many": len(everything)}[size]
    for membership in everything[keep:]:
        store.leave(membership["organization"]["id"])
    if size == "many":
        store.add_generated(SIZES["many"] - len(everything))
    memberships = store.all()
    assert len(memberships) == SIZES[size]
    return memberships


def visible(text: str) -> str:
    return SGR.sub("", text)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("tty", [False, True], ids=["piped", "terminal"])
@pytest.mark.parametrize("fmt", FORMATS)
def test_list_format_matrix(cli, sandbox, fmt, tty, size):
    expected = shape(sandbox.store, size)
    r = cli("list", "--format", fmt, tty=tty, env={"COLUMNS": str(WIDTH)})
    assert r.code == 0, r
    shown = fmt
    n = len(expected)

    if shown == "table":
        # The friendly line is for a person at a terminal, not for a file a table was sent to.
        assert r.stderr == ("No memberships found.\n" if tty and not n else "")
        if not n:
            assert r.stdout == ""
            return
        lines = r.stdout.splitlines()
        assert visible(lines[0]).split() == ["ORGANIZATION", "SLUG", "STATUS", "ROLES", "SSO", "MFA", "CREATED"]
        assert len(lines) == n + 1
        assert max(cell_len(visible(line)) for line in lines) <= WIDTH
        assert ("\x1b[" in r.stdout) == tty  # colour on a terminal only
        # Identifiers are the last to give way: at this width every slug is whole, row by row.
        assert all(f"  {m['organization']['slug']}  " in visible(line) for m, line in zip(expected, lines[1:]))
        return

    assert r.stderr == ""
    # No colour in these formats, piped or not. A raw ESC only where the data must stay exact: CSV
    # into a pipe or file (JSON escapes it itself; CSV on a terminal escapes it like plain does).
    assert ("\x1b" in r.stdout) == (shown == "csv" and not tty and size == "many")
    if shown == "plain":
        lines = r.stdout.splitlines()
        assert len(lines) == n
        rows = [line.split("\t") for line in lines]
        assert all(len(row) == len(DEFAULT_FIELDS) for row in rows)
        assert [row[1] for row in rows] == [m["organization"]["slug"] for m in expected]
        assert [row[6] for row in rows] == [m["createdAt"] for m in expected]  # ISO-8601, as received
    elif shown == "json":
        assert json.loads(r.stdout) == expected  # lossless
        if not n:
            assert r.stdout == "[]\n"
    elif shown == "jsonl":
        lines = r.stdout.splitlines()
        assert [json.loads(line) for line in lines] == expected
        assert r.stdout == "" or r.stdout.endswith("\n")
    elif shown == "csv":
        rows = list(csv.reader(io.StringIO(r.stdout)))
        assert rows[0] == list(DEFAULT_FIELDS)
        assert len(rows) == n + 1
        assert [row[1] for row in rows[1:]] == [m["organization"]["slug"] for m in expected]
        names = [m["organization"]["name"] for m in expected]
        assert [row[0] for row in rows[1:]] == (names if not tty else [escape_control(x) for x in names])


def test_plain_and_table_show_the_same_columns_in_the_same_order(cli):
    table = cli("list", "--fields", "slug,status,name,organization.verified", tty=True, env={"COLUMNS": "160"})
    plain = cli("list", "--fields", "slug,status,name,organization.verified")
    assert table.code == plain.code == 0
    assert visible(table.stdout.splitlines()[0]).split() == ["SLUG", "STATUS", "ORGANIZATION", "VERIFIED"]
    first_table = visible(table.stdout.splitlines()[1]).split()
    first_plain = plain.stdout.splitlines()[0].split("\t")
    assert first_plain == ["acme-logistics", "active", "Acme Logistics", "true"]
    assert first_table == ["acme-logistics", "active", "Acme", "Logistics", "yes"]


@pytest.mark.parametrize("fmt", ["jsonl"])
def test_streaming_formats_write_each_page_as_it_arrives(home, sandbox, fmt):
    """Page one is on stdout while pages two and three are still on their way: rows are written as
    they arrive, never held until the end (memory stays flat however long the list)."""
    sandbox.store.add_generated(200 - len(seed.memberships()) + 10)  # 210: three pages
    sandbox.latency = 0.4  # every answer takes at least this long
    env = base_env(home) | {"MEMBERSHIPS_API_URL": sandbox.url, "MEMBERSHIPS_TOKEN": SANDBOX_TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "memberships_cli", "list", "--format", fmt],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline()
    first_at = time.monotonic()
    rest = proc.stdout.read()
    proc.wait(timeout=60)
    done_at = time.monotonic()
    assert proc.returncode == 0, proc.stderr.read()
    assert first and len((first + rest).splitlines()) == 210 + (fmt == "csv")
    # Two more answers of >= 0.4 s each came after page one was printed: >= 0.8 s in theory.
    assert done_at - first_at >= 0.5


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_fields_select_nested_keys_for_json(cli, fmt):
    r = cli("list", "--format", fmt, "--fields", "organization.slug,status", "--limit", "2")
    assert r.code == 0, r
    items = json.loads(r.stdout) if fmt == "json" else [json.loads(line) for line in r.stdout.splitlines()]
    assert items == [
        {"organization": {"slug": "acme-logistics"}, "status": "active"},
        {"organization": {"slug": "globex-retail"}, "status": "invited"},
    ]


def test_fields_aliases_and_csv_header(cli):
    r = cli("list", "--format", "csv", "--fields", "id,slug", "--limit", "1")
    assert r.code == 0
    assert r.stdout.splitlines() == ["organization.id,organization.slug", f"{seed.org_id('acme-logistics')},acme-logistics"]


@pytest.mark.parametrize("command", [["list"], ["show", "acme-logistics"]])
def test_unknown_field_is_a_usage_error_listing_the_valid_ones(cli, sandbox, command):
    r = cli(*command, "--fields", "slug,nope")
    assert r.code == 2
    assert r.stdout == ""
    assert r.stderr.startswith("error: unknown field 'nope' in --fields; valid fields: ")
    for valid in ("slug", "organization.slug", "status", "organization.activeMemberCount"):
        assert valid in r.stderr
    assert sandbox.requests == []  # refused before any request


@pytest.mark.parametrize(
    "fmt,check",
    [
        # json and the detail view (table) are covered in test_cli_core and below
        ("jsonl", lambda out: len(out.splitlines()) == 1 and json.loads(out)["status"] == "active"),
        ("csv", lambda out: out.splitlines()[1].startswith("Acme Logistics,acme-logistics,active,")),
        ("plain", lambda out: out.startswith("Acme Logistics\tacme-logistics\tactive\t") and out.count("\n") == 1),
    ],
)
def test_show_in_every_format(cli, fmt, check):
    r = cli("show", "acme-logistics", "--format", fmt)
    assert r.code == 0, r
    assert check(r.stdout), r
    assert r.stderr == ""


def test_show_detail_has_every_group(cli):
    r = cli("show", "cafe-sao-paulo", tty=True, env={"NO_COLOR": "1"})
    assert r.code == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "Café São Paulo"
    labels = [line[2:20].strip() for line in lines[1:]]
    for label in ("organization id", "slug", "status", "roles", "SSO required", "MFA required", "members",
                  "org status", "verified", "owner", "managed by", "invited", "updated", "org created",
                  "org updated"):
        assert label in labels, label
    assert "(1 workspace(s))" in r.stdout
    # An invitation: when you were invited, not "member since" (you are not a member yet).
    assert re.search(r"  invited           2022-05-30 09:00 UTC \(\d+ years? ago\)", r.stdout)
    assert "member since" not in r.stdout
    assert re.search(r"members           \d+ active, \d+ pending", r.stdout)


def test_show_detail_names_unknown_fields(cli):
    r = cli("show", "initech-payments", "--format", "table")
    assert r.code == 0
    assert f"other fields      {seed.UNKNOWN_FIELD} (see --json)" in r.stdout


# -- colour ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "env,args,tty,coloured",
    [
        ({}, ["list"], True, True),
        ({"NO_COLOR": "1"}, ["list"], True, False),
        ({}, ["--no-color", "list"], True, False),
        ({"TERM": "dumb"}, ["list"], True, False),
        ({"FORCE_COLOR": "1"}, ["list", "--format", "table"], False, True),
        ({"FORCE_COLOR": "1", "NO_COLOR": "1"}, ["show", "acme-logistics", "--format", "table"], False, False),
        ({"FORCE_COLOR": "1"}, ["list", "--format", "plain"], True, False),  # never in a machine format
    ],
    ids=["terminal", "NO_COLOR", "--no-color", "TERM=dumb", "FORCE_COLOR-piped", "NO_COLOR-beats-FORCE", "FORCE-plain"],
)
def test_colour_switches(cli, env, args, tty, coloured):
    r = cli(*args, tty=tty, env=env)
    assert r.code == 0, r
    assert ("\x1b[" in r.stdout.replace("\\x1b[", "")) == coloured


# -- defaults --------------------------------------------------------------------------------------


@pytest.mark.parametrize("tty,first", [(True, "ORGANIZATION"), (False, "Acme Logistics\tacme-logistics\tactive\t")],
                         ids=["terminal-table", "piped-plain"])
def test_without_a_flag_the_terminal_decides(cli, tty, first):
    r = cli("list", "--limit", "3", tty=tty, env={"NO_COLOR": "1"})
    assert r.code == 0, r
    assert r.stdout.startswith(first)
    assert len(r.stdout.splitlines()) == 3 + tty


def test_profile_default_format_applies_and_flags_override(cli, home):
    config = home / "config" / "memberships-cli" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('[profiles.default]\nformat = "jsonl"\n')
    r = cli("list", "--limit", "2")
    assert r.code == 0, r
    assert [json.loads(line)["organization"]["slug"] for line in r.stdout.splitlines()] == ["acme-logistics", "globex-retail"]
    assert cli("list", "--limit", "1", "--format", "plain").stdout.startswith("Acme Logistics\t")
