"""Issue 11 §3 and §4, issue 14 §8 through the real entry point against the sandbox: choices
instead of errors on a terminal (a pseudo-terminal on stdin and stdout), did-you-mean, hints that
repeat the global options, the --status warning, a declined leave, what accept/leave print for a
person and for a script, and an idempotent `leave --missing-ok`."""

from __future__ import annotations

import json
import re

import pytest

from memberships_cli.sandbox import Fault, seed

INVITED = [m["organization"]["slug"] for m in seed.memberships() if m["status"] == "invited"]
ACME = seed.org_id("acme-logistics")
GLOBEX = seed.org_id("globex-retail")


def sent(sandbox, method):
    return [r["path"] for r in sandbox.requests if r["method"] == method]


def path_of(slug: str) -> str:
    return f"/me/memberships/{seed.org_id(slug)}"


# -- a menu instead of an error, on a terminal ------------------------------------------------------


def test_accept_without_org_offers_the_invitations_and_takes_a_range(cli, sandbox):
    r = cli("accept", tty=True, input="1,3-4\n")
    assert r.code == 0, r
    # The menu lists every pending invitation, numbered, on stderr; nothing else is offered.
    menu = [line.split() for line in r.stderr.splitlines() if re.match(r"\s+\d+\s", line)]
    assert [row[0] for row in menu] == [str(n) for n in range(1, len(INVITED) + 1)]
    assert [next(c for c in row if c in INVITED) for row in menu] == INVITED
    chosen = [INVITED[0], INVITED[2], INVITED[3]]
    assert sorted(sent(sandbox, "POST")) == sorted(path_of(slug) for slug in chosen)  # sent concurrently
    assert r.stderr.count("✓ Accepted the invitation") == 3
    assert r.stderr.rstrip().endswith("Summary: 3 accepted.")
    assert "error" not in r.stderr


def test_accept_all_from_the_menu(cli, sandbox):
    r = cli("accept", tty=True, input="all\n")
    assert r.code == 0, r
    assert sorted(sent(sandbox, "POST")) == sorted(path_of(slug) for slug in INVITED)
    assert sandbox.store.count("invited") == 0


def test_an_empty_answer_accepts_nothing(cli, sandbox):
    r = cli("accept", tty=True, input="\n")
    assert r.code == 0, r
    assert sent(sandbox, "POST") == []
    assert "Nothing chosen: nothing was accepted." in r.stderr


def test_an_answer_it_cannot_read_is_asked_again(cli, sandbox):
    r = cli("accept", tty=True, input="9\nx\n2\n")
    assert r.code == 0, r
    assert f"9 is not on the list (1-{len(INVITED)}); try again" in r.stderr
    assert "'x' is not a number or a range like 3-5; try again" in r.stderr
    assert sent(sandbox, "POST") == [path_of(INVITED[1])]


def test_accept_without_invitations_says_so(cli, sandbox):
    assert cli("accept", "--all").code == 0
    sandbox.clear_requests()
    r = cli("accept", tty=True, input="1\n")
    assert r.code == 0, r
    assert r.stderr.strip() == "No pending invitations."
    assert sent(sandbox, "POST") == []


def test_leave_without_org_offers_memberships_and_still_asks(cli, sandbox):
    r = cli("leave", tty=True, input="1\ny\n")
    assert r.code == 0, r
    assert "Leave Acme Logistics (acme-logistics)?" in r.stderr
    assert sent(sandbox, "DELETE") == [f"/me/memberships/{ACME}"]
    assert sandbox.store.get(ACME) is None


def test_show_without_org_offers_all_and_shows_the_one_picked(cli, sandbox):
    r = cli("show", tty=True, input="2\n", env={"NO_COLOR": "1"})
    assert r.code == 0, r
    assert "Show which organization? (a number, or Enter for none)" in r.stderr
    assert "Globex Retail" in r.stdout and "globex-retail" in r.stdout
    assert len(re.findall(r"^\s+\d+\s", r.stderr, re.M)) == len(seed.memberships())


def test_show_picks_one_only(cli, sandbox):
    r = cli("show", tty=True, input="1,2\n1\n", env={"NO_COLOR": "1"})
    assert r.code == 0, r
    assert "pick one number; try again" in r.stderr
    assert r.stdout.lstrip().startswith("Acme Logistics")


