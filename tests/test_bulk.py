"""Invitations in CI: accept many at once, --all with an allow-list, --wait, --dry-run, safe re-runs.
Through the real entry point against the sandbox; asserted on the sandbox's requests and state."""

from __future__ import annotations

import json
import threading
import time

import pytest

from memberships_cli.sandbox import Fault
from memberships_cli.sandbox import seed

SEED_INVITED = [m["organization"]["slug"] for m in seed.memberships() if m["status"] == "invited"]


def posts(sandbox):
    return [r for r in sandbox.requests if r["method"] == "POST"]


def test_accept_all_over_200_invitations_with_failures_then_a_rerun(cli, sandbox):
    ids = sandbox.store.add_generated(200, "invited")
    # One invitation vanishes between the listing and the POST (404), one keeps failing (500).
    sandbox.add_fault(Fault(status=404, method="POST", path=f"/me/memberships/{ids[10]}"))
    sandbox.add_fault(Fault(status=500, method="POST", path=f"/me/memberships/{ids[20]}", times=50))
    r = cli("accept", "--all", "--json", env={"MEMBERSHIPS_RETRIES": "1"})
    results = json.loads(r.stdout)
    assert len(results) == 200 + len(SEED_INVITED)
    by_id = {o["organizationId"]: o for o in results}
    assert by_id[ids[10]]["result"] == "not-found"
    assert by_id[ids[20]]["result"] == "failed"
    assert by_id[ids[20]]["error"]["exitCode"] == 1
    assert sum(o["result"] == "accepted" for o in results) == len(results) - 2
    assert r.code == 1  # the most severe: an API failure outranks "not found"
    assert "done; not done:" in r.stderr and "Re-running the same command is safe" in r.stderr
    assert sandbox.store.count("invited") == 2  # the two that failed are still invitations
    assert all(o["membership"]["status"] == "active" for o in results if o["result"] == "accepted")

    sandbox.clear_requests()
    sandbox.clear_faults()
    rerun = cli("accept", "--all", "--json")
    assert rerun.code == 0, rerun
    assert sorted(o["organizationId"] for o in json.loads(rerun.stdout)) == sorted([ids[10], ids[20]])
    assert len(posts(sandbox)) == 2  # only what was left
    assert sandbox.store.count("invited") == 0


def test_accept_named_orgs_mixes_accepted_already_active_and_not_found(cli, sandbox):
    r = cli("accept", "globex-retail", "acme-logistics", "no-such-org", "--json")
    assert r.code == 3
    results = {o["organization"]: o["result"] for o in json.loads(r.stdout)}
    assert results == {"globex-retail": "accepted", "acme-logistics": "already-active", "no-such-org": "not-found"}
    assert [p["path"] for p in posts(sandbox)] == [f"/me/memberships/{seed.org_id('globex-retail')}"]


def test_match_is_an_allow_list(cli, sandbox):
    r = cli("accept", "--all", "--match", "w*", "--match", "Blue Sky*", "--json")
    assert r.code == 0, r
    assert sorted(o["organization"] for o in json.loads(r.stdout)) == ["blue-sky-media", "wayne-freight"]
    assert len(posts(sandbox)) == 2
    assert sandbox.store.count("invited") == len(SEED_INVITED) - 2


def test_match_without_all_is_a_usage_error(cli, sandbox):
    r = cli("accept", "globex-retail", "--match", "g*")
    assert r.code == 2 and "--match goes with --all" in r.stderr
    assert sandbox.requests == []


def test_unknown_statuses_are_never_accepted_by_all(cli, sandbox):
    r = cli("accept", "--all", "--json")
    assert r.code == 0
    assert "stark-analytics" not in [o["organization"] for o in json.loads(r.stdout)]
    assert sandbox.store.get(seed.org_id("stark-analytics"))["status"] == seed.UNKNOWN_STATUS


def test_nothing_to_accept_is_success(cli, sandbox):
    r = cli("accept", "--all", "--match", "nothing-matches-*")
    assert r.code == 0
    assert "No pending invitations matching" in r.stderr
    assert posts(sandbox) == []


def _late_invitation(sandbox, delay: float) -> str:
    """An invitation that arrives `delay` seconds after the CLI first looked (not after a fixed
    time, which a busy machine could outrun)."""
    (late,) = seed.generated(1, "invited", start=90000)

    def arrive() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(q["path"] == "/me/memberships" for q in sandbox.requests):
            time.sleep(0.05)
        time.sleep(delay)
        sandbox.store.add(late)

    threading.Thread(target=arrive, daemon=True).start()
    return late["organization"]["slug"]


