"""The GitHub Action's one real step (action.yml at the repository root): run
`memberships accept ... --json` with the action's inputs, then write the step outputs, the job
summary and the failure annotation.

Run with the action's own venv: `python -m memberships_cli.ci.github_action`. Inputs arrive as
INPUT_* variables that action.yml sets from `inputs.*` (composite actions get none by themselves);
the token arrives as MEMBERSHIPS_TOKEN and goes to the CLI through the environment only.

Everything that comes from the server (names, slugs, messages) is escaped before it reaches the
Markdown summary or a workflow command, so an organization's name cannot inject either.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections import Counter
from typing import Any, Mapping

from ..output.escape import escape_control

USAGE = 2
TRUE, FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off", "")
SUCCESS = ("accepted", "already-active", "would-accept")


class InputError(Exception):
    """An input the action cannot use: exit 2, like a usage error of the CLI."""


# -- inputs ---------------------------------------------------------------------------------------


def _lines(value: str) -> list[str]:
    """One item per line; blank lines and surrounding spaces dropped (YAML block scalars add them)."""
    return [line.strip() for line in value.splitlines() if line.strip()]


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(f"INPUT_{name}", "").strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise InputError(f"input {name.lower().replace('_', '-')} must be true or false, not {value!r}")


def accept_command(env: Mapping[str, str]) -> list[str]:
    """The CLI's argv for these inputs (the token is never part of it)."""
    organizations = _lines(env.get("INPUT_ORGANIZATIONS", ""))
    all_invitations = _flag(env, "ALL")
    match = _lines(env.get("INPUT_MATCH", ""))
    if organizations and all_invitations:
        raise InputError("give either organizations or all: true, not both")
    if not organizations and not all_invitations:
        raise InputError("give organizations (one per line) or all: true")
    if match and not all_invitations:
        raise InputError("match goes with all: true")
    argv = [sys.executable, "-m", "memberships_cli"]
    api_url = env.get("INPUT_API_URL", "").strip()
    if api_url:
        argv += ["--api-url", api_url]
    argv.append("accept")
    if all_invitations:
        argv.append("--all")
    for pattern in match:
        argv += ["--match", pattern]
    wait = env.get("INPUT_WAIT", "").strip()
    if wait:
        argv += ["--wait", wait]
    if _flag(env, "DRY_RUN"):
        argv.append("--dry-run")
    concurrency = env.get("INPUT_CONCURRENCY", "").strip()
    if concurrency:
        argv += ["--concurrency", concurrency]
    argv.append("--json")
    # After `--` every word is an organization, even one that starts with a dash.
    return argv + ["--", *organizations] if organizations else argv


# -- escaping -------------------------------------------------------------------------------------

_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}


def markdown_text(value: Any) -> str:
    """A server string as literal text in a Markdown table cell: control characters made visible
    (a newline would end the row), `&<>"` as HTML entities (no tag or entity can form), and every
    other ASCII punctuation backslash-escaped (no emphasis, link, code span, `|` cell break,
    heading, @mention or :emoji:)."""
    text = escape_control("" if value is None else str(value))
    out = []
    for char in text:
        if char in _HTML:
            out.append(_HTML[char])
        elif char.isascii() and not char.isalnum() and char != " ":
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def command_data(value: str) -> str:
    """The message of a workflow command (`::error::...`), escaped as the runner expects."""
    return escape_control(value).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def command_property(value: str) -> str:
    return command_data(value).replace(":", "%3A").replace(",", "%2C")


# -- outputs --------------------------------------------------------------------------------------


def write_output(path: str | None, name: str, value: str) -> None:
    """Append NAME to $GITHUB_OUTPUT; multi-line values between a random delimiter."""
    if not path:
        return
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    while delimiter in value:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    with open(path, "a", encoding="utf-8", newline="\n") as handle:
        handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def counts(results: list[dict]) -> Counter:
    tally = Counter(r.get("result") for r in results)
    tally["failed"] = sum(1 for r in results if r.get("result") not in SUCCESS)
    return tally


def _organization_cell(result: dict) -> str:
    membership = result.get("membership") or {}
    organization = membership.get("organization") if isinstance(membership, dict) else None
    name = organization.get("name") if isinstance(organization, dict) else None
    slug = organization.get("slug") if isinstance(organization, dict) else None
    ref = result.get("organization")
    if name:
        label = markdown_text(name)
        shown = slug or ref
        return f"{label} \\({markdown_text(shown)}\\)" if shown and shown != name else label
    return markdown_text(ref)


