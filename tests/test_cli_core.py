"""The four membership commands through the real entry point, against the sandbox on loopback:
exit code, stdout, stderr and the server's recorded requests and state, for every exit code."""

from __future__ import annotations

import json
import re
import os
import signal
import subprocess
import sys
import time

import pytest

from memberships_cli.sandbox import SANDBOX_TOKEN, Fault
from memberships_cli.sandbox import seed

from harness import base_env

ACME = seed.org_id("acme-logistics")
GLOBEX = seed.org_id("globex-retail")  # invited in the seed
UMBRELLA = seed.org_id("umbrella-health")  # banned in the seed
SEEDED = len(seed.memberships())


def api_requests(sandbox, method=None):
    return [r for r in sandbox.requests if method is None or r["method"] == method]


# -- list ------------------------------------------------------------------------------------------


def test_list_piped_is_plain_rows_of_every_membership(cli, sandbox):
    r = cli("list")
    assert r.code == 0, r
    lines = r.stdout.splitlines()
    assert len(lines) == SEEDED
    first = lines[0].split("\t")
    assert first[:3] == ["Acme Logistics", "acme-logistics", "active"]
    assert first[-1] == "2022-04-05T09:00:00.000Z"  # ISO-8601 as received when piped
    assert r.stderr == ""
    (request,) = api_requests(sandbox)
    assert request["path"] == "/me/memberships"
    assert request["query"]["limit"] == "100"
    assert request["authorization"] == f"Bearer {SANDBOX_TOKEN}"
    assert request["user_agent"].startswith("memberships-cli/")
    assert request["accept"] == "application/json"


def test_piped_output_has_no_escape_byte_and_no_interpreted_markup(cli):
    r = cli("list")
    assert "\x1b" not in r.stdout
    assert "\\x1b[31mRed Alert\\x1b[0m Industries" in r.stdout  # escaped visibly
    assert "[bold red]Markup[/] Labs" in r.stdout  # shown literally, not styled


def test_list_follows_every_page(cli, sandbox):
    sandbox.store.add_generated(350, "invited")
    r = cli("list", "--json")
    assert r.code == 0, r
    items = json.loads(r.stdout)
    assert len(items) == SEEDED + 350
    assert len({m["organization"]["id"] for m in items}) == SEEDED + 350
    gets = api_requests(sandbox, "GET")
    assert len(gets) == 4  # 384 memberships in pages of 100
    assert "pageToken" not in gets[0]["query"]
    assert all("pageToken" in g["query"] for g in gets[1:])
    assert all(g["query"]["limit"] == "100" for g in gets)


def test_list_json_is_lossless(cli, sandbox):
    r = cli("list", "--json")
    assert r.code == 0
    assert json.loads(r.stdout) == sandbox.store.all()
    initech = next(m for m in json.loads(r.stdout) if m["organization"]["slug"] == "initech-payments")
    assert initech[seed.UNKNOWN_FIELD] == "unknown fields must survive"
    assert any(m.get("roleIds", 1) is None for m in json.loads(r.stdout))  # nulls survive


def test_list_limit_caps_the_total_and_the_page_size(cli, sandbox):
    r = cli("list", "--limit", "5", "--json")
    assert r.code == 0
    assert len(json.loads(r.stdout)) == 5
    (request,) = api_requests(sandbox)
    assert request["query"]["limit"] == "5"


def test_list_status_filter_and_reverse_are_sent(cli, sandbox):
    r = cli("list", "--status", "invited", "--reverse", "--json")
    assert r.code == 0
    items = json.loads(r.stdout)
    assert items and all(m["status"] == "invited" for m in items)
    assert items[0]["organization"]["slug"] == "blue-sky-media"  # last invited in seed order
    (request,) = api_requests(sandbox)
    assert request["query"]["status"] == "invited"
    assert request["query"]["reverse"] == "true"


@pytest.mark.parametrize("fmt", ["json", "plain", "table"])
def test_empty_list_is_success(cli, fmt):
    r = cli("list", "--status", "no-such-status", "--format", fmt)
    assert r.code == 0, r
    assert r.stdout == ("[]\n" if fmt == "json" else "")