def test_wait_until_the_invitation_arrives(cli, sandbox):
    slug = _late_invitation(sandbox, 1.5)
    r = cli("accept", slug, "--wait", "30s", "--json")
    assert r.code == 0, r
    assert json.loads(r.stdout)[0]["result"] == "accepted"
    assert "Waiting for " + slug in r.stderr
    lists = [q for q in sandbox.requests if q["path"] == "/me/memberships"]
    assert len(lists) >= 2  # looked again after the first miss


def test_wait_with_all_and_match(cli, sandbox):
    slug = _late_invitation(sandbox, 1.5)
    r = cli("accept", "--all", "--match", "generated-org-*", "--wait", "1m", "--json")
    assert r.code == 0, r
    assert [o["organization"] for o in json.loads(r.stdout)] == [slug]


def test_wait_gives_up_with_exit_3(cli, sandbox):
    r = cli("accept", "never-coming", "--wait", "1.5s")
    assert r.code == 3
    assert "never-coming" in r.stderr
    assert posts(sandbox) == []


def test_invalid_wait_is_a_usage_error(cli, sandbox):
    r = cli("accept", "x", "--wait", "soon")
    assert r.code == 2 and "invalid duration 'soon'" in r.stderr


@pytest.mark.parametrize("command", [["accept", "--all"], ["accept", "globex-retail", "acme-logistics"],
                                     ["leave", "acme-logistics", "globex-retail"]])
def test_dry_run_sends_nothing(cli, sandbox, command):
    before = sandbox.store.all()  # in the order the API lists them
    r = cli(*command, "--dry-run", "--json")
    assert r.code == 0, r
    assert {r_["method"] for r_ in sandbox.requests} == {"GET"}
    assert sandbox.store.all() == before
    # Exactly what a real run would do, organization by organization, with the membership it saw.
    by_slug = {m["organization"]["slug"]: m for m in before}
    if command == ["accept", "--all"]:
        chosen = [m for m in before if m["status"] == "invited"]
        assert len(chosen) >= 2  # the seed has invitations: an empty answer cannot pass
    else:
        chosen = [by_slug[slug] for slug in command[1:]]
    would = {"accept": {"invited": "would-accept", "active": "already-active"}, "leave": {"invited": "would-leave", "active": "would-leave"}}
    expected = [
        {"organization": m["organization"]["slug"], "organizationId": m["organization"]["id"],
         "result": would[command[0]][m["status"]], "membership": m, "error": None}
        for m in chosen
    ]
    assert json.loads(r.stdout) == expected


def test_leave_several_with_yes(cli, sandbox):
    r = cli("leave", "acme-logistics", "globex-retail", "no-such-org", "--yes", "--json")
    assert r.code == 3
    assert [o["result"] for o in json.loads(r.stdout)] == ["left", "left", "not-found"]
    assert sandbox.store.get(seed.org_id("acme-logistics")) is None
    assert sandbox.store.get(seed.org_id("globex-retail")) is None


def test_rate_limit_slows_everyone_and_everything_gets_done(cli, sandbox):
    ids = sandbox.store.add_generated(30, "invited")
    sandbox.add_fault(Fault(status=429, headers={"Retry-After": "1"}, method="POST", path=f"/me/memberships/{ids[0]}"))
    r = cli("accept", "--all", "--match", "generated-*", "--json", "--concurrency", "4")
    assert r.code == 0, r
    assert len(json.loads(r.stdout)) == 30
    assert [q["status"] for q in posts(sandbox)].count(429) == 1
    assert sandbox.store.count("invited") == len(SEED_INVITED)


def test_plain_results_are_one_row_per_org(cli, sandbox):
    r = cli("accept", "globex-retail", "no-such-org")
    assert r.code == 3
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert rows[0][:3] == ["globex-retail", seed.org_id("globex-retail"), "accepted"]
    assert rows[1][:3] == ["no-such-org", "", "not-found"]


@pytest.mark.parametrize(
    "args, stdout",
    [
        (("--json",), "[]\n"),
        (("--format", "jsonl"), ""),
        (("--format", "plain"), ""),
        (("--format", "csv"), "organization,organizationId,result,error\n"),
        (("--jq", "length"), "0\n"),
    ],
)
def test_nothing_to_accept_prints_the_empty_results_of_the_format(cli, sandbox, args, stdout):
    # A script parsing `accept --all --json` gets one shape, empty or not.
    r = cli("accept", "--all", "--match", "nothing-matches-*", *args)
    assert (r.code, r.stdout) == (0, stdout), r
    assert r.stderr == "No pending invitations matching nothing-matches-*.\n"
    assert posts(sandbox) == []