_RESULT_MARK = {"accepted": "✅", "already-active": "✅", "would-accept": "🔎"}


def summary(results: list[dict], exit_code: int, message: str | None, dry_run: bool) -> str:
    tally = counts(results)
    title = "Bird invitations (dry run)" if dry_run else "Bird invitations"
    lines = [f"### {title}", ""]
    if results:
        lines += ["| Organization | Result | Details |", "| --- | --- | --- |"]
        for result in results:
            error = result.get("error") or {}
            detail = error.get("message") if isinstance(error, dict) else None
            mark = _RESULT_MARK.get(result.get("result"), "❌")
            lines.append(f"| {_organization_cell(result)} | {mark} {markdown_text(result.get('result'))} | {markdown_text(detail or '')} |")
        lines.append("")
    else:
        lines += ["No invitation to accept." if exit_code == 0 else "No organization was tried.", ""]
    parts = [f"{tally[name]} {name}" for name in ("accepted", "already-active", "would-accept") if tally[name]]
    parts.append(f"{tally['failed']} failed")
    lines.append(f"**{', '.join(parts)}**; exit code {exit_code}.")
    if message:
        lines += ["", f"Error: {markdown_text(message)}"]
    return "\n".join(lines) + "\n"


def failure_message(stderr: str, results: list[dict]) -> str:
    """The one line that says why: the CLI's `error:` line, else the failed organizations."""
    for line in stderr.splitlines():
        if line.startswith("error: "):
            return line.removeprefix("error: ")
    failed = [r for r in results if r.get("result") not in SUCCESS]
    if failed:
        first = failed[0]
        error = first.get("error") or {}
        why = error.get("message") if isinstance(error, dict) else None
        more = f" (and {len(failed) - 1} more)" if len(failed) > 1 else ""
        return f"{len(failed)} of {len(results)} organizations not accepted: {first.get('organization')}: {why or first.get('result')}{more}"
    lines = [line for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else "memberships accept failed"


# -- the step -------------------------------------------------------------------------------------


def run(env: Mapping[str, str], stdout=sys.stdout) -> int:
    token = env.get("MEMBERSHIPS_TOKEN", "")
    for line in token.splitlines():
        if line.strip():
            # Secrets are masked already; a token from anywhere else is masked from here on.
            print(f"::add-mask::{command_data(line)}", file=stdout, flush=True)
    dry_run = False
    try:
        argv = accept_command(env)
        dry_run = _flag(env, "DRY_RUN")
        if not token.strip():
            raise InputError("input token is empty; pass a Bird user token from a secret")
    except InputError as exc:
        message = f"{exc}"
        print(f"::error title=memberships accept::{command_data(message)}", file=stdout, flush=True)
        _append(env.get("GITHUB_STEP_SUMMARY"), summary([], USAGE, message, dry_run))
        return USAGE
    child_env = {k: v for k, v in env.items() if not k.startswith("INPUT_")}
    child_env["NO_COLOR"] = "1"
    print(f"memberships {' '.join(argv[3:])}", file=stdout, flush=True)
    proc = subprocess.run(argv, env=child_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          encoding="utf-8", errors="replace", stdin=subprocess.DEVNULL)
    sys.stderr.write(proc.stderr)
    try:
        results = json.loads(proc.stdout) if proc.stdout.strip() else []
    except ValueError:
        results = []
    if not isinstance(results, list):
        results = []
    tally = counts(results)
    output = env.get("GITHUB_OUTPUT")
    write_output(output, "results", json.dumps(results, ensure_ascii=True))
    for name in ("accepted", "already-active", "failed"):
        write_output(output, name, str(tally[name]))
    write_output(output, "exit-code", str(proc.returncode))
    message = failure_message(proc.stderr, results) if proc.returncode else None
    _append(env.get("GITHUB_STEP_SUMMARY"), summary(results, proc.returncode, message, dry_run))
    if message is not None:
        title = command_property(f"memberships accept failed (exit {proc.returncode})")
        print(f"::error title={title}::{command_data(message)}", file=stdout, flush=True)
    return proc.returncode


def _append(path: str | None, text: str) -> None:
    if path:
        with open(path, "a", encoding="utf-8", newline="\n") as handle:
            handle.write(text)


def main() -> int:
    return run(os.environ)


if __name__ == "__main__":
    sys.exit(main())