def test_the_menu_escapes_what_the_server_sent(cli, sandbox):
    r = cli("show", tty=True, input="\n")
    assert r.code == 0, r
    assert "\\x1b[31mRed Alert" in r.stderr  # shown as text
    assert "\x1b" not in r.stderr  # stderr is a pipe here: no colour, so any ESC would be the server's


@pytest.mark.parametrize("command", [["accept"], ["leave", "--yes"], ["show"]])
def test_without_a_terminal_no_org_is_still_exit_2_and_never_a_prompt(cli, sandbox, command):
    r = cli(*command, input="1\n")
    assert r.code == 2, r
    assert r.stderr.startswith("error: ") and len(r.stderr.splitlines()) == 1
    assert "which" not in r.stderr
    assert sandbox.requests == []


# -- did you mean, and hints that repeat the global options ----------------------------------------


def test_an_unknown_org_gets_did_you_mean(cli, sandbox):
    r = cli("show", "acme-logistic")
    assert r.code == 3, r
    assert r.stderr.startswith("error: no membership or invitation matches 'acme-logistic'")
    assert "did you mean `acme-logistics`? (run `memberships list` to see your organizations)" in r.stderr


def test_a_shared_word_is_not_a_close_match(cli, sandbox):
    assert cli("leave", "acme-logistics", "--yes").code == 0
    r = cli("show", "acme-logistics")
    assert r.code == 3
    assert "tokyo-logistics" not in r.stderr and "did you mean" not in r.stderr


def test_did_you_mean_looks_at_names_in_any_case(cli, sandbox):
    r = cli("accept", "GLOBEX")
    assert r.code == 3, r
    assert "did you mean `globex-retail`?" in r.stderr
    assert sent(sandbox, "POST") == []


def test_a_unique_name_in_any_case_resolves(cli, sandbox):
    r = cli("show", "acme LOGISTICS", "--json")
    assert r.code == 0, r
    assert json.loads(r.stdout)["organization"]["id"] == ACME


def test_nothing_close_gets_no_guess(cli, sandbox):
    r = cli("show", "qqqqqqqq")
    assert r.code == 3
    assert "did you mean" not in r.stderr


def test_hints_repeat_the_global_options_given(cli, sandbox):
    r = cli("--profile", "work", "--api-url", sandbox.url, "show", "acme-logistic")
    assert r.code == 3, r
    assert f"run `memberships --profile work --api-url {sandbox.url} list`" in r.stderr
    r = cli("--profile", "work", "accept")
    assert r.code == 2
    assert "`memberships --profile work accept acme-logistics`" in r.stderr


def test_login_hints_repeat_the_global_options(cli, sandbox):
    # The harness's keyring is the headless one: the usage error still comes first (exit 2, as before).
    r = cli("--profile", "work", "login", input="x", token=None)
    assert r.code == 2, r
    assert "`printf '%s' \"$TOKEN\" | memberships --profile work login --with-token`" in r.stderr
    assert sandbox.requests == []


def test_the_sandbox_flag_is_repeated_in_hints(home):
    from harness import _run, base_env

    r = _run(["--sandbox", "show", "acme-logistic"], base_env(home), None, False, 60, str(home))
    assert r.code == 3, r
    assert "run `memberships --sandbox list`" in r.stderr


# -- list --status with a value nobody knows -------------------------------------------------------


def test_an_unknown_status_is_passed_on_with_a_warning(cli, sandbox):
    r = cli("list", "--status", "activ")
    assert r.code == 0, r
    assert r.stdout == ""
    assert r.stderr == ("warning: 'activ' is not a status memberships knows (active, invited, banned, pending); "
                        "it was passed to the API as given\n")
    assert sandbox.requests[0]["query"]["status"] == "activ"


@pytest.mark.parametrize("status", ["active", "invited", "banned", "pending"])
def test_a_known_status_gets_no_warning(cli, sandbox, status):
    r = cli("list", "--status", status)
    assert r.code == 0 and r.stderr == ""


# -- declining the leave confirmation ---------------------------------------------------------------