def test_unknown_status_values_are_shown_not_rejected(cli):
    r = cli("list", "--status", seed.UNKNOWN_STATUS)
    assert r.code == 0
    assert r.stdout.split("\t")[:3] == ["Stark Analytics", "stark-analytics", "suspended"]


def test_list_on_a_terminal_is_a_table(cli):
    r = cli("list", tty=True, env={"COLUMNS": "120"})
    assert r.code == 0, r
    lines = r.stdout.splitlines()
    header = lines[0]
    for column in ("ORGANIZATION", "SLUG", "STATUS", "ROLES", "SSO", "MFA", "CREATED"):
        assert column in header
    assert len(lines) == SEEDED + 1
    from rich.cells import cell_len

    assert max(cell_len(re.sub(r"\x1b\[[0-9;]*m", "", line)) for line in lines) <= 120
    assert "\x1b[32m" in r.stdout  # active in green on a terminal
    assert "\x1b[31mRed Alert" not in r.stdout  # the hostile escape never reaches the terminal raw
    assert "\\x1b[31mRed Alert" in r.stdout
    assert "[bold red]Markup[/] Labs" in r.stdout


def test_no_color_on_a_terminal(cli):
    r = cli("list", tty=True, env={"NO_COLOR": "1"})
    assert r.code == 0
    assert "\x1b" not in r.stdout


# -- show ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["acme-logistics", "Acme Logistics", ACME])
def test_show_by_slug_name_or_id(cli, sandbox, ref):
    r = cli("show", ref, "--json")
    assert r.code == 0, r
    assert json.loads(r.stdout) == sandbox.store.get(ACME)
    gets = [q["path"] for q in api_requests(sandbox)]
    if ref == ACME:
        assert gets == [f"/me/memberships/{ACME}"]  # an id needs no lookup
    else:
        assert gets == ["/me/memberships", f"/me/memberships/{ACME}"]


def test_show_detail_on_a_terminal(cli):
    r = cli("show", "acme-logistics", tty=True)
    assert r.code == 0
    assert "Acme Logistics" in r.stdout
    assert "MFA required      yes" in r.stdout
    assert "ago)" in r.stdout


def test_show_unknown_org_is_exit_3(cli):
    r = cli("show", "no-such-org")
    assert r.code == 3
    assert r.stdout == ""
    assert r.stderr.startswith("error: no membership or invitation matches 'no-such-org'")
    assert len(r.stderr.strip().splitlines()) == 1


def test_show_unknown_uuid_is_exit_3_from_the_api(cli, sandbox):
    missing = "00000000-0000-4000-8000-000000000000"
    r = cli("show", missing)
    assert r.code == 3
    assert missing in r.stderr
    assert [q["status"] for q in api_requests(sandbox)] == [404]


def test_ambiguous_name_lists_the_candidates(cli, sandbox):
    twin = seed.memberships()[0]
    twin["organization"] = dict(twin["organization"], id="11111111-1111-4111-8111-111111111111", slug="acme-two")
    sandbox.store.add(twin)
    r = cli("show", "Acme Logistics")
    assert r.code == 2
    assert "matches 2 organizations" in r.stderr
    assert "acme-logistics" in r.stderr and "acme-two" in r.stderr


# -- accept ----------------------------------------------------------------------------------------


def test_accept_an_invitation(cli, sandbox):
    r = cli("accept", "globex-retail", "--json")
    assert r.code == 0, r
    (outcome,) = json.loads(r.stdout)
    assert outcome["result"] == "accepted"
    assert outcome["membership"]["status"] == "active"
    assert sandbox.store.get(GLOBEX)["status"] == "active"
    assert [q["path"] for q in api_requests(sandbox, "POST")] == [f"/me/memberships/{GLOBEX}"]
    assert "Accepted the invitation to Globex Retail" in r.stderr


def test_accept_twice_is_success_and_sends_no_second_post(cli, sandbox):
    assert cli("accept", "globex-retail").code == 0
    sandbox.clear_requests()
    r = cli("accept", "globex-retail")
    assert r.code == 0
    assert "Already a member of Globex Retail" in r.stderr
    assert api_requests(sandbox, "POST") == []


