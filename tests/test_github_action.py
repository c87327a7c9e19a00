"""The GitHub Action (action.yml), run the way the runner runs a composite action, without GitHub:
each `run:` step with `bash --noprofile --norc -eo pipefail`, its `${{ }}` expressions evaluated
from the inputs, INPUT_*/env as action.yml maps them, and GITHUB_ACTION_PATH (this checkout),
RUNNER_TEMP, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY as temporary files; against the sandbox.

The install step really installs the tool from this checkout into a venv (pip, ~30 s): once per
test run, shared by the xdist workers through a lock; every case then runs the steps after it.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from harness import ROOT, base_env
from memberships_cli.ci import github_action
from memberships_cli.output.escape import escape_control
from memberships_cli.sandbox import SANDBOX_TOKEN, seed

ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = ACTION["runs"]["steps"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
# Markdown and HTML that must stay text in the job summary.
HOSTILE_NAME = "<img src=x onerror=alert(1)> | **bold** _em_ `code` [link](https://example.invalid) &amp; @team :tada:\n# Heading \\"
HOSTILE_SLUG = "hostile-markdown"


# -- a small runner -------------------------------------------------------------------------------


def evaluate(text: str, inputs: dict, steps: dict) -> str:
    def value(match: re.Match) -> str:
        expr = match.group(1)
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        if expr == "github.action_path":
            return str(ROOT)
        if expr.startswith("steps."):
            _, step, kind, name = expr.split(".", 3)
            assert kind == "outputs", expr
            return steps.get(step, {}).get(name, "")
        raise AssertionError(f"expression the test runner does not know: {expr}")

    return EXPRESSION.sub(value, text)


def read_outputs(path: Path) -> dict[str, str]:
    """$GITHUB_OUTPUT's two forms: name=value, and name<<DELIMITER ... DELIMITER."""
    outputs: dict[str, str] = {}
    lines = path.read_text(encoding="utf-8").split("\n") if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, i + 1)
            outputs[name] = "\n".join(lines[i + 1:end])
            i = end + 1
        elif "=" in line:
            name, value = line.split("=", 1)
            outputs[name] = value
            i += 1
        else:
            assert line == "", f"not an output line: {line!r}"
            i += 1
    return outputs


@dataclass
class Run:
    code: int
    log: str
    outputs: dict
    summary: str
    steps_run: int