def test_declining_leave_is_not_an_error(cli, sandbox):
    r = cli("leave", "acme-logistics", tty=True, input="n\n")
    assert r.code == 2, r
    assert "error" not in r.stderr
    assert "Nothing was left." in r.stderr
    assert sent(sandbox, "DELETE") == []
    assert sandbox.store.get(ACME) is not None


# -- what accept and leave print --------------------------------------------------------------------


def test_a_bulk_accept_on_a_terminal_names_each_organization_once(cli, sandbox):
    r = cli("accept", "globex-retail", "wayne-freight", "acme-logistics", tty=True)
    assert r.code == 0, r
    assert r.stdout.strip() == ""  # no table repeating the lines
    lines = r.stderr.splitlines()
    assert lines == [
        "✓ Accepted the invitation to Globex Retail (globex-retail)",
        "✓ Accepted the invitation to Wayne Freight (wayne-freight)",
        "✓ Already a member of Acme Logistics (acme-logistics): nothing to accept",
        "Summary: 2 accepted, 1 already-active.",
    ]


def test_a_long_bulk_accept_on_a_terminal_is_one_table_and_one_summary(cli, sandbox):
    sandbox.store.add_generated(12, "invited")
    r = cli("accept", "--all", tty=True, env={"COLUMNS": "100", "NO_COLOR": "1"})
    assert r.code == 0, r
    total = 12 + len(INVITED)
    rows = r.stdout.strip().splitlines()
    assert rows[0].split() == ["ORGANIZATION", "SLUG", "ID", "RESULT"]  # no DETAIL: nothing failed
    assert len(rows) == total + 1
    for slug in INVITED:
        assert (r.stdout + r.stderr).count(slug) == 1
    assert r.stderr == f"Summary: {total} accepted.\n"


def test_failures_on_a_terminal_are_in_the_one_summary(cli, sandbox):
    r = cli("accept", "globex-retail", "no-such-org", tty=True)
    assert r.code == 3, r
    lines = r.stderr.splitlines()
    assert len(lines) == 3
    assert lines[1].startswith("✗ no-such-org: no membership or invitation matches")
    assert lines[2].startswith("Summary: 1 accepted, 1 not-found. Not done: no-such-org.")
    assert "of 2 done" not in r.stderr


def test_a_piped_single_organization_prints_its_record(cli, sandbox):
    r = cli("accept", "globex-retail")
    assert r.code == 0, r
    assert r.stdout == f"globex-retail\t{GLOBEX}\taccepted\t\n"
    assert r.stderr == "✓ Accepted the invitation to Globex Retail (globex-retail)\n"
    r = cli("leave", "wayne-freight", "--yes", "--format", "table")
    assert r.code == 0, r
    assert r.stdout.splitlines() == [
        "ORGANIZATION   SLUG           ID                                    RESULT",
        f"Wayne Freight  wayne-freight  {seed.org_id('wayne-freight')}  left",
    ]


def test_result_tables_keep_identifiers_whole_at_100_columns(cli, sandbox):
    ids = sandbox.store.add_generated(3, "invited")
    r = cli("accept", *ids, "no-such-organization-at-all", "--format", "table", env={"COLUMNS": "100"})
    assert r.code == 3, r
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ORGANIZATION", "SLUG", "ID", "RESULT", "DETAIL"]
    assert max(len(line) for line in lines) <= 100
    for org_id in ids:
        assert org_id in r.stdout
    assert "  no-such-organization-at-all  " in r.stdout
    assert "not-found" in r.stdout


# -- leave: honest re-run advice, and --missing-ok --------------------------------------------------


def test_leave_does_not_promise_a_safe_rerun_when_it_is_not(cli, sandbox):
    r = cli("leave", "acme-logistics", "no-such-org", "--yes")
    assert r.code == 3, r
    assert "Re-running" not in r.stderr and "To retry" not in r.stderr
    assert "run `memberships list` to see your organizations" in r.stderr  # no-such-org's own hint
    # and indeed a re-run fails on the organization already left
    again = cli("leave", "acme-logistics", "no-such-org", "--yes")
    assert again.code == 3