def test_accept_an_active_membership_by_id_reads_the_409_as_success(cli, sandbox):
    r = cli("accept", ACME)
    assert r.code == 0, r
    assert "Already a member of Acme Logistics" in r.stderr
    assert [(q["method"], q["status"]) for q in api_requests(sandbox)] == [("POST", 409), ("GET", 200)]


def test_accept_a_banned_membership_fails_with_the_reason(cli, sandbox):
    r = cli("accept", UMBRELLA)
    assert r.code == 1
    assert "status is 'banned'" in r.stderr
    assert sandbox.store.get(UMBRELLA)["status"] == "banned"


def test_accept_unknown_org_is_exit_3(cli, sandbox):
    r = cli("accept", "no-such-org")
    assert r.code == 3
    assert api_requests(sandbox, "POST") == []


def test_accept_persists_across_invocations_of_the_sandbox_flag(home):
    env = base_env(home)
    run = lambda *a: subprocess.run([sys.executable, "-m", "memberships_cli", "--sandbox", *a],
                                    capture_output=True, text=True, env=env, timeout=60)
    assert run("accept", "wayne-freight").returncode == 0
    listed = run("list", "--status", "invited", "--json")
    assert listed.returncode == 0
    assert "wayne-freight" not in [m["organization"]["slug"] for m in json.loads(listed.stdout)]
    reset = subprocess.run([sys.executable, "-m", "memberships_cli", "sandbox", "reset"],
                           capture_output=True, text=True, env=env, timeout=60)
    assert reset.returncode == 0
    listed = run("list", "--status", "invited", "--json")
    assert "wayne-freight" in [m["organization"]["slug"] for m in json.loads(listed.stdout)]


# -- leave -----------------------------------------------------------------------------------------


def test_leave_with_yes(cli, sandbox):
    r = cli("leave", "acme-logistics", "--yes")
    assert r.code == 0, r
    assert sandbox.store.get(ACME) is None
    assert [q["path"] for q in api_requests(sandbox, "DELETE")] == [f"/me/memberships/{ACME}"]
    assert "Left Acme Logistics" in r.stderr


def test_leave_without_a_terminal_refuses_without_yes(cli, sandbox):
    r = cli("leave", "acme-logistics")
    assert r.code == 2
    assert "--yes" in r.stderr
    assert sandbox.requests == []  # refused before any request
    assert sandbox.store.get(ACME) is not None


@pytest.mark.parametrize("answer,code", [("y\n", 0), ("n\n", 2)])
def test_leave_asks_on_a_terminal(cli, sandbox, answer, code):
    r = cli("leave", "acme-logistics", tty=True, input=answer)
    assert r.code == code, r
    assert "Leave Acme Logistics (acme-logistics)?" in r.stderr
    assert (sandbox.store.get(ACME) is None) == (code == 0)


def test_leave_unknown_uuid_is_exit_3(cli):
    r = cli("leave", "00000000-0000-4000-8000-000000000000", "--yes")
    assert r.code == 3


# -- auth, network, server and usage errors --------------------------------------------------------


def test_no_token_is_exit_4_with_a_hint(cli, sandbox):
    r = cli("list", token=None)
    assert r.code == 4
    assert "memberships login" in r.stderr and "MEMBERSHIPS_TOKEN" in r.stderr
    assert sandbox.requests == []


def test_rejected_token_is_exit_4(cli, sandbox):
    r = cli("list", token="wrong-token")
    assert r.code == 4
    assert "rejected the token" in r.stderr
    assert "wrong-token" not in r.stderr + r.stdout
    assert sandbox.requests[0]["status"] == 401


def test_unreachable_api_is_exit_5(cli, refused_url):
    r = cli("list", api_url=refused_url, env={"MEMBERSHIPS_RETRIES": "1"})
    assert r.code == 5, r
    assert "could not connect" in r.stderr


def test_html_answer_is_exit_1_malformed(cli, sandbox):
    sandbox.add_fault(Fault(status=200, body="<html>oops</html>", content_type="text/html"))
    r = cli("list")
    assert r.code == 1
    assert "malformed response from GET /me/memberships (HTTP 200)" in r.stderr


