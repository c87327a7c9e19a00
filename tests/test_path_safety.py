"""A destructive request only goes where it was meant to (issue 14, part 2).

An organization id becomes a path segment only when it is a UUID, all of it. Ids a server sends in
a listing (`..`, `.`, `a/b`, a UUID with a newline, `%2e%2e`) end in a clean error naming the
organization (exit 1) and no request; ids a user types that are not UUIDs are looked up as slugs.
Every test asserts the paths the sandbox recorded: /me/memberships and /me/memberships/<uuid> only.
"""

from __future__ import annotations

import json
import re

import pytest

from memberships_cli.sandbox import Fault, seed

LIST = "/me/memberships"
UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
GOOD = seed.org_id("globex-retail")
BAD_IDS = ["..", ".", "a/b", f"{GOOD}\n", "%2e%2e", " " + GOOD, GOOD + "/.."]


def assert_paths_are_safe(sandbox) -> None:
    for request in sandbox.requests:
        assert request["path"] == LIST or re.fullmatch(f"{re.escape(LIST)}/{UUID}", request["path"]), request


def hostile_listing(sandbox, bad_id: str, status: str = "invited") -> None:
    """The next listing has every real membership plus "Evil Org" (evil-org) with `bad_id`."""
    evil = {"organization": {"id": bad_id, "name": "Evil Org", "slug": "evil-org"}, "status": status}
    sandbox.add_fault(Fault(status=200, body={"results": [*sandbox.store.all(), evil]}, method="GET", path=LIST))


@pytest.mark.parametrize("bad_id", BAD_IDS, ids=repr)
@pytest.mark.parametrize("command", [("accept", "evil-org"), ("leave", "evil-org", "--yes"), ("show", "evil-org"),
                                     ("accept", "evil-org", "--dry-run"), ("leave", "evil-org", "--dry-run")])
def test_a_server_id_that_is_not_a_uuid_is_refused_naming_the_organization(cli, sandbox, bad_id, command):
    hostile_listing(sandbox, bad_id, status="active" if command[0] == "leave" else "invited")
    r = cli("-v", *command)
    assert r.code == 1, r
    assert "organization Evil Org (evil-org) has the id" in r.stderr and "not a UUID" in r.stderr, r
    assert [(q["method"], q["path"]) for q in sandbox.requests] == [("GET", LIST)]
    assert sandbox.store.count("invited") == len([m for m in seed.memberships() if m["status"] == "invited"])


@pytest.mark.parametrize("bad_id", BAD_IDS, ids=repr)
def test_accept_all_fails_only_the_bad_id_and_accepts_the_rest(cli, sandbox, bad_id):
    hostile_listing(sandbox, bad_id)
    invited = [m["organization"]["id"] for m in sandbox.store.all() if m["status"] == "invited"]
    r = cli("accept", "--all", "--json")
    assert r.code == 1, r
    outcomes = json.loads(r.stdout)
    failed = [o for o in outcomes if o["result"] == "failed"]
    assert len(failed) == 1 and failed[0]["organization"] == "evil-org"
    assert "not a UUID" in failed[0]["error"]["message"] and failed[0]["error"]["exitCode"] == 1
    assert sorted(o["organizationId"] for o in outcomes if o["result"] == "accepted") == sorted(invited)
    assert_paths_are_safe(sandbox)
    assert sorted(q["path"].rsplit("/", 1)[1] for q in sandbox.requests if q["method"] == "POST") == sorted(invited)


@pytest.mark.parametrize("typed", ["..", ".", "a/b", f"{GOOD}\n", "%2e%2e", "../..", f"{GOOD}/..", f"{GOOD}?x=1"])
@pytest.mark.parametrize("command", [("leave", "--yes"), ("accept",), ("show",)])
def test_what_a_user_types_is_a_uuid_or_a_slug_never_a_path(cli, sandbox, typed, command):
    r = cli(command[0], typed, *command[1:])
    assert r.code == 3, r
    assert "no membership or invitation matches" in r.stderr
    assert [(q["method"], q["path"]) for q in sandbox.requests] == [("GET", LIST)]


def test_a_uuid_typed_in_upper_case_goes_straight_to_its_path(cli, sandbox):
    r = cli("show", GOOD.upper(), "--json")
    assert r.code == 3, r  # the sandbox's ids are lower case; what matters is where it went
    assert [q["path"] for q in sandbox.requests] == [f"{LIST}/{GOOD.upper()}"]