def test_many_results_still_say_which_names_matched_nothing(cli, sandbox):
    ids = sandbox.store.add_generated(11, "active")
    r = cli("leave", *ids, "no-such-org", "--yes")
    assert r.code == 3, r
    assert "Check no-such-org with `memberships list`: a re-run alone will not find them." in r.stderr
    assert "Re-running" not in r.stderr


def test_leave_names_the_command_that_retries_only_what_is_left(cli, sandbox):
    sandbox.add_fault(Fault(status=500, method="DELETE", path=f"/me/memberships/{GLOBEX}"))
    r = cli("leave", "acme-logistics", "globex-retail", "--yes", env={"MEMBERSHIPS_RETRIES": "0"})
    assert r.code == 1, r
    assert "To retry what is left: `memberships leave globex-retail --yes`." in r.stderr
    assert "Re-running the same command is safe" not in r.stderr
    retry = cli("leave", "globex-retail", "--yes")
    assert retry.code == 0, retry


def test_missing_ok_makes_leave_idempotent(cli, sandbox):
    r = cli("leave", "acme-logistics", "no-such-org", "--yes", "--missing-ok", "--json")
    assert r.code == 0, r
    results = {o["organization"]: o for o in json.loads(r.stdout)}
    assert results["acme-logistics"]["result"] == "left"
    assert results["no-such-org"]["result"] == "not-a-member"
    assert results["no-such-org"]["error"] is None
    assert sent(sandbox, "DELETE") == [f"/me/memberships/{ACME}"]

    assert "✓ Not a member of no-such-org: nothing to leave (nothing in your list matches it: left already, or a typo?)" in r.stderr

    sandbox.clear_requests()
    again = cli("leave", "acme-logistics", "no-such-org", "--yes", "--missing-ok")
    assert again.code == 0, again
    assert again.stdout.splitlines() == ["acme-logistics\t\tnot-a-member\t", "no-such-org\t\tnot-a-member\t"]
    assert sent(sandbox, "DELETE") == []  # neither slug resolves any more: nothing is sent


def test_missing_ok_counts_a_404_from_delete_as_done(cli, sandbox):
    assert cli("leave", ACME, "--yes").code == 0
    sandbox.clear_requests()
    r = cli("leave", ACME, "--yes", "--missing-ok")
    assert r.code == 0, r
    assert r.stdout == f"{ACME}\t{ACME}\tnot-a-member\t\n"
    assert r.stderr == f"✓ Not a member of {ACME}: nothing to leave\n"
    assert [(q["method"], q["status"]) for q in sandbox.requests] == [("DELETE", 404)]
    # without --missing-ok the same run is an error, as before
    assert cli("leave", ACME, "--yes").code == 3


def test_missing_ok_with_a_retryable_failure_says_rerunning_is_safe(cli, sandbox):
    sandbox.add_fault(Fault(status=500, method="DELETE", path=f"/me/memberships/{GLOBEX}"))
    r = cli("leave", "acme-logistics", "globex-retail", "--yes", "--missing-ok", env={"MEMBERSHIPS_RETRIES": "0"})
    assert r.code == 1, r
    assert "Re-running the same command is safe: it only does what is left to leave." in r.stderr
    again = cli("leave", "acme-logistics", "globex-retail", "--yes", "--missing-ok")
    assert again.code == 0, again
    assert again.stdout.splitlines() == ["acme-logistics\t\tnot-a-member\t", f"globex-retail\t{GLOBEX}\tleft\t"]


def test_missing_ok_dry_run(cli, sandbox):
    r = cli("leave", "acme-logistics", "gone-already", "--dry-run", "--missing-ok", "--json")
    assert r.code == 0, r
    assert [o["result"] for o in json.loads(r.stdout)] == ["would-leave", "not-a-member"]
    assert sent(sandbox, "DELETE") == []


def test_missing_ok_does_not_hide_an_ambiguous_name(cli, sandbox):
    twin = json.loads(json.dumps(seed.memberships()[0]))
    twin["organization"].update(id="11111111-1111-4111-8111-111111111111", slug="acme-two", name="ACME LOGISTICS")
    sandbox.store.add(twin)
    r = cli("leave", "acme logistics", "--yes", "--missing-ok")
    assert r.code == 2, r
    assert "matches 2 organizations" in r.stderr
    assert sent(sandbox, "DELETE") == []