def run_action(env: dict, runner_temp: Path, work: Path, inputs: dict, *, steps: slice = slice(1, None)) -> Run:
    """Run the action's steps (by default all but the install step, which the fixture ran)."""
    given = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    for name, spec in ACTION["inputs"].items():
        assert not spec.get("required") or name in inputs, f"required input {name} missing"
    given.update(inputs)
    steps_outputs: dict[str, dict] = {}
    log, summary, code, count = [], [], 0, 0
    for index, step in list(enumerate(STEPS))[steps]:
        assert step["shell"] == "bash" and "run" in step
        script = work / f"step{index}.sh"
        script.write_text(step["run"], encoding="utf-8")  # run: holds no expressions (checked below)
        files = {name: work / f"{name.lower()}.{index}" for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_ENV", "GITHUB_PATH")}
        for path in files.values():
            path.write_text("")
        step_env = dict(env, GITHUB_ACTION_PATH=str(ROOT), RUNNER_TEMP=str(runner_temp), CI="true", GITHUB_ACTIONS="true",
                        **{name: str(path) for name, path in files.items()})
        step_env.update({k: evaluate(str(v), given, steps_outputs) for k, v in (step.get("env") or {}).items()})
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], env=step_env,
                              capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL, cwd=work)
        count += 1
        log.append(proc.stdout + proc.stderr)
        summary.append(files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"))
        if "id" in step:
            steps_outputs[step["id"]] = read_outputs(files["GITHUB_OUTPUT"])
        code = proc.returncode
        if code != 0:
            break
    outputs = {name: evaluate(spec["value"], given, steps_outputs) for name, spec in ACTION["outputs"].items()}
    return Run(code, "".join(log), outputs, "".join(summary), count)


@pytest.fixture(scope="session")
def runner_temp(tmp_path_factory) -> Path:
    """RUNNER_TEMP with the tool installed by the action's own install step, once per test run."""
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker's base is a folder of this run's base: share that one, never an
    # earlier run's (the install is a copy of the checkout as it is now).
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "action-runner-temp"
    shared.mkdir(exist_ok=True)
    with open(shared.parent / "action-install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers: one installs, the others wait for it
        done = shared / "installed.log"
        if not done.exists():
            home = shared / "home"
            for sub in ("config", "data", "cache"):
                (home / sub).mkdir(parents=True, exist_ok=True)
            work = shared / "install"
            work.mkdir(exist_ok=True)
            install = run_action(base_env(home), shared, work, {"token": "unused"}, steps=slice(0, 1))
            assert install.code == 0 and install.steps_run == 1, install.log
            done.write_text(install.log)
    return shared


@pytest.fixture
def action(runner_temp, home, sandbox, tmp_path):
    """Run the action's steps after the install against the sandbox, like a workflow step would."""
    counter = iter(range(1000))

    def run(**inputs) -> Run:
        work = tmp_path / f"run{next(counter)}"
        work.mkdir()
        inputs = {"token": SANDBOX_TOKEN, "api-url": sandbox.url, **{k.replace("_", "-"): v for k, v in inputs.items()}}
        result = run_action(base_env(home), runner_temp, work, inputs)
        assert "Traceback" not in result.log, result.log
        return result

    return run


class Cells(HTMLParser):
    """The text of each table cell of rendered Markdown, and every tag that appeared."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.tags: set[str] = set()
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def rendered(markdown: str) -> Cells:
    """The summary as GitHub renders it (CommonMark plus GFM tables), parsed back from HTML."""
    html = MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)
    cells = Cells()
    cells.feed(html)
    return cells


def token_only_masked(result: Run) -> None:
    """The token appears in the log only inside the ::add-mask:: command (the runner eats it)."""
    rest = result.log.replace(f"::add-mask::{SANDBOX_TOKEN}", "")
    assert f"::add-mask::{SANDBOX_TOKEN}" in result.log
    assert SANDBOX_TOKEN not in rest
    assert SANDBOX_TOKEN not in result.summary + json.dumps(result.outputs)


# -- the action -----------------------------------------------------------------------------------


def test_action_yml_passes_inputs_through_the_environment_only():
    for step in STEPS:
        assert "${{" not in step["run"], f"an expression inside run: is script injection: {step['name']}"
    env = STEPS[1]["env"]
    assert env["MEMBERSHIPS_TOKEN"] == "${{ inputs.token }}"
    mapped = {EXPRESSION.fullmatch(v).group(1).removeprefix("inputs.") for v in env.values()}
    assert mapped == set(ACTION["inputs"])  # every input, and nothing else, reaches the script
    assert ACTION["inputs"]["token"]["required"] is True


def test_named_organizations_outputs_summary_and_state(action, sandbox):
    globex = seed.org_id("globex-retail")
    assert sandbox.store.get(globex)["status"] == "invited"
    r = action(organizations="globex-retail\n  acme-logistics\n")
    assert r.code == 0, r.log
    assert sandbox.store.get(globex)["status"] == "active"
    assert (r.outputs["accepted"], r.outputs["already-active"], r.outputs["failed"], r.outputs["exit-code"]) == ("1", "1", "0", "0")
    results = json.loads(r.outputs["results"])
    assert [(x["organization"], x["result"]) for x in results] == [("globex-retail", "accepted"), ("acme-logistics", "already-active")]
    table = rendered(r.summary).rows
    assert table[0] == ["Organization", "Result", "Details"]
    assert table[1:] == [["Globex Retail (globex-retail)", "✅ accepted", ""],
                         ["Acme Logistics (acme-logistics)", "✅ already-active", ""]]
    assert "1 accepted, 1 already-active, 0 failed" in r.summary
    assert "::error" not in r.log
    token_only_masked(r)
    posts = [q for q in sandbox.requests if q["method"] == "POST"]
    assert [q["path"] for q in posts] == [f"/me/memberships/{globex}"]


def test_a_failure_fails_the_step_with_the_tools_exit_code_and_an_annotation(action, sandbox):
    r = action(organizations="globex-retail\n50%-off")
    assert r.code == 3, r.log
    assert sandbox.store.get(seed.org_id("globex-retail"))["status"] == "active"  # the rest was still done
    assert (r.outputs["accepted"], r.outputs["failed"], r.outputs["exit-code"]) == ("1", "1", "3")
    (annotation,) = [line for line in r.log.splitlines() if line.startswith("::error")]
    assert annotation.startswith("::error title=memberships accept failed (exit 3)::1 of 2 organizations not accepted: 50%25-off: ")
    assert "50%-off" not in annotation  # % escaped as the runner's command syntax requires
    rows = rendered(r.summary).rows
    assert rows[2][0] == "50%-off" and rows[2][1] == "❌ not-found" and "50%-off" in rows[2][2]
    token_only_masked(r)


def test_a_rejected_token_is_exit_4_with_the_clis_one_line_message(action, sandbox):
    r = action(organizations="globex-retail", token="not-the-sandbox-token")
    assert r.code == 4, r.log
    assert r.outputs["results"] == "[]" and r.outputs["failed"] == "0"
    (annotation,) = [line for line in r.log.splitlines() if line.startswith("::error")]
    assert annotation.startswith("::error title=memberships accept failed (exit 4)::")
    assert "token" in annotation and "not-the-sandbox-token" not in annotation.split("::", 2)[2]
    assert "No organization was tried." in r.summary and "exit code 4" in r.summary
    assert sandbox.store.get(seed.org_id("globex-retail"))["status"] == "invited"


def test_a_hostile_name_stays_text_in_the_summary(action, sandbox):
    membership = seed.generated(1, status="invited", start=700)[0]
    membership["organization"].update(name=HOSTILE_NAME, slug=HOSTILE_SLUG)
    sandbox.store.add(membership)
    r = action(all="true", match="hostile-*")
    assert r.code == 0, r.log
    assert r.outputs["accepted"] == "1"
    page = rendered(r.summary)
    # Only the table's own tags: no <img>, <a>, <strong>, <em>, <code> or <h1> from the name.
    assert page.tags <= {"h3", "table", "thead", "tbody", "tr", "th", "td", "p", "strong"}, page.tags
    assert len(page.rows) == 2 and len(page.rows[1]) == 3
    assert page.rows[1][0] == f"{escape_control(HOSTILE_NAME)} ({HOSTILE_SLUG})"
    assert json.loads(r.outputs["results"])[0]["membership"]["organization"]["name"] == HOSTILE_NAME  # lossless


def test_terminal_and_rich_hostile_names_are_escaped_text(action):
    r = action(organizations="red-alert-industries\nmarkup-labs")
    assert r.code == 0, r.log
    assert "\x1b" not in r.summary
    cells = [row[0] for row in rendered(r.summary).rows[1:]]
    assert cells == [f"{escape_control(seed.ANSI_NAME)} (red-alert-industries)", f"{seed.MARKUP_NAME} (markup-labs)"]


def test_all_with_dry_run_accepts_nothing(action, sandbox):
    invited = [m["organization"]["id"] for m in sandbox.store.all() if m["status"] == "invited"]
    r = action(all="true", dry_run="true")
    assert r.code == 0, r.log
    results = json.loads(r.outputs["results"])
    assert {x["result"] for x in results} == {"would-accept"} and len(results) == len(invited)
    assert r.outputs["accepted"] == "0" and r.outputs["failed"] == "0"
    assert "(dry run)" in r.summary
    assert [q for q in sandbox.requests if q["method"] == "POST"] == []
    assert all(sandbox.store.get(org)["status"] == "invited" for org in invited)


@pytest.mark.parametrize("inputs, message", [
    ({"organizations": "globex-retail", "all": "true"}, "either organizations or all"),
    ({}, "give organizations"),
    ({"organizations": "globex-retail", "match": "a*"}, "match goes with all"),
    ({"all": "maybe"}, "input all must be true or false"),
    ({"organizations": "globex-retail", "token": ""}, "input token is empty"),
])
def test_bad_inputs_are_exit_2_before_any_request(action, sandbox, inputs, message):
    r = action(**inputs)
    assert r.code == 2, r.log
    (annotation,) = [line for line in r.log.splitlines() if line.startswith("::error")]
    assert message in annotation
    assert sandbox.requests == []


# -- the pieces, one by one -----------------------------------------------------------------------


def test_multiline_outputs_use_a_delimiter_the_value_does_not_contain(tmp_path):
    path = tmp_path / "out"
    github_action.write_output(str(path), "results", "line one\nghadelimiter_x\nline three")
    github_action.write_output(str(path), "failed", "0")
    assert read_outputs(path) == {"results": "line one\nghadelimiter_x\nline three", "failed": "0"}


@pytest.mark.parametrize("text, expected", [
    ("50% done\r\nnext", "50%25 done\\r\\nnext"),
    ("a\x1b[31mred", "a\\x1b[31mred"),
])
def test_workflow_command_data_is_escaped(text, expected):
    assert github_action.command_data(text) == expected


@pytest.mark.parametrize("text", ["| a | b |", "<script>x</script>", "**x** _y_ `z`", "[a](b)", "&lt;", "a\nb", "# h", "\\"])
def test_markdown_text_renders_as_the_same_text(text):
    cell = rendered(f"| x |\n| --- |\n| {github_action.markdown_text(text)} |\n")
    assert cell.rows[1] == [escape_control(text)]
    assert cell.tags == {"table", "thead", "tbody", "tr", "th", "td"}


@pytest.mark.skipif(shutil.which("man") is None, reason="man-db is not installed (.ci/run installs it)")
def test_the_installed_wheel_ships_the_man_page_where_man_finds_it(runner_temp, tmp_path):
    """The install step built a wheel from this checkout: its data dir put memberships(1) into the
    venv's share/man, and `man` finds it from the venv's bin/ on PATH (pipx links the same file)."""
    venv = runner_temp / "memberships-cli-action"
    installed = venv / "share" / "man" / "man1" / "memberships.1"
    assert installed.read_text(encoding="utf-8") == (ROOT / "man" / "man1" / "memberships.1").read_text(encoding="utf-8")
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "MANWIDTH": "80", "LANG": "C.UTF-8"}
    where = subprocess.run(["man", "-w", "memberships"], env=env, capture_output=True, text=True)
    assert where.returncode == 0 and Path(where.stdout.strip()).resolve() == installed.resolve(), where
