"""Long tables on a terminal go through a pager (issue 11 §4): MEMBERSHIPS_PAGER, then PAGER, then
`less -FRX`; empty or `cat` is off; never when piped; a pager that is missing or quits early is no
error. Through the real entry point on a pseudo-terminal, with pagers that record what they got."""

from __future__ import annotations

import shlex

import pytest

from memberships_cli.output.pager import pager_command
from memberships_cli.sandbox import seed

SHORT_SCREEN = {"LINES": "10", "NO_COLOR": "1"}


def recording_pager(path) -> str:
    script = 'cat > "$0"'
    return f"sh -c {shlex.quote(script)} {shlex.quote(str(path))}"


@pytest.mark.parametrize(
    "environ,argv",
    [
        ({}, ["less", "-FRX"]),
        ({"PAGER": "most -s"}, ["most", "-s"]),
        ({"MEMBERSHIPS_PAGER": "lv", "PAGER": "most"}, ["lv"]),
        ({"MEMBERSHIPS_PAGER": "", "PAGER": "most"}, None),
        ({"PAGER": ""}, None),
        ({"PAGER": "cat"}, None),
        ({"MEMBERSHIPS_PAGER": "cat", "PAGER": "most"}, None),
        ({"PAGER": "less 'unbalanced"}, None),
    ],
)
def test_which_pager(environ, argv):
    assert pager_command(environ) == argv


def test_a_long_table_goes_through_memberships_pager(cli, tmp_path):
    paged = tmp_path / "paged.txt"
    r = cli("list", tty=True, env={**SHORT_SCREEN, "MEMBERSHIPS_PAGER": recording_pager(paged)})
    assert r.code == 0, r
    lines = paged.read_text().splitlines()
    assert lines[0].split()[:2] == ["ORGANIZATION", "SLUG"]
    assert len(lines) == len(seed.memberships()) + 1
    assert "acme-logistics" not in r.stdout  # the pager had it all; nothing went around it


def test_pager_is_used_when_memberships_pager_is_unset(cli, tmp_path):
    paged = tmp_path / "paged.txt"
    r = cli("list", tty=True, env={**SHORT_SCREEN, "MEMBERSHIPS_PAGER": None, "PAGER": recording_pager(paged)})
    assert r.code == 0, r
    assert "acme-logistics" in paged.read_text()


@pytest.mark.parametrize("value", ["", "cat"])
def test_empty_or_cat_turns_the_pager_off(cli, tmp_path, value):
    paged = tmp_path / "paged.txt"
    r = cli("list", tty=True, env={**SHORT_SCREEN, "MEMBERSHIPS_PAGER": value, "PAGER": recording_pager(paged)})
    assert r.code == 0, r
    assert "acme-logistics" in r.stdout
    assert not paged.exists()


def test_never_when_piped(cli, tmp_path):
    paged = tmp_path / "paged.txt"
    r = cli("list", "--format", "table", env={**SHORT_SCREEN, "MEMBERSHIPS_PAGER": recording_pager(paged)})
    assert r.code == 0, r
    assert "acme-logistics" in r.stdout
    assert not paged.exists()


def test_a_table_that_fits_the_screen_is_not_paged(cli, tmp_path):
    paged = tmp_path / "paged.txt"
    r = cli("list", tty=True, env={"LINES": "60", "MEMBERSHIPS_PAGER": recording_pager(paged)})
    assert r.code == 0, r
    assert "acme-logistics" in r.stdout
    assert not paged.exists()


def test_a_missing_pager_means_direct_output(cli):
    r = cli("list", tty=True, env={**SHORT_SCREEN, "MEMBERSHIPS_PAGER": "no-such-pager-anywhere --flag"})
    assert r.code == 0, r
    assert "acme-logistics" in r.stdout and "quiet-harbor-foundation" in r.stdout
    assert r.stderr == ""


def test_a_pager_that_quits_early_is_not_an_error(cli, sandbox):
    sandbox.store.add_generated(3000, "active")  # far more than a pipe buffer holds
    r = cli("list", tty=True, env={**SHORT_SCREEN, "MEMBERSHIPS_PAGER": "true"})
    assert r.code == 0, r
    assert r.stderr == ""
    assert "generated-" not in r.stdout  # what the pager did not read is not printed around it


def test_show_and_long_accept_results_are_paged_too(cli, sandbox, tmp_path):
    paged = tmp_path / "paged.txt"
    env = {**SHORT_SCREEN, "MEMBERSHIPS_PAGER": recording_pager(paged)}
    assert cli("show", "acme-logistics", tty=True, env=env).code == 0
    assert paged.read_text().startswith("Acme Logistics\n")
    sandbox.store.add_generated(12, "invited")
    r = cli("accept", "--all", tty=True, env=env)
    assert r.code == 0, r
    assert paged.read_text().split()[:4] == ["ORGANIZATION", "SLUG", "ID", "RESULT"]
    assert r.stderr.startswith("Summary: ")
