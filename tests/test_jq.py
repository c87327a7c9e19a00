"""`--jq EXPR` on every command that prints JSON, through the real entry point against the sandbox:
the expression sees what --json prints, strings come out raw and other values as JSON lines (like
`gh --jq`), a bad expression is exit 2 before any request, a failing one exit 1."""

from __future__ import annotations

import json

import pytest

from memberships_cli.sandbox import seed
from memberships_cli.sandbox.faults import Fault


def invited_slugs(store) -> list[str]:
    return [m["organization"]["slug"] for m in store.all() if m["status"] == "invited"]


def test_list_strings_come_out_raw_one_per_line(cli, sandbox):
    expected = invited_slugs(sandbox.store)
    r = cli("list", "--jq", '.[] | select(.status == "invited") | .organization.slug')
    assert r.code == 0, r
    assert r.stdout.splitlines() == expected and expected
    assert r.stderr == ""


def test_list_expression_sees_the_whole_array_across_pages(cli, sandbox):
    sandbox.store.add_generated(150)  # 184 memberships: two pages of 100
    total = sandbox.store.count()
    r = cli("list", "--jq", "[length, (map(.organization.id) | unique | length)]")
    assert r.code == 0, r
    assert json.loads(r.stdout) == [total, total]
    pages = [q for q in sandbox.requests if q["path"] == "/me/memberships"]
    assert len(pages) == 2


def test_list_non_strings_are_compact_json_lines_and_fields_apply_first(cli, sandbox):
    r = cli("list", "--fields", "slug,status", "--jq", ".[:2][]")
    assert r.code == 0, r
    first_two = sandbox.store.all()[:2]
    assert [json.loads(line) for line in r.stdout.splitlines()] == [
        {"organization": {"slug": m["organization"]["slug"]}, "status": m["status"]} for m in first_two
    ]
    assert all(": " in line and "\n" not in line.strip() for line in r.stdout.splitlines())


def test_show(cli, sandbox):
    r = cli("show", "acme-logistics", "--jq", "{slug: .organization.slug, status}")
    assert r.code == 0, r
    assert r.stdout == '{"slug": "acme-logistics", "status": "active"}\n'


def test_accept_filters_the_results_and_the_invitation_is_accepted(cli, sandbox):
    org_id = seed.org_id("globex-retail")
    assert sandbox.store.get(org_id)["status"] == "invited"
    r = cli("accept", "globex-retail", "--jq", '.[] | "\\(.organization) \\(.result)"')
    assert r.code == 0, r
    assert r.stdout == "globex-retail accepted\n"
    assert sandbox.store.get(org_id)["status"] == "active"
    assert [q["method"] for q in sandbox.requests if q["method"] == "POST"] == ["POST"]


def test_accept_keeps_its_exit_code_and_still_prints_the_filtered_results(cli, sandbox):
    r = cli("accept", "globex-retail", "no-such-org", "--jq", ".[].result")
    assert r.code == 3, r
    assert r.stdout.splitlines() == ["accepted", "not-found"]


def test_leave(cli, sandbox):
    org_id = seed.org_id("acme-logistics")
    r = cli("leave", "acme-logistics", "--yes", "--jq", ".[0] | [.organizationId, .result]")
    assert r.code == 0, r
    assert json.loads(r.stdout) == [org_id, "left"]
    assert sandbox.store.get(org_id) is None


def test_status(cli):
    r = cli("status", "--jq", ".valid, .tokenSource")
    assert r.code == 0, r
    assert r.stdout == "true\nMEMBERSHIPS_TOKEN\n"


def test_status_rejected_token_filters_the_report_and_keeps_exit_4(cli):
    r = cli("status", "--jq", ".valid", token="not-the-sandbox-token")
    assert r.code == 4, r
    assert r.stdout == "false\n"
    assert r.stderr.startswith("error: ") and len(r.stderr.splitlines()) == 1


@pytest.mark.parametrize("command", [["list"], ["show", "acme-logistics"], ["accept", "globex-retail"],
                                     ["leave", "acme-logistics", "--yes"], ["status"]])
def test_bad_expression_is_exit_2_before_any_request(cli, sandbox, command):
    r = cli(*command, "--jq", ".[")
    assert r.code == 2, r
    assert r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert line.startswith("error: invalid jq expression: syntax error")
    assert sandbox.requests == []
    assert sandbox.store.get(seed.org_id("globex-retail"))["status"] == "invited"
    assert sandbox.store.get(seed.org_id("acme-logistics")) is not None


@pytest.mark.parametrize("expression, message", [
    ('.[0] | error("boom")', "error: jq: boom"),
    (".[0].organization.id + 1", "cannot be added"),
])
def test_runtime_error_is_exit_1_in_one_line(cli, expression, message):
    r = cli("list", "--jq", expression)
    assert r.code == 1, r
    assert r.stdout == ""
    (line,) = r.stderr.splitlines()
    assert message in line and line.startswith("error: jq: ")


def test_jq_conflicts_with_another_format(cli, sandbox):
    r = cli("list", "--format", "csv", "--jq", ".")
    assert r.code == 2, r
    assert r.stderr == "error: --jq conflicts with --format csv; --jq filters JSON: drop --format\n"
    assert sandbox.requests == []
    assert cli("list", "--format", "json", "--jq", "length").stdout == f"{sandbox.store.count()}\n"


def test_a_failed_command_prints_nothing_to_filter(cli, sandbox):
    sandbox.add_fault(Fault(status=500, path="/me/memberships"))
    r = cli("list", "--jq", "length")
    assert r.code == 1, r
    assert r.stdout == ""
    assert len(r.stderr.splitlines()) == 1


def test_hostile_names_raw_when_piped_escaped_at_a_terminal(cli):
    expression = '.[] | select(.organization.slug == "red-alert-industries") | .organization.name'
    piped = cli("list", "--jq", expression)
    assert piped.stdout == seed.ANSI_NAME + "\n"  # raw, like `jq -r`: the script asked for the bytes
    at_terminal = cli("list", "--jq", expression, tty=True)
    assert at_terminal.code == 0, at_terminal
    assert "\x1b" not in at_terminal.stdout
    assert at_terminal.stdout.strip() == "\\x1b[31mRed Alert\\x1b[0m Industries"


def test_lone_surrogates_reach_jq_as_replacement_characters(cli, sandbox):
    membership = {"organization": {"id": seed.org_id("acme-logistics"), "name": "bad \ud800 name"},
                  "status": "active", "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z"}
    # ASCII JSON with a \ud800 escape: how a server can send a lone surrogate at all.
    sandbox.add_fault(Fault(status=200, body=json.dumps({"results": [membership]}), method="GET", path="/me/memberships"))
    r = cli("list", "--jq", ".[0].organization.name | [., length]")
    assert r.code == 0, r
    assert json.loads(r.stdout) == ["bad \ufffd name", 10]
