"""Narrow output encodings (issue 14, section 4): with stdout and stderr in ascii or latin-1 (or
the C locale without UTF-8 mode), every command and format works. JSON stays lossless (the same
objects as the UTF-8 run, every non-ASCII character escaped as \\uXXXX); human text shows backslash
escapes for what the stream cannot encode; tables stay aligned. Through the real entry point
against the sandbox, whose seed has accented, CJK, Cyrillic, Greek, Hangul, RTL and emoji names."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import dataclass

import pytest

from memberships_cli.output.fields import DEFAULT_FIELDS
from memberships_cli.sandbox import SANDBOX_TOKEN, seed

from harness import base_env

FORMATS = ["json", "jsonl", "csv", "plain", "table"]
# name: (environment, the encoding the CLI's streams get)
ENCODINGS = {
    "ascii": ({"PYTHONIOENCODING": "ascii"}, "ascii"),
    "latin-1": ({"PYTHONIOENCODING": "latin-1"}, "latin-1"),
    # A legacy locale: no UTF-8 mode, no locale coercion, so Python keeps ascii (surrogateescape).
    "C locale": ({"PYTHONIOENCODING": None, "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
                 "ascii"),
}
TOKYO = seed.org_id("tokyo-logistics")
WIDTH = 100


@dataclass
class Run:
    code: int
    out: bytes
    err: bytes
    encoding: str

    @property
    def stdout(self) -> str:
        return self.out.decode(self.encoding)  # strict: every byte must be valid in the stream's encoding

    @property
    def stderr(self) -> str:
        return self.err.decode(self.encoding)


@pytest.fixture
def run(home, sandbox):
    def run(encoding: str, *args: str) -> Run:
        overrides, codec = ENCODINGS[encoding] if encoding in ENCODINGS else ({}, "utf-8")
        env = base_env(home) | {"MEMBERSHIPS_API_URL": sandbox.url, "MEMBERSHIPS_TOKEN": SANDBOX_TOKEN,
                                "COLUMNS": str(WIDTH)}
        env = {k: v for k, v in (env | overrides).items() if v is not None}
        proc = subprocess.run([sys.executable, "-m", "memberships_cli", *args], env=env, capture_output=True,
                              timeout=60, cwd=str(home))
        result = Run(proc.returncode, proc.stdout, proc.stderr, codec)
        shown = result.stdout + result.stderr
        assert "Traceback" not in shown and "unexpected error" not in shown, shown
        assert "UnicodeEncodeError" not in shown
        return result

    return run


def _json_values(text: str, fmt: str):
    return json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]


def _escaped(text: str, codec: str) -> str:
    return text.encode(codec, "backslashreplace").decode(codec)


def _check_table(text: str, anchor: str) -> None:
    """Columns line up: `anchor` (a header) starts at the same offset on every line, and no line is
    wider than the terminal (every character is one cell once escaped or latin-1)."""
    lines = text.splitlines()
    column = lines[0].index(anchor)
    assert all(len(line) <= WIDTH for line in lines), text
    assert all(line[column - 2:column] == "  " and line[column] != " " for line in lines[1:]), text


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_list_in_every_format(run, sandbox, encoding, fmt):
    r = run(encoding, "list", "--format", fmt)
    assert r.code == 0, r
    assert r.stderr == ""
    text = r.stdout
    names = [m["organization"]["name"] for m in sandbox.store.all()]
    if fmt in ("json", "jsonl"):
        assert text.isascii()  # \uXXXX for everything: readable whatever encoding a reader assumes
        utf8 = run("utf-8", "list", "--format", fmt)
        assert _json_values(text, fmt) == _json_values(utf8.stdout, fmt) == sandbox.store.all()
        return
    codec = r.encoding
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == list(DEFAULT_FIELDS)
        assert [row[0] for row in rows[1:]] == [_escaped(n, codec) for n in names]
    elif fmt == "plain":
        assert [line.split("\t")[0] for line in text.splitlines()] == [
            _escaped(n, codec).replace("\x1b", "\\x1b") for n in names
        ]
    else:
        _check_table(text, "SLUG")
        assert "\\u6771\\u4eac" in text  # 東京, as escapes
        assert ("Zürich" if codec == "latin-1" else "Z\\xfcrich") in text
        assert "\\u2026" not in text and "~  " in text  # a cut cell ends in one cell, not six


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_show_in_every_format(run, encoding, fmt):
    r = run(encoding, "show", "tokyo-logistics", "--format", fmt)
    assert r.code == 0, r
    if fmt in ("json", "jsonl"):
        assert r.stdout.isascii()
        assert _json_values(r.stdout, fmt) == _json_values(run("utf-8", "show", "tokyo-logistics", "--format", fmt).stdout, fmt)
    else:
        assert "\\u6771\\u4eac\\u30ed" in r.stdout and "tokyo-logistics" in r.stdout


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_show_rocket_emoji_round_trips_through_json(run, encoding):
    r = run(encoding, "show", "rocket-launchpad", "--json")
    assert r.code == 0 and r.stdout.isascii()
    assert "\\ud83d\\ude80" in r.stdout  # a surrogate pair, as JSON spells a character beyond U+FFFF
    assert json.loads(r.stdout)["organization"]["name"] == "Rocket 🚀 Launchpad"


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("command", ["accept", "leave"])
@pytest.mark.parametrize("encoding", ["ascii", "latin-1"])
def test_accept_and_leave_report_in_every_format(run, sandbox, encoding, command, fmt):
    orgs = ["tokyo-logistics", "moskva-telecom", "cafe-sao-paulo", "rocket-launchpad"]
    if command == "accept":
        before = {seed.org_id(slug): sandbox.store.get(seed.org_id(slug))["status"] for slug in orgs}
    r = run(encoding, command, *orgs, *(["--yes"] if command == "leave" else []), "--format", fmt)
    assert r.code == 0, r
    if fmt in ("json", "jsonl"):
        assert r.stdout.isascii()
        outcomes = _json_values(r.stdout, fmt)
        assert [o["organization"] for o in outcomes] == orgs
        memberships = [o["membership"] for o in outcomes]
        assert [m["organization"]["name"] for m in memberships] == [
            "東京ロジスティクス", "Москва Телеком", "Café São Paulo", "Rocket 🚀 Launchpad"]
        if command == "accept":  # what the report says is what the server holds now
            assert [o["result"] for o in outcomes] == [
                "already-active" if before[o["organizationId"]] == "active" else "accepted" for o in outcomes]
            assert all(sandbox.store.get(o["organizationId"]) == o["membership"] for o in outcomes if o["result"] == "accepted")
    elif fmt == "table":
        _check_table(r.stdout, "ID")
        assert "\\u6771\\u4eac" in r.stdout
    else:
        assert len(r.stdout.splitlines()) == len(orgs) + (fmt == "csv")
    if command == "leave":
        assert all(sandbox.store.get(seed.org_id(slug)) is None for slug in orgs)
    # The messages on stderr ("✓ Left 東京…") are in the stream's encoding too, escapes and all.
    assert r.stderr and (r.stderr.isascii() or r.encoding != "ascii")


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_status_human_and_json(run, encoding):
    human = run(encoding, "status")
    assert human.code == 0, human
    assert "\\u2713 accepts the token" in human.stdout
    as_json = run(encoding, "status", "--json")
    assert as_json.code == 0 and as_json.stdout.isascii()
    assert json.loads(as_json.stdout) == json.loads(run("utf-8", "status", "--json").stdout)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_config_with_a_non_ascii_value(run, encoding):
    url = "https://bücher.例え.jp"
    assert run(encoding, "config", "set", "api_url", url).code == 0
    human = run(encoding, "config", "list")
    assert human.code == 0 and human.stdout == f"api_url={_escaped(url, human.encoding)}\n"
    got = run(encoding, "config", "get", "api_url")
    assert got.code == 0 and got.stdout == _escaped(url, got.encoding) + "\n"
    for args in (["config", "list", "--json"], ["config", "list", "--all", "--json"]):
        as_json = run(encoding, *args)
        assert as_json.code == 0 and as_json.stdout.isascii()
        assert json.loads(as_json.stdout) == json.loads(run("utf-8", *args).stdout)


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_error_lines_show_escapes(run, sandbox, encoding):
    r = run(encoding, "show", "ü日")
    assert r.code == 3, r
    assert r.stdout == ""
    codec = r.encoding
    assert r.stderr.startswith(f"error: no membership or invitation matches '{_escaped('ü日', codec)}'")
    assert r.stderr.count("\n") == 1


def test_arguments_under_a_legacy_locale_are_read_as_utf8(run, sandbox):
    """The C locale without UTF-8 mode hands non-ASCII argument bytes over as lone surrogates, which
    no URL can carry: they are read back as the UTF-8 they were typed in."""
    r = run("C locale", "list", "--status", "ü日", "--json")
    assert r.code == 0, r
    assert r.stdout == "[]\n"
    assert [q["query"].get("status") for q in sandbox.requests] == ["ü日"]


@pytest.mark.parametrize("encoding, ellipsis", [("ascii", "~"), ("latin-1", "~"), ("cp1252", "…")])
def test_a_table_for_a_narrow_stream_measures_cells_as_printed(encoding, ellipsis):
    from memberships_cli.output.table import render_table

    rows = [["東京ロジスティクス", "tokyo"], ["Zürich", "zurich"], ["Rocket 🚀", "rocket"]]
    lines = list(render_table(["NAME", "SLUG"], rows, width=None, color=False, encoding=encoding))
    assert len({line.index(slug) for line, slug in zip(lines, ["SLUG", "tokyo", "zurich", "rocket"])}) == 1
    assert all(line.encode(encoding) for line in lines)  # nothing left that the stream cannot encode
    cut = list(render_table(["NAME", "SLUG"], rows, width=20, color=False, encoding=encoding))
    assert all(len(line) <= 20 for line in cut)
    assert cut[1].startswith("\\u6771") and cut[1].split("  ")[0].endswith(ellipsis)
