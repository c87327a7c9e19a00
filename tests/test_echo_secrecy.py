"""The token never leaves through a server echo (issue 14, part 1).

A token with `+ / =` is echoed by the sandbox in every place a server can put it: the reason
phrase, an error body's code, message and details, a Location header (percent-encoded, upper- and
lower-case hex), its `+` read back as a space, a nextPageToken (which -v logs as the next request's
query), and the data itself (a membership or user name). Each place, for every command, in human
and JSON output, with and without -v: the exit code, one error line, no traceback (the `cli`
fixture), the echo shown as [token] where it is shown, and the token in none of its forms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote, unquote, unquote_plus

import pytest

from memberships_cli.sandbox import Fault, SandboxServer, Store, seed

TOKEN = "tok+en/abc==xyz-7Q"
PCT_UPPER = quote(TOKEN, safe="")
PCT_LOWER = "".join(c.lower() if i and PCT_UPPER[i - 1] == "%" or (i > 1 and PCT_UPPER[i - 2] == "%") else c
                    for i, c in enumerate(PCT_UPPER))
SPACED = TOKEN.replace("+", " ")
LIST = "/me/memberships"
ACME = seed.org_id("acme-logistics")  # active
GLOBEX = seed.org_id("globex-retail")  # invited


@pytest.fixture
def sandbox(tmp_path):
    server = SandboxServer(Store(tmp_path / "sandbox.sqlite3"), token=TOKEN)
    server.start()
    yield server
    server.stop()


@dataclass(frozen=True)
class Command:
    args: tuple  # by id: the fault hits the command's own request
    by_slug: tuple  # by slug: a listing comes first (for the nextPageToken place)
    method: str
    path: str
    json_flag: str | None = "--json"


COMMANDS = {
    "list": Command(("list",), ("list",), "GET", LIST),
    "show": Command(("show", ACME), ("show", "acme-logistics"), "GET", f"{LIST}/{ACME}"),
    "accept": Command(("accept", GLOBEX), ("accept", "globex-retail"), "POST", f"{LIST}/{GLOBEX}"),
    "leave": Command(("leave", ACME, "--yes"), ("leave", "acme-logistics", "--yes"), "DELETE", f"{LIST}/{ACME}"),
    "status": Command(("status",), (), "GET", "/me"),
    "login": Command(("login", "--with-token", "--insecure-storage"), (), "GET", "/me", json_flag=None),
}


def _member(name: str, status: str = "active") -> dict:
    member = dict(seed.memberships()[0])
    member["organization"] = {**member["organization"], "name": name}
    member["status"] = status
    return member


def _data(command: str) -> list[Fault]:
    c = COMMANDS[command]
    if command == "list":
        body = {"results": [_member(f"Acme {TOKEN}")]}
    elif command in ("status", "login"):
        body = {"id": "user-1", "name": f"Dana {PCT_LOWER}"}
    elif command == "leave":
        body = {"left": TOKEN}  # ignored: nothing of a DELETE's body is shown
    else:
        body = _member(f"Acme {SPACED}")
    return [Fault(status=200, body=body, method=c.method, path=c.path)]


@dataclass(frozen=True)
class Place:
    make: object  # (method, path) -> [Fault] for the error places, (command) -> [Fault] otherwise
    code: int
    shown: object  # (command, json) -> whether [token] must appear in the output


def error(**kw):
    return lambda method, path: [Fault(method=method, path=path, **kw)]


ALWAYS = lambda command, as_json: True  # noqa: E731
PLACES = {
    "reason phrase": Place(error(status=401, reason=f"Unauthorized Bearer {TOKEN}"), 4, ALWAYS),
    "error code": Place(error(status=400, body={"code": f"Bad-{TOKEN}", "message": "bad request"}), 1,
                        lambda command, as_json: as_json and command in ("accept", "leave")),
    "error message": Place(error(status=400, body={"code": "Bad", "message": f"token {TOKEN} is not valid"}), 1, ALWAYS),
    "error details": Place(error(status=400, body={"code": "Bad", "message": "invalid",
                                                    "details": {"token": [PCT_LOWER], "auth": f"Bearer {TOKEN}"}}), 1, ALWAYS),
    "Location, upper-case hex": Place(error(status=302, headers={"Location": f"https://elsewhere.invalid/?t={PCT_UPPER}"}), 1, ALWAYS),
    "Location, lower-case hex": Place(error(status=302, headers={"Location": f"https://elsewhere.invalid/?t={PCT_LOWER}"}), 1, ALWAYS),
    "+ as a space": Place(error(status=403, body={"code": "Forbidden", "message": f"token {SPACED} is revoked"}), 4, ALWAYS),
    "data": Place(_data, 0, lambda command, as_json: command != "leave"),
}
MODES = [("human", False), ("human", True), ("json", False), ("json", True)]


def cases():
    for place in PLACES:
        for command, spec in COMMANDS.items():
            for fmt, verbose in MODES:
                if fmt == "json" and spec.json_flag is None:
                    continue
                yield pytest.param(place, command, fmt, verbose, id=f"{place}-{command}-{fmt}{'-v' if verbose else ''}")
    # A nextPageToken holding the token: -v logs it as the next request's pageToken.
    for command, spec in COMMANDS.items():
        if spec.by_slug:
            for fmt, verbose in MODES:
                yield pytest.param("nextPageToken", command, fmt, verbose, id=f"nextPageToken-{command}-{fmt}{'-v' if verbose else ''}")


def assert_no_token(text: str) -> None:
    assert TOKEN not in text
    assert TOKEN not in unquote(text)  # percent-encoded, in either case or mixed
    assert SPACED not in unquote_plus(text)  # form-encoded, or its + read back as a space


def run(cli, sandbox, place: str, command: str, fmt: str, verbose: bool):
    spec = COMMANDS[command]
    if place == "nextPageToken":
        args = spec.by_slug
        sandbox.add_fault(Fault(status=200, body={"results": [], "nextPageToken": TOKEN}, method="GET", path=LIST))
        sandbox.add_fault(Fault(status=200, body={"results": sandbox.store.all()}, method="GET", path=LIST))
        code = 0
    else:
        args = spec.args
        make = PLACES[place].make
        faults = make(command) if place == "data" else make(spec.method, spec.path)
        for fault in faults:
            sandbox.add_fault(fault)
        code = PLACES[place].code
    argv = [*(("-v",) if verbose else ()), *args, *((spec.json_flag,) if fmt == "json" else ())]
    if command == "login":
        r = cli(*argv, token=None, input=TOKEN + "\n")
    else:
        r = cli(*argv, token=TOKEN)
    return r, code


@pytest.mark.parametrize("place, command, fmt, verbose", list(cases()))
def test_an_echoed_token_is_never_shown(cli, sandbox, place, command, fmt, verbose):
    r, code = run(cli, sandbox, place, command, fmt, verbose)
    out = r.stdout + r.stderr

    assert r.code == code, r
    assert sandbox.pending_faults == 0  # the echo was served
    assert_no_token(out)
    if place == "nextPageToken":
        shown = verbose
        if verbose:
            assert "pageToken=[token]" in r.stderr
    else:
        shown = PLACES[place].shown(command, fmt == "json")
    assert ("[token]" in out) == shown, r
    errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
    if code == 0:
        assert errors == []
    elif command in ("accept", "leave"):
        # A bulk run reports each organization, then one summary line.
        assert len(errors) <= 1 and ("✗" in r.stderr or "failed" in r.stderr), r
    else:
        assert len(errors) == 1, r
    if fmt == "json" and code == 0:
        json.loads(r.stdout)  # JSON output stays valid after scrubbing


def test_an_echo_of_the_token_inside_an_accepted_membership_is_scrubbed_in_json(cli, sandbox):
    sandbox.add_fault(Fault(status=200, body=_member(f"{PCT_UPPER}", status="active"), method="POST", path=f"{LIST}/{GLOBEX}"))
    r = cli("accept", GLOBEX, "--json", token=TOKEN)
    assert r.code == 0, r
    (outcome,) = json.loads(r.stdout)
    assert outcome["membership"]["organization"]["name"] == "[token]"
    assert_no_token(r.stdout + r.stderr)


def test_errors_raised_outside_the_client_are_scrubbed_by_main(cli, sandbox):
    """An organization that matches nothing is reported by operations, not the client: main()
    still cuts the token out of the line it prints."""
    r = cli("show", TOKEN, token=TOKEN)
    assert r.code == 3, r
    assert "no membership or invitation matches '[token]'" in r.stderr
    assert_no_token(r.stdout + r.stderr)