def test_server_error_is_exit_1_with_its_message(cli, sandbox):
    sandbox.add_fault(Fault(status=400, body={"code": "BadRequest", "message": "nope"}))
    r = cli("list")
    assert r.code == 1
    assert "400 Bad Request: nope" in r.stderr


@pytest.mark.parametrize(
    "args",
    [["list", "--bogus"], ["list", "--limit", "0"], ["list", "--format", "yaml"], ["list", "--json", "--format", "csv"],
     ["show"], ["accept"], ["nonsense"], ["--timeout", "abc", "list"]],
)
def test_usage_errors_are_exit_2_one_line(cli, sandbox, args):
    r = cli(*args)
    assert r.code == 2, r
    assert r.stdout == ""
    assert len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith("error: ")
    assert sandbox.requests == []


def test_plain_http_to_a_remote_host_is_refused_before_any_request(cli):
    r = cli("list", api_url="http://api.bird.com")
    assert r.code == 2
    assert "refusing plain http://" in r.stderr


def test_ctrl_c_is_exit_130_without_traceback(home, sandbox):
    sandbox.add_fault(Fault(status=200, delay=5))
    env = base_env(home) | {"MEMBERSHIPS_API_URL": sandbox.url, "MEMBERSHIPS_TOKEN": SANDBOX_TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "memberships_cli", "list"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not sandbox.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130
    assert "Traceback" not in err
    assert "Interrupted" in err


def test_version_and_help_document_exit_codes(cli):
    from memberships_cli import __version__

    assert cli("--version").stdout == f"memberships {__version__}\n"
    r = cli("--help")
    assert r.code == 0
    for code in ("0", "1", "2", "3", "4", "5", "130"):
        assert f"\n    {code} " in r.stdout


@pytest.mark.parametrize("args", [["list", "--json"], ["list", "--format", "jsonl"], ["list"]])
def test_a_reader_that_goes_away_is_not_an_error(home, sandbox, args):
    sandbox.store.add_generated(300, "invited")  # more than a pipe buffer holds
    env = base_env(home) | {"MEMBERSHIPS_API_URL": sandbox.url, "MEMBERSHIPS_TOKEN": SANDBOX_TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "memberships_cli", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()
    assert proc.wait(timeout=60) == 0
    assert proc.stderr.read() == b""


@pytest.mark.parametrize("args", [[], ["sandbox"]])
def test_a_group_alone_prints_its_help(cli, args):
    r = cli(*args)
    assert r.code == 0
    assert r.stdout.startswith("Usage: memberships")
    assert r.stderr == ""


@pytest.mark.parametrize("args", [["completion", "bash"], ["sandbox", "reset"]])
def test_offline_commands_ignore_a_broken_api_url(cli, args):
    r = cli(*args, api_url="ftp://nowhere")
    assert r.code == 0, r
    assert cli("list", api_url="ftp://nowhere").code == 2  # the control: the URL is really bad


@pytest.mark.parametrize("url", ["https://user:pw@api.example.com", "https://api.example.com:99999"])
def test_api_urls_with_credentials_or_bad_ports_are_refused(cli, url):
    r = cli("list", api_url=url)
    assert r.code == 2
    assert "pw" not in r.stderr
    assert r.stderr.startswith("error: invalid API URL")


@pytest.mark.parametrize(
    "args,command",
    [(["list"], "list"), (["--api-url", "http://x", "--timeout", "5", "show", "a"], "show"),
     (["--profile", "list", "status"], "status"), (["-v", "--sandbox", "accept"], "accept"),
     (["--api-url=http://x", "leave"], "leave"), ([], None), (["--help"], None), (["--", "list"], None)],
)
def test_the_invoked_command_is_found_past_global_options(args, command):
    from memberships_cli.cli import _command_named

    assert _command_named(args) == command


def test_global_options_with_values_before_the_command(cli, sandbox):
    r = cli("--timeout", "5", "--profile", "list", "list", "--limit", "1", "--json")
    assert r.code == 0, r
    assert len(json.loads(r.stdout)) == 1
