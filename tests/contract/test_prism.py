"""Contract fidelity (issue 8): every command of the CLI against Stoplight Prism, which knows only the
published contract (tests/contract/openapi.yaml) and validates every request it receives.

A case passes when the CLI exits as expected, Prism saw as many requests as the CLI logged sending, and
every one passed Prism's validation. The negative tests send invalid requests on purpose (ones the CLI
cannot produce) and expect Prism to flag them, so the stage is known to be able to fail.

Skipped without PRISM_BIN; run the stage with tests/contract/run.sh.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable
from urllib.parse import parse_qs, urlsplit

import pytest

if not os.environ.get("PRISM_BIN") and os.environ.get("MEMBERSHIPS_REQUIRE_PRISM") != "1":
    # One line in the normal run; the prism_bin fixture reports a missing Prism when it is required.
    pytest.skip("PRISM_BIN is not set: the contract stage runs with tests/contract/run.sh", allow_module_level=True)

import httpx  # noqa: E402
import yaml  # noqa: E402

from contract_harness import SPEC, TOKEN, CliRun  # noqa: E402

ACME = "3a9c1e44-72b0-4d1f-a8e6-0c5d9b2f41a7"  # active in the examples
GLOBEX = "7e1f03b8-9c4a-4a62-8d5e-b2f6c1a09d73"  # invited in the list example
AUTH = {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"}


@lru_cache(maxsize=1)
def _spec() -> dict:
    return yaml.safe_load(SPEC.read_text(encoding="utf-8"))


def example(path: str, method: str, name: str | None = None):
    content = _spec()["paths"][path][method]["responses"]["200"]["content"]["application/json"]
    if name is None and "example" in content:
        return content["example"]
    examples = content["examples"]
    return examples[name or next(iter(examples))]["value"]


def list_example() -> list[dict]:
    return example("/me/memberships", "get")["results"]


def query(request_line: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(request_line.split(" ", 1)[1]).query)


# -- checks of what the CLI printed: proof the valid responses were understood -----------------------


def json_is(expected: Callable[[], object]) -> Callable[[CliRun], None]:
    def check(run: CliRun) -> None:
        assert json.loads(run.stdout) == expected(), run
    return check


def jsonl_is(expected: Callable[[], list]) -> Callable[[CliRun], None]:
    def check(run: CliRun) -> None:
        assert [json.loads(line) for line in run.stdout.splitlines()] == expected(), run
    return check


def rows(count: int, *, contains: tuple[str, ...] = ()) -> Callable[[CliRun], None]:
    """Plain/CSV/table output: `count` non-empty lines, each text in `contains` somewhere."""
    def check(run: CliRun) -> None:
        assert len([line for line in run.stdout.splitlines() if line.strip()]) == count, run
        for text in contains:
            assert text in run.stdout, run
    return check


def contains(*texts: str) -> Callable[[CliRun], None]:
    def check(run: CliRun) -> None:
        for text in texts:
            assert text in run.stdout, run
    return check


def csv_rows(count: int) -> Callable[[CliRun], None]:
    def check(run: CliRun) -> None:
        parsed = list(csv.reader(io.StringIO(run.stdout)))
        assert len(parsed) == count + 1, run  # a header line, then the rows
    return check


def outcomes(*results: str, membership: Callable[[], object] | None = None) -> Callable[[CliRun], None]:
    """accept/leave --json: one outcome per organization, in order."""
    def check(run: CliRun) -> None:
        got = json.loads(run.stdout)
        assert [o["result"] for o in got] == list(results), run
        assert all(o["error"] is None for o in got), run
        if membership is not None:
            assert got[0]["membership"] == membership(), run
    return check


def jsonl_results(*results: str) -> Callable[[CliRun], None]:
    def check(run: CliRun) -> None:
        assert [json.loads(line)["result"] for line in run.stdout.splitlines()] == list(results), run
    return check


def status_accepted(user: dict | None = None) -> Callable[[CliRun], None]:
    """status --json: the API accepted the token (and, if given, this is the user it reported)."""
    def check(run: CliRun) -> None:
        report = json.loads(run.stdout)
        assert report["valid"] is True and report["error"] is None, run
        if user is not None:
            assert report["user"] == user, run
    return check


def first_request_has(**params: str) -> Callable[[CliRun], None]:
    def check(run: CliRun) -> None:
        sent = query(run.requests[0])
        for key, value in params.items():
            assert sent.get(key) == [value], run
    return check


def both(*checks: Callable[[CliRun], None]) -> Callable[[CliRun], None]:
    def check(run: CliRun) -> None:
        for one in checks:
            one(run)
    return check


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    requests: int  # exactly this many requests reach Prism
    check: Callable[[CliRun], None] | None = None
    global_args: tuple[str, ...] = ()


show_example = lambda: example("/me/memberships/{organizationId}", "get")  # noqa: E731
accept_example = lambda: example("/me/memberships/{organizationId}", "post")  # noqa: E731

# The static mock answers every valid request with the first example of its 200 response; the list
# example ends the list, so a full listing is one request.
STATIC_CASES = [
    # list
    Case("list", ("list",), 1, both(rows(2, contains=("acme-logistics", "globex-retail")), first_request_has(limit="100"))),
    Case("list-table", ("list", "--format", "table"), 1, rows(3, contains=("Acme Logistics",))),
    Case("list-json", ("list", "--json"), 1, json_is(list_example)),
    Case("list-format-json", ("list", "--format", "json"), 1, json_is(list_example)),
    Case("list-jsonl", ("list", "--format", "jsonl"), 1, jsonl_is(list_example)),
    Case("list-csv", ("list", "--format", "csv"), 1, csv_rows(2)),
    Case("list-plain-fields", ("list", "--format", "plain", "--fields", "slug,status,organization.id"), 1,
         rows(2, contains=(f"acme-logistics\tactive\t{ACME}",))),
    Case("list-json-fields", ("list", "--json", "--fields", "organization.slug,status"), 1,
         json_is(lambda: [{"organization": {"slug": m["organization"]["slug"]}, "status": m["status"]} for m in list_example()])),
    Case("list-status", ("list", "--status", "active"), 1, first_request_has(status="active")),
    Case("list-status-reverse", ("list", "--status", "invited", "--reverse"), 1,
         first_request_has(status="invited", reverse="true")),
    Case("list-status-unknown", ("list", "-s", "banned"), 1, first_request_has(status="banned")),
    Case("list-reverse", ("list", "--reverse"), 1, first_request_has(reverse="true")),
    Case("list-limit", ("list", "--limit", "1", "--json"), 1,
         both(json_is(lambda: list_example()[:1]), first_request_has(limit="1"))),
    Case("list-limit-short-flags", ("list", "-L", "2", "-F", "jsonl", "-s", "active"), 1,
         both(jsonl_is(list_example), first_request_has(limit="2", status="active"))),
    # The CLI never asks for more than the contract's maximum page size of 100.
    Case("list-limit-over-page-size", ("list", "--limit", "500"), 1, first_request_has(limit="100")),
    # show
    Case("show-id", ("show", ACME), 1, rows(1, contains=("acme-logistics",))),
    Case("show-id-table", ("show", ACME, "--format", "table"), 1, contains("Acme Logistics", "acme-logistics", ACME)),
    Case("show-id-json", ("show", ACME, "--json"), 1, json_is(show_example)),
    Case("show-id-jsonl", ("show", ACME, "--format", "jsonl"), 1, jsonl_is(lambda: [show_example()])),
    Case("show-id-csv", ("show", ACME, "--format", "csv"), 1, csv_rows(1)),
    Case("show-id-json-fields", ("show", ACME, "--json", "--fields", "organization.slug,requiredMfaAuth"), 1,
         json_is(lambda: {"organization": {"slug": "acme-logistics"}, "requiredMfaAuth": True})),
    Case("show-slug", ("show", "acme-logistics", "--json"), 2, json_is(show_example)),  # list, then GET
    Case("show-name", ("show", "Globex Retail", "--format", "plain"), 2),
    # accept
    Case("accept-id", ("accept", GLOBEX), 1),
    Case("accept-id-json", ("accept", GLOBEX, "--json"), 1, outcomes("accepted", membership=accept_example)),
    Case("accept-ids-concurrent", ("accept", GLOBEX, ACME, "--concurrency", "2", "--format", "jsonl"), 2,
         jsonl_results("accepted", "accepted")),
    Case("accept-id-csv", ("accept", GLOBEX, "--format", "csv"), 1, csv_rows(1)),
    # The mock's GET answer is the active Acme membership whatever the id, so there is nothing to accept.
    Case("accept-id-dry-run", ("accept", GLOBEX, "--dry-run", "--json"), 1, outcomes("already-active")),
    Case("accept-slug", ("accept", "globex-retail", "--json"), 2, outcomes("accepted")),  # list, then POST
    Case("accept-slug-already-active", ("accept", "acme-logistics", "--json"), 1, outcomes("already-active")),
    Case("accept-all", ("accept", "--all", "--json"), 2, outcomes("accepted")),  # list, then POST the invitation
    Case("accept-all-match", ("accept", "--all", "--match", "globex-*", "--match", "x-*", "--format", "jsonl"), 2,
         jsonl_results("accepted")),
    Case("accept-all-match-none", ("accept", "--all", "--match", "initech-*"), 1),  # no invitation: exit 0
    Case("accept-all-dry-run", ("accept", "--all", "--dry-run", "--json"), 1, outcomes("would-accept")),
    Case("accept-wait", ("accept", "globex-retail", "--wait", "5s", "--json"), 2, outcomes("accepted")),
    # leave
    Case("leave-id", ("leave", GLOBEX, "--yes"), 1),
    Case("leave-id-json", ("leave", GLOBEX, "-y", "--json"), 1, outcomes("left")),
    Case("leave-ids-csv", ("leave", ACME, GLOBEX, "--yes", "--format", "csv"), 2, csv_rows(2)),
    Case("leave-id-dry-run", ("leave", GLOBEX, "--dry-run", "--json"), 1, outcomes("would-leave")),
    Case("leave-slug", ("leave", "globex-retail", "--yes", "--format", "jsonl"), 2),  # list, then DELETE
    # session (GET /me)
    Case("status", ("status",), 1, contains("Dana Whitfield", "5f0c7a2e-3b1d-4c8e-9a6f-2d4b8e1c7f30")),
    Case("status-json", ("status", "--json"), 1,
         status_accepted(user={"id": "5f0c7a2e-3b1d-4c8e-9a6f-2d4b8e1c7f30", "name": "Dana Whitfield"})),
    # global options
    Case("api-url-flag", ("list", "--json"), 1, json_is(list_example), global_args=("--api-url", "{url}")),
    Case("timeout-no-color", ("list", "--format", "table"), 1, global_args=("--timeout", "5", "--no-color")),
]


@pytest.mark.parametrize("case", STATIC_CASES, ids=lambda c: c.id)
def test_cli_against_static_mock(case: Case, static_prism, cli):
    global_args = tuple(a.replace("{url}", static_prism.url) for a in case.global_args)
    run = cli(static_prism, *case.args, global_args=global_args, env_url="{url}" not in case.global_args)
    assert run.code == 0, run
    assert len(run.requests) == case.requests, run
    run.assert_every_request_valid()
    if case.check is not None:
        case.check(run)


def test_login_status_logout_with_a_stored_token(static_prism, cli):
    """login checks the token with GET /me before storing it, then counts the pending invitations
    (one listing filtered by status); status then uses the stored token; logout sends nothing."""
    login = cli(static_prism, "login", "--with-token", "--insecure-storage", token=None, input=TOKEN + "\n")
    assert login.code == 0 and len(login.requests) == 2, login
    login.assert_every_request_valid()
    assert login.requests[0].endswith("/me"), login
    assert "/me/memberships?" in login.requests[1] and "status=invited" in login.requests[1], login

    status = cli(static_prism, "status", "--json", token=None)
    assert status.code == 0 and len(status.requests) == 1, status
    status.assert_every_request_valid()
    assert json.loads(status.stdout)["tokenSource"] == "file", status

    listing = cli(static_prism, "list", "--json", token=None)
    assert listing.code == 0, listing
    listing.assert_every_request_valid()

    logout = cli(static_prism, "logout", token=None)
    assert logout.code == 0 and logout.requests == [] and logout.counts.received == 0, logout
    after = cli(static_prism, "status", token=None)
    assert after.code == 4 and after.requests == [], after


def test_api_url_from_the_config_file(static_prism, cli):
    """`config set api_url` sends no request; the next command goes to that URL."""
    configured = cli(static_prism, "config", "set", "api_url", static_prism.url, env_url=False)
    assert configured.code == 0 and configured.requests == [], configured
    run = cli(static_prism, "list", "--json", env_url=False)
    assert run.code == 0 and len(run.requests) == 1, run
    run.assert_every_request_valid()
    assert json.loads(run.stdout) == list_example(), run


def test_list_limit_below_one_never_reaches_the_api(static_prism, cli):
    run = cli(static_prism, "list", "--limit", "0")
    assert run.code == 2, run
    assert run.requests == [] and run.counts.received == 0, run


def test_no_token_never_reaches_the_api(static_prism, cli):
    run = cli(static_prism, "list", token=None)
    assert run.code == 4, run
    assert run.requests == [] and run.counts.received == 0, run


# -- the negative tests: the stage can fail ---------------------------------------------------------


def _raw(server, method: str, path: str, *, flagged: bool, **kwargs):
    """One request straight to Prism with httpx; returns (response, Prism's log about it)."""
    offset = server.log_size()
    response = httpx.request(method, server.url + path, timeout=10, **kwargs)
    server.requests_sent += 1
    server.flagged_on_purpose += int(flagged)
    _, counts = server.wait_for(offset, 1)
    return response, counts


def test_limit_over_maximum_is_a_violation(static_prism):
    # The CLI cannot send this (it pages by 100 at most), so the request is made by hand.
    response, counts = _raw(static_prism, "GET", "/me/memberships", params={"limit": "500"}, headers=AUTH, flagged=True)
    assert response.status_code == 422
    assert counts.not_passed == 1
    assert any(v.startswith("Violation: request.query.limit") for v in counts.violations), counts


def test_missing_authorization_is_a_violation(static_prism):
    response, counts = _raw(static_prism, "GET", "/me/memberships", headers={"Accept": "application/json"}, flagged=True)
    assert response.status_code == 401
    assert counts.not_passed == 1
    assert any("Invalid security scheme" in v for v in counts.violations), counts


def test_non_bearer_authorization_is_a_violation(static_prism):
    headers = {"Authorization": f"AccessKey {TOKEN}", "Accept": "application/json"}
    response, counts = _raw(static_prism, "GET", f"/me/memberships/{ACME}", headers=headers, flagged=True)
    assert response.status_code == 401
    assert counts.not_passed == 1 and counts.violations, counts


def test_the_example_with_more_pages_is_valid(static_prism):
    """The named example that does not end the list still satisfies the schema (Prism validates what it serves)."""
    headers = {**AUTH, "Prefer": "example=firstOfSeveralPages"}
    response, counts = _raw(static_prism, "GET", "/me/memberships", headers=headers, flagged=False)
    assert response.status_code == 200
    assert response.json() == example("/me/memberships", "get", "firstOfSeveralPages")
    assert response.json()["nextPageToken"]
    assert counts.passed == 1 and counts.clean, counts


# -- dynamic mode: schema-valid data Prism invents from a fixed seed --------------------------------

# Seeded Prism re-seeds its generator for every request, so every answer of one operation is the same
# body, nextPageToken included. A raw request fetches that body to compare the CLI's output with, and
# a listing stays within the first page (--limit 2): reading every page, as `accept --all` does, meets
# the repeated nextPageToken (see test_dynamic_paging_is_bounded_and_valid).


def _dynamic_body(server, path: str, method: str = "GET"):
    response, counts = _raw(server, method, path, headers=AUTH, flagged=False)
    assert response.status_code == 200 and counts.clean, counts
    return response.json()


DYNAMIC_CASES = [
    Case("list-json", ("list", "--json", "--limit", "2"), 1),
    Case("list-plain", ("list", "--limit", "2"), 1, rows(2)),
    Case("list-table", ("list", "--limit", "2", "--format", "table"), 1),
    Case("list-csv", ("list", "--limit", "2", "--format", "csv", "--status", "active", "--reverse"), 1, csv_rows(2)),
    Case("list-jsonl", ("list", "--limit", "2", "--format", "jsonl"), 1),
    Case("show-json", ("show", ACME, "--json"), 1),
    Case("show-table", ("show", ACME, "--format", "table"), 1),
    Case("show-plain", ("show", ACME), 1, rows(1)),
    Case("accept-json", ("accept", GLOBEX, "--json"), 1, outcomes("accepted")),
    Case("leave-json", ("leave", GLOBEX, "--yes", "--json"), 1, outcomes("left")),
    Case("status-json", ("status", "--json"), 1, status_accepted()),
    Case("status", ("status",), 1),
]


@pytest.mark.parametrize("case", DYNAMIC_CASES, ids=lambda c: c.id)
def test_cli_against_dynamic_mock(case: Case, dynamic_prism, cli):
    run = cli(dynamic_prism, *case.args)
    assert run.code == 0, run
    assert len(run.requests) == case.requests, run
    run.assert_every_request_valid()
    if case.check is not None:
        case.check(run)


def test_dynamic_json_output_is_the_response_as_received(dynamic_prism, cli):
    """Lossless JSON: what `list --json` and `show --json` print is what the API sent."""
    page = _dynamic_body(dynamic_prism, "/me/memberships?limit=2")
    run = cli(dynamic_prism, "list", "--json", "--limit", "2")
    assert run.code == 0, run
    run.assert_every_request_valid()
    assert json.loads(run.stdout) == page["results"][:2], run

    membership = _dynamic_body(dynamic_prism, f"/me/memberships/{ACME}")
    run = cli(dynamic_prism, "show", ACME, "--json")
    assert run.code == 0, run
    run.assert_every_request_valid()
    assert json.loads(run.stdout) == membership, run


MAX_PAGES = 3


def test_dynamic_paging_is_bounded_and_valid(dynamic_prism, cli):
    """Paging through the dynamic mock: the CLI passes nextPageToken back as pageToken, each page request
    is valid, and the listing ends within MAX_PAGES requests.

    Seeded Prism answers every page with the same nextPageToken, which a real server never does; the
    CLI stops at the repeat instead of looping forever and says so (exit 1). With `--limit 250` a
    server that kept inventing new tokens would still be read for at most 250 memberships.
    """
    first = _dynamic_body(dynamic_prism, "/me/memberships?limit=100")
    assert first["nextPageToken"] and len(first["results"]) < 100

    run = cli(dynamic_prism, "list", "--json", "--limit", "250", timeout=30)
    assert 2 <= len(run.requests) <= MAX_PAGES, run
    run.assert_every_request_valid()
    assert "pageToken" not in query(run.requests[0]), run
    assert query(run.requests[1])["pageToken"] == [first["nextPageToken"]], run
    assert run.code == 1, run
    assert "nextPageToken repeats a page already read" in run.stderr, run
