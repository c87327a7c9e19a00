"""Property-based tests (Hypothesis).

(a) Answers valid under the contract (tests/contract/openapi.yaml), generated from its schemas with
    random extra fields, nulls, unknown status strings and any unicode, served by the sandbox: every
    command exits 0 and its JSON output is the API's objects exactly as sent.
(b) Arbitrary argument lists: never a traceback, never the last-resort "unexpected error", and an
    exit code from the table.

The CLI runs in-process through `cli.main(argv)` (the function the console script calls) with
stdout/stderr as strict UTF-8 text streams, like a pipe: a subprocess per example would cost ~0.3 s.
Example counts are fixed below (deadline off); `pytest --hypothesis-show-statistics` prints them.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tempfile
from contextlib import ExitStack, contextmanager, redirect_stderr, redirect_stdout
from datetime import datetime, timedelta, timezone
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st

from contract_schemas import contract, validate
from harness import base_env
from memberships_cli import cli
from memberships_cli.errors import ExitCode
from memberships_cli.operations import parse_duration
from memberships_cli.sandbox import Fault, SandboxServer, Store
from memberships_cli.sandbox import seed

TOKEN = "tok-SECRET-props-31c4"
EXIT_CODES = {int(code) for code in ExitCode}
HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large]


def examples(name: str) -> settings:
    # No explain phase: it re-runs a failing example hundreds of times, minutes for a CLI run.
    phases = (Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink)
    return settings(max_examples=EXAMPLES[name], deadline=None, suppress_health_check=HEALTH, phases=phases)
EXAMPLES = {"list": 60, "show": 40, "accept": 40, "leave": 30, "status": 30, "nulls": 40, "argv": 40,
            "argv per command": 12}


# -- strategies from the contract's schemas -----------------------------------------------------

SCHEMAS = contract()["components"]["schemas"]

# Any unicode, control characters and escape sequences included. Not lone surrogates: JSON can
# carry them (as \ud800 escapes) but the output cannot yet; see test_lone_surrogates_from_the_server.
TEXT = st.text(max_size=8) | st.sampled_from(["", "\x1b[31mred\x1b[0m", "[bold]x[/]", "a\nb\tc", "\u202e"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(TEXT, inner, max_size=2),
    max_leaves=4,
)
DATETIMES = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1),
                         timezones=st.sampled_from([timezone.utc, timezone(timedelta(hours=5, minutes=30)),
                                                    timezone(timedelta(hours=-8))]))


def _date_time(moment: datetime) -> str:
    text = moment.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _string(schema: dict):
    fmt = schema.get("format")
    if fmt == "uuid":
        return st.uuids().map(str)
    if fmt == "date-time":
        return DATETIMES.map(_date_time)
    if fmt == "email":
        return st.emails()
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    known = schema.get("x-known-values", []) + schema.get("x-inferred-values", [])
    if known:  # an open set: the known values, and values nobody has seen yet
        return st.sampled_from(known) | TEXT
    return TEXT


def from_schema(schema: dict, nulls: bool = False):
    """A strategy for instances of an OpenAPI 3.0 schema, as the contract uses them.

    nulls=True: any optional property may also be null, beyond the contract (servers do that).
    """
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return st.deferred(lambda: from_schema(SCHEMAS[name], nulls))
    kind = schema.get("type")
    if kind == "object":
        properties = schema.get("properties", {})
        required = set(schema.get("required", []))
        def optional(sub: dict):
            return st.none() | from_schema(sub, nulls) if nulls else from_schema(sub, nulls)

        known = st.fixed_dictionaries(
            {k: from_schema(v, nulls) for k, v in properties.items() if k in required},
            optional={k: optional(v) for k, v in properties.items() if k not in required},
        )
        if schema.get("additionalProperties") is False:
            strategy = known
        else:  # fields this client has never heard of, with any JSON value, null included
            extra = st.dictionaries(TEXT.filter(lambda k: k not in properties), JSON_VALUES, max_size=2)
            strategy = st.tuples(known, extra).map(lambda pair: {**pair[1], **pair[0]})
    elif kind == "array":
        strategy = st.lists(from_schema(schema.get("items", {}), nulls), max_size=2)
    elif kind == "string":
        strategy = _string(schema)
    elif kind == "integer":
        strategy = st.integers(min_value=schema.get("minimum"), max_value=schema.get("maximum"))
    elif kind == "number":
        strategy = st.floats(allow_nan=False, allow_infinity=False)
    elif kind == "boolean":
        strategy = st.booleans()
    else:
        strategy = JSON_VALUES
    if schema.get("nullable"):
        strategy = st.none() | strategy
    return strategy


MEMBERSHIPS = from_schema({"$ref": "#/components/schemas/Membership"})
NULLY_MEMBERSHIPS = from_schema({"$ref": "#/components/schemas/Membership"}, nulls=True)
USERS = from_schema({"$ref": "#/components/schemas/User"})


@st.composite
def listings(draw):
    """1-3 pages of a MembershipList: distinct tokens between pages, "" or none after the last."""
    pages = draw(st.lists(st.lists(MEMBERSHIPS, max_size=3), min_size=1, max_size=3))
    tokens = draw(st.lists(TEXT.filter(bool), min_size=len(pages) - 1, max_size=len(pages) - 1, unique=True))
    bodies = []
    for index, results in enumerate(pages):
        body = draw(from_schema({"type": "object", "properties": {}}))  # extra fields on the page too
        body["results"] = results
        if index < len(tokens):
            body["nextPageToken"] = tokens[index]
        elif draw(st.booleans()):
            body["nextPageToken"] = ""
        validate("MembershipList", body)
        bodies.append(body)
    return bodies


# -- running the CLI in-process --------------------------------------------------------------------


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    server = SandboxServer(Store(tmp_path_factory.mktemp("props") / "sandbox.sqlite3"), token=TOKEN)
    server.start()
    with _reused_per_process():
        yield server
    server.stop()


# The command paths (group, subcommand) that click resolved in the current run, e.g. [("config", "set")]:
# how the argv fuzz knows it reached a command rather than stopping at "No such command".
RESOLVED: list[tuple[str, ...]] = []


def _recording(group, path: tuple[str, ...] = ()):
    """`group` (a click Group) and its subgroups, recording every command they resolve."""
    resolve = group.resolve_command

    def resolve_command(ctx, args):
        name, command, rest = resolve(ctx, args)
        if command is not None:
            RESOLVED.append((*path, command.name))
        return name, command, rest

    group.resolve_command = resolve_command
    for name, sub in getattr(group, "commands", {}).items():
        if hasattr(sub, "resolve_command"):
            _recording(sub, (*path, name))
    return group


@contextmanager
def _as_a_fresh_process():
    """Run with the app as a fresh `python -m memberships_cli` has it: no command registered until
    `cli.main` registers the one its argv names (cli.build_app). The app object lives as long as
    the process, so without this the commands registered by earlier runs, or by other test files,
    would decide which argv reach a command. The earlier state is put back for whoever runs next."""
    app = cli.app
    saved = (list(app.registered_commands), list(app.registered_groups), list(cli._registered))
    app.registered_commands.clear()
    app.registered_groups.clear()
    cli._registered.clear()
    try:
        yield
    finally:
        app.registered_commands[:], app.registered_groups[:], cli._registered[:] = saved


@contextmanager
def _reused_per_process():
    """Build once what a real run builds once per process: the Typer command tree and the TLS
    context (httpx loads the CA bundle even for http://). Each is ~80 ms, four times the rest of
    an in-process run, and neither holds state between runs. The tree is kept per set of
    registered command modules, which is all that tells one tree from another here."""
    import httpx._transports.default as transport
    import typer.main

    get_command = typer.main.get_command
    trees: dict = {}

    def command(app):
        key = (id(app), tuple(cli._registered))
        if key not in trees:
            trees[key] = _recording(get_command(app))
        return trees[key]

    contexts: dict = {}

    def ssl_context(*args, **kwargs):
        key = repr((args, sorted(kwargs.items())))
        if key not in contexts:
            contexts[key] = create(*args, **kwargs)
        return contexts[key]

    from memberships_cli import command_line

    class Path(list):
        def append(self, word):
            super().append(word)
            RESOLVED.append(tuple(self))

    class Line(command_line.CommandLine):
        # The argv step walks the command words before click does (and refuses a stray argument
        # or a missing value there): the words it walked count as reached.
        def __init__(self, root) -> None:
            super().__init__(root)
            self.path = Path()

    create = getattr(transport, "create_ssl_context", None)
    with ExitStack() as patches:
        patches.enter_context(mock.patch.object(typer.main, "get_command", command))
        patches.enter_context(mock.patch.object(command_line, "CommandLine", Line))
        if create is not None:  # httpx internals: only a speed-up, so skipped if they move
            patches.enter_context(mock.patch.object(transport, "create_ssl_context", ssl_context))
        yield


def _pipe() -> io.TextIOWrapper:
    # Like stdout piped to another program: UTF-8, strict, not a terminal.
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict", newline="", write_through=True)


def run(args: list[str], api_url: str, env: dict | None = None) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        for sub in ("config", "data", "cache"):
            (home / sub).mkdir()
        full = base_env(home) | {"MEMBERSHIPS_API_URL": api_url, "MEMBERSHIPS_TOKEN": TOKEN,
                                 "MEMBERSHIPS_RETRIES": "0"} | (env or {})
        out, err = _pipe(), _pipe()
        RESOLVED.clear()
        with mock.patch.dict(os.environ, full, clear=True), mock.patch.object(sys, "stdin", io.StringIO("")), \
                mock.patch.object(sys, "argv", ["memberships", *args]), redirect_stdout(out), redirect_stderr(err), \
                _as_a_fresh_process():
            code = cli.main(args)
        texts = [stream.buffer.getvalue().decode("utf-8") for stream in (out, err)]
    assert "Traceback" not in texts[0] + texts[1], texts
    assert "unexpected error" not in texts[1], texts
    assert TOKEN not in texts[0] + texts[1]
    return code, texts[0], texts[1]


def serve(api, *faults: Fault) -> None:
    api.clear_faults()
    for fault in faults:
        api.add_fault(fault)


def body(obj) -> str:
    return json.dumps(obj)  # ASCII with \u escapes, so lone surrogates can travel


COUNTS: dict[str, int] = {}


def counted(name: str) -> None:
    COUNTS[name] = COUNTS.get(name, 0) + 1


# -- (a) valid answers: exit 0, lossless JSON --------------------------------------------------------


@examples("list")
@given(pages=listings(), other=st.sampled_from(["plain", "csv", "table", "jsonl"]), reverse=st.booleans())
def test_list_takes_any_valid_listing(api, pages, other, reverse):
    counted("list")
    expected = [m for page in pages for m in page["results"]]
    for fmt in ("json", other):
        serve(api, *(Fault(status=200, body=body(page), method="GET", path="/me/memberships") for page in pages))
        code, out, err = run(["list", "--format", fmt] + (["--reverse"] if reverse else []), api.url)
        assert code == 0, err
        assert api.pending_faults == 0  # every page was read, and no more
        if fmt == "json":
            assert json.loads(out) == expected
        elif fmt == "jsonl":
            # Lines end at "\n" only: str.splitlines() would also split at U+2028 or U+0085 inside a string.
            assert [json.loads(line) for line in out.split("\n")[:-1]] == expected
        elif fmt == "plain":
            assert out.count("\n") == len(expected)  # one row each: no raw line break inside
            assert "\x1b" not in out


@examples("show")
@given(membership=MEMBERSHIPS, fmt=st.sampled_from(["json", "table", "plain", "csv", "jsonl"]))
def test_show_takes_any_valid_membership(api, membership, fmt):
    counted("show")
    validate("Membership", membership)
    org = membership["organization"]["id"]
    for chosen in ("json", fmt):
        serve(api, Fault(status=200, body=body(membership), method="GET", path=f"/me/memberships/{org}"))
        code, out, err = run(["show", org, "--format", chosen], api.url)
        assert code == 0, err
        if chosen == "json":
            assert json.loads(out) == membership


@examples("accept")
@given(membership=MEMBERSHIPS)
def test_accept_takes_any_valid_membership(api, membership):
    counted("accept")
    org = membership["organization"]["id"]
    serve(api, Fault(status=200, body=body(membership), method="POST", path=f"/me/memberships/{org}"))
    code, out, err = run(["accept", org, "--json"], api.url)
    assert code == 0, err
    (outcome,) = json.loads(out)
    assert outcome["result"] == "accepted" and outcome["membership"] == membership


@examples("leave")
@given(answer=st.none() | MEMBERSHIPS | JSON_VALUES, status=st.sampled_from([200, 202, 204]), org=st.uuids().map(str))
def test_leave_takes_any_2xx_answer(api, answer, status, org):
    counted("leave")
    payload = "" if answer is None or status == 204 else body(answer)
    serve(api, Fault(status=status, body=payload, method="DELETE", path=f"/me/memberships/{org}"))
    code, out, err = run(["leave", org, "--yes", "--json"], api.url)
    assert code == 0, err
    assert [o["result"] for o in json.loads(out)] == ["left"]


@examples("status")
@given(user=USERS, as_json=st.booleans())
def test_status_takes_any_valid_user(api, user, as_json):
    counted("status")
    validate("User", user)
    serve(api, Fault(status=200, body=body(user), method="GET", path="/me"))
    code, out, err = run(["status"] + (["--json"] if as_json else []), api.url)
    assert code == 0, err
    if as_json:
        assert json.loads(out)["user"] == {"id": user["id"], "name": user["name"]}


@examples("nulls")
@given(memberships=st.lists(NULLY_MEMBERSHIPS, min_size=1, max_size=3),
       fmt=st.sampled_from(["plain", "csv", "table", "jsonl"]))
def test_nulls_in_any_optional_field_are_shown_and_kept(api, memberships, fmt):
    """Beyond the contract: `"name": null`, `"roleRefs": null`, `"organization": {"id": ..., "createdAt": null}`."""
    counted("nulls")
    org = memberships[0]["organization"]["id"]
    for args in (["list", "--json"], ["list", "--format", fmt], ["show", org, "--json"], ["show", org]):
        if args[0] == "list":
            serve(api, Fault(status=200, body=body({"results": memberships}), method="GET", path="/me/memberships"))
        else:
            serve(api, Fault(status=200, body=body(memberships[0]), method="GET", path=f"/me/memberships/{org}"))
        code, out, err = run(args, api.url)
        assert code == 0, (args, err)
        if args[-1] == "--json":
            assert json.loads(out) == (memberships if args[0] == "list" else memberships[0])


# -- (b) arbitrary argument lists -------------------------------------------------------------------

WORDS = [
    "list", "show", "accept", "leave", "login", "logout", "status", "config", "sandbox", "completion",
    "get", "set", "unset", "path", "reset", "api_url", "format", "bash", "zsh", "fish", "powershell",
    "--help", "-h", "--version", "--json", "--format", "-F", "--fields", "--status", "-s", "--reverse",
    "--limit", "-L", "--all", "--match", "--wait", "--dry-run", "--concurrency", "--yes", "-y",
    "--api-url", "--timeout", "--profile", "--sandbox", "--verbose", "-v", "--no-color", "--with-token",
    "--insecure-storage", "--", "-", "-vv", "--json=1", "--limit=0",
    "json", "jsonl", "csv", "table", "plain", "yaml", "0", "1", "-1", "2", "100", "1000000000000", "0.1",
    "nan", "inf", "1e309", "30s", "1ms", "acme-logistics", "globex-retail", "Initech Payments",
    seed.org_id("acme-logistics"), seed.org_id("globex-retail"), "*", "g*", "a,b", "organization.id",
    "", " ", "invited", "active", "http://127.0.0.1:1", "https://127.0.0.1:1", "http://api.bird.com",
    "ftp://x", "default", "work", "x" * 300, "\x1b[31m", "\u00e9", "\ud800",
]
# Global options as a person writes them, each with its value: a bare "--profile" before the command
# would take the command's name as its value.
GLOBALS = [["--verbose"], ["-v"], ["--no-color"], ["--sandbox"], ["--timeout", "2"], ["--profile", "work"],
           ["--api-url", "http://127.0.0.1:1"]]
# Every command, groups by each of their subcommands (`sandbox serve` would serve until stopped).
COMMAND_PATHS = [
    ("list",), ("show",), ("accept",), ("leave",), ("login",), ("logout",), ("status",),
    ("config", "path"), ("config", "list"), ("config", "get"), ("config", "set"), ("config", "unset"),
    ("sandbox", "reset"), ("completion",),
]
WORD = st.sampled_from(WORDS) | st.text(max_size=10)
OPTIONS = st.lists(st.sampled_from(GLOBALS), max_size=2).map(lambda options: [w for option in options for w in option])
ANY_WORDS = st.lists(WORD, max_size=7)


def _bounded(args: list[str]) -> bool:
    """No `sandbox serve` (it serves until stopped) and no --wait longer than a second."""
    if "serve" in args:
        return False
    for index, arg in enumerate(args):
        if arg == "--wait" or arg.startswith("--wait="):
            value = arg.partition("=")[2] if "=" in arg else (args[index + 1] if index + 1 < len(args) else "")
            try:
                if parse_duration(value) > 1:
                    return False
            except Exception:  # not a duration: the CLI reports that itself
                pass
    return True


def _run_argv(api, args: list[str]) -> tuple[str, ...] | None:
    """Run one fuzzed argv; the command it reached (None for none), after the common checks."""
    counted("argv")
    api.clear_faults()
    api.store.reset()
    code, out, err = run(args, api.url, env={"MEMBERSHIPS_TIMEOUT": "2"})
    event(f"exit {code}")
    assert code in EXIT_CODES, (code, err)
    if code not in (0, 130):
        assert err.strip(), "a failure says why"
    leaf = RESOLVED[-1] if RESOLVED and RESOLVED[-1] in COMMAND_PATHS else None
    REACH[leaf is not None] = REACH.get(leaf is not None, 0) + 1
    return leaf


REACH: dict[bool, int] = {}


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=" ".join)
def test_any_arguments_to_a_command_end_with_an_exit_code_from_the_table(api, path):
    """Global options, then a real command, then anything: every command's own parsing is fuzzed,
    and the command is always the one reached (as the entry point registers only the command its
    argv names, a wrong guess there would end in "No such command")."""

    @examples("argv per command")
    @given(options=OPTIONS, rest=ANY_WORDS)
    def one(options, rest):
        args = [*options, *path, *rest]
        assume(_bounded(args))
        assert _run_argv(api, args) == path, args

    one()


@examples("argv")
@given(args=ANY_WORDS)
def test_any_argument_list_ends_with_an_exit_code_from_the_table(api, args):
    assume(_bounded(args))
    leaf = _run_argv(api, args)
    event(f"reached {' '.join(leaf)}" if leaf else "reached no command")


@pytest.fixture(scope="module", autouse=True)
def _report_counts():
    yield
    print("\nHypothesis examples run:", ", ".join(f"{k}={v}" for k, v in sorted(COUNTS.items())))
    if REACH:
        reached, total = REACH.get(True, 0), sum(REACH.values())
        print(f"argv fuzz: {reached} of {total} examples ({reached / total:.0%}) reached a command")


def test_strategies_produce_contract_valid_extremes():
    """The generator itself: unknown statuses, nulls and extra fields all come out, and validate."""
    seen = {"unknown status": False, "null": False, "extra field": False}

    @settings(max_examples=150, deadline=None, database=None)
    @given(MEMBERSHIPS)
    def look(m):
        validate("Membership", m)
        if m["status"] not in ("active", "invited", "banned"):
            seen["unknown status"] = True
        if None in m.values() or m.get("roleIds", 1) is None:
            seen["null"] = True
        if set(m) - set(SCHEMAS["Membership"]["properties"]):
            seen["extra field"] = True

    look()
    assert all(seen.values()), seen



# -- found by (a): lone surrogates ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "jsonl", "plain", "csv", "table"])
def test_lone_surrogates_from_the_server(api, fmt):
    membership = {"organization": {"id": seed.org_id("acme-logistics"), "name": "bad \ud800 name"},
                  "status": "active", "createdAt": "2024-01-01T00:00:00Z", "updatedAt": "2024-01-01T00:00:00Z"}
    validate("Membership", membership)
    serve(api, Fault(status=200, body=body({"results": [membership]}), method="GET", path="/me/memberships"))
    code, out, err = run(["list", "--format", fmt], api.url)
    assert code == 0, err
    if fmt == "json":
        assert json.loads(out) == [membership]  # written as "\ud800": still lossless JSON
    elif fmt == "jsonl":
        assert [json.loads(line) for line in out.splitlines()] == [membership]
    else:
        assert "bad \\ud800 name" in out  # visibly escaped where text cannot carry it


@pytest.mark.parametrize("char", ["\u2028", "\u2029", "\x85", "\ud800"])
def test_json_lines_survive_splitlines(char):
    from memberships_cli.output.escape import dumps

    obj = {"name": f"a{char}b"}
    text = dumps(obj)
    assert len((text + "\n").splitlines()) == 1
    assert json.loads(text) == obj
    text.encode("utf-8")  # encodable, lone surrogate included
