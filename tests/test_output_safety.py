"""Terminal safety with hostile server data, through the real entry point: no raw control character
(ESC, CR, BEL, NUL, C1, bidi overrides) and no interpreted Rich markup in any human format, on a
terminal or piped; JSON and CSV keep the data exact; CSV cells cannot run as spreadsheet formulas."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest

from memberships_cli.output.fields import FIELDS
from memberships_cli.sandbox import SANDBOX_TOKEN, seed

from harness import base_env

# An OSC title change, a screen clear, a carriage return, a C1 CSI, bidi overrides, NUL and markup.
EVIL = "\x1b]0;pwned\x07\x1b[2J\rX\x9b31m\u202eevil\u2066\x00 [red]red[/red] [link=file:///etc]x[/link]"
EVIL_ID = "99999999-9999-4999-8999-999999999999"
# What a terminal must never receive raw. Tabs and newlines are ours (plain's separator, line ends).
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# The only escape sequences we write ourselves: SGR colours from memberships_cli.output.escape.paint.
OUR_SGR = re.compile(r"\x1b\[(?:[0-9]+;)*[0-9]+m")


def hostile_membership() -> dict:
    return {
        "organization": {
            "id": EVIL_ID,
            "name": "Evil " + EVIL,
            "slug": "evil\x1b[1m",
            "status": EVIL,
            "statusReason": EVIL,
            "owner": EVIL,
            "verified": EVIL,
            "activeMemberCount": EVIL,
            "pendingMemberCount": EVIL,
            "managedBy": [{"Type": EVIL, "ID": EVIL}],
            "avatarUrl": EVIL,
            "createdAt": EVIL,
            "updatedAt": EVIL,
            EVIL: EVIL,
        },
        "status": EVIL,
        "roleRefs": [{"id": EVIL, "type": EVIL, "workspaces": [EVIL]}],
        "roleIds": [EVIL],
        "requiredSsoAuth": EVIL,
        "requiredMfaAuth": EVIL,
        "createdAt": EVIL,
        "updatedAt": EVIL,
        "attributes": {EVIL: EVIL},
        EVIL: EVIL,
    }


@pytest.fixture
def hostile(sandbox):
    sandbox.store.add(hostile_membership())
    return sandbox


def assert_terminal_safe(text: str) -> None:
    leftover = OUR_SGR.sub("", text)
    assert "\x1b" not in leftover, f"raw ESC reached the output: {leftover!r}"
    found = RAW_CONTROL.findall(leftover)
    assert not found, f"raw control characters reached the output: {found!r}"
    # The seed's ANSI name arrives escaped and visible, never as a colour change.
    assert "\x1b[31mRed Alert" not in text


ALL_FIELDS = ",".join(FIELDS)
HUMAN_RUNS = [
    pytest.param(["list"], True, id="list-table-terminal"),
    pytest.param(["list"], False, id="list-plain-piped"),
    pytest.param(["list", "--format", "csv"], True, id="list-csv-terminal"),
    pytest.param(["list", "--fields", ALL_FIELDS, "--format", "table"], True, id="list-every-field-table"),
    pytest.param(["list", "--fields", ALL_FIELDS, "--format", "plain"], False, id="list-every-field-plain"),
    pytest.param(["show", EVIL_ID], True, id="show-detail-terminal"),
    pytest.param(["show", EVIL_ID, "--format", "plain", "--fields", ALL_FIELDS], False, id="show-plain"),
]


@pytest.mark.parametrize("args,tty", HUMAN_RUNS)
def test_no_raw_control_character_or_markup_in_human_formats(cli, hostile, args, tty):
    # Wide enough that nothing is cut, so the markup must show up literally if it is not interpreted.
    r = cli(*args, tty=tty, env={"COLUMNS": "2000", "FORCE_COLOR": "1"})
    assert r.code == 0, r
    assert_terminal_safe(r.stdout)
    assert_terminal_safe(r.stderr)
    assert "[red]red[/red] [link=file:///etc]x[/link]" in r.stdout  # shown as typed, not styled
    assert "\\x1b]0;pwned\\x07\\x1b[2J\\rX\\x9b31m\\u202eevil\\u2066\\x00" in r.stdout  # visibly escaped
    if args[0] == "list":
        assert "[bold red]Markup[/] Labs" in r.stdout
        assert "\\x1b[31mRed Alert\\x1b[0m Industries" in r.stdout


def test_hostile_names_in_error_messages_are_escaped(cli, hostile):
    r = cli("show", EVIL.replace("\x00", ""), tty=True)
    assert r.code == 3
    assert r.stdout == ""
    assert_terminal_safe(r.stderr)
    assert "\\x1b]0;pwned" in r.stderr


@pytest.mark.parametrize(
    "args,tty",
    [(["list", "--json"], False), (["list", "--format", "jsonl"], True), (["show", EVIL_ID, "--json"], True)],
    ids=["list-json-piped", "list-jsonl-terminal", "show-json-terminal"],
)
def test_json_is_exact_and_escapes_control_characters_itself(cli, hostile, args, tty):
    r = cli(*args, tty=tty)
    assert r.code == 0, r
    if args[0] == "show":
        items = [json.loads(r.stdout)]
    elif "--json" in args:
        items = json.loads(r.stdout)
    else:
        items = [json.loads(line) for line in r.stdout.splitlines()]
    assert hostile_membership() in items  # every string exactly as the server sent it
    assert not re.search("[\x00-\x08\x0b-\x1f]", r.stdout)  # JSON's own \u escapes, no raw C0


def test_csv_into_a_file_keeps_the_data_exact(home, hostile):
    # Bytes, not text: text mode would turn the lone CR in the data into a line end on our side.
    env = base_env(home) | {"MEMBERSHIPS_API_URL": hostile.url, "MEMBERSHIPS_TOKEN": SANDBOX_TOKEN}
    proc = subprocess.run([sys.executable, "-m", "memberships_cli", "list", "--format", "csv",
                           "--fields", "id,name,status,organization.owner"], env=env, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""
    rows = list(csv.reader(io.StringIO(proc.stdout.decode("utf-8"), newline="")))
    assert len(rows) == len(seed.memberships()) + 2  # header, seed, the hostile one: the CR split nothing
    evil = next(row for row in rows if row[0] == EVIL_ID)
    assert evil == [EVIL_ID, "Evil " + EVIL, EVIL, EVIL]


# (A leading CR is defused the same way; the `cli` fixture reads text, which would turn it into "\n".)
FORMULAS = ["=HYPERLINK(\"http://x.invalid\",\"click\")", "+1+1", "-2+3", "@SUM(A1:A9)", "\t=1"]


@pytest.mark.parametrize("tty", [False, True], ids=["piped", "terminal"])
def test_csv_cells_cannot_run_as_formulas(cli, sandbox, tty):
    template = seed.memberships()[0]
    for index, name in enumerate(FORMULAS):
        org = dict(template["organization"], id=f"00000000-0000-4000-8000-00000000000{index}", name=name,
                   slug=f"formula-{index}")
        sandbox.store.add(dict(template, organization=org))
    r = cli("list", "--format", "csv", "--fields", "name,slug", tty=tty)
    assert r.code == 0, r
    rows = {row[1]: row[0] for row in csv.reader(io.StringIO(r.stdout))}
    for index, name in enumerate(FORMULAS):
        # Defused with a leading apostrophe (a spreadsheet shows the cell as text). On a terminal
        # the tab and CR are escaped first, and a cell starting with a backslash runs nothing.
        expected = "'" + name if not tty or name[0] != "\t" else name.replace("\t", "\\t")
        assert rows[f"formula-{index}"] == expected
    assert rows["acme-logistics"] == "Acme Logistics"  # ordinary cells untouched
    if not tty:  # JSON keeps the name exactly; only CSV defuses it.
        listed = json.loads(cli("list", "--json").stdout)
        assert [m["organization"]["name"] for m in listed if m["organization"]["slug"].startswith("formula-")] == FORMULAS
